//! The one codec of [`TabMessage`]: a format byte, a kind byte, then the fields in order
//! (LEB128 numbers, length-prefixed strings and bytes, counted lists). A channel carries the
//! bytes as they are (a `Uint8Array` is structured-cloned); decoding is total.

use core::time::Duration;

use mqtt_core::{
    qos_from_u8, qos_to_u8, ConnectRefused, ConnectionError, Message, QoS, TransportFailure,
};

use super::{LinkState, Publish, Refusal, RequestKey, TabId, TabMessage};

/// Bumped when the layout changes: a tab of another build ignores what it cannot read.
const FORMAT: u8 = 1;

/// The granted-QoS byte of a filter the broker refused (as in SUBACK).
const REFUSED_FILTER: u8 = 0x80;

/// Why bytes from another tab are not a [`TabMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Written by a build with another format (or not by a tab at all).
    Format(u8),
    UnknownKind(u8),
    /// The bytes end inside a field.
    Truncated,
    /// Bytes left after the message.
    TrailingBytes,
    InvalidUtf8,
    /// A number too large for its field, or a tag no variant has.
    OutOfRange,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::Format(v) => write!(f, "tab message of format {v}, not {FORMAT}"),
            DecodeError::UnknownKind(k) => write!(f, "unknown tab message kind {k}"),
            DecodeError::Truncated => f.write_str("tab message truncated"),
            DecodeError::TrailingBytes => f.write_str("bytes after the tab message"),
            DecodeError::InvalidUtf8 => f.write_str("a string of a tab message is not UTF-8"),
            DecodeError::OutOfRange => f.write_str("a field of a tab message is out of range"),
        }
    }
}

impl std::error::Error for DecodeError {}

mod kind {
    pub(super) const HI: u8 = 1;
    pub(super) const HELLO: u8 = 2;
    pub(super) const STATE: u8 = 3;
    pub(super) const DELIVERY: u8 = 4;
    pub(super) const PUBLISH: u8 = 5;
    pub(super) const ADOPT: u8 = 6;
    pub(super) const SUBSCRIBE: u8 = 7;
    pub(super) const UNSUBSCRIBE: u8 = 8;
    pub(super) const BYE: u8 = 9;
    pub(super) const TAKE_OVER: u8 = 10;
    pub(super) const ACCEPTED: u8 = 11;
    pub(super) const DONE: u8 = 12;
    pub(super) const REFUSED: u8 = 13;
}

/// The tags of a [`ConnectionError`] on the channel.
mod error_tag {
    pub(super) const REFUSED: u8 = 0;
    pub(super) const CONNECT_TIMEOUT: u8 = 1;
    pub(super) const KEEPALIVE_TIMEOUT: u8 = 2;
    pub(super) const CLOSED: u8 = 3;
    pub(super) const ELSEWHERE: u8 = 4;
    /// Any other error that is retried: its words.
    pub(super) const RETRIED: u8 = 5;
    /// Any other error that is not: its words.
    pub(super) const FINAL: u8 = 6;
}

const REFUSALS: [ConnectRefused; 5] = [
    ConnectRefused::UnacceptableProtocolVersion,
    ConnectRefused::IdentifierRejected,
    ConnectRefused::ServerUnavailable,
    ConnectRefused::BadUserNameOrPassword,
    ConnectRefused::NotAuthorized,
];

