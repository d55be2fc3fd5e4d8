//! The session's side of outgoing publishes: accepting one, sending it under a packet id, its
//! acknowledgements, and moving the queue into the in-flight window ([`Outgoing`] keeps them).

use super::outgoing::{Awaiting, OutMessage};
use super::{Event, PublishFailure, PublishId, Session};
use crate::packet::{Packet, Pid, Publish, QoS, QosPid};
use crate::time::Instant;

/// What `send_publish` gets for a QoS 0 message, which carries no packet id: any valid id, since
/// none is written (one parameter for all QoS is the smallest code in the browser package).
const QOS0_PID: u16 = 1;

impl Session {
    pub(super) fn new_publish_id(&mut self) -> PublishId {
        let id = PublishId(self.next_publish_id);
        self.next_publish_id += 1;
        id
    }

    /// Whether a publish would go out now rather than wait in the queue: connected, and for
    /// QoS 1/2 nothing queued ahead of it, room in the window and a free packet id (requests and
    /// restored rows hold ids too).
    pub(super) fn can_send_now(&self, qos: QoS, ahead: usize) -> bool {
        self.is_connected()
            && (qos == QoS::AtMostOnce
                || (ahead == 0
                    && self.outgoing.queued_len() == 0
                    && self.outgoing.inflight_len() < self.options.max_inflight
                    && self.pids.has_free()))
    }

    /// Sends an accepted publish now, or queues it.
    pub(super) fn accept_publish(
        &mut self,
        now: Instant,
        id: PublishId,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) {
        let message = OutMessage {
            topic: topic_name.to_string(),
            payload: payload.to_vec(),
            qos,
            retain,
        };
        let unsent = if self.can_send_now(qos, 0) {
            self.send_new_publish(now, id, message)
        } else {
            Some(message)
        };
        if let Some(message) = unsent {
            self.outgoing.queue_back(id, message);
        }
    }

    /// Sends a PUBLISH under `pid` (QoS 1/2; QoS 0 writes none: see [`QOS0_PID`]).
    fn send_publish(&mut self, now: Instant, pid: u16, message: &OutMessage, dup: bool) {
        let Ok(pid) = Pid::try_from(pid) else { return };
        let qospid = match message.qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(pid),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(pid),
        };
        let publish = Publish {
            dup,
            qospid,
            retain: message.retain,
            topic_name: &message.topic,
            payload: &message.payload,
        };
        self.send(now, &Packet::Publish(publish));
    }

    /// Sends a publish for the first time. Returns it if no packet id was free: the caller
    /// keeps it (queued), or it is lost.
    #[must_use = "a publish returned for want of a packet id must be queued, or it is lost"]
    fn send_new_publish(
        &mut self,
        now: Instant,
        id: PublishId,
        message: OutMessage,
    ) -> Option<OutMessage> {
        let stage = match message.qos {
            QoS::AtMostOnce => {
                self.send_publish(now, QOS0_PID, &message, false);
                self.events.push_back(Event::Published { id });
                return None;
            }
            QoS::AtLeastOnce => Awaiting::Puback,
            QoS::ExactlyOnce => Awaiting::Pubrec,
        };
        let Some(pid) = self.pids.allocate() else {
            return Some(message);
        };
        self.send_publish(now, pid, &message, false);
        self.outgoing.push_inflight(id, pid, message, stage);
        None
    }

    /// Moves queued publishes into the in-flight window while there is room.
    pub(super) fn flush_queue(&mut self, now: Instant) {
        while self.is_connected()
            && self.outgoing.inflight_len() < self.options.max_inflight
            && self.pids.has_free()
        {
            let Some((id, message)) = self.outgoing.pop_queued() else {
                break;
            };
            if let Some(message) = self.send_new_publish(now, id, message) {
                self.outgoing.queue_front(id, message);
                break;
            }
        }
    }

    /// After a reconnect: in-flight publishes again in their original order, marked as
    /// duplicates, or their PUBREL once released.
    pub(super) fn resend_inflight(&mut self, now: Instant) {
        let inflight: Vec<(u16, Awaiting, OutMessage)> = self
            .outgoing
            .inflight()
            .into_iter()
            .map(|f| (f.pid, f.stage, f.message.clone()))
            .collect();
        for (pid, stage, message) in inflight {
            match stage {
                Awaiting::Pubcomp => self.send_pid_packet(now, pid, Packet::Pubrel),
                _ => self.send_publish(now, pid, &message, true),
            }
        }
    }

    /// PUBREC: PUBREL is owed, also to a repeated PUBREC for a message already released.
    pub(super) fn on_pubrec(&mut self, now: Instant, pid: u16) {
        if self.outgoing.pubrec(pid) {
            self.send_pid_packet(now, pid, Packet::Pubrel);
        }
    }

    /// PUBACK or PUBCOMP: the publish is done; its window slot goes to the queue.
    pub(super) fn complete(&mut self, now: Instant, pid: u16, stage: Awaiting) {
        let done = match stage {
            Awaiting::Puback => self.outgoing.puback(pid),
            Awaiting::Pubcomp => self.outgoing.pubcomp(pid),
            Awaiting::Pubrec => None,
        };
        // An ack for an unknown id (e.g. after a resend was acked twice) is ignored.
        if let Some(done) = done {
            self.pids.release(pid);
            self.events.push_back(Event::Published { id: done.id });
            self.use_freed_ids(now);
        }
    }

    /// The broker came back without our session: QoS 2 publishes already released (PUBREL sent,
    /// PUBCOMP awaited) cannot be completed, since the broker that would answer PUBCOMP for an
    /// unknown id (mosquitto does) would make `Published` a lie. Those still awaiting PUBREC
    /// are sent again: a broker that stores QoS 2 at PUBLISH and forwards at PUBREL (§4.3.3
    /// method A, mosquitto) discarded them with the session.
    pub(super) fn fail_released_publishes(&mut self) {
        for done in self.outgoing.take_released() {
            self.pids.release(done.pid);
            self.events.push_back(Event::PublishFailed {
                id: done.id,
                reason: PublishFailure::SessionLostBeforePubcomp,
            });
        }
    }
}
