//! The messages tabs exchange on the `BroadcastChannel`: plain objects (structured clone, no
//! JSON, no serde), one letter keys.
//!
//! | `t`     | from     | fields                                                   |
//! |---------|----------|----------------------------------------------------------|
//! | `hi`    | follower | `f`: a new tab asks for the connection state             |
//! | `hello` | leader   | a new leader: followers hand it their requests again     |
//! | `st`    | leader   | `s` state, `sp`, `a` attempt, `ms`, `e` error; `to`?     |
//! | `m`     | leader   | `tp` topic, `pl` payload bytes, `q`, `rt` retain, `d` dup |
//! | `pub`   | follower | `f`, `r`, `tp`, `pl`, `q`, `rt`                          |
//! | `adopt` | follower | `f`, `r`, `tp`, `pl`, `q`: accepted by an earlier leader  |
//! | `sub`   | follower | `f`, `r` (0: re-subscribe, no reply), `l`: [[filter, q]]  |
//! | `unsub` | follower | `f`, `r`, `l`: [filter]                                  |
//! | `bye`   | follower | `f`: the tab ended; its filters are no longer its         |
//! | `take`  | follower | `f`: "Take over" after connected elsewhere (the leader's) |
//! | `acc`   | leader   | `to`, `r`, `p`: accepted (`p`: its row committed)         |
//! | `ok`    | leader   | `to`, `r`, `g`?: completed (granted QoS, 128 refused)     |
//! | `err`   | leader   | `to`, `r`, `c`: refused with this code                    |
//!
//! A peer's message is read like user input: a field of the wrong type makes the message
//! ignored, never a panic.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use mqtt_core::{qos_from_u8, ConnectRefused, ConnectionError, QoS, TransportFailure};

/// A message under construction.
pub(super) struct Out(Object);

impl Out {
    pub(super) fn new(kind: &str) -> Out {
        let object = Object::new();
        let _ = Reflect::set(&object, &"t".into(), &kind.into());
        Out(object)
    }

    /// One body for every value type (a generic one would be copied per type in the wasm).
    pub(super) fn set(self, key: &str, value: impl Into<JsValue>) -> Out {
        self.put(key, value.into())
    }

    #[inline(never)]
    fn put(self, key: &str, value: JsValue) -> Out {
        let _ = Reflect::set(&self.0, &key.into(), &value);
        self
    }

    pub(super) fn bytes(self, key: &str, bytes: &[u8]) -> Out {
        self.set(key, Uint8Array::from(bytes))
    }

    pub(super) fn value(self) -> JsValue {
        self.0.into()
    }
}

/// Reads fields of a received message.
pub(super) struct In<'a>(pub(super) &'a JsValue);

impl In<'_> {
    fn get(&self, key: &str) -> JsValue {
        if self.0.is_object() {
            Reflect::get(self.0, &key.into()).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        }
    }

    pub(super) fn str(&self, key: &str) -> Option<String> {
        self.get(key).as_string()
    }

    pub(super) fn num(&self, key: &str) -> Option<u64> {
        self.get(key)
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n < 9_007_199_254_740_992.0)
            .map(|n| n as u64)
    }

    pub(super) fn flag(&self, key: &str) -> bool {
        self.get(key).as_bool().unwrap_or(false)
    }

    pub(super) fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        self.get(key)
            .dyn_into::<Uint8Array>()
            .ok()
            .map(|b| b.to_vec())
    }

    pub(super) fn qos(&self, key: &str) -> Option<QoS> {
        qos_from_u8(u8::try_from(self.num(key)?).ok()?)
    }

    pub(super) fn list(&self, key: &str) -> Option<Array> {
        self.get(key).dyn_into::<Array>().ok()
    }

    pub(super) fn object(&self, key: &str) -> JsValue {
        self.get(key)
    }
}

/// `[[filter, qos], ...]` (loops rather than iterator chains: each chain is more code in the
/// wasm).
pub(super) fn filters_with_qos(list: &[(String, QoS)]) -> Array {
    let out = Array::new();
    for (f, q) in list {
        out.push(&Array::of2(
            &f.as_str().into(),
            &mqtt_core::qos_to_u8(*q).into(),
        ));
    }
    out
}

pub(super) fn read_filters_with_qos(list: &Array) -> Option<Vec<(String, QoS)>> {
    let mut out = Vec::new();
    for pair in list.iter() {
        let pair = pair.dyn_into::<Array>().ok()?;
        let qos = qos_from_u8(pair.get(1).as_f64()? as u8)?;
        out.push((pair.get(0).as_string()?, qos));
    }
    Some(out)
}

pub(super) fn strings(list: &[String]) -> Array {
    let out = Array::new();
    for f in list {
        out.push(&f.as_str().into());
    }
    out
}

pub(super) fn read_strings(list: &Array) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for v in list.iter() {
        out.push(v.as_string()?);
    }
    Some(out)
}

