//! One component per hash route. Pages read the provider's context and pass props down.

pub mod activate;
pub mod console;
pub mod device;
pub mod echo_host;
pub mod platform;
