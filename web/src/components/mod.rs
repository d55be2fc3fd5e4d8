//! Leaf components: props in, callbacks out, no context and no effects.

pub mod chart;
pub mod connection_panel;
pub mod field;
pub mod loop_stats;
pub mod message_log;
pub mod status;
