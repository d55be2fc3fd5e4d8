//! Outgoing publishes: the in-flight window (QoS 1/2 awaiting acknowledgement, in send order)
//! and the queue behind it.

use std::collections::VecDeque;

use super::event::PublishId;
use crate::QoS;

/// A publish as the user asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OutMessage {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

/// Whether a PUBLISH of `topic` with `payload_len` bytes fits MQTT's remaining length (the
/// topic's length prefix and a packet id included).
pub(super) fn fits_one_packet(topic: &str, payload_len: usize) -> bool {
    /// The topic's two-byte length prefix and the two-byte packet id (§3.3.2).
    const HEADER_FIELDS: usize = 2 + 2;
    topic.len() + payload_len + HEADER_FIELDS <= crate::wire::frame::MAX_REMAINING_LENGTH
}

/// Where a QoS 1/2 publish is in its acknowledgement flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Awaiting {
    /// QoS 1: PUBLISH sent, PUBACK awaited.
    Puback,
    /// QoS 2: PUBLISH sent, PUBREC awaited.
    Pubrec,
    /// QoS 2: PUBREL sent, PUBCOMP awaited. The message itself is delivered.
    Pubcomp,
}

/// A QoS 1/2 publish sent and not yet completed.
#[derive(Debug, Clone)]
pub(super) struct InFlight {
    /// Send order across both stages (resends and snapshots keep it, [MQTT-4.6.0-1]).
    seq: u64,
    pub id: PublishId,
    pub pid: u16,
    pub message: OutMessage,
    pub stage: Awaiting,
}

/// A publish not yet acknowledged, as kept across a page reload or process restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPublish {
    /// The topic name it is published to (MQTT 3.1.1 §3.3.2.1 Topic Name).
    pub topic: String,
    /// The application message (MQTT 3.1.1 §3.3.3 Payload).
    pub payload: Vec<u8>,
    /// The QoS it is published with (MQTT 3.1.1 §3.3.1.2 QoS); only 1 and 2 are stored.
    pub qos: QoS,
    /// The PUBLISH's RETAIN flag (MQTT 3.1.1 §3.3.1.3).
    pub retain: bool,
    /// The packet identifier it was sent with, if it was sent.
    pub packet_id: Option<u16>,
    /// QoS 2 only: PUBREC arrived and PUBREL is owed.
    pub released: bool,
}

/// The publishes not yet acknowledged, and the one count of their changes.
///
/// In flight, in send order, are split by what they wait for: the first acknowledgement
/// (PUBACK, or PUBREC for QoS 2) or, once released, PUBCOMP. Brokers acknowledge in order
/// (§4.6), so an ack is for the front of its list: constant time whatever the window (up to
/// 65,535), where one list would be scanned past every released message for each PUBREC.
#[derive(Debug, Default)]
pub(super) struct Outgoing {
    unacked: VecDeque<InFlight>,
    released: VecDeque<InFlight>,
    queue: VecDeque<(PublishId, OutMessage)>,
    next_seq: u64,
    /// Bumped whenever what [`Outgoing::pending`] returns changes.
    changes: u64,
}

impl Outgoing {
    pub(super) fn changes(&self) -> u64 {
        self.changes
    }

    pub(super) fn inflight_len(&self) -> usize {
        self.unacked.len() + self.released.len()
    }

    pub(super) fn queued_len(&self) -> usize {
        self.queue.len()
    }

    pub(super) fn len(&self) -> usize {
        self.inflight_len() + self.queued_len()
    }

    /// A publish sent under `pid`, or restored at `stage`.
    pub(super) fn push_inflight(
        &mut self,
        id: PublishId,
        pid: u16,
        message: OutMessage,
        stage: Awaiting,
    ) {
        let entry = InFlight {
            seq: self.next_seq,
            id,
            pid,
            message,
            stage,
        };
        self.next_seq += 1;
        match stage {
            Awaiting::Pubcomp => self.released.push_back(entry),
            Awaiting::Puback | Awaiting::Pubrec => self.unacked.push_back(entry),
        }
        self.changes += 1;
    }

