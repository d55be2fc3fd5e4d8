//! The runtime this build is for (by cargo feature), under the names the driver uses. Above
//! `browser`/`edge` and `runtime`: those implement the traits and never name this module.

#[cfg(all(feature = "browser", feature = "edge"))]
compile_error!("client-wasm: enable one runtime feature, `browser` or `edge`, not both");

/// The runtime this build is for.
#[cfg(feature = "browser")]
pub(crate) type Active = crate::browser::Browser;
/// The runtime this build is for.
#[cfg(all(feature = "edge", not(feature = "browser")))]
pub(crate) type Active = crate::edge::Edge;

/// This runtime's share of a connection with other tabs (an uninhabited type outside the browser).
#[cfg(feature = "browser")]
pub(crate) use crate::browser::share::Sharing;
#[cfg(all(feature = "edge", not(feature = "browser")))]
pub(crate) use crate::edge::Sharing;

/// The active runtime's link.
pub(crate) type ActiveLink = <Active as crate::runtime::Runtime>::Link;
/// The active runtime's timer.
pub(crate) type ActiveTimer = <Active as crate::runtime::Runtime>::Timer;
/// The active runtime's store.
pub(crate) type ActiveStore = <Active as crate::runtime::Runtime>::Store;

#[cfg(not(any(feature = "browser", feature = "edge")))]
compile_error!("client-wasm: enable a runtime feature, `browser` (the default) or `edge`");
