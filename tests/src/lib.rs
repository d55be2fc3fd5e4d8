//! Test harness.
pub mod bridge;
pub mod certs;
pub mod mosquitto;
pub mod procs;
pub mod cli;
pub mod responder;
pub mod webdriver;
