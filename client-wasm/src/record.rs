//! The stored form of a session's [`Snapshot`], one text record per client id, the same in every
//! store (IndexedDB in the browser, a file or Durable Object storage at the edge): the JSON text
//! `{"v":2,"p":[[topic, base64 payload, qos, retain 0|1, packet id or 0, released 0|1], ...],
//! "i":[inbound QoS 2 id, ...]}` (version 1 had no `"i"`). Only what a resend needs is kept, never
//! credentials. Rows that cannot be read are skipped here, and rows that read but could not have
//! come from a session are refused by `Session::restore`: a store is user-editable.

use std::cell::RefCell;

use js_sys::{Array, JsString, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

use mqtt_core::persist::{Snapshot, StoreError};
use mqtt_core::{qos_from_u8, qos_to_u8, PendingPublish};

/// The record of `snapshot`; `None` for an empty one (nothing to keep: the record is deleted).
fn record_of(snapshot: &Snapshot) -> Option<String> {
    (!snapshot.is_empty()).then(|| encode(snapshot))
}

/// What every store keeps of its record to decide a write before starting it: the text it holds
/// (a write that changes nothing is skipped) and the test quota.
pub(crate) struct LastRecord {
    text: RefCell<Option<String>>,
    /// For tests: a record longer than this is refused as a full store would refuse it.
    quota: Option<usize>,
}

impl LastRecord {
    pub(crate) fn new(quota: Option<usize>) -> LastRecord {
        LastRecord {
            text: RefCell::new(None),
            quota,
        }
    }

    /// The record `snapshot` needs written (`None`: delete it), or `Err(outcome)` when the write
    /// is decided now: nothing changed (`Ok`) or over the test quota (`Full`).
    pub(crate) fn next(
        &self,
        snapshot: &Snapshot,
    ) -> Result<Option<String>, Result<(), StoreError>> {
        let text = record_of(snapshot);
        if *self.text.borrow() == text {
            return Err(Ok(()));
        }
        match (self.quota, &text) {
            (Some(quota), Some(text)) if text.len() > quota => Err(Err(StoreError::Full)),
            _ => Ok(text),
        }
    }

    /// The store now holds `text` (read at open, or written).
    pub(crate) fn holds(&self, text: Option<String>) {
        *self.text.borrow_mut() = text;
    }
}

pub(crate) fn encode(snapshot: &Snapshot) -> String {
    let list = Array::new();
    for p in &snapshot.pending {
        let row = Array::new();
        row.push(&JsValue::from_str(&p.topic));
        row.push(&JsValue::from_str(&base64_encode(&p.payload)));
        row.push(&JsValue::from(qos_to_u8(p.qos)));
        row.push(&JsValue::from(u8::from(p.retain)));
        row.push(&JsValue::from(p.packet_id.unwrap_or(0)));
        row.push(&JsValue::from(u8::from(p.released)));
        list.push(&row);
    }
    let root = js_sys::Object::new();
    let incoming: Array = snapshot
        .incoming_qos2
        .iter()
        .map(|id| JsValue::from(*id))
        .collect();
    let _ = Reflect::set(&root, &"v".into(), &JsValue::from(2));
    let _ = Reflect::set(&root, &"p".into(), &list);
    let _ = Reflect::set(&root, &"i".into(), &incoming);
    JSON::stringify(&root).map(String::from).unwrap_or_default()
}

pub(crate) fn decode(text: &str) -> Snapshot {
    let Ok(root) = JSON::parse(text) else {
        return Snapshot::default();
    };
    let version = Reflect::get(&root, &"v".into())
        .ok()
        .and_then(|v| v.as_f64());
    if version != Some(1.0) && version != Some(2.0) {
        return Snapshot::default();
    }
    let array = |key: &str| {
        Reflect::get(&root, &key.into())
            .ok()
            .and_then(|l| l.dyn_into::<Array>().ok())
    };
    let pending = array("p")
        .map(|list| {
            list.iter()
                .filter_map(|row| decode_row(&row.dyn_into::<Array>().ok()?))
                .collect()
        })
        .unwrap_or_default();
    let incoming_qos2 = array("i")
        .map(|list| {
            list.iter()
                .filter_map(|id| id.as_f64())
                .filter(|n| n.fract() == 0.0 && (0.0..=65535.0).contains(n))
                .map(|n| n as u16)
                .collect()
        })
        .unwrap_or_default();
    Snapshot {
        pending,
        incoming_qos2,
    }
}

fn decode_row(row: &Array) -> Option<PendingPublish> {
    let num = |i: u32| {
        row.get(i)
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 65535.0)
    };
    let topic = row.get(0).dyn_into::<JsString>().ok().map(String::from)?;
    let payload = base64_decode(&row.get(1).as_string()?)?;
    let qos = qos_from_u8(num(2)? as u8)?;
    let pid = num(4)? as u16;
    Some(PendingPublish {
        topic,
        payload,
        qos,
        retain: num(3)? != 0.0,
        packet_id: (pid != 0).then_some(pid),
        released: num(5)? != 0.0,
    })
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// What a reload reads back is what was written: pending rows and inbound QoS 2 ids, and a
    /// version 1 record (no inbound ids) still reads.
    #[test]
    fn snapshots_round_trip_through_the_stored_text() {
        let snapshot = Snapshot {
            pending: vec![PendingPublish {
                topic: "dev/t".into(),
                payload: vec![0, 1, 0xff],
                qos: mqtt_core::QoS::ExactlyOnce,
                retain: true,
                packet_id: Some(7),
                released: true,
            }],
            incoming_qos2: vec![3, 65535],
        };
        assert_eq!(decode(&encode(&snapshot)), snapshot);
        let v1 = r#"{"v":1,"p":[["dev/t","AAH/",2,1,7,1]]}"#;
        assert_eq!(
            decode(v1),
            Snapshot {
                incoming_qos2: Vec::new(),
                ..snapshot
            }
        );
        assert_eq!(decode("not json"), Snapshot::default());
    }

    #[test]
    fn base64_round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..20 {
            let enc = base64_encode(&data[..n]);
            assert_eq!(base64_decode(&enc).as_deref(), Some(&data[..n]));
        }
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_decode("a*b"), None);
    }
}
