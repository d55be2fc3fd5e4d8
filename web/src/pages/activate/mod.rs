//! Murano activation (seed 000), legacy (`activate`) or current (`$provision`): prints the seed's
//! lines, hands the credentials to the connection panel and the console, and offers to remember
//! them. Its state and reducer (`state`, native), what it starts (`ops`) and its view (`view`),
//! both wasm32.

pub(crate) mod state;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "wasm32")]
mod ops;
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
pub use ops::{run, Op};
pub(crate) use state::{Action, ActivationState as State, PAGE};
#[cfg(target_arch = "wasm32")]
pub use view::View;
