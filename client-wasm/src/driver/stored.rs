//! A persistent session's store, as the driver holds it.

use std::rc::Rc;

use mqtt_core::persist::Persistence;

use crate::platform::ActiveStore;

/// A persistent session's store and the write handshake with it.
pub(super) struct Stored {
    pub(super) persistence: Persistence,
    /// `None` while the store opens and reads (the session connects after it is restored).
    pub(super) store: Option<Rc<ActiveStore>>,
    /// A snapshot write failed and was reported; reported again only after one succeeds.
    pub(super) failing: bool,
}
