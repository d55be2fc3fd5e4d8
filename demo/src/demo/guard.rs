//! The MQTT-aware part of the TLS front, without IO: what to do with each packet of one
//! connection.
//!
//! ```text
//!  client ──CONNECT──▶ authenticate() ─▶ Role, or CONNACK 4/5 and close
//!                      broker_connect() ─▶ CONNECT for rumqttd (front's own login, will checked)
//!  client ──frame──▶ Guard::on_client ─▶ [ToBroker | ToClient | Close]
//!  broker ──frame──▶ Guard::on_broker ─▶ [ToClient | ToBroker (acks of dropped) | Close]
//! ```
//!
//! A CONNECT is refused with CONNACK 5 (not authorized) for a reserved or invalid device name
//! and for a client id its role may not use ([`policy::may_use_client_id`]); with 4 for a
//! wrong login. rumqttd gets the client id in the role's namespace
//! ([`policy::broker_client_id`]).
//!
//! Denied PUBLISHes are dropped but acknowledged as mosquitto does (PUBACK; PUBREC, then the
//! PUBREL is answered with PUBCOMP here). Denied SUBSCRIBE filters get 0x80: the SUBSCRIBE
//! goes on with the allowed filters only, and 0x80s are spliced into the broker's SUBACK; when
//! nothing is allowed the SUBACK is answered here. `$…` topics are mapped to rumqttd's
//! reserved form and back ([`policy::to_broker`], [`policy::to_client`]); a `$…` message from
//! rumqttd reaches the client only through a `$…` filter it subscribed (rumqttd's `#` and `+`
//! match the reserved form; [MQTT-4.7.2-1] says they must not): any other is acknowledged to
//! rumqttd and dropped.
//!
//! Frames are complete (the caller framed them with `codec::read_frame_header`) and are parsed
//! with `codec::decode_any` (client frames) and `codec::decode` (broker frames: a broker never
//! sends a client-only packet), which never panic; a malformed frame closes the connection.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use mqtt_core::codec;
use mqtt_core::packet::{
    Connect, ConnectReturnCode, LastWill, Packet, Pid, Publish, QosPid, Suback, Subscribe,
    SubscribeReturnCodes, SubscribeTopic, Unsubscribe,
};

use super::policy::{self, Role};
use super::store::{password_matches, valid_identity, Store, PLATFORM_USER};

/// Something the front must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Write these bytes to rumqttd.
    ToBroker(Vec<u8>),
    /// Write these bytes to the client.
    ToClient(Vec<u8>),
    /// Close both sides (a protocol violation; the reason is logged).
    Close(String),
}

/// Decides the role from a CONNECT, or the CONNACK refusal code: 4 for a wrong login, 5 for a
/// user name that cannot be a device (reserved, invalid) and for a client id the role may not
/// use (or an anonymous client without a clean session).
pub(crate) fn authenticate(
    connect: &Connect<'_>,
    store: &Store,
    platform_password: &str,
) -> Result<Role, ConnectReturnCode> {
    let role = login(connect, store, platform_password)?;
    match policy::may_use_client_id(&role, connect.client_id, connect.clean_session) {
        true => Ok(role),
        false => Err(ConnectReturnCode::NotAuthorized),
    }
}

fn login(
    connect: &Connect<'_>,
    store: &Store,
    platform_password: &str,
) -> Result<Role, ConnectReturnCode> {
    match (connect.username, connect.password) {
        (None, None) => Ok(Role::Anonymous {
            client_id: connect.client_id.to_string(),
        }),
        (None, Some(_)) => Err(ConnectReturnCode::BadUsernamePassword),
        (Some(PLATFORM_USER), Some(pw)) if password_matches(platform_password, pw) => {
            Ok(Role::Platform)
        }
        (Some(user), _) if user != PLATFORM_USER && !valid_identity(user) => {
            Err(ConnectReturnCode::NotAuthorized)
        }
        (Some(user), Some(pw)) if user != PLATFORM_USER && store.check(user, pw) => {
            Ok(Role::Device {
                identity: user.to_string(),
            })
        }
        _ => Err(ConnectReturnCode::BadUsernamePassword),
    }
}

