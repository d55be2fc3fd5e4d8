//! The bridge's open-file budget (`ws-bridge/src/fd_budget.rs`). Its own test binary: it lowers
//! this process's limits, which the bridge processes it starts inherit.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use rlimit::Resource;
use tests::bridge::BridgeProcess;
use tests::certs::TestPki;

/// The soft open-file limit of a running process, from /proc.
fn soft_nofile(pid: u32) -> u64 {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| match v {
            "unlimited" => Some(rlimit::INFINITY),
            n => n.parse().ok(),
        })
        .expect("Max open files")
}

/// The log without its colour escapes.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (false, c) => out.push(c),
            (true, 'm') => in_escape = false,
            (true, _) => {}
        }
    }
    out
}

fn bridge(pki: &TestPki) -> BridgeProcess {
    // Nothing is dialled: the limit is read and raised at start.
    BridgeProcess::quick("127.0.0.1:9", &pki.ca(), &[])
}

#[test]
fn the_soft_limit_is_raised_and_a_short_one_is_logged() {
    let pki = TestPki::generate();
    let (_, hard) = Resource::NOFILE.get().expect("getrlimit");
    // A service started with a soft limit of 256 (systemd's default is 1,024) and room above.
    Resource::NOFILE
        .set(256, hard)
        .expect("lower the soft limit");
    let raised = bridge(&pki);
    assert_eq!(
        soft_nofile(raised.child.pid()),
        hard,
        "the bridge raised its soft limit to the hard one"
    );
    // No room: 300 open files hold 118 sessions, far below max_connections (10,000).
    Resource::NOFILE.set(300, 300).expect("lower both limits");
    let short = bridge(&pki);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !short
        .log_text()
        .contains("open-file limit holds fewer sessions")
    {
        assert!(
            Instant::now() < deadline,
            "no warning: {}",
            short.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let plain = strip_ansi(&short.log_text());
    assert!(plain.contains("sessions=118"), "{plain}");
}
