//! Murano's current device API (`<product>.m2.exosite.io`) on the demo's front, as a layer in
//! front of the [`Guard`](super::guard::Guard): it handles what is specific to `$provision`
//! and `$resource` and leaves every other packet to the guard.
//!
//! | what | device sends / receives | inside rumqttd |
//! |---|---|---|
//! | data up | `$resource/<alias>` | `<identity>/<alias>` (the platform's view, as legacy) |
//! | batch up | `$resource.batch` `[{"timestamp": T, "values": {alias: v}}]` | one `<identity>/<alias>` per value |
//! | platform write | arrives on `$resource/<alias>/<µs>` without subscribing | the platform publishes `$resource/<identity>/<alias>[/<timestamp>]` (`~$resource/…`) |
//! | provision reply | arrives on `$provision/<identity>`, subscribed or not | `~$provision/<identity>` |
//!
//! * Subscriptions are "hardcoded" as on Murano: the front subscribes a device to its platform
//!   writes and an anonymous client to its provision reply, under [`HIDDEN_PID`], and swallows
//!   those SUBACKs. A device's own SUBSCRIBE to `$resource/…` is granted here (QoS at most 1).
//! * Token-only log-in ([`token_login`]): an empty user name with a device's token as password
//!   is that device; an empty client id becomes the identity.
//! * An anonymous client with an empty client id may provision one identity: its first
//!   `$provision/<identity>` (request or subscription) binds it.
//! * QoS 2 is not supported: a QoS 2 PUBLISH on `$provision`, `$resource` or `$resource.batch`
//!   closes the connection (MQTT 3.1.1 has no way to refuse a PUBLISH; closing is what a
//!   server does with a feature it does not support, as MQTT 5 does with DISCONNECT 0x9B). A
//!   SUBSCRIBE asking QoS 2 is granted QoS 1 ([MQTT-3.9.3-2] lets the server grant less).
//! * A value over 1,048,576 bytes (Murano's limit per resource) is dropped and acknowledged,
//!   like any PUBLISH the rules deny; a batch that is not that JSON shape, or whose timestamps
//!   are not seconds, milliseconds or microseconds, is dropped as a whole.

use std::time::{SystemTime, UNIX_EPOCH};

use mqtt_core::codec;
use mqtt_core::packet::{
    Connect, Packet, Pid, Publish, QoS, QosPid, Suback, Subscribe, SubscribeReturnCodes,
    SubscribeTopic,
};
use mqtt_flows::resource::{timestamp_ms, BATCH_TOPIC, MAX_VALUE};

use super::guard::Action;
use super::policy::{to_broker, Role};
use super::store::{valid_identity, Store};

/// The packet id of the front's own SUBSCRIBEs. A client numbers its packets from 1, so this
/// one is in use by the client only after 65,534 others are in flight.
pub(crate) const HIDDEN_PID: u16 = u16::MAX;

/// The device a token-only CONNECT (empty user name, token as password) logs in as.
pub(crate) fn token_login(connect: &Connect<'_>, store: &Store) -> Option<String> {
    match (connect.username, connect.password) {
        (Some(""), Some(token)) if !token.is_empty() => store
            .identities()
            .find(|id| store.check(id, token))
            .map(str::to_string),
        _ => None,
    }
}

/// The current API's state for one connection.
#[derive(Debug)]
pub(crate) struct CurrentApi {
    role: Role,
    /// The identity an anonymous client with an empty client id provisions.
    bound: Option<String>,
    hidden_subacks: usize,
    max_packet: usize,
}

fn encode(packet: &Packet<'_>) -> Result<Vec<u8>, Action> {
    codec::encode(packet).map_err(|e| Action::Close(e.to_string()))
}

fn hidden_subscribe(filter: String) -> Result<Vec<u8>, Action> {
    let pid = Pid::try_from(HIDDEN_PID).map_err(|_| Action::Close("hidden pid".into()))?;
    encode(&Packet::Subscribe(Subscribe {
        pid,
        topics: vec![SubscribeTopic {
            topic_path: filter,
            qos: QoS::AtLeastOnce,
        }],
    }))
}

