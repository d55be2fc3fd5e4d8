//! The cross-component test harness: real mosquitto, real bridge, real headless Chromium.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // the harness of tests: a failed unwrap fails the test that called it
pub mod app_page;
pub mod bridge;
pub mod certs;
pub mod cli;
pub mod demo_proc;
pub mod edge;
pub mod farm;
pub mod haproxy;
pub mod house;
pub mod mosquitto;
pub mod nginx;
pub mod procs;
pub mod responder;
pub mod stall_proxy;
pub mod tally;
pub mod webdriver;
