//! Counters and last messages of the echo host or the device.

use std::collections::VecDeque;

use super::log::Dir;

/// Entries shown in the "last messages" lists of the echo host and the device.
pub(crate) const LAST_CAP: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct LoopStats {
    pub running: bool,
    pub received: u64,
    pub sent: u64,
    pub errors: u64,
    pub last_error: Option<String>,
    /// Newest first: (direction, text).
    pub last: VecDeque<(Dir, String)>,
}

impl LoopStats {
    pub(crate) fn note(&mut self, dir: Dir, payload: &[u8]) {
        match dir {
            Dir::In => self.received += 1,
            Dir::Out => self.sent += 1,
        }
        self.last
            .push_front((dir, String::from_utf8_lossy(payload).into_owned()));
        self.last.truncate(LAST_CAP);
    }

    pub(crate) fn error(&mut self, reason: String) {
        self.errors += 1;
        self.last_error = Some(reason);
    }
}
