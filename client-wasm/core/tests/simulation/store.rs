//! The simulated browser storage: a quota in bytes, writes that fail now and then (another tab
//! or site filled the quota), and rows a user can edit by hand.

use mqtt_core::persist::{Snapshot, Store, StoreError};

#[derive(Debug, Default)]
pub struct SimStore {
    pub kept: Option<Snapshot>,
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

impl Store for SimStore {
    fn write(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        if std::mem::take(&mut self.fail_next_write) || size(snapshot) > self.quota {
            self.writes_refused += 1;
            return Err(StoreError::Full);
        }
        self.kept = Some(snapshot.clone());
        Ok(())
    }
}
