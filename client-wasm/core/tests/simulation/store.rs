//! The simulated browser storage: asynchronous like IndexedDB (a write commits in a later turn,
//! or never if the page goes first), a quota in bytes, writes that fail now and then (another
//! tab or site filled the quota), and rows a user can edit by hand.

use mqtt_core::persist::{Snapshot, StoreError};

#[derive(Debug, Default)]
pub(crate) struct SimStore {
    /// What the store holds: the last committed snapshot.
    pub kept: Option<Snapshot>,
    /// A write started and not committed yet.
    pub writing: Option<Snapshot>,
    /// Bytes of topic and payload the store holds at most.
    pub quota: usize,
    /// The next write fails (and the one after it succeeds).
    pub fail_next_write: bool,
    pub writes_refused: u64,
}

fn size(snapshot: &Snapshot) -> usize {
    snapshot
        .pending
        .iter()
        .map(|p| p.topic.len() + p.payload.len() + 8)
        .sum::<usize>()
        + 2 * snapshot.incoming_qos2.len()
}

impl SimStore {
    /// The write in progress commits, or fails as a whole (the transaction aborts).
    pub(crate) fn commit(&mut self) -> Result<(), StoreError> {
        let Some(snapshot) = self.writing.take() else {
            return Ok(());
        };
        if std::mem::take(&mut self.fail_next_write) || size(&snapshot) > self.quota {
            self.writes_refused += 1;
            return Err(StoreError::Full);
        }
        self.kept = Some(snapshot);
        Ok(())
    }
}
