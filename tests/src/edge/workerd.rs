//! workerd (Cloudflare Workers' runtime, from the `workerd` npm package in tests/edge) running
//! one Worker with a generated Cap'n Proto config.
//!
//! [`Workerd::start`] bundles the Worker's script with esbuild inside the installed project
//! ([`EdgeProject::shared`], so `import "client-wasm"` resolves with the `workerd` condition),
//! keeps the wasm a module of its own (`--external:*.wasm`: workerd refuses to compile bytes at
//! run time), writes `config.capnp` ([`config_text`]) and starts `workerd serve` on a free
//! loopback port, waiting until it listens. The config gives the Worker:
//! * text bindings (`MQTT_URL`...);
//! * `globalOutbound` = a network service allowing only `local` (loopback) addresses, trusting
//!   the test CA (`tlsOptions.trustedCertificates`): workerd has no per-connection CA;
//! * optionally one Durable Object class, stored on `localDisk` (a writable disk service in
//!   the run's folder), so its storage survives [`Workerd::restart`].
//!
//! The process is killed (SIGKILL) on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{edge_dir, EdgeProject};
use crate::certs::TempDir;
use crate::procs::{free_port, loopback, try_wait_for_port, ChildGuard};

/// The compatibility date the Workers are compiled with (the pinned workerd's own date).
pub const COMPATIBILITY_DATE: &str = "2026-11-01";

/// A Durable Object class the Worker exports, and the binding that names its namespace.
#[derive(Debug, Clone)]
pub struct DurableObjectClass {
    /// The exported class name.
    pub class: String,
    /// The binding name in `env`.
    pub binding: String,
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct WorkerSpec {
    /// The Worker's main module (ES module syntax), bundled with esbuild.
    pub script: PathBuf,
    /// Text bindings (name, value).
    pub bindings: Vec<(String, String)>,
    /// The CA the network trusts (PEM file); none: the network trusts nothing.
    pub trusted_ca: Option<PathBuf>,
    /// A Durable Object class, stored on local disk.
    pub durable_object: Option<DurableObjectClass>,
    /// The Worker imports `client-wasm/tls` (TLS inside the package): its wasm module is
    /// `edge-tls/client_wasm_bg.wasm` instead of `edge/...`.
    pub package_tls: bool,
}

impl WorkerSpec {
    /// A spec for `script` with `bindings`, trusting `ca`.
    pub fn new(script: PathBuf, bindings: &[(&str, &str)], ca: &Path) -> WorkerSpec {
        WorkerSpec {
            script,
            bindings: bindings
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            trusted_ca: Some(ca.to_path_buf()),
            durable_object: None,
            package_tls: false,
        }
    }

    /// The same, for a Worker that imports `client-wasm/tls` (see [`WorkerSpec::package_tls`]).
    pub fn with_package_tls(mut self) -> WorkerSpec {
        self.package_tls = true;
        self
    }

    /// The folder of the wasm module the Worker imports, inside the package.
    fn wasm_dir(&self) -> &'static str {
        if self.package_tls {
            "edge-tls"
        } else {
            "edge"
        }
    }

    /// The same, with a Durable Object class.
    pub fn with_durable_object(mut self, class: &str, binding: &str) -> WorkerSpec {
        self.durable_object = Some(DurableObjectClass {
            class: class.into(),
            binding: binding.into(),
        });
        self
    }
}

