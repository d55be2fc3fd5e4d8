//! The one codec of [`TabMessage`]: a format byte, a kind byte, then the fields in order
//! (LEB128 numbers, length-prefixed strings and bytes, counted lists). A channel carries the
//! bytes as they are (a `Uint8Array` is structured-cloned); decoding is total.

use mqtt_core::{qos_from_u8, qos_to_u8, Message};

use super::types::{Refusal, TabMessage};

mod error;
mod layout;
mod read;
mod write;

pub use error::DecodeError;
use layout::{kind, FORMAT, REFUSED_FILTER};
use read::Reader;
use write::Writer;

impl TabMessage {
    /// The bytes to post.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(vec![FORMAT]);
        match self {
            TabMessage::Hi { from } => w.kind(kind::HI).num(from.0),
            TabMessage::Hello { from, to } => {
                w.kind(kind::HELLO).num(from.0).flag(to.is_some());
                w.num(to.map_or(0, |t| t.0))
            }
            TabMessage::State { to, state } => {
                w.kind(kind::STATE);
                w.flag(to.is_some()).num(to.map_or(0, |t| t.0));
                w.state(state)
            }
            TabMessage::Delivery(m) => {
                w.kind(kind::DELIVERY).text(&m.topic).bytes(&m.payload);
                w.qos(m.qos).flag(m.retain).flag(m.dup)
            }
            TabMessage::Publish {
                request,
                leader,
                publish,
            } => w
                .kind(kind::PUBLISH)
                .key(request)
                .num(leader.0)
                .publish(publish),
            TabMessage::Adopt {
                request,
                leader,
                publish,
            } => w
                .kind(kind::ADOPT)
                .key(request)
                .num(leader.0)
                .publish(publish),
            TabMessage::Subscribe {
                request,
                leader,
                filters,
            } => {
                w.kind(kind::SUBSCRIBE).key(request).num(leader.0);
                w.num(filters.len() as u64);
                for (filter, qos) in filters {
                    w.text(filter).qos(*qos);
                }
                &mut w
            }
            TabMessage::Unsubscribe {
                request,
                leader,
                filters,
            } => {
                w.kind(kind::UNSUBSCRIBE).key(request).num(leader.0);
                w.num(filters.len() as u64);
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
            kind::HELLO => {
                let from = r.tab()?;
                let addressed = r.flag()?;
                let tab = r.tab()?;
                TabMessage::Hello {
                    from,
                    to: addressed.then_some(tab),
                }
            }
            kind::STATE => {
                let addressed = r.flag()?;
                let tab = r.tab()?;
                TabMessage::State {
                    to: addressed.then_some(tab),
                    state: r.state()?,
                }
            }
            kind::DELIVERY => {
                let p = r.publish()?;
                TabMessage::Delivery(Message {
                    topic: p.topic,
                    payload: p.payload,
                    qos: p.qos,
                    retain: p.retain,
                    dup: r.flag()?,
                })
            }
            kind::PUBLISH => TabMessage::Publish {
                request: r.key()?,
                leader: r.tab()?,
                publish: r.publish()?,
            },
            kind::ADOPT => TabMessage::Adopt {
                request: r.key()?,
                leader: r.tab()?,
                publish: r.publish()?,
            },
            kind::SUBSCRIBE => {
                let request = r.key()?;
                let leader = r.tab()?;
                let mut filters = Vec::new();
                for _ in 0..r.count()? {
                    filters.push((r.text()?, r.qos()?));
                }
                TabMessage::Subscribe {
                    request,
                    leader,
                    filters,
                }
            }
            kind::UNSUBSCRIBE => {
                let request = r.key()?;
                let leader = r.tab()?;
                let mut filters = Vec::new();
                for _ in 0..r.count()? {
                    filters.push(r.text()?);
                }
                TabMessage::Unsubscribe {
                    request,
                    leader,
                    filters,
                }
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

#[cfg(test)]
mod tests;
