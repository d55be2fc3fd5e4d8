//! What a client sent, as owned values a scripted broker or a test compares: the inverse of
//! the session's encoder, for the packets a client may send (3.1.1 §2.2.1's client-to-server
//! column). Built with the `server` feature, like [`codec::decode_any`].

use crate::codec::{self, DecodeError};
use crate::packet::{self, Packet, Pid};

/// A packet the client sent, owned so tests can compare it.
#[allow(missing_docs)] // the fields are the packet's, named as in 3.1.1 §3
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Connect {
        client_id: String,
        clean: bool,
        keep_alive: u16,
        username: Option<String>,
        will: Option<String>,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        pid: Option<u16>,
        dup: bool,
        retain: bool,
    },
    Puback(u16),
    Pubrec(u16),
    Pubrel(u16),
    Pubcomp(u16),
    Subscribe {
        pid: u16,
        filters: Vec<(String, u8)>,
    },
    Unsubscribe {
        pid: u16,
        filters: Vec<String>,
    },
    Pingreq,
    Disconnect,
}

/// Why bytes are not what a client may send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SentError {
    /// The bytes are not valid MQTT.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The bytes end inside a packet.
    #[error("the bytes end inside a packet")]
    Incomplete,
    /// A packet only a server sends.
    #[error("a client must not send {0}")]
    NotFromClient(&'static str),
}

/// Every packet in `bytes`, which must hold whole packets.
pub fn parse_sent(mut bytes: &[u8]) -> Result<Vec<Sent>, SentError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (packet, used) = codec::decode_any(bytes, usize::MAX)?.ok_or(SentError::Incomplete)?;
        out.push(sent(packet)?);
        bytes = bytes.get(used..).unwrap_or_default();
    }
    Ok(out)
}

fn sent(packet: Packet<'_>) -> Result<Sent, SentError> {
    Ok(match packet {
        Packet::Connect(c) => Sent::Connect {
            client_id: c.client_id.into(),
            clean: c.clean_session,
            keep_alive: c.keep_alive,
            username: c.username.map(Into::into),
            will: c.last_will.map(|w| w.topic.to_string()),
        },
        Packet::Publish(p) => Sent::Publish {
            topic: p.topic_name.into(),
            payload: p.payload.to_vec(),
            qos: crate::qos_to_u8(p.qospid.qos()),
            pid: p.qospid.pid().map(Pid::get),
            dup: p.dup,
            retain: p.retain,
        },
        Packet::Puback(p) => Sent::Puback(p.get()),
        Packet::Pubrec(p) => Sent::Pubrec(p.get()),
        Packet::Pubrel(p) => Sent::Pubrel(p.get()),
        Packet::Pubcomp(p) => Sent::Pubcomp(p.get()),
        Packet::Subscribe(s) => Sent::Subscribe {
            pid: s.pid.get(),
            filters: s
                .topics
                .iter()
                .map(|t| (t.topic_path.clone(), crate::qos_to_u8(t.qos)))
                .collect(),
        },
        Packet::Unsubscribe(u) => Sent::Unsubscribe {
            pid: u.pid.get(),
            filters: u.topics.clone(),
        },
        Packet::Pingreq => Sent::Pingreq,
        Packet::Disconnect => Sent::Disconnect,
        other => return Err(SentError::NotFromClient(packet::name(&other))),
    })
}