/// The CONNECT sent to rumqttd for an admitted client: its client id in the role's namespace,
/// same keepalive, clean session and will (checked, its topic mapped), with the front's own
/// login. `Err` is the CONNACK refusal for the client (a will the role may not publish: not
/// authorized).
pub(crate) fn broker_connect(
    connect: &Connect<'_>,
    role: &Role,
    user: &str,
    password: &str,
) -> Result<Vec<u8>, ConnectReturnCode> {
    let will_topic = match &connect.last_will {
        Some(will) if !policy::may_publish_message(role, will.topic, will.message) => {
            return Err(ConnectReturnCode::NotAuthorized)
        }
        Some(will) => Some(policy::to_broker(will.topic)),
        None => None,
    };
    let last_will = match (&connect.last_will, &will_topic) {
        (Some(will), Some(topic)) => Some(LastWill {
            topic,
            message: will.message,
            qos: will.qos,
            retain: will.retain,
        }),
        _ => None,
    };
    let client_id = policy::broker_client_id(role, connect.client_id);
    let packet = Packet::Connect(Connect {
        protocol: connect.protocol,
        keep_alive: connect.keep_alive,
        client_id: &client_id,
        clean_session: connect.clean_session,
        last_will,
        username: Some(user),
        password: Some(password.as_bytes()),
    });
    codec::encode(&packet).map_err(|_| ConnectReturnCode::ServerUnavailable)
}

/// A CONNACK with `code` (session present false).
pub(crate) fn connack(code: ConnectReturnCode) -> Vec<u8> {
    vec![0x20, 0x02, 0x00, mqtt_core::packet::return_code_to_u8(code)]
}

/// The `$…` filters of one broker session, shared by its connections: a session kept with clean
/// session 0 outlives its connection, and rumqttd keeps its subscriptions.
pub(crate) type DollarFilters = Arc<Mutex<BTreeSet<String>>>;

/// The `$…` filters of the sessions rumqttd keeps (clean session 0), by broker client id.
#[derive(Debug, Default)]
pub(crate) struct Sessions(Mutex<BTreeMap<String, DollarFilters>>);

impl Sessions {
    /// The `$…` filters for a new connection: its kept session's, or a fresh set; a clean
    /// session forgets the kept one, as rumqttd does [MQTT-3.1.2-6].
    pub(crate) fn open(&self, broker_client_id: &str, clean_session: bool) -> DollarFilters {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if clean_session {
            kept.remove(broker_client_id);
            return DollarFilters::default();
        }
        kept.entry(broker_client_id.to_string())
            .or_default()
            .clone()
    }
}

/// The per-connection state of the front.
#[derive(Debug)]
pub(crate) struct Guard {
    role: Role,
    max_packet: usize,
    /// QoS 2 PUBLISHes that were denied and answered with PUBREC: their PUBREL is ours.
    denied_qos2: BTreeSet<u16>,
    /// SUBSCRIBEs forwarded with some filters removed: per original filter, allowed or not.
    splices: BTreeMap<u16, Vec<bool>>,
    /// The `$…` filters the client's session subscribed (as sent): the only way to a `$…` topic.
    dollar_filters: DollarFilters,
    /// QoS 2 `$…` messages from rumqttd dropped and answered with PUBREC: their PUBREL is ours.
    dropped_qos2: BTreeSet<u16>,
}

fn encode(packet: &Packet<'_>) -> Action {
    match codec::encode(packet) {
        Ok(bytes) => Action::ToBroker(bytes),
        Err(e) => Action::Close(e.to_string()),
    }
}

fn to_client(action: Action) -> Action {
    match action {
        Action::ToBroker(bytes) => Action::ToClient(bytes),
        other => other,
    }
}

