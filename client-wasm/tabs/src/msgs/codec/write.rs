//! Writing the fields of a tab message.

use mqtt_core::{qos_to_u8, ConnectionError, QoS, TransportFailure};

use super::layout::{error_tag, REFUSALS};
use crate::msgs::types::{LinkState, Publish, RequestKey};

pub(super) struct Writer(pub(super) Vec<u8>);

impl Writer {
    pub(super) fn byte(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }

    pub(super) fn kind(&mut self, kind: u8) -> &mut Self {
        self.byte(kind)
    }

    pub(super) fn flag(&mut self, b: bool) -> &mut Self {
        self.byte(u8::from(b))
    }

    pub(super) fn num(&mut self, mut n: u64) -> &mut Self {
        while n >= 0x80 {
            self.0.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        self.byte(n as u8)
    }

    pub(super) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.num(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    pub(super) fn text(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    pub(super) fn qos(&mut self, q: QoS) -> &mut Self {
        self.byte(qos_to_u8(q))
    }

    pub(super) fn key(&mut self, k: &RequestKey) -> &mut Self {
        self.num(k.tab.0).num(k.number)
    }

    pub(super) fn publish(&mut self, p: &Publish) -> &mut Self {
        self.text(&p.topic)
            .bytes(&p.payload)
            .qos(p.qos)
            .flag(p.retain)
    }

    pub(super) fn state(&mut self, state: &LinkState) -> &mut Self {
        match state {
            LinkState::Connected { session_present } => self.byte(0).flag(*session_present),
            LinkState::Reconnecting { attempt } => self.byte(1).num(u64::from(*attempt)),
            LinkState::Lost {
                error,
                reconnect_in,
                attempt,
            } => {
                self.byte(2)
                    .num(u64::from(*attempt))
                    .flag(reconnect_in.is_some());
                self.num(reconnect_in.map_or(0, |d| d.as_millis() as u64));
                self.error(error)
            }
        }
    }

    pub(super) fn error(&mut self, error: &ConnectionError) -> &mut Self {
        match error {
            ConnectionError::Refused(refused) => {
                if let Some(index) = REFUSALS.iter().position(|r| r == refused) {
                    return self.byte(error_tag::REFUSED).byte(index as u8);
                }
            }
            ConnectionError::ConnectTimeout(ms) => {
                return self.byte(error_tag::CONNECT_TIMEOUT).num(*ms)
            }
            ConnectionError::KeepaliveTimeout(ms) => {
                return self.byte(error_tag::KEEPALIVE_TIMEOUT).num(*ms)
            }
            ConnectionError::Transport(TransportFailure::Closed { code, reason }) => {
                return self
                    .byte(error_tag::CLOSED)
                    .num(u64::from(*code))
                    .text(reason)
            }
            ConnectionError::ConnectedElsewhere { drops } => {
                return self.byte(error_tag::ELSEWHERE).num(u64::from(*drops))
            }
            _ => {}
        }
        let tag = if error.is_retried() {
            error_tag::RETRIED
        } else {
            error_tag::FINAL
        };
        // A transport failure's own words (without the "connection closed: " of its error).
        let words = match error {
            ConnectionError::Transport(failure) => failure.message(),
            other => other.message(),
        };
        self.byte(tag).text(&words)
    }
}
