//! A model broker: MQTT 3.1.1 as the text says, with mosquitto's choices where the text leaves
//! one (§4.3.3 "method A": an inbound QoS 2 message is stored at PUBLISH and forwarded at PUBREL;
//! PUBCOMP for a PUBREL with an unknown id; at most 20 QoS 1/2 messages in flight to a client).
//!
//! It keeps the books the invariants are checked against: which of the client's messages it
//! accepted (QoS 1: PUBACK sent; QoS 2: released by PUBREL and forwarded) and how often it
//! forwarded each, and which of its own messages it sent to the client.

use std::collections::{BTreeMap, HashMap, VecDeque};

use mqtt_core::codec::{decode_any, encode};
use mqtt_core::packet::{
    Connack, ConnectReturnCode, Packet, Pid, Publish, QosPid, Suback, SubscribeReturnCodes,
};
use mqtt_core::{qos_to_u8, topic, QoS};

/// mosquitto's `max_inflight_messages`.
const MAX_INFLIGHT_TO_CLIENT: usize = 20;

/// A message the broker holds, keyed by its payload (every payload in a run is unique).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
}

/// What the broker does wrong, when a seed asks it to (the client must survive it: never panic,
/// never report `Published` for something the broker did not accept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Misbehaviour {
    /// PUBACK twice.
    pub duplicate_puback: bool,
    /// A PUBACK for an id the client never used, after every real one.
    pub puback_unknown_id: bool,
    /// The acknowledgements (PUBACK, PUBREC, PUBCOMP) of one batch of packets in reverse order
    /// (§4.6 asks for them in order).
    pub reversed_acks: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutStage {
    Puback,
    Pubrec,
    Pubcomp,
}

#[derive(Debug, Default)]
struct SessionState {
    subscriptions: Vec<(String, QoS)>,
    /// Inbound QoS 2 messages stored at PUBLISH, awaiting PUBREL (method A).
    awaiting_pubrel: BTreeMap<u16, Stored>,
    /// Outbound QoS 1/2 messages sent to the client and not yet completed.
    inflight: Vec<(u16, OutStage, Stored)>,
    queued: VecDeque<Stored>,
    next_pid: u16,
}

impl SessionState {
    fn allocate_pid(&mut self) -> u16 {
        loop {
            self.next_pid = self.next_pid.checked_add(1).unwrap_or(1);
            if !self.inflight.iter().any(|(p, _, _)| *p == self.next_pid) {
                return self.next_pid;
            }
        }
    }
}

#[derive(Debug)]
struct Connection {
    id: u64,
    client_id: Option<String>,
    clean: bool,
    rx: Vec<u8>,
}

/// The model broker. One client id matters (the client under test); a ghost may take it over.
#[derive(Debug)]
pub(crate) struct Broker {
    pub persistent: bool,
    pub misbehaviour: Misbehaviour,
    sessions: HashMap<String, SessionState>,
    connection: Option<Connection>,
    /// Packets for the client, in sending order, until `take_output`.
    out: Vec<Vec<u8>>,
    /// The client's messages the broker accepted, and how often each was forwarded.
    pub forwarded: HashMap<Vec<u8>, u32>,
    /// The client's messages forwarded more than once, in the order it happened.
    pub forwarded_again: Vec<Vec<u8>>,
    /// QoS 1 messages of the client's that got a PUBACK.
    pub acknowledged_qos1: HashMap<Vec<u8>, u32>,
    /// Protocol rules the client broke, as read by the broker.
    pub violations: Vec<String>,
    /// The connection closed itself (malformed input, a second CONNECT...).
    closed_by_broker: bool,
    /// The connection on which the broker last started a new session for the client.
    pub fresh_session_on: Option<u64>,
    /// Acknowledgements are held back (a slow broker): packet ids stay in use meanwhile.
    holding_acks: bool,
    withheld: Vec<Vec<u8>>,
}

impl Broker {
    pub(crate) fn new(persistent: bool, misbehaviour: Misbehaviour) -> Broker {
        Broker {
            persistent,
            misbehaviour,
            sessions: HashMap::new(),
            connection: None,
            out: Vec::new(),
            forwarded: HashMap::new(),
            forwarded_again: Vec::new(),
            acknowledged_qos1: HashMap::new(),
            violations: Vec::new(),
            closed_by_broker: false,
            fresh_session_on: None,
            holding_acks: false,
            withheld: Vec::new(),
        }
    }