impl TabMessage {
    /// The bytes to post.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(vec![FORMAT]);
        match self {
            TabMessage::Hi { from } => w.kind(kind::HI).num(from.0),
            TabMessage::Hello => w.kind(kind::HELLO),
            TabMessage::State { to, state } => {
                w.kind(kind::STATE);
                w.flag(to.is_some()).num(to.map_or(0, |t| t.0));
                w.state(state)
            }
            TabMessage::Delivery(m) => {
                w.kind(kind::DELIVERY).text(&m.topic).bytes(&m.payload);
                w.qos(m.qos).flag(m.retain).flag(m.dup)
            }
            TabMessage::Publish { request, publish } => {
                w.kind(kind::PUBLISH).key(request).publish(publish)
            }
            TabMessage::Adopt { request, publish } => {
                w.kind(kind::ADOPT).key(request).publish(publish)
            }
            TabMessage::Subscribe { request, filters } => {
                w.kind(kind::SUBSCRIBE)
                    .key(request)
                    .num(filters.len() as u64);
                for (filter, qos) in filters {
                    w.text(filter).qos(*qos);
                }
                &mut w
            }
            TabMessage::Unsubscribe { request, filters } => {
                w.kind(kind::UNSUBSCRIBE)
                    .key(request)
                    .num(filters.len() as u64);
                for filter in filters {
                    w.text(filter);
                }
                &mut w
            }
            TabMessage::Bye { from } => w.kind(kind::BYE).num(from.0),
            TabMessage::TakeOver { from } => w.kind(kind::TAKE_OVER).num(from.0),
            TabMessage::Accepted { request, stored } => {
                w.kind(kind::ACCEPTED).key(request).flag(*stored)
            }
            TabMessage::Done { request, granted } => {
                w.kind(kind::DONE).key(request).num(granted.len() as u64);
                for g in granted {
                    w.byte(g.map_or(REFUSED_FILTER, qos_to_u8));
                }
                &mut w
            }
            TabMessage::Refused { request, reason } => {
                w.kind(kind::REFUSED).key(request).byte(reason.byte())
            }
        };
        w.0
    }

    /// Reads a message posted by another tab.
    pub fn decode(bytes: &[u8]) -> Result<TabMessage, DecodeError> {
        let mut r = Reader { bytes };
        let format = r.byte()?;
        if format != FORMAT {
            return Err(DecodeError::Format(format));
        }
        let message = match r.byte()? {
            kind::HI => TabMessage::Hi { from: r.tab()? },
            kind::HELLO => TabMessage::Hello,
            kind::STATE => {
                let addressed = r.flag()?;
                let tab = r.tab()?;
                TabMessage::State {
                    to: addressed.then_some(tab),
                    state: r.state()?,
                }
            }
            kind::DELIVERY => TabMessage::Delivery(Message {
                topic: r.text()?,
                payload: r.bytes()?,
                qos: r.qos()?,
                retain: r.flag()?,
                dup: r.flag()?,
            }),
            kind::PUBLISH => TabMessage::Publish {
                request: r.key()?,
                publish: r.publish()?,
            },
            kind::ADOPT => TabMessage::Adopt {
                request: r.key()?,
                publish: r.publish()?,
            },
            kind::SUBSCRIBE => {
                let request = r.key()?;
                let mut filters = Vec::new();
                for _ in 0..r.count()? {
                    filters.push((r.text()?, r.qos()?));
                }
                TabMessage::Subscribe { request, filters }
            }
            kind::UNSUBSCRIBE => {
                let request = r.key()?;
                let mut filters = Vec::new();
                for _ in 0..r.count()? {
                    filters.push(r.text()?);
                }
                TabMessage::Unsubscribe { request, filters }
            }
            kind::BYE => TabMessage::Bye { from: r.tab()? },
            kind::TAKE_OVER => TabMessage::TakeOver { from: r.tab()? },
            kind::ACCEPTED => TabMessage::Accepted {
                request: r.key()?,
                stored: r.flag()?,
            },
            kind::DONE => {
                let request = r.key()?;
                let mut granted = Vec::new();
                for _ in 0..r.count()? {
                    granted.push(match r.byte()? {
                        REFUSED_FILTER => None,
                        q => Some(qos_from_u8(q).ok_or(DecodeError::OutOfRange)?),
                    });
                }
                TabMessage::Done { request, granted }
            }
            kind::REFUSED => TabMessage::Refused {
                request: r.key()?,
                reason: Refusal::from_byte(r.byte()?).ok_or(DecodeError::OutOfRange)?,
            },
            other => return Err(DecodeError::UnknownKind(other)),
        };
        if !r.bytes.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(message)
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn byte(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }

    fn kind(&mut self, kind: u8) -> &mut Self {
        self.byte(kind)
    }

    fn flag(&mut self, b: bool) -> &mut Self {
        self.byte(u8::from(b))
    }

    fn num(&mut self, mut n: u64) -> &mut Self {
        while n >= 0x80 {
            self.0.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        self.byte(n as u8)
    }

    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.num(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    fn qos(&mut self, q: QoS) -> &mut Self {
        self.byte(qos_to_u8(q))
    }

    fn key(&mut self, k: &RequestKey) -> &mut Self {
        self.num(k.tab.0).num(k.number)
    }

    fn publish(&mut self, p: &Publish) -> &mut Self {
        self.text(&p.topic)
            .bytes(&p.payload)
            .qos(p.qos)
            .flag(p.retain)
    }

    fn state(&mut self, state: &LinkState) -> &mut Self {
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

    fn error(&mut self, error: &ConnectionError) -> &mut Self {
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
            ConnectionError::Transport(failure) => failure.to_string(),
            other => other.to_string(),
        };
        self.byte(tag).text(&words)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&first, rest) = self.bytes.split_first().ok_or(DecodeError::Truncated)?;
        self.bytes = rest;
        Ok(first)
    }

    fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::OutOfRange),
        }
    }

    fn num(&mut self) -> Result<u64, DecodeError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(DecodeError::OutOfRange);
            }
            n |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError::OutOfRange)
    }

    fn small<T: TryFrom<u64>>(&mut self) -> Result<T, DecodeError> {
        T::try_from(self.num()?).map_err(|_| DecodeError::OutOfRange)
    }

    /// A list's length: each item takes a byte at least, so no more than the bytes left.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.num()?;
        if n > self.bytes.len() as u64 {
            return Err(DecodeError::Truncated);
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.count()?;
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head.to_vec())
    }

    fn text(&mut self) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes()?).map_err(|_| DecodeError::InvalidUtf8)
    }

    fn qos(&mut self) -> Result<QoS, DecodeError> {
        qos_from_u8(self.byte()?).ok_or(DecodeError::OutOfRange)
    }

    fn tab(&mut self) -> Result<TabId, DecodeError> {
        Ok(TabId(self.num()?))
    }

    fn key(&mut self) -> Result<RequestKey, DecodeError> {
        Ok(RequestKey {
            tab: self.tab()?,
            number: self.num()?,
        })
    }

    fn publish(&mut self) -> Result<Publish, DecodeError> {
        Ok(Publish {
            topic: self.text()?,
            payload: self.bytes()?,
            qos: self.qos()?,
            retain: self.flag()?,
        })
    }

    fn state(&mut self) -> Result<LinkState, DecodeError> {
        Ok(match self.byte()? {
            0 => LinkState::Connected {
                session_present: self.flag()?,
            },
            1 => LinkState::Reconnecting {
                attempt: self.small()?,
            },
            2 => {
                let attempt = self.small()?;
                let retries = self.flag()?;
                let ms = self.num()?;
                LinkState::Lost {
                    error: self.error()?,
                    reconnect_in: retries.then(|| Duration::from_millis(ms)),
                    attempt,
                }
            }
            _ => return Err(DecodeError::OutOfRange),
        })
    }

    fn error(&mut self) -> Result<ConnectionError, DecodeError> {
        Ok(match self.byte()? {
            error_tag::REFUSED => {
                let index = usize::from(self.byte()?);
                ConnectionError::Refused(*REFUSALS.get(index).ok_or(DecodeError::OutOfRange)?)
            }
            error_tag::CONNECT_TIMEOUT => ConnectionError::ConnectTimeout(self.num()?),
            error_tag::KEEPALIVE_TIMEOUT => ConnectionError::KeepaliveTimeout(self.num()?),
            error_tag::CLOSED => ConnectionError::Transport(TransportFailure::Closed {
                code: self.small()?,
                reason: self.text()?,
            }),
            error_tag::ELSEWHERE => ConnectionError::ConnectedElsewhere {
                drops: self.small()?,
            },
            error_tag::RETRIED => {
                ConnectionError::Transport(TransportFailure::Dropped(self.text()?))
            }
            error_tag::FINAL => ConnectionError::Transport(TransportFailure::Setup(self.text()?)),
            _ => return Err(DecodeError::OutOfRange),
        })
    }
}

#[cfg(test)]
mod tests;
