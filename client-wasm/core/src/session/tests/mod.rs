//! The session against a scripted broker, on simulated time: every test runs in microseconds.
//! This file holds the scripted broker's tools; the tests are in one file per topic.

mod connect;
mod inbound;
mod keepalive;
mod malformed;
mod publish;
mod requests;
mod snapshot;

use core::time::Duration;

use crate::packet::{Packet, Pid, QosPid};

use super::*;
use crate::codec::{self, DecodeError};
use crate::error::{
    CommandError, ConnectRefused, ConnectionError, OptionsError, ProtocolViolation,
    TransportFailure,
};
use crate::topic::TopicError;

pub(crate) use crate::sent::Sent;

/// What the client sent, which must be whole, valid client packets.
pub(crate) fn parse_sent(bytes: &[u8]) -> Vec<Sent> {
    crate::sent::parse_sent(bytes).expect("the client sent whole, valid packets")
}

fn pid(n: u16) -> Pid {
    Pid::try_from(n).unwrap()
}

fn bytes(packet: Packet<'_>) -> Vec<u8> {
    codec::encode(&packet).unwrap()
}

fn connack(session_present: bool, code: crate::packet::ConnectReturnCode) -> Vec<u8> {
    bytes(Packet::Connack(crate::packet::Connack {
        session_present,
        code,
    }))
}

fn publish(topic: &str, payload: &[u8], qospid: QosPid, dup: bool) -> Vec<u8> {
    bytes(Packet::Publish(crate::packet::Publish {
        dup,
        qospid,
        retain: false,
        topic_name: topic,
        payload,
    }))
}

fn suback(id: u16, codes: &[Option<QoS>]) -> Vec<u8> {
    let return_codes = codes
        .iter()
        .map(|c| match c {
            Some(q) => crate::packet::SubscribeReturnCodes::Success(*q),
            None => crate::packet::SubscribeReturnCodes::Failure,
        })
        .collect();
    bytes(Packet::Suback(crate::packet::Suback {
        pid: pid(id),
        return_codes,
    }))
}

/// A session plus simulated time and a scripted broker's side of the wire.
struct Harness {
    session: Session,
    now: Instant,
}

impl Harness {
    fn new(options: Options) -> Self {
        Self {
            session: Session::new(options),
            now: Instant::from_millis(1_000),
        }
    }

    fn options() -> Options {
        let mut options = Options::new("007");
        options.keep_alive_secs = 10;
        options.reconnect.initial_delay = Duration::from_millis(100);
        options.reconnect.max_delay = Duration::from_secs(2);
        options
    }

    /// [`Harness::options`] with a persistent session: the only kind a broker may answer with
    /// "session present" ([MQTT-3.2.2-1]).
    fn persistent() -> Options {
        let mut options = Self::options();
        options.clean_session = false;
        options
    }

    fn advance(&mut self, by: Duration) {
        self.now = self.now + by;
        self.session.handle_timeout(self.now);
    }

    /// Jumps to the session's next timeout, like an adapter's timer would.
    fn fire_timer(&mut self) {
        let due = self.session.poll_timeout().expect("a timer is armed");
        self.now = self.now.max(due);
        self.session.handle_timeout(self.now);
    }

    fn sent(&mut self) -> Vec<Sent> {
        let mut all = Vec::new();
        while let Some(bytes) = self.session.poll_transmit() {
            all.extend(parse_sent(&bytes));
        }
        all
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    fn actions(&mut self) -> Vec<TransportAction> {
        std::iter::from_fn(|| self.session.poll_transport()).collect()
    }

    fn feed(&mut self, data: &[u8]) {
        self.session.handle_bytes(self.now, data);
    }

    /// connect → Open → transport open → CONNECT → CONNACK accepted.
    fn establish(&mut self, session_present: bool) -> Vec<Sent> {
        if self.session.link == Link::Idle {
            self.session.connect(self.now);
        }
        assert_eq!(self.actions(), vec![TransportAction::Open]);
        self.session.handle_transport_open(self.now);
        let mut sent = self.sent();
        assert!(matches!(sent.remove(0), Sent::Connect { .. }));
        self.feed(&connack(
            session_present,
            crate::packet::ConnectReturnCode::Accepted,
        ));
        let events = self.events();
        assert!(
            events.contains(&Event::Connected { session_present }),
            "{events:?}"
        );
        sent.extend(self.sent());
        sent
    }

    /// The transport drops; waits out the backoff until the session asks to reopen.
    fn drop_and_wait_reopen(&mut self) {
        self.session
            .handle_transport_closed(self.now, TransportFailure::Dropped("reset by peer".into()));
        let events = self.events();
        assert!(
            matches!(
                events.last(),
                Some(Event::ConnectionLost {
                    reconnect_in: Some(_),
                    ..
                })
            ),
            "{events:?}"
        );
        self.fire_timer();
        assert!(self
            .events()
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. })));
    }
}