    /// A new network connection (the old one, if any, is gone).
    pub(crate) fn accept(&mut self, id: u64) {
        self.drop_connection();
        self.connection = Some(Connection {
            id,
            client_id: None,
            clean: true,
            rx: Vec::new(),
        });
    }

    pub(crate) fn connection_id(&self) -> Option<u64> {
        self.connection.as_ref().map(|c| c.id)
    }

    /// The connection dropped (link fault, client closed). With clean session the state goes
    /// ([MQTT-3.1.2-6]: it lasts only as long as the network connection).
    pub(crate) fn drop_connection(&mut self) {
        if let Some(conn) = self.connection.take() {
            if let (Some(client_id), true) = (conn.client_id, conn.clean) {
                self.sessions.remove(&client_id);
            }
        }
        self.out.clear();
        self.withheld.clear();
    }

    /// Holds acknowledgements back from now on (true), or sends those held, in order, and
    /// answers at once again (false).
    pub(crate) fn hold_acks(&mut self, hold: bool) {
        self.holding_acks = hold;
        if !hold {
            self.out.append(&mut self.withheld);
        }
    }

    /// The broker restarts: connections go; sessions survive only with persistence.
    pub(crate) fn restart(&mut self) {
        self.drop_connection();
        if !self.persistent {
            self.sessions.clear();
        }
    }

    /// Another client connects with the same client id and leaves again at once ([MQTT-3.1.4-2]:
    /// the broker disconnects the existing client). With clean session its state goes.
    pub(crate) fn takeover(&mut self, client_id: &str, clean: bool) {
        let ours = self
            .connection
            .as_ref()
            .and_then(|c| c.client_id.as_deref())
            == Some(client_id);
        if ours {
            self.drop_connection();
        }
        if clean {
            self.sessions.remove(client_id);
        }
    }

    /// Bytes for the client.
    pub(crate) fn take_output(&mut self) -> Vec<u8> {
        let mut packets = std::mem::take(&mut self.out);
        if self.misbehaviour.reversed_acks {
            reverse_acks(&mut packets);
        }
        packets.concat()
    }

    /// Whether the broker hung up on the client (it then needs `drop_connection`).
    pub(crate) fn take_closed(&mut self) -> bool {
        std::mem::take(&mut self.closed_by_broker)
    }

    /// A message from another client, forwarded to the client's matching subscription. False
    /// when the client has none (nothing is queued for it).
    pub(crate) fn publish_from_elsewhere(&mut self, client_id: &str, held: Stored) -> bool {
        let Some(session) = self.sessions.get_mut(client_id) else {
            return false;
        };
        let Some(granted) = session
            .subscriptions
            .iter()
            .filter(|(f, _)| topic::matches(f, &held.topic))
            .map(|(_, q)| *q)
            .max_by_key(|q| qos_to_u8(*q))
        else {
            return false;
        };
        let qos = if qos_to_u8(held.qos) < qos_to_u8(granted) {
            held.qos
        } else {
            granted
        };
        session.queued.push_back(Stored { qos, ..held });
        self.pump(client_id);
        true
    }

