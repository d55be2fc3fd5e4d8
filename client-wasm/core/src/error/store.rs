//! Why a store could not keep a snapshot (see `crate::persist`).

/// Why a store could not keep a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage quota is exhausted.
    #[error("storage is full")]
    Full,
    /// There is no storage (disabled, private mode) or it failed.
    #[error("storage is unavailable")]
    Unavailable,
}
