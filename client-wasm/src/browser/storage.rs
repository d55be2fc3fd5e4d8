//! Unacknowledged QoS 1/2 publishes kept in `localStorage`, one key per client id, so that a page
//! reload loses none of them when the session is not clean. Only topic, payload, QoS, retain,
//! packet id and the QoS 2 stage are written: never credentials.
//!
//! Format: JSON `{"v":1,"p":[[topic, base64 payload, qos, retain 0|1, packet id or 0, released 0|1], ...]}`.
//! Anything unreadable is ignored (storage is user-editable).

use js_sys::{Array, JsString, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

use mqtt_core::{qos_from_u8, qos_to_u8, PendingPublish, QoS, Session};

/// The `localStorage` key for a client id.
pub fn storage_key(client_id: &str) -> String {
    format!("client-wasm:pending:{client_id}")
}

pub(crate) struct PendingStore {
    storage: Storage,
    key: String,
    last: Option<String>,
    /// `Session::pending_changes` at the last write.
    written_at: Option<u64>,
}

impl PendingStore {
    /// `None` when `localStorage` is unavailable (workers, privacy modes).
    pub(crate) fn open(client_id: &str) -> Option<PendingStore> {
        let storage = web_sys::window()?.local_storage().ok()??;
        Some(PendingStore {
            storage,
            key: storage_key(client_id),
            last: None,
            written_at: None,
        })
    }

    pub(crate) fn load(&mut self) -> Vec<PendingPublish> {
        let text = self.storage.get_item(&self.key).ok().flatten();
        let list = text.as_deref().map(decode).unwrap_or_default();
        self.last = text;
        list
    }

    /// Writes the QoS 1/2 entries of the session's pending publishes if they changed since the
    /// last write: nothing is copied or serialised while the session's counter stands still.
    pub(crate) fn save(&mut self, session: &Session) {
        let changes = session.pending_changes();
        if self.written_at == Some(changes) {
            return;
        }
        self.written_at = Some(changes);
        let pending = session.pending_publishes();
        let kept: Vec<&PendingPublish> = pending
            .iter()
            .filter(|p| p.qos != QoS::AtMostOnce)
            .collect();
        if kept.is_empty() {
            if self.last.is_some() {
                let _ = self.storage.remove_item(&self.key);
                self.last = None;
            }
            return;
        }
        let text = encode(&kept);
        if self.last.as_deref() != Some(text.as_str()) {
            // A full quota leaves the previous state in storage; nothing better can be done.
            let _ = self.storage.set_item(&self.key, &text);
            self.last = Some(text);
        }
    }
}

fn encode(pending: &[&PendingPublish]) -> String {
    let list = Array::new();
    for p in pending {
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
    let _ = Reflect::set(&root, &"v".into(), &JsValue::from(1));
    let _ = Reflect::set(&root, &"p".into(), &list);
    JSON::stringify(&root).map(String::from).unwrap_or_default()
}

fn decode(text: &str) -> Vec<PendingPublish> {
    let Ok(root) = JSON::parse(text) else {
        return Vec::new();
    };
    let version = Reflect::get(&root, &"v".into())
        .ok()
        .and_then(|v| v.as_f64());
    if version != Some(1.0) {
        return Vec::new();
    }
    let Some(list) = Reflect::get(&root, &"p".into())
        .ok()
        .and_then(|l| l.dyn_into::<Array>().ok())
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|row| decode_row(&row.dyn_into::<Array>().ok()?))
        .collect()
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