    /// Bytes from the client.
    pub(crate) fn receive(&mut self, bytes: &[u8]) {
        let Some(conn) = self.connection.as_mut() else {
            return;
        };
        conn.rx.extend_from_slice(bytes);
        let rx = std::mem::take(&mut conn.rx);
        let mut offset = 0;
        while let Some(rest) = rx.get(offset..) {
            match decode_any(rest, usize::MAX) {
                Ok(Some((packet, used))) => {
                    offset += used;
                    if !self.handle(packet) {
                        self.closed_by_broker = true;
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.violations
                        .push(format!("client sent bytes that do not decode: {e}"));
                    self.closed_by_broker = true;
                    return;
                }
            }
        }
        if let Some(conn) = self.connection.as_mut() {
            conn.rx = rx.get(offset..).unwrap_or_default().to_vec();
        }
    }

    /// Counts a forward of one of the client's messages; a second one is noted for the
    /// exactly-once check.
    fn forward(&mut self, payload: Vec<u8>) {
        let count = self.forwarded.entry(payload.clone()).or_default();
        *count += 1;
        if *count == 2 {
            self.forwarded_again.push(payload);
        }
    }

    fn send(&mut self, packet: &Packet<'_>) {
        let ack = matches!(
            packet,
            Packet::Puback(_)
                | Packet::Pubrec(_)
                | Packet::Pubcomp(_)
                | Packet::Suback(_)
                | Packet::Unsuback(_)
        );
        match encode(packet) {
            Ok(bytes) if ack && self.holding_acks => self.withheld.push(bytes),
            Ok(bytes) => self.out.push(bytes),
            Err(e) => self
                .violations
                .push(format!("broker could not encode: {e}")),
        }
    }

    fn pid(value: u16) -> Pid {
        Pid::try_from(value).unwrap_or_default()
    }

    /// Handles one packet; false to close the connection.
    fn handle(&mut self, packet: Packet<'_>) -> bool {
        let Some(conn) = self.connection.as_mut() else {
            return false;
        };
        let conn_id = conn.id;
        let Some(client_id) = conn.client_id.clone() else {
            let Packet::Connect(connect) = packet else {
                self.violations
                    .push("first packet is not CONNECT [MQTT-3.1.0-1]".into());
                return false;
            };
            if connect.client_id.is_empty() && !connect.clean_session {
                self.send(&Packet::Connack(Connack {
                    session_present: false,
                    code: ConnectReturnCode::RefusedIdentifierRejected,
                }));
                return false;
            }
            conn.client_id = Some(connect.client_id.to_string());
            conn.clean = connect.clean_session;
            let id = connect.client_id.to_string();
            if connect.clean_session {
                self.sessions.remove(&id);
            }
            let session_present = self.sessions.contains_key(&id);
            if !session_present {
                self.fresh_session_on = Some(conn_id);
            }
            self.sessions.entry(id.clone()).or_default();
            self.send(&Packet::Connack(Connack {
                session_present,
                code: ConnectReturnCode::Accepted,
            }));
            self.resend_inflight(&id);
            self.pump(&id);
            return true;
        };
        match packet {
            Packet::Connect(_) => {
                self.violations.push("second CONNECT [MQTT-3.1.0-2]".into());
                false
            }
            Packet::Publish(publish) => {
                self.on_publish(&client_id, publish);
                true
            }
            Packet::Pubrel(pid) => {
                let session = self.sessions.entry(client_id).or_default();
                if let Some(held) = session.awaiting_pubrel.remove(&pid.get()) {
                    self.forward(held.payload);
                }
                // mosquitto answers PUBCOMP whether or not it knew the id.
                self.send(&Packet::Pubcomp(pid));
                true
            }
            Packet::Puback(pid) => {
                self.complete_outbound(&client_id, pid.get(), OutStage::Puback);
                true
            }
            Packet::Pubrec(pid) => {
                let session = self.sessions.entry(client_id).or_default();
                if let Some(entry) = session
                    .inflight
                    .iter_mut()
                    .find(|(p, s, _)| *p == pid.get() && *s != OutStage::Puback)
                {
                    entry.1 = OutStage::Pubcomp;
                }
                self.send(&Packet::Pubrel(pid));
                true
            }
            Packet::Pubcomp(pid) => {
                self.complete_outbound(&client_id, pid.get(), OutStage::Pubcomp);
                true
            }
            Packet::Subscribe(subscribe) => {
                let session = self.sessions.entry(client_id).or_default();
                let mut codes = Vec::new();
                for t in &subscribe.topics {
                    session.subscriptions.retain(|(f, _)| f != &t.topic_path);
                    session.subscriptions.push((t.topic_path.clone(), t.qos));
                    codes.push(SubscribeReturnCodes::Success(t.qos));
                }
                self.send(&Packet::Suback(Suback {
                    pid: subscribe.pid,
                    return_codes: codes,
                }));
                true
            }
            Packet::Unsubscribe(unsubscribe) => {
                let session = self.sessions.entry(client_id).or_default();
                session
                    .subscriptions
                    .retain(|(f, _)| !unsubscribe.topics.contains(f));
                self.send(&Packet::Unsuback(unsubscribe.pid));
                true
            }
            Packet::Pingreq => {
                self.send(&Packet::Pingresp);
                true
            }
            Packet::Disconnect => {
                self.drop_connection();
                false
            }
            other => {
                self.violations
                    .push(format!("a client must not send {other:?}"));
                false
            }
        }
    }

    fn on_publish(&mut self, client_id: &str, publish: Publish<'_>) {
        let held = Stored {
            topic: publish.topic_name.to_string(),
            payload: publish.payload.to_vec(),
            qos: publish.qospid.qos(),
        };
        match publish.qospid {
            QosPid::AtMostOnce => self.forward(held.payload),
            QosPid::AtLeastOnce(pid) => {
                self.forward(held.payload.clone());
                *self.acknowledged_qos1.entry(held.payload).or_default() += 1;
                self.send(&Packet::Puback(pid));
                if self.misbehaviour.duplicate_puback {
                    self.send(&Packet::Puback(pid));
                }
                if self.misbehaviour.puback_unknown_id {
                    let unknown = pid.get().wrapping_add(30_000).max(1);
                    self.send(&Packet::Puback(Self::pid(unknown)));
                }
            }
            QosPid::ExactlyOnce(pid) => {
                let session = self.sessions.entry(client_id.to_string()).or_default();
                match session.awaiting_pubrel.get(&pid.get()) {
                    Some(existing) if existing.payload != held.payload => {
                        self.violations.push(format!(
                            "packet id {} reused for a new message while the old one awaits \
                             PUBREL [MQTT-2.3.1-2]",
                            pid.get()
                        ));
                    }
                    Some(_) if !publish.dup => {
                        self.violations.push(format!(
                            "QoS 2 message resent under id {} without DUP [MQTT-3.3.1-1]",
                            pid.get()
                        ));
                    }
                    _ => {
                        session.awaiting_pubrel.insert(pid.get(), held);
                    }
                }
                self.send(&Packet::Pubrec(pid));
            }
        }
    }

    fn complete_outbound(&mut self, client_id: &str, pid: u16, stage: OutStage) {
        let session = self.sessions.entry(client_id.to_string()).or_default();
        session
            .inflight
            .retain(|(p, s, _)| !(*p == pid && *s == stage));
        self.pump(client_id);
    }

    /// After CONNACK on a resumed session: unacknowledged messages again, with DUP (§4.4).
    fn resend_inflight(&mut self, client_id: &str) {
        let Some(session) = self.sessions.get(client_id) else {
            return;
        };
        let resend: Vec<(u16, OutStage, Stored)> = session.inflight.clone();
        for (pid, stage, held) in resend {
            match stage {
                OutStage::Pubcomp => self.send(&Packet::Pubrel(Self::pid(pid))),
                _ => self.send_publish(pid, &held, true),
            }
        }
    }

    fn send_publish(&mut self, pid: u16, held: &Stored, dup: bool) {
        let qospid = match held.qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(Self::pid(pid)),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(Self::pid(pid)),
        };
        self.send(&Packet::Publish(Publish {
            dup,
            qospid,
            retain: false,
            topic_name: &held.topic,
            payload: &held.payload,
        }));
    }

