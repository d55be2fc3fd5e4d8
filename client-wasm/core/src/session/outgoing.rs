//! Outgoing publishes: the in-flight window (QoS 1/2 awaiting acknowledgement, in send order),
//! the queue behind it, and packet identifier allocation.

use std::collections::VecDeque;

use super::event::PublishId;
use crate::QoS;

/// A publish as the user asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

/// Whether a PUBLISH of `topic` with `payload_len` bytes fits MQTT's remaining length (the
/// topic's length prefix and a packet id included).
pub fn fits_one_packet(topic: &str, payload_len: usize) -> bool {
    topic.len() + payload_len + 4 <= crate::wire::frame::MAX_REMAINING_LENGTH
}

/// Where a QoS 1/2 publish is in its acknowledgement flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// QoS 1: PUBLISH sent, PUBACK awaited.
    Puback,
    /// QoS 2: PUBLISH sent, PUBREC awaited.
    Pubrec,
    /// QoS 2: PUBREL sent, PUBCOMP awaited. The message itself is delivered.
    Pubcomp,
}

/// A QoS 1/2 publish sent and not yet completed.
#[derive(Debug, Clone)]
pub struct InFlight {
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
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
    /// The packet identifier it was sent with, if it was sent.
    pub packet_id: Option<u16>,
    /// QoS 2 only: PUBREC arrived and PUBREL is owed.
    pub released: bool,
}

/// A set of packet identifiers as a bitset (8 KiB at most): cheaper than a tree, and no tree
/// code in the wasm binary.
#[derive(Debug, Default, Clone)]
pub struct PidSet {
    words: Vec<u64>,
    len: usize,
}

impl PidSet {
    fn slot(pid: u16) -> (usize, u64) {
        (usize::from(pid / 64), 1u64 << (pid % 64))
    }

    #[cfg(test)]
    fn contains(&self, pid: u16) -> bool {
        let (word, bit) = Self::slot(pid);
        self.words.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Adds `pid`; false if it was already there.
    pub fn insert(&mut self, pid: u16) -> bool {
        let (word, bit) = Self::slot(pid);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        let fresh = self.words[word] & bit == 0;
        self.words[word] |= bit;
        self.len += usize::from(fresh);
        fresh
    }

    /// Removes `pid`; false if it was not there.
    pub fn remove(&mut self, pid: u16) -> bool {
        let (word, bit) = Self::slot(pid);
        if let Some(w) = self.words.get_mut(word) {
            if *w & bit != 0 {
                *w &= !bit;
                self.len -= 1;
                return true;
            }
        }
        false
    }

    /// The identifiers in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.words.iter().enumerate().flat_map(|(word, bits)| {
            (0..64u16)
                .filter(move |bit| bits & (1u64 << bit) != 0)
                .map(move |bit| word as u16 * 64 + bit)
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn clear(&mut self) {
        self.words.clear();
        self.len = 0;
    }
}

/// Packet identifiers in use (publishes, subscribes, unsubscribes), never handed out twice.
#[derive(Debug, Default)]
pub struct PacketIds {
    next: u16,
    used: PidSet,
}

impl PacketIds {
    /// The next free identifier after the last one handed out, or `None` if all 65535 are used.
    #[must_use = "an allocated id is in use until released"]
    pub fn allocate(&mut self) -> Option<u16> {
        if !self.has_free() {
            return None;
        }
        loop {
            self.next = self.next.checked_add(1).unwrap_or(1);
            if self.used.insert(self.next) {
                return Some(self.next);
            }
        }
    }

    /// Marks `pid` as used (restoring a persisted in-flight message). False if it already was.
    /// Marks `pid` as in use (a restored publish); false if it is 0 or already taken. New ids
    /// continue after the highest reserved one, so an id freed since (whose late duplicate ack
    /// may still be on the wire) is not handed out again before the others have been.
    pub fn reserve(&mut self, pid: u16) -> bool {
        let fresh = pid != 0 && self.used.insert(pid);
        if fresh {
            self.next = self.next.max(pid);
        }
        fresh
    }

    pub fn release(&mut self, pid: u16) {
        self.used.remove(pid);
    }