/// A connection error as `{k, m, n}`: the kinds a follower can rebuild exactly (refusals, close
/// frames, timeouts) keep their code; the rest keep their words and whether they are retried.
pub(super) fn error_out(error: &ConnectionError) -> JsValue {
    let out = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&out, &k.into(), &v);
    };
    match error {
        ConnectionError::Refused(refused) => set("k", refused.code().into()),
        ConnectionError::ConnectTimeout(ms) => {
            set("k", "ct".into());
            set("n", (*ms as f64).into());
        }
        ConnectionError::KeepaliveTimeout(ms) => {
            set("k", "kt".into());
            set("n", (*ms as f64).into());
        }
        ConnectionError::Transport(TransportFailure::Closed { code, reason }) => {
            set("k", "c".into());
            set("n", (*code).into());
            set("m", reason.as_str().into());
        }
        ConnectionError::ConnectedElsewhere { drops } => {
            set("k", "ce".into());
            set("n", (*drops).into());
        }
        ConnectionError::Transport(failure) => {
            set("k", if error.is_retried() { "d" } else { "s" }.into());
            set("m", failure.to_string().into());
        }
        other => {
            set("k", if other.is_retried() { "d" } else { "s" }.into());
            set("m", other.to_string().into());
        }
    }
    out.into()
}

pub(super) fn error_in(value: &JsValue) -> ConnectionError {
    let e = In(value);
    let text = e.str("m").unwrap_or_default();
    let n = e.num("n").unwrap_or(0);
    let refused = |r| ConnectionError::Refused(r);
    match e.str("k").as_deref() {
        Some("bad_credentials") => refused(ConnectRefused::BadUserNameOrPassword),
        Some("not_authorized") => refused(ConnectRefused::NotAuthorized),
        Some("identifier_rejected") => refused(ConnectRefused::IdentifierRejected),
        Some("server_unavailable") => refused(ConnectRefused::ServerUnavailable),
        Some("protocol_version") => refused(ConnectRefused::UnacceptableProtocolVersion),
        Some("ct") => ConnectionError::ConnectTimeout(n),
        Some("kt") => ConnectionError::KeepaliveTimeout(n),
        Some("ce") => ConnectionError::ConnectedElsewhere {
            drops: u32::try_from(n).unwrap_or(u32::MAX),
        },
        Some("c") => ConnectionError::Transport(TransportFailure::Closed {
            code: u16::try_from(n).unwrap_or(1006),
            reason: text,
        }),
        Some("s") => ConnectionError::Transport(TransportFailure::Setup(text)),
        _ => ConnectionError::Transport(TransportFailure::Dropped(text)),
    }
}

/// The `&'static str` code of a refusal named by a peer (unknown names become `refused`).
pub(super) fn refusal_code(code: &str) -> &'static str {
    const KNOWN: [&str; 7] = [
        "queue_full",
        "storage_full",
        "storage_unavailable",
        "payload_too_large",
        "invalid_topic",
        "no_filters",
        "ended",
    ];
    KNOWN.into_iter().find(|k| *k == code).unwrap_or("refused")
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A follower shows the leader's connection errors with the same code, close code and
    /// retry class (refusals, close frames and timeouts exactly; the rest by their words).
    #[test]
    fn connection_errors_cross_the_channel_with_their_code_and_retry_class() {
        let errors = [
            ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword),
            ConnectionError::Refused(ConnectRefused::ServerUnavailable),
            ConnectionError::ConnectTimeout(10_000),
            ConnectionError::KeepaliveTimeout(90_000),
            ConnectionError::ConnectedElsewhere { drops: 3 },
            ConnectionError::Transport(TransportFailure::Closed {
                code: 4002,
                reason: "upstream unreachable".into(),
            }),
        ];
        for error in errors {
            assert_eq!(error_in(&error_out(&error)), error);
        }
        let other = ConnectionError::Transport(TransportFailure::TlsHandshake("alert".into()));
        let back = error_in(&error_out(&other));
        assert_eq!(back.is_retried(), other.is_retried());
        assert_eq!(back.to_string(), "connection closed: alert");
        // Garbage from a peer is an error, never a panic.
        assert_eq!(error_in(&JsValue::from(5)).code(), "transport");
        assert_eq!(refusal_code("storage_full"), "storage_full");
        assert_eq!(refusal_code("<script>"), "refused");
    }

    #[test]
    fn filter_lists_round_trip_and_bad_ones_are_refused() {
        let list = vec![
            ("a/#".to_string(), QoS::ExactlyOnce),
            ("b".into(), QoS::AtMostOnce),
        ];
        assert_eq!(read_filters_with_qos(&filters_with_qos(&list)), Some(list));
        let bad = Array::of1(&Array::of2(&"a".into(), &7.into()));
        assert_eq!(read_filters_with_qos(&bad), None);
        assert_eq!(read_strings(&Array::of1(&3.into())), None);
    }
}
