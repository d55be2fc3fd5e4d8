//! The Azure Sphere device loop (seed 003): publish the current message every interval;
//! whatever comes back becomes the current message. Its state and reducer (`state`, native),
//! what it starts (`ops`) and its view (`view`), both wasm32.

pub(crate) mod state;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "wasm32")]
mod ops;
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
pub use ops::{run, Op};
pub(crate) use state::{Action, DeviceState as State, PAGE};
#[cfg(target_arch = "wasm32")]
pub use view::View;
