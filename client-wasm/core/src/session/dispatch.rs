//! Bytes from the broker: cut into packets, each dispatched to the part of the session it is for.

use super::link::Link;
use super::outgoing::Awaiting;
use super::{Event, Message, Session};
use crate::codec::{self, DecodeError};
use crate::error::{ConnectRefused, ConnectionError, ProtocolViolation};
use crate::packet::{self, Packet, Publish, QosPid, CONNACK_FIRST_BYTE};
use crate::time::Instant;
use crate::topic;

impl Session {
    /// The body of `handle_bytes`: decodes every complete packet and keeps the rest.
    pub(super) fn receive(&mut self, now: Instant, bytes: &[u8]) {
        if !self.link.reads() {
            return;
        }
        self.rx.extend_from_slice(bytes);
        let ping_timeout = self.options.effective_ping_timeout();
        self.liveness.received(now, ping_timeout);
        // Anything but a CONNACK first means this is not an MQTT server: say so at once.
        if let (Link::AwaitConnack { .. }, Some(&first)) = (self.link, self.rx.first()) {
            if first != CONNACK_FIRST_BYTE {
                let found = codec::packet_name(first);
                let violation = ProtocolViolation::NotConnack {
                    found,
                    first_byte: first,
                };
                self.lose_connection(now, violation.into(), false);
                return;
            }
        }
        let rx = core::mem::take(&mut self.rx);
        let mut offset = 0;
        let mut failure = None;
        while let Some(rest) = rx.get(offset..) {
            match codec::decode(rest, self.options.max_incoming_packet) {
                Ok(Some((packet, used))) => {
                    offset += used;
                    if let Err(violation) = self.handle_packet(now, packet) {
                        failure = Some(ConnectionError::Violation(violation));
                        break;
                    }
                    if !self.link.reads() {
                        break; // e.g. CONNACK refused
                    }
                }
                Ok(None) => break,
                Err(DecodeError::ClientOnlyPacket { packet }) => {
                    failure = Some(ConnectionError::Violation(
                        ProtocolViolation::ClientOnlyPacket { packet },
                    ));
                    break;
                }
                Err(e) => {
                    failure = Some(ConnectionError::Protocol(e));
                    break;
                }
            }
        }
        if let Some(error) = failure {
            self.lose_connection(now, error, false);
        } else if self.link.reads() {
            self.rx = rx;
            self.rx.drain(..offset);
        }
    }

    fn handle_packet(&mut self, now: Instant, packet: Packet<'_>) -> Result<(), ProtocolViolation> {
        if let Link::AwaitConnack { .. } = self.link {
            return match packet {
                Packet::Connack(connack) => {
                    match ConnectRefused::from_code(connack.code) {
                        Some(refused) => self.lose_connection(now, refused.into(), false),
                        None if connack.session_present && self.options.clean_session => {
                            return Err(ProtocolViolation::SessionPresentOnCleanSession);
                        }
                        None => self.on_connected(now, connack.session_present),
                    }
                    Ok(())
                }
                other => Err(ProtocolViolation::BeforeConnack {
                    packet: packet::name(&other),
                }),
            };
        }
        match packet {
            // Draining before DISCONNECT: new messages are neither delivered nor acknowledged
            // (the broker keeps them for the next session, or drops them with a clean one).
            Packet::Publish(_) if self.draining_until.is_some() => Ok(()),
            Packet::Publish(publish) => self.on_publish(now, publish),
            Packet::Puback(pid) => {
                self.complete(now, pid.get(), Awaiting::Puback);
                Ok(())
            }
            Packet::Pubrec(pid) => {
                self.on_pubrec(now, pid.get());
                Ok(())
            }
            Packet::Pubrel(pid) => {
                self.incoming_qos2.released(pid.get());
                self.send_pid_packet(now, pid.get(), Packet::Pubcomp);
                self.finish_draining(now);
                Ok(())
            }
            Packet::Pubcomp(pid) => {
                self.complete(now, pid.get(), Awaiting::Pubcomp);
                Ok(())
            }
            Packet::Suback(suback) => {
                let outcome = self.on_suback(suback);
                self.use_freed_ids(now);
                outcome
            }
            Packet::Unsuback(pid) => self.on_unsuback(now, pid.get()),
            Packet::Pingresp => {
                self.liveness.pong();
                Ok(())
            }
            Packet::Connack(_) => Err(ProtocolViolation::SecondConnack),
            other => Err(ProtocolViolation::ClientOnlyPacket {
                packet: packet::name(&other),
            }),
        }
    }

    /// CONNACK accepted the connection.
    pub(super) fn on_connected(&mut self, now: Instant, session_present: bool) {
        self.link = Link::Up;
        self.liveness.connected(now);
        self.backoff.reset();
        self.takeovers.connected(now);
        self.events.push_back(Event::Connected { session_present });
        if !session_present {
            // A new broker session: its QoS 2 ids start afresh, and it has no subscriptions.
            self.incoming_qos2.clear();
            self.fail_released_publishes();
            if let Some(resubscribe) = self.requests.resubscription() {
                self.send_request(now, resubscribe);
            }
        }
        for request in self.requests.take_unsent() {
            self.send_request(now, request);
        }
        self.resend_inflight(now);
        self.flush_queue(now);
    }

    /// An application message: acknowledged by its QoS, delivered unless it repeats an inbound
    /// QoS 2 message not yet released.
    fn on_publish(&mut self, now: Instant, publish: Publish<'_>) -> Result<(), ProtocolViolation> {
        topic::validate_name(publish.topic_name).map_err(ProtocolViolation::InvalidTopicName)?;
        let deliver = match publish.qospid {
            QosPid::AtMostOnce => true,
            QosPid::AtLeastOnce(pid) => {
                self.send(now, &Packet::Puback(pid));
                true
            }
            QosPid::ExactlyOnce(pid) => {
                let first = self.incoming_qos2.received(pid.get());
                self.send(now, &Packet::Pubrec(pid));
                first
            }
        };
        if deliver {
            self.events.push_back(Event::Message(Message {
                topic: publish.topic_name.to_string(),
                payload: publish.payload.to_vec(),
                qos: publish.qospid.qos(),
                retain: publish.retain,
                dup: publish.dup,
            }));
        }
        Ok(())
    }
}
