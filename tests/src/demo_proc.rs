//! The `demo demo` binary as a user runs it: a fresh data directory, ephemeral ports, the banner
//! read from its stdout; SIGINT checked to leave nothing behind. Build it first with
//! `cargo build -p demo` (same CARGO_TARGET_DIR).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::app_page::workspace;
use crate::procs::ChildGuard;

/// The `demo` binary next to the test executable (`<target>/debug/demo`).
pub fn demo_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut candidates = Vec::new();
    if let Some(deps) = exe.parent() {
        candidates.push(deps.join("demo"));
        if let Some(profile) = deps.parent() {
            candidates.push(profile.join("demo"));
        }
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the demo binary was not found next to {}: run `cargo build -p demo` \
             (with the same CARGO_TARGET_DIR) before the tests",
                exe.display()
            )
        })
}

/// What the banner says.
#[derive(Debug, Clone)]
pub struct Banner {
    /// The web app (`Open:`).
    pub url: String,
    /// `ws://127.0.0.1:PORT/mqtt`, the bridge's MQTT route (`MQTT over WS:`).
    pub ws_url: String,
    /// The TLS front (`Broker (TLS):`).
    pub front: SocketAddr,
    /// The platform user's password (`Platform login:`, the second quoted value).
    pub platform_password: String,
    /// Activated devices kept in the data directory.
    pub devices: usize,
    /// The whole banner.
    pub text: String,
}

fn after<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    line.trim_start().strip_prefix(label).map(str::trim)
}

fn parse_banner(lines: &[String]) -> Banner {
    let text = lines.join("\n");
    let find = |label: &str| {
        lines
            .iter()
            .find_map(|l| after(l, label))
            .unwrap_or_else(|| panic!("banner has no {label:?}:\n{text}"))
            .to_string()
    };
    let url = find("Open:");
    let ws_url = find("MQTT over WS:");
    let broker = find("Broker (TLS):");
    let port = broker
        .strip_prefix("mqtts://localhost:")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no broker port in {broker:?}"));
    let login = find("Platform login:");
    let platform_password = login
        .split('"')
        .nth(3)
        .unwrap_or_else(|| panic!("no platform password in {login:?}"))
        .to_string();
    let devices = find("Activated devices kept in the data directory:")
        .parse()
        .unwrap_or_else(|_| panic!("device count in\n{text}"));
    Banner {
        url,
        ws_url,
        front: SocketAddr::from(([127, 0, 0, 1], port)),
        platform_password,
        devices,
        text,
    }
}

/// A running `demo demo`, killed on drop.
pub struct Demo {
    /// The process; kills it on drop.
    pub guard: ChildGuard,
    /// The banner it printed at startup.
    pub banner: Banner,
    stderr: mpsc::Receiver<String>,
    /// From spawn to the whole banner.
    pub startup: Duration,
}

impl Demo {
    /// On `data_dir`, serving the built web app.
    pub fn start(data_dir: &Path) -> Demo {
        Demo::start_with(data_dir, &workspace().join("web/dist"))
    }

    /// On `data_dir`, serving `web_dir`.
    pub fn start_with(data_dir: &Path, web_dir: &Path) -> Demo {
        let started = Instant::now();
        let mut guard = ChildGuard::spawn(
            "demo demo",
            Command::new(demo_path())
                .args(["demo", "--listen", "127.0.0.1:0", "--broker-port", "0"])
                .arg("--data-dir")
                .arg(data_dir)
                .arg("--web-dir")
                .arg(web_dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        let child = guard.child_mut().expect("just spawned");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (line_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if err_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    let last = line.trim_start().starts_with("Stop:");
                    seen.push(line);
                    if last {
                        break;
                    }
                }
                Err(_) => {
                    let errors: Vec<String> = err_rx.try_iter().collect();
                    panic!(
                        "no complete banner within 60 s; stdout:\n{}\nstderr:\n{}",
                        seen.join("\n"),
                        errors.join("\n")
                    );
                }
            }
        }
        let startup = started.elapsed();
        Demo {
            guard,
            banner: parse_banner(&seen),
            stderr: err_rx,
            startup,
        }
    }

    /// Its process id (0 once it has been waited for).
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// The stderr lines that arrived since the last call, joined by `\n`.
    pub fn stderr_text(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// SIGINT, then checks the exit status and that nothing is left behind.
    pub fn interrupt_and_check(mut self) {
        let pid = self.pid();
        assert!(
            children_of(pid).is_empty(),
            "the demo runs everything in process, yet has children: {:?}",
            children_of(pid)
        );
        self.guard.signal("INT");
        let status = self
            .guard
            .wait_timeout(Duration::from_secs(15))
            .unwrap_or_else(|| panic!("the demo did not stop within 15 s of SIGINT"));
        assert!(
            status.success(),
            "exit status {status:?}; stderr:\n{}",
            self.stderr_text()
        );
        assert!(children_of(pid).is_empty(), "children left behind");
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} still exists"
        );
        for addr in [self.banner.front, bridge_addr(&self.banner.url)] {
            assert!(
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
                "{addr} still accepts after the demo stopped"
            );
        }
    }
}

fn bridge_addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("bridge address in {url:?}"))
}

/// Processes whose parent is `pid` (from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("PPid:"))
                        .and_then(|v| v.trim().parse::<u32>().ok())
                })
                == Some(pid)
        })
        .collect()
}