    pub(super) fn queue_back(&mut self, id: PublishId, message: OutMessage) {
        self.queue.push_back((id, message));
        self.changes += 1;
    }

    /// Back at the head of the queue (no packet id was free after all): nothing changed.
    pub(super) fn queue_front(&mut self, id: PublishId, message: OutMessage) {
        self.queue.push_front((id, message));
    }

    /// The next queued publish, to send.
    #[must_use = "a publish taken from the queue must be sent or put back, or it is lost"]
    pub(super) fn pop_queued(&mut self) -> Option<(PublishId, OutMessage)> {
        let next = self.queue.pop_front();
        self.changes += u64::from(next.is_some());
        next
    }

    /// PUBACK for a QoS 1 publish: it is done.
    #[must_use = "a completed publish must be reported and its packet id released"]
    pub(super) fn puback(&mut self, pid: u16) -> Option<InFlight> {
        Self::take(&mut self.unacked, pid, Awaiting::Puback, &mut self.changes)
    }

    /// PUBREC: the QoS 2 publish under `pid` is released (PUBREL owed). Whether a PUBREL is
    /// owed for `pid` (also for a repeated PUBREC of a message already released).
    #[must_use = "the PUBREL owed must be sent"]
    pub(super) fn pubrec(&mut self, pid: u16) -> bool {
        if let Some(mut entry) =
            Self::take(&mut self.unacked, pid, Awaiting::Pubrec, &mut self.changes)
        {
            entry.stage = Awaiting::Pubcomp;
            // In send order: PUBRECs out of order land where their PUBLISH went.
            let at = self.released.partition_point(|r| r.seq < entry.seq);
            self.released.insert(at, entry);
            return true;
        }
        self.released.iter().any(|r| r.pid == pid)
    }

    /// PUBCOMP: the released QoS 2 publish is done.
    #[must_use = "a completed publish must be reported and its packet id released"]
    pub(super) fn pubcomp(&mut self, pid: u16) -> Option<InFlight> {
        Self::take(
            &mut self.released,
            pid,
            Awaiting::Pubcomp,
            &mut self.changes,
        )
    }

    fn take(
        list: &mut VecDeque<InFlight>,
        pid: u16,
        stage: Awaiting,
        changes: &mut u64,
    ) -> Option<InFlight> {
        let index = list.iter().position(|f| f.pid == pid && f.stage == stage)?;
        *changes += 1;
        list.remove(index)
    }

    /// Every released QoS 2 publish (the broker lost the session that would complete them).
    #[must_use = "each released publish must end in `PublishFailed`, or it is lost silently"]
    pub(super) fn take_released(&mut self) -> VecDeque<InFlight> {
        self.changes += u64::from(!self.released.is_empty());
        std::mem::take(&mut self.released)
    }

    /// In flight, in send order: what to resend after a reconnect.
    pub(super) fn inflight(&self) -> Vec<&InFlight> {
        let mut all: Vec<&InFlight> = Vec::with_capacity(self.inflight_len());
        let (mut a, mut b) = (
            self.unacked.iter().peekable(),
            self.released.iter().peekable(),
        );
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.seq < y.seq => a.next(),
                (Some(_), Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, _) => b.next(),
            };
            let Some(next) = next else { break };
            all.push(next);
        }
        all
    }

    /// Everything not yet acknowledged: in flight first (send order), then the queue.
    pub(super) fn pending(&self) -> Vec<PendingPublish> {
        let inflight = self.inflight().into_iter().map(|f| PendingPublish {
            topic: f.message.topic.clone(),
            payload: f.message.payload.clone(),
            qos: f.message.qos,
            retain: f.message.retain,
            packet_id: Some(f.pid),
            released: f.stage == Awaiting::Pubcomp,
        });
        let queued = self.queue.iter().map(|(_, m)| PendingPublish {
            topic: m.topic.clone(),
            payload: m.payload.clone(),
            qos: m.qos,
            retain: m.retain,
            packet_id: None,
            released: false,
        });
        inflight.chain(queued).collect()
    }
}