/// What a denied or dropped PUBLISH gets: the acknowledgement, nothing else.
fn ack(qospid: QosPid) -> Vec<Action> {
    match qospid {
        QosPid::AtLeastOnce(pid) => match encode(&Packet::Puback(pid)) {
            Ok(bytes) => vec![Action::ToClient(bytes)],
            Err(close) => vec![close],
        },
        _ => vec![],
    }
}

/// Murano grants at most QoS 1.
fn at_most_1(qos: QoS) -> QoS {
    match qos {
        QoS::ExactlyOnce => QoS::AtLeastOnce,
        other => other,
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn collect(results: Vec<Result<Vec<u8>, Action>>, to: fn(Vec<u8>) -> Action) -> Vec<Action> {
    results
        .into_iter()
        .map(|r| match r {
            Ok(bytes) => to(bytes),
            Err(close) => close,
        })
        .collect()
}

impl CurrentApi {
    /// The layer for an admitted client, and the front's hidden SUBSCRIBEs to send to rumqttd
    /// right after its CONNECT.
    pub(crate) fn new(role: Role, max_packet: usize) -> (CurrentApi, Vec<Action>) {
        let filter = match &role {
            Role::Device { identity } => Some(format!("~$resource/{identity}/#")),
            Role::Anonymous { client_id } if valid_identity(client_id) => {
                Some(format!("~$provision/{client_id}"))
            }
            _ => None,
        };
        let mut api = CurrentApi {
            role,
            bound: None,
            hidden_subacks: 0,
            max_packet,
        };
        let actions = match filter {
            Some(f) => {
                api.hidden_subacks += 1;
                collect(vec![hidden_subscribe(f)], Action::ToBroker)
            }
            None => vec![],
        };
        (api, actions)
    }

    /// A frame from the client: `Some` when this layer handled it, `None` for the guard.
    pub(crate) fn on_client(&mut self, frame: &[u8]) -> Option<Vec<Action>> {
        let packet = match codec::decode_any(frame, self.max_packet) {
            Ok(Some((packet, used))) if used == frame.len() => packet,
            _ => return None, // the guard reports it
        };
        match (&packet, self.role.clone()) {
            (_, Role::Platform) => None,
            (Packet::Publish(p), role) => {
                let api_topic = p.topic_name == BATCH_TOPIC
                    || p.topic_name.starts_with("$resource/")
                    || p.topic_name.starts_with("$provision/");
                if api_topic && matches!(p.qospid, QosPid::ExactlyOnce(_)) {
                    tracing::info!(topic = p.topic_name, "QoS 2 is not supported: closing");
                    return Some(vec![Action::Close(format!(
                        "QoS 2 PUBLISH on {} (not supported by Murano's API)",
                        p.topic_name
                    ))]);
                }
                match role {
                    Role::Device { identity } => self.device_publish(&identity, p),
                    Role::Anonymous { client_id } if client_id.is_empty() => {
                        self.unnamed_provision(p)
                    }
                    _ => None,
                }
            }
            (Packet::Subscribe(s), Role::Device { .. })
                if s.topics
                    .iter()
                    .all(|t| t.topic_path.starts_with("$resource/")) =>
            {
                let return_codes = s
                    .topics
                    .iter()
                    .map(|t| SubscribeReturnCodes::Success(at_most_1(t.qos)))
                    .collect();
                Some(collect(
                    vec![encode(&Packet::Suback(Suback {
                        pid: s.pid,
                        return_codes,
                    }))],
                    Action::ToClient,
                ))
            }
            (Packet::Subscribe(s), Role::Anonymous { client_id }) if client_id.is_empty() => {
                let [topic] = &s.topics[..] else {
                    return None;
                };
                let identity = topic.topic_path.strip_prefix("$provision/")?;
                if !self.bind(identity) {
                    return None;
                }
                let forwarded = Packet::Subscribe(Subscribe {
                    pid: s.pid,
                    topics: vec![SubscribeTopic {
                        topic_path: to_broker(&topic.topic_path).into_owned(),
                        qos: at_most_1(topic.qos),
                    }],
                });
                Some(collect(vec![encode(&forwarded)], Action::ToBroker))
            }
            _ => None,
        }
    }

    /// Binds an unnamed anonymous client to the identity it provisions (once).
    fn bind(&mut self, identity: &str) -> bool {
        if !valid_identity(identity) {
            return false;
        }
        match &self.bound {
            Some(bound) => bound == identity,
            None => {
                self.bound = Some(identity.to_string());
                true
            }
        }
    }

    fn unnamed_provision(&mut self, p: &Publish<'_>) -> Option<Vec<Action>> {
        let identity = p.topic_name.strip_prefix("$provision/")?;
        let first = self.bound.is_none();
        if !p.payload.is_empty() || !self.bind(identity) {
            return None; // the guard denies it (acknowledged, dropped)
        }
        let topic = to_broker(p.topic_name).into_owned();
        let mut out = Vec::new();
        if first {
            // The reply is pushed: subscribe before the request reaches the service.
            self.hidden_subacks += 1;
            out.push(hidden_subscribe(topic.clone()));
        }
        out.push(encode(&Packet::Publish(Publish {
            topic_name: &topic,
            ..*p
        })));
        Some(collect(out, Action::ToBroker))
    }

    fn device_publish(&mut self, identity: &str, p: &Publish<'_>) -> Option<Vec<Action>> {
        if p.topic_name == BATCH_TOPIC {
            return Some(self.batch(identity, p));
        }
        let alias = p.topic_name.strip_prefix("$resource/")?;
        if alias.is_empty() || alias.contains(['/', '+', '#']) || p.payload.len() > MAX_VALUE {
            tracing::info!(
                identity,
                topic = p.topic_name,
                bytes = p.payload.len(),
                "resource write dropped"
            );
            return Some(ack(p.qospid));
        }
        let topic = format!("{identity}/{alias}");
        Some(collect(
            vec![encode(&Packet::Publish(Publish {
                topic_name: &topic,
                ..*p
            }))],
            Action::ToBroker,
        ))
    }

    /// Each value of a batch becomes a QoS 0 write of `<identity>/<alias>`; the client's
    /// PUBLISH is acknowledged here.
    fn batch(&mut self, identity: &str, p: &Publish<'_>) -> Vec<Action> {
        let mut out = match parse_batch(p.payload) {
            Ok(values) => {
                tracing::info!(identity, values = values.len(), "batch accepted");
                let writes = values
                    .iter()
                    .map(|(alias, value)| {
                        let topic = format!("{identity}/{alias}");
                        encode(&Packet::Publish(Publish {
                            dup: false,
                            qospid: QosPid::AtMostOnce,
                            retain: false,
                            topic_name: &topic,
                            payload: value.as_bytes(),
                        }))
                    })
                    .collect();
                collect(writes, Action::ToBroker)
            }
            Err(reason) => {
                tracing::info!(identity, %reason, "batch dropped");
                vec![]
            }
        };
        out.extend(ack(p.qospid));
        out
    }

    /// A frame from rumqttd: `Some` when this layer handled it, `None` for the guard.
    pub(crate) fn on_broker(&mut self, frame: &[u8]) -> Option<Vec<Action>> {
        let packet = match codec::decode(frame, self.max_packet) {
            Ok(Some((packet, used))) if used == frame.len() => packet,
            _ => return None,
        };
        match packet {
            Packet::Suback(s) if s.pid.get() == HIDDEN_PID && self.hidden_subacks > 0 => {
                self.hidden_subacks -= 1;
                Some(vec![])
            }
            Packet::Publish(p) => {
                let topic = match &self.role {
                    Role::Device { identity } => {
                        let rest = p
                            .topic_name
                            .strip_prefix("~$resource/")?
                            .strip_prefix(identity.as_str())?
                            .strip_prefix('/')?;
                        match rest.split_once('/') {
                            Some((alias, stamp)) => format!("$resource/{alias}/{stamp}"),
                            None => format!("$resource/{rest}/{}", now_us()),
                        }
                    }
                    // The pushed provision reply: delivered here, since the subscription that
                    // brings it never passed the guard (which keeps `$` topics to `$` filters).
                    Role::Anonymous { client_id } => {
                        let identity = self.bound.as_deref().unwrap_or(client_id);
                        let reply = p.topic_name.strip_prefix('~')?;
                        if reply.strip_prefix("$provision/")? != identity {
                            return None;
                        }
                        reply.to_string()
                    }
                    Role::Platform => return None,
                };
                Some(collect(
                    vec![encode(&Packet::Publish(Publish {
                        topic_name: &topic,
                        ..p
                    }))],
                    Action::ToClient,
                ))
            }
            _ => None,
        }
    }
}

/// The `(alias, value)` pairs of a `$resource.batch` body; a string value as its text, any
/// other JSON value as written.
pub(crate) fn parse_batch(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let entries = json.as_array().ok_or("not a JSON array")?;
    let mut values = Vec::new();
    for entry in entries {
        let stamp = entry
            .get("timestamp")
            .and_then(serde_json::Value::as_u64)
            .ok_or("an entry without a numeric timestamp")?;
        timestamp_ms(&stamp.to_string())
            .ok_or_else(|| format!("timestamp {stamp} is not s, ms or µs"))?;
        let map = entry
            .get("values")
            .and_then(serde_json::Value::as_object)
            .ok_or("an entry without a values object")?;
        for (alias, value) in map {
            if alias.is_empty() || alias.contains(['/', '+', '#']) {
                return Err(format!("bad alias {alias:?}"));
            }
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if text.len() > MAX_VALUE {
                return Err(format!("value of {alias} over 1048576 bytes"));
            }
            values.push((alias.clone(), text));
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(p: &Packet<'_>) -> Vec<u8> {
        codec::encode(p).unwrap()
    }
    fn pid(n: u16) -> Pid {
        Pid::try_from(n).unwrap()
    }
    fn publish(topic: &str, qospid: QosPid, payload: &[u8]) -> Vec<u8> {
        enc(&Packet::Publish(Publish {
            dup: false,
            qospid,
            retain: false,
            topic_name: topic,
            payload,
        }))
    }
    fn device() -> CurrentApi {
        let (api, hidden) = CurrentApi::new(
            Role::Device {
                identity: "007".into(),
            },
            2 << 20,
        );
        assert_eq!(
            hidden,
            vec![Action::ToBroker(
                hidden_subscribe("~$resource/007/#".into()).unwrap()
            )]
        );
        api
    }

    #[test]
    fn data_up_goes_to_the_platforms_view_and_writes_come_down_stamped() {
        let mut api = device();
        let out = api.on_client(&publish(
            "$resource/data_in",
            QosPid::AtLeastOnce(pid(3)),
            b"21",
        ));
        assert_eq!(
            out,
            Some(vec![Action::ToBroker(publish(
                "007/data_in",
                QosPid::AtLeastOnce(pid(3)),
                b"21"
            ))])
        );
        // The hidden SUBACK is swallowed once.
        let suback = enc(&Packet::Suback(Suback {
            pid: pid(HIDDEN_PID),
            return_codes: vec![SubscribeReturnCodes::Success(QoS::AtLeastOnce)],
        }));
        assert_eq!(api.on_broker(&suback), Some(vec![]));
        assert_eq!(api.on_broker(&suback), None);
        let down = api.on_broker(&publish(
            "~$resource/007/temperature/1700000000000000",
            QosPid::AtMostOnce,
            b"212",
        ));
        assert_eq!(
            down,
            Some(vec![Action::ToClient(publish(
                "$resource/temperature/1700000000000000",
                QosPid::AtMostOnce,
                b"212"
            ))])
        );
        let out = api
            .on_broker(&publish(
                "~$resource/007/temperature",
                QosPid::AtMostOnce,
                b"1",
            ))
            .unwrap();
        let [Action::ToClient(bytes)] = &out[..] else {
            panic!("stamped write: {out:?}");
        };
        let Ok(Some((Packet::Publish(p), _))) = codec::decode(bytes, 1 << 20) else {
            panic!("publish");
        };
        let stamp = p.topic_name.rsplit('/').next().unwrap();
        assert!(
            timestamp_ms(stamp).is_some_and(|ms| ms > 1_700_000_000_000),
            "{stamp}"
        );
        // Another device's writes are not this one's.
        assert_eq!(
            api.on_broker(&publish("~$resource/008/t/1", QosPid::AtMostOnce, b"1")),
            None
        );
    }

    #[test]
    fn qos_2_closes_and_oversized_values_are_dropped() {
        let mut api = device();
        let out = api.on_client(&publish(
            "$resource/data_in",
            QosPid::ExactlyOnce(pid(1)),
            b"1",
        ));
        assert!(
            matches!(out.as_deref(), Some([Action::Close(_)])),
            "{out:?}"
        );
        let big = vec![b'x'; MAX_VALUE + 1];
        let out = api.on_client(&publish(
            "$resource/data_in",
            QosPid::AtLeastOnce(pid(2)),
            &big,
        ));
        assert_eq!(
            out,
            Some(vec![Action::ToClient(enc(&Packet::Puback(pid(2))))])
        );
        // Legacy topics are the guard's.
        assert_eq!(
            api.on_client(&publish("007/x", QosPid::ExactlyOnce(pid(4)), b"1")),
            None
        );
    }

    #[test]
    fn a_batch_becomes_one_write_per_value() {
        let mut api = device();
        let body = br#"[{"timestamp":1700000000,"values":{"temperature":20}},{"timestamp":1700000000001,"values":{"temperature":21,"state":"on"}}]"#;
        let out = api
            .on_client(&publish(BATCH_TOPIC, QosPid::AtLeastOnce(pid(5)), body))
            .unwrap();
        // Entries in order; the values of one entry in whatever order the JSON map keeps
        // (serde_json's `preserve_order`, which another crate may switch on, changes it).
        let mut second = out[1..3].to_vec();
        second.sort_by_key(|action| format!("{action:?}"));
        let mut expected = vec![
            Action::ToBroker(publish("007/temperature", QosPid::AtMostOnce, b"21")),
            Action::ToBroker(publish("007/state", QosPid::AtMostOnce, b"on")),
        ];
        expected.sort_by_key(|action| format!("{action:?}"));
        assert_eq!(out.len(), 4, "{out:?}");
        assert_eq!(
            out[0],
            Action::ToBroker(publish("007/temperature", QosPid::AtMostOnce, b"20"))
        );
        assert_eq!(second, expected);
        assert_eq!(out[3], Action::ToClient(enc(&Packet::Puback(pid(5)))));
        for bad in [
            &b"{}"[..],
            b"[{\"values\":{}}]",
            b"[{\"timestamp\":1e20,\"values\":{}}]",
            b"[",
        ] {
            assert!(
                parse_batch(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn an_unnamed_anonymous_client_provisions_one_identity() {
        let (mut api, hidden) = CurrentApi::new(
            Role::Anonymous {
                client_id: String::new(),
            },
            1 << 20,
        );
        assert!(hidden.is_empty());
        let out = api
            .on_client(&publish("$provision/009", QosPid::AtLeastOnce(pid(1)), b""))
            .unwrap();
        assert_eq!(
            out,
            vec![
                Action::ToBroker(hidden_subscribe("~$provision/009".into()).unwrap()),
                Action::ToBroker(publish("~$provision/009", QosPid::AtLeastOnce(pid(1)), b"")),
            ]
        );
        // Bound: another identity is the guard's (denied).
        assert_eq!(
            api.on_client(&publish("$provision/010", QosPid::AtLeastOnce(pid(2)), b"")),
            None
        );
        // A named anonymous client gets its reply pushed.
        let (_, hidden) = CurrentApi::new(
            Role::Anonymous {
                client_id: "011".into(),
            },
            1 << 20,
        );
        assert_eq!(
            hidden,
            vec![Action::ToBroker(
                hidden_subscribe("~$provision/011".into()).unwrap()
            )]
        );
    }
}