/// A Cap'n Proto text string literal.
fn capnp_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The config for `spec`, listening on `port`, with the files laid out as [`Workerd::start`]
/// lays them in the config's folder: `worker.js`, `edge/client_wasm_bg.wasm`, `ca.pem`, and the
/// Durable Objects' directory `do-storage/` (absolute: `storage_dir`).
pub fn config_text(spec: &WorkerSpec, port: u16, storage_dir: &Path) -> String {
    let mut bindings: Vec<String> = spec
        .bindings
        .iter()
        .map(|(name, value)| {
            format!(
                "(name = {}, text = {})",
                capnp_string(name),
                capnp_string(value)
            )
        })
        .collect();
    let mut durable = String::new();
    let mut services = String::new();
    if let Some(object) = &spec.durable_object {
        bindings.push(format!(
            "(name = {}, durableObjectNamespace = {})",
            capnp_string(&object.binding),
            capnp_string(&object.class)
        ));
        // preventEviction: the echo host keeps its MQTT session open between requests.
        durable = format!(
            ",\n      durableObjectNamespaces = [(className = {}, uniqueKey = {}, preventEviction = true)],\n      durableObjectStorage = (localDisk = \"do-disk\")",
            capnp_string(&object.class),
            capnp_string(&format!("{}-key", object.class)),
        );
        services = format!(
            ",\n    (name = \"do-disk\", disk = (path = {}, writable = true))",
            capnp_string(&storage_dir.display().to_string())
        );
    }
    let trust = match spec.trusted_ca {
        Some(_) => ", tlsOptions = (trustedCertificates = [embed \"ca.pem\"])",
        None => "",
    };
    format!(
        "# generated by tests/src/edge/workerd.rs\n\
         using Workerd = import \"/workerd/workerd.capnp\";\n\
         const config :Workerd.Config = (\n  services = [\n    (name = \"main\", worker = (\n      \
         modules = [\n        (name = \"worker.js\", esModule = embed \"worker.js\"),\n        \
         (name = \"{wasm}/client_wasm_bg.wasm\", wasm = embed \"{wasm}/client_wasm_bg.wasm\"),\n      ],\n      \
         compatibilityDate = \"{COMPATIBILITY_DATE}\",\n      \
         bindings = [{bindings}],\n      \
         globalOutbound = \"loopback\"{durable})),\n    \
         (name = \"loopback\", network = (allow = [\"local\"]{trust})){services}\n  ],\n  \
         sockets = [(name = \"http\", address = \"127.0.0.1:{port}\", http = (), service = \"main\")],\n);\n",
        bindings = bindings.join(", "),
        wasm = spec.wasm_dir(),
    )
}

/// A running workerd; killed on drop.
#[derive(Debug)]
pub struct Workerd {
    child: Option<ChildGuard>,
    port: u16,
    log: PathBuf,
    dir: TempDir,
}

/// `tests/edge/node_modules/.bin/<name>`, or a panic with the install command.
fn tool(name: &str) -> PathBuf {
    let bin = edge_dir().join("node_modules/.bin").join(name);
    assert!(
        bin.exists(),
        "{} not found: run `bash scripts/setup.sh` (npm ci in tests/edge)",
        bin.display()
    );
    bin
}

