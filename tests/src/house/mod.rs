//! House rules checked over the workspace's own sources (run by `tests/tests/house_rules.rs`):
//! no import cycle between sibling modules of any crate ([`cycles`]), and no source file over
//! [`audit::MAX_LINES`] lines before its `#[cfg(test)]` part ([`length`]).
//!
//! Reading order: [`source`] (where text comes from), [`attrs`], [`length`], [`tree`] (the
//! module tree and the paths each module names), [`resolve`] (which module a path names),
//! [`cycles`], [`workspace`] (the crate roots), [`audit`] (both rules over the workspace),
//! [`ratchet`] (allow-lists that only shrink). Each uses only those before it.

pub mod attrs;
pub mod audit;
pub mod cycles;
pub mod length;
pub mod ratchet;
pub mod resolve;
pub mod source;
pub mod tree;
pub mod workspace;

#[cfg(test)]
mod tests;
