//! One folder per page: its state and reducer (`state.rs`, tested natively next to it) and its
//! view (`view.rs`, wasm32), which takes its state as props and dispatches through `use_app()`.

pub mod activate;
pub mod console;
pub mod device;
pub mod echo_host;
pub mod platform;
