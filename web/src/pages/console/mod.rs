//! The Murano resource console (seed 000): subscribe `<identity>/#`, publish values, watch the
//! log and a live chart per numeric resource. With Murano's current API: `$resource/<alias>`,
//! batches, and platform writes listed and charted at their platform time. Its state and
//! reducer (`state`, native), what it starts (`ops`) and its view (`view`), both wasm32.

pub(crate) mod state;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "wasm32")]
mod ops;
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
pub use ops::{run, Op};
pub(crate) use state::{Action, ConsoleState as State, PAGE};
#[cfg(target_arch = "wasm32")]
pub use view::View;
