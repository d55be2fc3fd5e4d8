//! Writes a packet whose fields [`super::encode`] has checked, into a buffer of its exact
//! size. Our own writer instead of `mqttrs::encode_slice`: that one is a single 5 KB function
//! (every packet type, its own bounds checks and error paths) in the browser package, and this
//! one writes what the checks already sized.

use super::{first_byte, qos_to_u8, Packet, PacketType, Pid, QosPid, SubscribeReturnCodes};
use super::{EncodeError, REQUIRED_FLAGS, SUBACK_FAILURE};
use crate::wire::frame::write_remaining_length;

/// CONNECT flags (MQTT 3.1.1 §3.1.2.3).
const USER_NAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL: u8 = 0x04;
const CLEAN_SESSION: u8 = 0x02;

/// The packet's bytes: fixed header with `remaining`, then its fields.
pub(super) fn write(packet: &Packet<'_>, remaining: usize) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(remaining + crate::wire::frame::MAX_HEADER_LEN);
    out.push(first_byte(packet.get_type(), flags(packet)));
    write_remaining_length(remaining, &mut out).ok_or(EncodeError::TooLarge)?;
    let header = out.len();
    match packet {
        Packet::Connect(c) => {
            text(&mut out, b"MQTT");
            out.push(4);
            let mut connect_flags = 0;
            if c.clean_session {
                connect_flags |= CLEAN_SESSION;
            }
            if let Some(will) = &c.last_will {
                connect_flags |= WILL | qos_to_u8(will.qos) << WILL_QOS_SHIFT;
                if will.retain {
                    connect_flags |= WILL_RETAIN;
                }
            }
            if c.username.is_some() {
                connect_flags |= USER_NAME;
            }
            if c.password.is_some() {
                connect_flags |= PASSWORD;
            }
            out.push(connect_flags);
            out.extend_from_slice(&c.keep_alive.to_be_bytes());
            text(&mut out, c.client_id.as_bytes());
            if let Some(will) = &c.last_will {
                text(&mut out, will.topic.as_bytes());
                text(&mut out, will.message);
            }
            if let Some(username) = c.username {
                text(&mut out, username.as_bytes());
            }
            if let Some(password) = c.password {
                text(&mut out, password);
            }
        }
        Packet::Connack(c) => {
            out.push(u8::from(c.session_present));
            out.push(super::return_code_to_u8(c.code));
        }
        Packet::Publish(p) => {
            text(&mut out, p.topic_name.as_bytes());
            if let Some(id) = p.qospid.pid() {
                pid(&mut out, id);
            }
            out.extend_from_slice(p.payload);
        }
        Packet::Puback(id)
        | Packet::Pubrec(id)
        | Packet::Pubrel(id)
        | Packet::Pubcomp(id)
        | Packet::Unsuback(id) => pid(&mut out, *id),
        Packet::Subscribe(s) => {
            pid(&mut out, s.pid);
            for topic in &s.topics {
                text(&mut out, topic.topic_path.as_bytes());
                out.push(qos_to_u8(topic.qos));
            }
        }
        Packet::Suback(s) => {
            pid(&mut out, s.pid);
            for code in &s.return_codes {
                out.push(match code {
                    SubscribeReturnCodes::Success(qos) => qos_to_u8(*qos),
                    SubscribeReturnCodes::Failure => SUBACK_FAILURE,
                });
            }
        }
        Packet::Unsubscribe(u) => {
            pid(&mut out, u.pid);
            for topic in &u.topics {
                text(&mut out, topic.as_bytes());
            }
        }
        Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => {}
    }
    // The writer and the checks must agree on the size: a mismatch would corrupt the stream.
    if out.len() - header != remaining {
        return Err(EncodeError::Encoder);
    }
    Ok(out)
}

/// The fixed header's flags (§2.2.2).
fn flags(packet: &Packet<'_>) -> u8 {
    match packet {
        Packet::Publish(p) => {
            let qos = match p.qospid {
                QosPid::AtMostOnce => 0,
                QosPid::AtLeastOnce(_) => 1,
                QosPid::ExactlyOnce(_) => 2,
            };
            u8::from(p.dup) << 3 | qos << super::PUBLISH_QOS_SHIFT | u8::from(p.retain)
        }
        _ if matches!(
            packet.get_type(),
            PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe
        ) =>
        {
            REQUIRED_FLAGS
        }
        _ => 0,
    }
}

/// A length-prefixed field (§1.5.3); `encode` checked it fits in 65,535 bytes.
fn text(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn pid(out: &mut Vec<u8>, id: Pid) {
    out.extend_from_slice(&id.get().to_be_bytes());
}
