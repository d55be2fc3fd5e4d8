//! The third-party client: Python paho-mqtt scripts under `tests/clients/`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::certs::TempDir;
use crate::procs::ChildGuard;

/// The command that installs the third-party client.
pub const PAHO_INSTALL: &str = "python3 -m pip install paho-mqtt==2.1.0";

/// Checks that Python and paho-mqtt 2.x are installed; panics naming the install command.
pub fn require_paho() {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import paho.mqtt, sys; sys.exit(0 if paho.mqtt.__version__.startswith('2.') else 3)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the Python MQTT client paho-mqtt 2.x is missing: install it with `{PAHO_INSTALL}`"
    );
}

/// Runs `tests/clients/<script>` with python3 and `args`; kills it after `timeout`.
/// Returns (success, stdout, stderr).
pub fn run_python_client(
    script: &str,
    args: &[String],
    timeout: Duration,
) -> (bool, String, String) {
    require_paho();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("clients")
        .join(script);
    let dir = TempDir::new("py-client");
    let out_path = dir.path().join("out");
    let err_path = dir.path().join("err");
    let mut child = ChildGuard::spawn(
        "python3",
        Command::new("python3")
            .arg(&path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).expect("out"))
            .stderr(std::fs::File::create(&err_path).expect("err")),
    );
    let status = child.wait_timeout(timeout);
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    match status {
        Some(s) => (s.success(), out, err),
        None => (false, out, format!("{err}\n(killed after {timeout:?})")),
    }
}