    /// Sends queued messages while the client is connected and the window has room.
    fn pump(&mut self, client_id: &str) {
        let connected = self
            .connection
            .as_ref()
            .and_then(|c| c.client_id.as_deref())
            == Some(client_id);
        if !connected {
            return;
        }
        loop {
            let Some(session) = self.sessions.get_mut(client_id) else {
                return;
            };
            if session.inflight.len() >= MAX_INFLIGHT_TO_CLIENT {
                return;
            }
            let Some(held) = session.queued.pop_front() else {
                return;
            };
            let pid = match held.qos {
                QoS::AtMostOnce => 0,
                QoS::AtLeastOnce => {
                    let pid = session.allocate_pid();
                    session.inflight.push((pid, OutStage::Puback, held.clone()));
                    pid
                }
                QoS::ExactlyOnce => {
                    let pid = session.allocate_pid();
                    session.inflight.push((pid, OutStage::Pubrec, held.clone()));
                    pid
                }
            };
            self.send_publish(pid, &held, false);
        }
    }
}

/// Reverses the order of the acknowledgements among `packets`, leaving every other packet where
/// it is.
fn reverse_acks(packets: &mut [Vec<u8>]) {
    let is_ack = |p: &Vec<u8>| matches!(p.first().map(|b| b >> 4), Some(4 | 5 | 7));
    let slots: Vec<usize> = (0..packets.len())
        .filter(|&i| is_ack(&packets[i]))
        .collect();
    let acks: Vec<Vec<u8>> = slots.iter().map(|&i| packets[i].clone()).collect();
    for (slot, ack) in slots.iter().zip(acks.into_iter().rev()) {
        packets[*slot] = ack;
    }
}
