//! The device page: its state and reducer (`state`, native) and its view (`view`, wasm32).

pub mod state;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
pub use view::DevicePage;
