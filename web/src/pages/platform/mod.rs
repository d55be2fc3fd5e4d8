//! Plays the Murano portal: connect with platform credentials and write a value to
//! `<identity>/<resource>`, which the device's console receives ("if you directly enter values
//! in the browser, the device will also receive those changes"). Its state and reducer
//! (`state`, native), what it starts (`ops`) and its view (`view`), both wasm32.

pub(crate) mod state;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "wasm32")]
mod ops;
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
pub use ops::{run, Op};
pub(crate) use state::{Action, PlatformState as State, PAGE};
#[cfg(target_arch = "wasm32")]
pub use view::View;