impl Guard {
    /// A guard for an admitted client with a fresh session.
    #[cfg(test)]
    pub(crate) fn new(role: Role, max_packet: usize) -> Guard {
        Guard::in_session(role, max_packet, DollarFilters::default())
    }

    /// A guard for an admitted client whose broker session has these `$…` filters
    /// ([`Sessions::open`]).
    pub(crate) fn in_session(
        role: Role,
        max_packet: usize,
        dollar_filters: DollarFilters,
    ) -> Guard {
        Guard {
            role,
            max_packet,
            denied_qos2: BTreeSet::new(),
            splices: BTreeMap::new(),
            dollar_filters,
            dropped_qos2: BTreeSet::new(),
        }
    }

    /// One complete frame from the client.
    pub(crate) fn on_client(&mut self, frame: &[u8]) -> Vec<Action> {
        let packet = match codec::decode_any(frame, self.max_packet) {
            Ok(Some((packet, used))) if used == frame.len() => packet,
            Ok(_) => return vec![Action::Close("incomplete frame from client".into())],
            Err(e) => return vec![Action::Close(format!("from client: {e}"))],
        };
        match packet {
            Packet::Publish(p) => self.client_publish(frame, &p),
            Packet::Pubrel(pid) if self.denied_qos2.remove(&pid.get()) => {
                vec![to_client(encode(&Packet::Pubcomp(pid)))]
            }
            Packet::Subscribe(s) => self.client_subscribe(&s),
            Packet::Unsubscribe(u) => {
                let mut filters = self.filters();
                for t in &u.topics {
                    filters.remove(t);
                }
                drop(filters);
                let topics = u
                    .topics
                    .iter()
                    .map(|t| policy::to_broker(t).into_owned())
                    .collect();
                vec![encode(&Packet::Unsubscribe(Unsubscribe {
                    pid: u.pid,
                    topics,
                }))]
            }
            Packet::Puback(_)
            | Packet::Pubrec(_)
            | Packet::Pubrel(_)
            | Packet::Pubcomp(_)
            | Packet::Pingreq
            | Packet::Disconnect => vec![Action::ToBroker(frame.to_vec())],
            Packet::Connect(_) => vec![Action::Close("second CONNECT".into())],
            other => vec![Action::Close(format!(
                "client sent a server packet: {}",
                mqtt_core::packet::name(&other)
            ))],
        }
    }

    fn client_publish(&mut self, frame: &[u8], p: &Publish<'_>) -> Vec<Action> {
        if !policy::may_publish_message(&self.role, p.topic_name, p.payload) {
            tracing::info!(role = %self.role.describe(), topic = p.topic_name, "publish denied");
            return match p.qospid {
                QosPid::AtMostOnce => vec![],
                QosPid::AtLeastOnce(pid) => vec![to_client(encode(&Packet::Puback(pid)))],
                QosPid::ExactlyOnce(pid) => {
                    self.denied_qos2.insert(pid.get());
                    vec![to_client(encode(&Packet::Pubrec(pid)))]
                }
            };
        }
        match policy::to_broker(p.topic_name) {
            std::borrow::Cow::Borrowed(_) => vec![Action::ToBroker(frame.to_vec())],
            std::borrow::Cow::Owned(topic) => vec![encode(&Packet::Publish(Publish {
                topic_name: &topic,
                ..*p
            }))],
        }
    }