/// Bundles `script` with esbuild inside the installed project into `out`.
fn bundle(script: &Path, out: &Path) {
    let project = EdgeProject::shared();
    let staging = tempfile::Builder::new()
        .prefix("workerd-")
        .tempdir_in(project.path())
        .expect("bundle folder");
    let entry = staging
        .path()
        .join(script.file_name().expect("script name"));
    std::fs::copy(script, &entry).unwrap_or_else(|e| panic!("copy {}: {e}", script.display()));
    let output = Command::new(tool("esbuild"))
        .arg(&entry)
        .args(["--bundle", "--format=esm", "--platform=neutral"])
        .args(["--conditions=workerd,worker", "--log-level=warning"])
        .args(["--external:cloudflare:*", "--external:*.wasm"])
        .arg(format!("--outfile={}", out.display()))
        .current_dir(project.path())
        .output()
        .expect("run esbuild");
    assert!(
        output.status.success(),
        "esbuild failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Workerd {
    /// Bundles, configures and starts the Worker; waits (up to 15 s) until it listens.
    pub fn start(spec: &WorkerSpec) -> Workerd {
        let dir = TempDir::new("workerd");
        let d = dir.path();
        bundle(&spec.script, &d.join("worker.js"));
        let wasm_dir = spec.wasm_dir();
        std::fs::create_dir_all(d.join(wasm_dir)).expect("wasm folder");
        let wasm = EdgeProject::shared()
            .path()
            .join("node_modules/client-wasm")
            .join(wasm_dir)
            .join("client_wasm_bg.wasm");
        std::fs::copy(&wasm, d.join(wasm_dir).join("client_wasm_bg.wasm"))
            .unwrap_or_else(|e| panic!("copy {}: {e}", wasm.display()));
        if let Some(ca) = &spec.trusted_ca {
            std::fs::copy(ca, d.join("ca.pem")).expect("copy CA");
        }
        let storage = d.join("do-storage");
        std::fs::create_dir_all(&storage).expect("storage folder");
        let port = free_port();
        std::fs::write(d.join("config.capnp"), config_text(spec, port, &storage))
            .expect("write config");
        let mut workerd = Workerd {
            child: None,
            port,
            log: d.join("workerd.log"),
            dir,
        };
        workerd.launch();
        workerd
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("workerd log");
        let err = log.try_clone().expect("log handle");
        let mut child = ChildGuard::spawn(
            "workerd",
            Command::new(tool("workerd"))
                .args(["serve", "config.capnp", "--verbose"])
                .current_dir(self.dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(err)),
        );
        let up = try_wait_for_port(loopback(self.port), Duration::from_secs(15));
        assert!(
            up && child.is_running(),
            "workerd did not listen on {}; log:\n{}",
            self.port,
            self.log_text()
        );
        self.child = Some(child);
    }

    /// SIGKILL (a crash: nothing flushed) and start again with the same config, port and
    /// Durable Object storage.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// SIGKILL now.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill();
        }
    }

    /// The HTTP address the Worker answers on.
    pub fn addr(&self) -> SocketAddr {
        loopback(self.port)
    }

    /// workerd's output so far (its own log names the reason of a TLS failure).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` (with query) and the JSON it answers; panics after `limit`.
    pub fn get_json(&self, path: &str, limit: Duration) -> (u16, Value) {
        let (status, body) = http_get(self.addr(), path, limit);
        let value = serde_json::from_str(&body).unwrap_or_else(|e| {
            panic!(
                "GET {path}: {status} {body:?} is not JSON ({e}); workerd log:\n{}",
                self.log_text()
            )
        });
        (status, value)
    }
}

/// A blocking `GET` with `Connection: close`; (status, body). workerd answers JSON responses
/// with a Content-Length, so the body is what follows the head.
fn http_get(addr: SocketAddr, path: &str, limit: Duration) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream.set_read_timeout(Some(limit)).expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("GET {path}: no answer within {limit:?}: {e}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_declares_the_wasm_module_the_loopback_network_and_durable_storage() {
        let spec = WorkerSpec::new(
            PathBuf::from("w.js"),
            &[("MQTT_URL", "mqtts://127.0.0.1:8883"), ("Q", "a\"b")],
            Path::new("ca.pem"),
        )
        .with_durable_object("EchoHost", "ECHO_HOST");
        let text = config_text(&spec, 4242, Path::new("/tmp/x"));
        for part in [
            "(name = \"edge/client_wasm_bg.wasm\", wasm = embed \"edge/client_wasm_bg.wasm\")",
            "(name = \"MQTT_URL\", text = \"mqtts://127.0.0.1:8883\")",
            "(name = \"Q\", text = \"a\\\"b\")",
            "(name = \"ECHO_HOST\", durableObjectNamespace = \"EchoHost\")",
            "durableObjectStorage = (localDisk = \"do-disk\")",
            "(name = \"do-disk\", disk = (path = \"/tmp/x\", writable = true))",
            "network = (allow = [\"local\"], tlsOptions = (trustedCertificates = [embed \"ca.pem\"]))",
            "address = \"127.0.0.1:4242\"",
        ] {
            assert!(text.contains(part), "{part} missing from:\n{text}");
        }
        let plain = config_text(
            &WorkerSpec {
                script: PathBuf::from("w.js"),
                ..WorkerSpec::default()
            },
            1,
            Path::new("/x"),
        );
        assert!(!plain.contains("durableObject") && !plain.contains("tlsOptions"));
        let package_tls = config_text(&spec.with_package_tls(), 1, Path::new("/x"));
        assert!(package_tls.contains(
            "(name = \"edge-tls/client_wasm_bg.wasm\", wasm = embed \"edge-tls/client_wasm_bg.wasm\")"
        ));
    }
}
