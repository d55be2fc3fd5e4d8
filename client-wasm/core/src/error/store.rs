//! Why a store could not keep a snapshot (see `crate::persist`).

use crate::text::{display_from_text, Text};

/// Why a store could not keep a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage quota is exhausted.
    Full,
    /// There is no storage (disabled, private mode) or it failed.
    Unavailable,
}

impl Text for StoreError {
    fn write_text(&self, out: &mut String) {
        out.push_str(match self {
            StoreError::Full => "storage is full",
            StoreError::Unavailable => "storage is unavailable",
        });
    }
}

display_from_text!(StoreError);

impl std::error::Error for StoreError {}
