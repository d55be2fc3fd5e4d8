//! The Azure Sphere echo host (seed 003): every message on the host topic comes back on the
//! device topic, rotated by one character. Its state and reducer (`state`, native), what it
//! starts (`ops`) and its view (`view`), both wasm32.

pub(crate) mod state;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "wasm32")]
mod ops;
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
pub use ops::{run, Op};
pub(crate) use state::{Action, EchoState as State, PAGE};
#[cfg(target_arch = "wasm32")]
pub use view::View;