    fn client_subscribe(&mut self, s: &Subscribe) -> Vec<Action> {
        let mask: Vec<bool> = s
            .topics
            .iter()
            .map(|t| policy::may_subscribe(&self.role, &t.topic_path))
            .collect();
        for (t, allowed) in s.topics.iter().zip(&mask) {
            if !allowed {
                tracing::info!(role = %self.role.describe(), filter = %t.topic_path, "subscribe denied");
            }
        }
        if !mask.contains(&true) {
            let return_codes = vec![SubscribeReturnCodes::Failure; mask.len()];
            return vec![to_client(encode(&Packet::Suback(Suback {
                pid: s.pid,
                return_codes,
            })))];
        }
        let topics = s
            .topics
            .iter()
            .zip(&mask)
            .filter(|(_, allowed)| **allowed)
            .map(|(t, _)| SubscribeTopic {
                topic_path: policy::to_broker(&t.topic_path).into_owned(),
                qos: t.qos,
            })
            .collect();
        let allowed = s.topics.iter().zip(&mask).filter(|(_, a)| **a);
        let mut filters = self.filters();
        for (t, _) in allowed {
            if t.topic_path.starts_with('$') {
                filters.insert(t.topic_path.clone());
            }
        }
        drop(filters);
        if mask.contains(&false) {
            self.splices.insert(s.pid.get(), mask);
        } else {
            self.splices.remove(&s.pid.get());
        }
        vec![encode(&Packet::Subscribe(Subscribe { pid: s.pid, topics }))]
    }

    /// One complete frame from rumqttd.
    pub(crate) fn on_broker(&mut self, frame: &[u8]) -> Vec<Action> {
        let packet = match codec::decode(frame, self.max_packet) {
            Ok(Some((packet, used))) if used == frame.len() => packet,
            Ok(_) => return vec![Action::Close("incomplete frame from broker".into())],
            Err(e) => return vec![Action::Close(format!("from broker: {e}"))],
        };
        match packet {
            Packet::Publish(p) if !self.receives(&policy::to_client(p.topic_name)) => {
                let role = self.role.describe();
                tracing::debug!(%role, topic = p.topic_name, "`$` message without a `$` filter: dropped");
                match p.qospid {
                    QosPid::AtMostOnce => vec![],
                    QosPid::AtLeastOnce(pid) => vec![encode(&Packet::Puback(pid))],
                    QosPid::ExactlyOnce(pid) => {
                        self.dropped_qos2.insert(pid.get());
                        vec![encode(&Packet::Pubrec(pid))]
                    }
                }
            }
            Packet::Pubrel(pid) if self.dropped_qos2.remove(&pid.get()) => {
                vec![encode(&Packet::Pubcomp(pid))]
            }
            Packet::Publish(p) => match policy::to_client(p.topic_name) {
                topic if topic.len() != p.topic_name.len() => {
                    vec![to_client(encode(&Packet::Publish(Publish {
                        topic_name: &topic,
                        ..p
                    })))]
                }
                _ => vec![Action::ToClient(frame.to_vec())],
            },
            Packet::Suback(s) => match self.splices.remove(&s.pid.get()) {
                Some(mask) => vec![to_client(encode(&Packet::Suback(splice(s.pid, &mask, &s))))],
                None => vec![Action::ToClient(frame.to_vec())],
            },
            _ => vec![Action::ToClient(frame.to_vec())],
        }
    }
}

impl Guard {
    /// Whether a message on `topic` (as the client sees it) may reach the client: any topic but
    /// a `$…` one, which only through a `$…` filter the client subscribed ([MQTT-4.7.2-1]).
    fn receives(&self, topic: &str) -> bool {
        !topic.starts_with('$')
            || self
                .filters()
                .iter()
                .any(|filter| mqtt_core::topic::matches(filter, topic))
    }

