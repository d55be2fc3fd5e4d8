//! The capped, pausable message log of the console and the platform pages.

use super::shared::Shared;

/// Most log entries kept (older ones are dropped first).
pub(crate) const LOG_CAP: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    In,
    Out,
}

impl Dir {
    pub(crate) fn arrow(self) -> &'static str {
        match self {
            Dir::In => "in",
            Dir::Out => "out",
        }
    }
}

/// A message to log, as the reducer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub at_ms: u64,
    pub dir: Dir,
    pub topic: String,
    pub qos: u8,
    pub retain: bool,
    pub payload: Vec<u8>,
}

/// A logged message. Not `Clone` on purpose: the log is shared, never copied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub id: u64,
    pub at_ms: u64,
    pub dir: Dir,
    pub topic: String,
    pub qos: u8,
    pub retain: bool,
    pub payload: Vec<u8>,
}

/// A capped message log that can be paused: while paused, new entries wait (also capped) and
/// join the log on resume, so the view stays still while the user reads.
#[derive(Debug, Default)]
pub(crate) struct LogRows {
    pub entries: std::collections::VecDeque<LogEntry>,
    pub held: std::collections::VecDeque<LogEntry>,
    pub paused: bool,
    /// Entries dropped by the cap since the start.
    pub dropped: u64,
    next_id: u64,
}

/// The log as pages hold it: shared and changed in place (see [`Shared`]).
pub(crate) type Log = Shared<LogRows>;

/// What the user does to a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogAction {
    TogglePause,
    Clear,
}

impl LogRows {
    pub(crate) fn push(&mut self, row: Row) {
        let entry = LogEntry {
            id: self.next_id,
            at_ms: row.at_ms,
            dir: row.dir,
            topic: row.topic,
            qos: row.qos,
            retain: row.retain,
            payload: row.payload,
        };
        self.next_id += 1;
        let list = if self.paused {
            &mut self.held
        } else {
            &mut self.entries
        };
        list.push_back(entry);
        if list.len() > LOG_CAP {
            list.pop_front();
            self.dropped += 1;
        }
    }

    pub(crate) fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if !paused {
            let held = std::mem::take(&mut self.held);
            for entry in held {
                self.entries.push_back(entry);
                if self.entries.len() > LOG_CAP {
                    self.entries.pop_front();
                    self.dropped += 1;
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.held.clear();
    }

    pub(crate) fn apply(&mut self, action: LogAction) {
        match action {
            LogAction::TogglePause => self.set_paused(!self.paused),
            LogAction::Clear => self.clear(),
        }
    }
}
