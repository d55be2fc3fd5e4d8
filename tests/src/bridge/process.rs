//! The real `ws-bridge` binary as a child process: found next to the test executable, refused
//! when older than its sources, its address read from its first line of stdout.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::certs::TempDir;
use crate::mosquitto::BROKER_NAME;
use crate::procs::ChildGuard;

/// Path of the `ws-bridge` binary (see the `bridge` module docs). Panics with the build command when
/// it is missing or older than the sources.
pub fn bridge_binary() -> PathBuf {
    if let Ok(p) = std::env::var("WS_BRIDGE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // <target>/<profile>/deps/<test-binary>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let bin = profile_dir.join("ws-bridge");
    let hint = "build it first: `cargo build -p ws-bridge` (same profile and CARGO_TARGET_DIR as the tests), or set WS_BRIDGE_BIN";
    let meta =
        std::fs::metadata(&bin).unwrap_or_else(|_| panic!("{} not found: {hint}", bin.display()));
    let built = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ws-bridge/src");
    if let Some(newest) = newest_mtime(&src) {
        assert!(
            built >= newest,
            "{} is older than ws-bridge/src: {hint}",
            bin.display()
        );
    }
    bin
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let t = if e.path().is_dir() {
            newest_mtime(&e.path())
        } else {
            e.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// The real `ws-bridge` binary, running; killed on drop.
#[derive(Debug)]
pub struct BridgeProcess {
    /// The process.
    pub child: ChildGuard,
    /// `ws://127.0.0.1:PORT/mqtt` (or `wss://`), as printed by the bridge.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    stderr_log: PathBuf,
    _dir: TempDir,
}

impl BridgeProcess {
    /// Runs the binary with `--config` set to `toml` written to a temporary file. The file's
    /// `listen` should use port 0; the bound address is read from the bridge's stdout.
    pub fn with_config_toml(toml: &str) -> BridgeProcess {
        let dir = TempDir::new("ws-bridge-proc");
        let conf = dir.path().join("bridge.toml");
        std::fs::write(&conf, toml).expect("write bridge.toml");
        Self::spawn_in(dir, &["--config".as_ref(), conf.as_os_str()])
    }

    /// The quick form on a free loopback port: one route to `upstream` over TLS with SNI
    /// `broker.test`, verified against `ca`, plus `extra` arguments.
    pub fn quick(upstream: &str, ca: &Path, extra: &[&std::ffi::OsStr]) -> BridgeProcess {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--upstream".as_ref(),
            upstream.as_ref(),
            "--sni".as_ref(),
            BROKER_NAME.as_ref(),
            "--ca".as_ref(),
            ca.as_os_str(),
        ];
        args.extend_from_slice(extra);
        Self::spawn(&args)
    }

    /// Runs the binary with these arguments (e.g. the quick form with `--listen 127.0.0.1:0`).
    pub fn spawn(args: &[&std::ffi::OsStr]) -> BridgeProcess {
        Self::spawn_in(TempDir::new("ws-bridge-proc"), args)
    }

    fn spawn_in(dir: TempDir, args: &[&std::ffi::OsStr]) -> BridgeProcess {
        let stderr_log = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_log).expect("stderr log");
        let mut child = ChildGuard::spawn(
            "ws-bridge",
            Command::new(bridge_binary())
                .args(args)
                .env(
                    "RUST_LOG",
                    std::env::var("WS_BRIDGE_LOG").unwrap_or_else(|_| "info".into()),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(stderr)),
        );
        let stdout = child
            .child_mut()
            .and_then(|c| c.stdout.take())
            .expect("stdout pipe");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| {
                panic!(
                    "ws-bridge did not report its address; stderr:\n{}",
                    std::fs::read_to_string(&stderr_log).unwrap_or_default()
                )
            });
        let url = line
            .strip_prefix("ws-bridge listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        let hostport = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .expect("host:port in url");
        let addr: SocketAddr = hostport.parse().expect("socket addr");
        BridgeProcess {
            child,
            url,
            addr,
            stderr_log,
            _dir: dir,
        }
    }

    /// The bridge's log (stderr) so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.child.rss_kib().expect("rss")
    }
}