    /// The session's `$…` filters (a panic elsewhere while holding them left a usable set).
    fn filters(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.dollar_filters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The SUBACK for the client's whole SUBSCRIBE: the broker's codes for the allowed filters, in
/// order, and 0x80 for the denied ones (and for any code the broker left out).
fn splice(pid: Pid, mask: &[bool], broker: &Suback) -> Suback {
    let mut codes = broker.return_codes.iter().copied();
    let return_codes = mask
        .iter()
        .map(|allowed| match allowed {
            true => codes.next().unwrap_or(SubscribeReturnCodes::Failure),
            false => SubscribeReturnCodes::Failure,
        })
        .collect();
    Suback { pid, return_codes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_core::packet::{Protocol, QoS};

    fn enc(p: &Packet<'_>) -> Vec<u8> {
        codec::encode(p).unwrap()
    }
    fn pid(n: u16) -> Pid {
        Pid::try_from(n).unwrap()
    }
    fn device() -> Guard {
        Guard::new(
            Role::Device {
                identity: "007".into(),
            },
            1 << 20,
        )
    }
    fn anon() -> Guard {
        Guard::new(
            Role::Anonymous {
                client_id: "007".into(),
            },
            1 << 20,
        )
    }
    fn publish(topic: &str, qospid: QosPid) -> Vec<u8> {
        publish_payload(topic, b"212", qospid)
    }
    fn publish_payload(topic: &str, payload: &[u8], qospid: QosPid) -> Vec<u8> {
        enc(&Packet::Publish(Publish {
            dup: false,
            qospid,
            retain: false,
            topic_name: topic,
            payload,
        }))
    }
    fn subscribe(n: u16, filters: &[&str]) -> Vec<u8> {
        enc(&Packet::Subscribe(Subscribe {
            pid: pid(n),
            topics: filters
                .iter()
                .map(|f| SubscribeTopic {
                    topic_path: f.to_string(),
                    qos: QoS::AtLeastOnce,
                })
                .collect(),
        }))
    }
    fn suback(n: u16, codes: &[SubscribeReturnCodes]) -> Vec<u8> {
        enc(&Packet::Suback(Suback {
            pid: pid(n),
            return_codes: codes.to_vec(),
        }))
    }
    const OK1: SubscribeReturnCodes = SubscribeReturnCodes::Success(QoS::AtLeastOnce);
    const NO: SubscribeReturnCodes = SubscribeReturnCodes::Failure;

    #[test]
    fn allowed_publish_is_forwarded_unchanged() {
        let frame = publish("007/temperature", QosPid::AtLeastOnce(pid(3)));
        assert_eq!(
            device().on_client(&frame),
            vec![Action::ToBroker(frame.clone())]
        );
    }

    #[test]
    fn denied_publishes_are_dropped_but_acknowledged() {
        let mut g = device();
        assert_eq!(g.on_client(&publish("008/x", QosPid::AtMostOnce)), vec![]);
        assert_eq!(
            g.on_client(&publish("008/x", QosPid::AtLeastOnce(pid(4)))),
            vec![Action::ToClient(enc(&Packet::Puback(pid(4))))]
        );
        assert_eq!(
            g.on_client(&publish("008/x", QosPid::ExactlyOnce(pid(5)))),
            vec![Action::ToClient(enc(&Packet::Pubrec(pid(5))))]
        );
        // Our PUBREL: answered here, once.
        let pubrel = enc(&Packet::Pubrel(pid(5)));
        assert_eq!(
            g.on_client(&pubrel),
            vec![Action::ToClient(enc(&Packet::Pubcomp(pid(5))))]
        );
        // Any other PUBREL belongs to the broker.
        assert_eq!(g.on_client(&pubrel), vec![Action::ToBroker(pubrel.clone())]);
    }

    #[test]
    fn subscribe_all_denied_is_answered_here() {
        let mut g = anon();
        assert_eq!(
            g.on_client(&subscribe(7, &["007/#"])),
            vec![Action::ToClient(suback(7, &[NO]))]
        );
    }

    #[test]
    fn subscribe_partly_denied_is_spliced() {
        let mut g = device();
        let actions = g.on_client(&subscribe(9, &["#", "007/#", "008/#", "007/+"]));
        assert_eq!(
            actions,
            vec![Action::ToBroker(subscribe(9, &["007/#", "007/+"]))]
        );
        assert_eq!(
            g.on_broker(&suback(
                9,
                &[OK1, SubscribeReturnCodes::Success(QoS::AtMostOnce)]
            )),
            vec![Action::ToClient(suback(
                9,
                &[NO, OK1, NO, SubscribeReturnCodes::Success(QoS::AtMostOnce)]
            ))]
        );
        // The splice is used once; a later SUBACK with the same id passes through.
        let plain = suback(9, &[OK1]);
        assert_eq!(g.on_broker(&plain), vec![Action::ToClient(plain.clone())]);
    }

    #[test]
    fn short_broker_suback_gets_failures() {
        let mut g = device();
        g.on_client(&subscribe(2, &["x", "007/a", "007/b"]));
        assert_eq!(
            g.on_broker(&suback(2, &[OK1])),
            vec![Action::ToClient(suback(2, &[NO, OK1, NO]))]
        );
    }

    #[test]
    fn provision_topics_are_mapped_both_ways() {
        let mut g = anon();
        assert_eq!(
            g.on_client(&subscribe(1, &["$provision/007"])),
            vec![Action::ToBroker(subscribe(1, &["~$provision/007"]))]
        );
        assert_eq!(
            g.on_client(&publish("$provision/007", QosPid::AtMostOnce)),
            vec![Action::ToBroker(publish(
                "~$provision/007",
                QosPid::AtMostOnce
            ))]
        );
        assert_eq!(
            g.on_broker(&publish("~$provision/007", QosPid::AtLeastOnce(pid(2)))),
            vec![Action::ToClient(publish(
                "$provision/007",
                QosPid::AtLeastOnce(pid(2))
            ))]
        );
        let plain = publish("activate/007", QosPid::AtMostOnce);
        assert_eq!(g.on_broker(&plain), vec![Action::ToClient(plain.clone())]);
    }

    #[test]
    fn protocol_violations_close() {
        let mut g = device();
        for frame in [
            vec![0x10, 0x00],             // malformed CONNECT
            vec![0x20, 0x02, 0x00, 0x00], // CONNACK from a client
            vec![0x30, 0x05, 0x00],       // truncated PUBLISH
            vec![0xf0, 0x00],             // reserved type
        ] {
            let actions = g.on_client(&frame);
            assert!(
                matches!(actions.as_slice(), [Action::Close(_)]),
                "{frame:02x?}: {actions:?}"
            );
        }
        assert!(matches!(
            g.on_broker(&[0x30, 0x7f]).as_slice(),
            [Action::Close(_)]
        ));
    }

    #[test]
    fn control_packets_pass() {
        let mut g = device();
        for p in [Packet::Pingreq, Packet::Disconnect, Packet::Puback(pid(1))] {
            let frame = enc(&p);
            assert_eq!(g.on_client(&frame), vec![Action::ToBroker(frame.clone())]);
        }
        let frame = enc(&Packet::Pingresp);
        assert_eq!(g.on_broker(&frame), vec![Action::ToClient(frame.clone())]);
    }

    fn connect<'a>(
        user: Option<&'a str>,
        pw: Option<&'a [u8]>,
        will: Option<&'a str>,
    ) -> Connect<'a> {
        Connect {
            protocol: Protocol::MQTT311,
            keep_alive: 30,
            client_id: "007",
            clean_session: true,
            last_will: will.map(|topic| LastWill {
                topic,
                message: b"gone",
                qos: QoS::AtMostOnce,
                retain: false,
            }),
            username: user,
            password: pw,
        }
    }

    fn with_id<'a>(client_id: &'a str, c: Connect<'a>) -> Connect<'a> {
        Connect { client_id, ..c }
    }

    #[test]
    fn authentication() {
        let dir = std::env::temp_dir().join(format!("demo-guard-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = Store::load(&dir).unwrap();
        let super::super::store::Activation::Activated(pw) = store.activate("007").unwrap() else {
            panic!()
        };
        let platform = "p".repeat(40);
        let auth = |c: Connect<'_>| authenticate(&c, &store, &platform);
        assert_eq!(
            auth(connect(None, None, None)),
            Ok(Role::Anonymous {
                client_id: "007".into()
            })
        );
        assert_eq!(
            auth(connect(Some("007"), Some(pw.as_bytes()), None)),
            Ok(Role::Device {
                identity: "007".into()
            })
        );
        assert_eq!(
            auth(connect(Some("platform"), Some(platform.as_bytes()), None)),
            Ok(Role::Platform)
        );
        let bad = Err(ConnectReturnCode::BadUsernamePassword);
        assert_eq!(auth(connect(Some("007"), Some(b"nope"), None)), bad);
        assert_eq!(auth(connect(Some("007"), None, None)), bad);
        assert_eq!(auth(connect(Some("008"), Some(pw.as_bytes()), None)), bad);
        assert_eq!(
            auth(connect(Some("platform"), Some(pw.as_bytes()), None)),
            bad
        );
        assert_eq!(auth(connect(None, Some(b"x"), None)), bad);

        // Refused with 5: reserved user names, client ids the role may not use, and an
        // anonymous client asking to keep a session. The password is checked first (4).
        let no = Err(ConnectReturnCode::NotAuthorized);
        for user in [
            "activate",
            "demo-activation",
            "platform-portal",
            "a/b",
            "$x",
        ] {
            assert_eq!(
                auth(connect(Some(user), Some(pw.as_bytes()), None)),
                no,
                "{user}"
            );
        }
        for id in ["activate", "demo-activation", "platform-portal", "a/b"] {
            assert_eq!(
                auth(with_id(id, connect(None, None, None))),
                no,
                "anonymous {id}"
            );
        }
        let keep = Connect {
            clean_session: false,
            ..connect(None, None, None)
        };
        assert_eq!(auth(keep), no, "anonymous with clean session 0");
        for id in ["008", "demo-activation", "platform-portal"] {
            let c = with_id(id, connect(Some("007"), Some(pw.as_bytes()), None));
            assert_eq!(auth(c), no, "device 007 as {id}");
        }
        let c = with_id(
            "007-echo-host",
            connect(Some("007"), Some(pw.as_bytes()), None),
        );
        assert!(auth(c).is_ok());
        let c = with_id(
            "demo-activation",
            connect(Some("platform"), Some(platform.as_bytes()), None),
        );
        assert_eq!(auth(c), no, "the platform as a service");
        let c = with_id("008", connect(Some("007"), Some(b"nope"), None));
        assert_eq!(auth(c), bad, "a wrong password is 4 whatever the client id");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn anonymous_requests_only_its_own_activation() {
        let mut g = anon();
        let own = publish_payload("activate", b"007", QosPid::AtLeastOnce(pid(1)));
        assert_eq!(g.on_client(&own), vec![Action::ToBroker(own.clone())]);
        let other = publish_payload("activate", b"008", QosPid::AtLeastOnce(pid(2)));
        assert_eq!(
            g.on_client(&other),
            vec![Action::ToClient(enc(&Packet::Puback(pid(2))))]
        );
    }

    #[test]
    fn a_kept_session_keeps_its_dollar_filters() {
        let sessions = Sessions::default();
        let kept =
            || Guard::in_session(Role::Platform, 1 << 20, sessions.open("~platform~p", false));
        let mut first = kept();
        first.on_client(&subscribe(1, &["$demo/+"]));
        drop(first);
        let dollar = publish("~$demo/x", QosPid::AtMostOnce);
        let delivered = vec![Action::ToClient(publish("$demo/x", QosPid::AtMostOnce))];
        // Resumed without subscribing again: rumqttd still has `$demo/+` for it.
        assert_eq!(kept().on_broker(&dollar), delivered);
        // Another client id, or a clean session (which also ends the kept one), starts empty.
        let other = sessions.open("~platform~q", false);
        assert_eq!(
            Guard::in_session(Role::Platform, 1 << 20, other).on_broker(&dollar),
            vec![]
        );
        let clean = sessions.open("~platform~p", true);
        assert_eq!(
            Guard::in_session(Role::Platform, 1 << 20, clean).on_broker(&dollar),
            vec![]
        );
        assert_eq!(kept().on_broker(&dollar), vec![]);
    }

    #[test]
    fn dollar_messages_need_a_dollar_filter() {
        let mut g = Guard::new(Role::Platform, 1 << 20);
        g.on_client(&subscribe(1, &["#", "+/007"]));
        // [MQTT-4.7.2-1]: `#` and `+/…` do not match `$provision/007`: dropped, acknowledged
        // to rumqttd so its in-flight window stays open.
        assert_eq!(
            g.on_broker(&publish("~$provision/007", QosPid::AtMostOnce)),
            vec![]
        );
        assert_eq!(
            g.on_broker(&publish("~$provision/007", QosPid::AtLeastOnce(pid(3)))),
            vec![Action::ToBroker(enc(&Packet::Puback(pid(3))))]
        );
        assert_eq!(
            g.on_broker(&publish("~$provision/007", QosPid::ExactlyOnce(pid(4)))),
            vec![Action::ToBroker(enc(&Packet::Pubrec(pid(4))))]
        );
        let pubrel = enc(&Packet::Pubrel(pid(4)));
        assert_eq!(
            g.on_broker(&pubrel),
            vec![Action::ToBroker(enc(&Packet::Pubcomp(pid(4))))]
        );
        assert_eq!(g.on_broker(&pubrel), vec![Action::ToClient(pubrel.clone())]);
        let plain = publish("007/temp", QosPid::AtLeastOnce(pid(5)));
        assert_eq!(g.on_broker(&plain), vec![Action::ToClient(plain.clone())]);

        // A `$` filter opens its own topics, until unsubscribed.
        g.on_client(&subscribe(2, &["$provision/+"]));
        assert_eq!(
            g.on_broker(&publish("~$provision/007", QosPid::AtMostOnce)),
            vec![Action::ToClient(publish(
                "$provision/007",
                QosPid::AtMostOnce
            ))]
        );
        assert_eq!(
            g.on_broker(&publish("~$other/007", QosPid::AtMostOnce)),
            vec![]
        );
        g.on_client(&enc(&Packet::Unsubscribe(Unsubscribe {
            pid: pid(3),
            topics: vec!["$provision/+".into()],
        })));
        assert_eq!(
            g.on_broker(&publish("~$provision/007", QosPid::AtMostOnce)),
            vec![]
        );
    }

    #[test]
    fn broker_connect_swaps_the_login_and_checks_the_will() {
        let device = Role::Device {
            identity: "007".into(),
        };
        let bytes = broker_connect(
            &connect(Some("007"), Some(b"pw"), Some("007/status")),
            &device,
            "front",
            "secret",
        )
        .unwrap();
        let Some((Packet::Connect(c), _)) = codec::decode_any(&bytes, 1 << 20).unwrap() else {
            panic!()
        };
        assert_eq!(
            (c.username, c.password),
            (Some("front"), Some(&b"secret"[..]))
        );
        assert_eq!((c.client_id, c.keep_alive), ("~device~007~007", 30));
        assert_eq!(c.last_will.map(|w| w.topic), Some("007/status"));
        assert_eq!(
            broker_connect(
                &connect(Some("007"), Some(b"pw"), Some("008/status")),
                &device,
                "f",
                "s"
            ),
            Err(ConnectReturnCode::NotAuthorized)
        );
        // An anonymous will on `activate` is an activation request like any other.
        let anonymous = Role::Anonymous {
            client_id: "007".into(),
        };
        let will = |message: &'static [u8]| Connect {
            last_will: Some(LastWill {
                topic: "activate",
                message,
                qos: QoS::AtMostOnce,
                retain: false,
            }),
            ..connect(None, None, None)
        };
        assert!(broker_connect(&will(b"007"), &anonymous, "f", "s").is_ok());
        assert_eq!(
            broker_connect(&will(b"008"), &anonymous, "f", "s"),
            Err(ConnectReturnCode::NotAuthorized)
        );
        assert_eq!(
            connack(ConnectReturnCode::BadUsernamePassword),
            vec![0x20, 2, 0, 4]
        );
    }
}
