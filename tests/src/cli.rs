//! Running the real `mqttws` binary from tests, always with a time limit.
//!
//! The binary belongs to `client-wasm`, not to this crate, so it is found next to the test
//! executable: tests run from `<target>/debug/deps/`, the binary is `<target>/debug/mqttws`.
//! Build it first with `cargo build -p mqttws --bin mqttws`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::mosquitto::{Mosquitto, BROKER_NAME, PLATFORM_PASSWORD, PLATFORM_USER};
use crate::procs::ChildGuard;

/// Path of the `mqttws` binary; panics with the command that builds it when it is missing.
pub fn mqttws_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut candidates = Vec::new();
    if let Some(deps) = exe.parent() {
        candidates.push(deps.join("mqttws"));
        if let Some(profile) = deps.parent() {
            candidates.push(profile.join("mqttws"));
        }
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
            "the mqttws binary was not found next to {}: run `cargo build -p mqttws --bin mqttws` \
             (with the same CARGO_TARGET_DIR) before the tests",
            exe.display()
        )
        })
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Exit status; `None` when killed (e.g. by the time limit).
    pub code: Option<i32>,
    /// Everything it wrote to stdout, one `\n`-terminated line each.
    pub stdout: String,
    /// Everything it wrote to stderr, one `\n`-terminated line each.
    pub stderr: String,
}

impl Finished {
    /// stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// Runs `mqttws ARGS`, feeding `stdin`, killing it after `limit`.
pub fn run(args: &[&str], stdin: &str, limit: Duration) -> Finished {
    let mut running = spawn(args);
    running.write_stdin(stdin);
    running.close_stdin();
    running.wait(limit)
}

/// A running `mqttws`, killed on drop. Its stdout lines are collected as they come.
pub struct Running {
    guard: ChildGuard,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: mpsc::Receiver<String>,
    seen_err: Vec<String>,
}

/// Starts `mqttws ARGS` with piped stdin, stdout and stderr.
pub fn spawn(args: &[&str]) -> Running {
    spawn_command(
        &format!("mqttws {}", args.first().copied().unwrap_or_default()),
        Command::new(mqttws_path()).args(args),
    )
}

/// Starts any program the same way (piped stdin, stdout and stderr; lines collected).
pub fn spawn_command(name: &str, command: &mut Command) -> Running {
    let mut guard = ChildGuard::spawn(
        name,
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let child = guard.child_mut().expect("child just spawned");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let (line_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let (err_tx, err_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if err_tx.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        guard,
        lines,
        seen: Vec::new(),
        stderr: err_rx,
        seen_err: Vec::new(),
    }
}

impl Running {
    /// Writes to stdin (ignored once closed).
    pub fn write_stdin(&mut self, text: &str) {
        if let Some(stdin) = self.guard.child_mut().and_then(|c| c.stdin.as_mut()) {
            let _ = stdin.write_all(text.as_bytes());
            let _ = stdin.flush();
        }
    }

    /// Closes stdin (end of input).
    pub fn close_stdin(&mut self) {
        if let Some(child) = self.guard.child_mut() {
            drop(child.stdin.take());
        }
    }

    /// Waits until a stdout line satisfies `pred`; returns it, or `None` after `limit`.
    pub fn wait_line(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        wait_in(&self.lines, &mut self.seen, limit, pred)
    }

    /// Waits until a stderr line satisfies `pred` (e.g. `-d`'s "subscribed to").
    pub fn wait_stderr(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        wait_in(&self.stderr, &mut self.seen_err, limit, pred)
    }

    /// The stdout lines seen so far (by `wait_line`).
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The stderr lines seen so far (by `wait_stderr`).
    pub fn seen_stderr(&self) -> &[String] {
        &self.seen_err
    }

    /// Sends a signal (`INT`, `TERM`...).
    pub fn signal(&self, sig: &str) {
        self.guard.signal(sig);
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.guard.is_running()
    }

    /// Waits for the exit (killing it after `limit`) and collects the rest of its output.
    pub fn wait(mut self, limit: Duration) -> Finished {
        let status = self.guard.wait_timeout(limit);
        if status.is_none() {
            self.guard.kill();
        }
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(2)) {
            self.seen_err.push(line);
        }
        let join = |lines: &[String]| {
            let mut text = lines.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            text
        };
        let (stdout, stderr) = (join(&self.seen), join(&self.seen_err));
        Finished {
            code: status.and_then(|s| s.code()),
            stdout,
            stderr,
        }
    }
}

fn wait_in(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    limit: Duration,
    pred: impl Fn(&str) -> bool,
) -> Option<String> {
    if let Some(line) = seen.iter().find(|l| pred(l)) {
        return Some(line.clone());
    }
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if pred(&line) {
                    return Some(line);
                }
            }
            Err(_) => return None,
        }
    }
}

/// `mqtt://127.0.0.1:<plain port>`.
pub fn plain_url(broker: &Mosquitto) -> String {
    format!("mqtt://{}", broker.plain_addr())
}

/// `mqttws sub` on the broker's plain port as the platform user (every topic), printing
/// `topic payload` at `qos`, with `extra` flags; returns once it is subscribed (up to 30 s).
pub fn platform_subscriber(broker: &Mosquitto, filter: &str, qos: &str, extra: &[&str]) -> Running {
    let url = plain_url(broker);
    let mut args = vec![
        "sub",
        "-d",
        "-v",
        "-q",
        qos,
        "-t",
        filter,
        "--url",
        &url,
        "-u",
        PLATFORM_USER,
        "-P",
        PLATFORM_PASSWORD,
    ];
    args.extend_from_slice(extra);
    let mut sub = spawn(&args);
    let ready = sub.wait_stderr(Duration::from_secs(30), |l| l.contains("subscribed to"));
    assert!(
        ready.is_some(),
        "subscriber not subscribed: {:?}",
        sub.seen_stderr()
    );
    sub
}

/// `mqtts://broker.test:<tls port>` and the `--connect-to` value that dials loopback.
pub fn tls_url(broker: &Mosquitto) -> (String, String) {
    let addr = broker.tls_addr();
    (
        format!("mqtts://{BROKER_NAME}:{}", addr.port()),
        addr.to_string(),
    )
}