    /// Whether `allocate` would find an identifier.
    pub fn has_free(&self) -> bool {
        self.used.len() < usize::from(u16::MAX)
    }
}

/// The publishes not yet acknowledged, and the one count of their changes.
///
/// In flight, in send order, are split by what they wait for: the first acknowledgement
/// (PUBACK, or PUBREC for QoS 2) or, once released, PUBCOMP. Brokers acknowledge in order
/// (§4.6), so an ack is for the front of its list: constant time whatever the window (up to
/// 65,535), where one list would be scanned past every released message for each PUBREC.
#[derive(Debug, Default)]
pub struct Outgoing {
    unacked: VecDeque<InFlight>,
    released: VecDeque<InFlight>,
    queue: VecDeque<(PublishId, OutMessage)>,
    next_seq: u64,
    /// Bumped whenever what [`Outgoing::pending`] returns changes.
    changes: u64,
}

impl Outgoing {
    pub fn changes(&self) -> u64 {
        self.changes
    }

    pub fn inflight_len(&self) -> usize {
        self.unacked.len() + self.released.len()
    }

    pub fn queued_len(&self) -> usize {
        self.queue.len()
    }

    pub fn len(&self) -> usize {
        self.inflight_len() + self.queued_len()
    }

    /// A publish sent under `pid`, or restored at `stage`.
    pub fn push_inflight(&mut self, id: PublishId, pid: u16, message: OutMessage, stage: Awaiting) {
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

    pub fn queue_back(&mut self, id: PublishId, message: OutMessage) {
        self.queue.push_back((id, message));
        self.changes += 1;
    }

    /// Back at the head of the queue (no packet id was free after all): nothing changed.
    pub fn queue_front(&mut self, id: PublishId, message: OutMessage) {
        self.queue.push_front((id, message));
    }

    /// The next queued publish, to send.
    #[must_use = "a publish taken from the queue must be sent or put back, or it is lost"]
    pub fn pop_queued(&mut self) -> Option<(PublishId, OutMessage)> {
        let next = self.queue.pop_front();
        self.changes += u64::from(next.is_some());
        next
    }

    /// PUBACK for a QoS 1 publish: it is done.
    #[must_use = "a completed publish must be reported and its packet id released"]
    pub fn puback(&mut self, pid: u16) -> Option<InFlight> {
        Self::take(&mut self.unacked, pid, Awaiting::Puback, &mut self.changes)
    }

    /// PUBREC: the QoS 2 publish under `pid` is released (PUBREL owed). Whether a PUBREL is
    /// owed for `pid` (also for a repeated PUBREC of a message already released).
    #[must_use = "the PUBREL owed must be sent"]
    pub fn pubrec(&mut self, pid: u16) -> bool {
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
    pub fn pubcomp(&mut self, pid: u16) -> Option<InFlight> {
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
    pub fn take_released(&mut self) -> VecDeque<InFlight> {
        self.changes += u64::from(!self.released.is_empty());
        std::mem::take(&mut self.released)
    }

    /// In flight, in send order: what to resend after a reconnect.
    pub fn inflight(&self) -> Vec<&InFlight> {
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
    pub fn pending(&self) -> Vec<PendingPublish> {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn packet_ids_skip_those_in_use_and_wrap_past_zero() {
        let mut ids = PacketIds::default();
        assert_eq!(ids.allocate(), Some(1));
        assert!(ids.reserve(2));
        assert_eq!(ids.allocate(), Some(3));
        ids.next = u16::MAX - 1;
        assert_eq!(ids.allocate(), Some(u16::MAX));
        assert_eq!(ids.allocate(), Some(4)); // 1, 2, 3 still in use, 0 is never used
        ids.release(1);
        ids.next = u16::MAX;
        assert_eq!(ids.allocate(), Some(1));
        assert!(!ids.reserve(0));
    }

    #[test]
    fn the_pid_set_counts_and_forgets() {
        let mut set = PidSet::default();
        assert!(set.insert(65_535) && set.insert(1) && !set.insert(1));
        assert_eq!(set.len(), 2);
        assert!(set.contains(65_535) && !set.contains(2));
        set.remove(1);
        set.remove(1);
        assert_eq!(set.len(), 1);
        set.clear();
        assert!(!set.contains(65_535));
    }
}
