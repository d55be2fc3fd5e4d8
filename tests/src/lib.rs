//! Test harness.
pub mod bridge;
pub mod certs;
pub mod mosquitto;
pub mod procs;
pub mod webdriver;
