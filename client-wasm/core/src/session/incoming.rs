//! Inbound QoS 2 packet ids between PUBLISH and PUBREL, and the one count of their changes: a
//! repeat of one of them (the broker's DUP resend, also after a reload) is not delivered again.

use super::ids::PidSet;

#[derive(Debug, Default)]
pub(super) struct IncomingQos2 {
    ids: PidSet,
    /// Bumped whenever `ids` changes (the outgoing side counts its own).
    changes: u64,
}

impl IncomingQos2 {
    pub(super) fn changes(&self) -> u64 {
        self.changes
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The ids held, ascending, to persist.
    pub(super) fn ids(&self) -> Vec<u16> {
        self.ids.iter().collect()
    }

    /// A QoS 2 PUBLISH under `pid` (or a stored id restored): whether it is new, so delivered.
    #[must_use = "a repeated QoS 2 message must not be delivered again"]
    pub(super) fn received(&mut self, pid: u16) -> bool {
        let first = self.ids.insert(pid);
        self.changes += u64::from(first);
        first
    }

    /// PUBREL: the broker will not resend `pid`.
    pub(super) fn released(&mut self, pid: u16) {
        if self.ids.remove(pid) {
            self.changes += 1;
        }
    }

    /// A new broker session: its ids start afresh.
    pub(super) fn clear(&mut self) {
        self.ids.clear();
        self.changes += 1;
    }
}
