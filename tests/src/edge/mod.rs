//! The npm package in real JavaScript runtimes: Node (the machine's), Deno and Bun (from their
//! npm packages, installed by `scripts/setup.sh` into `tests/edge/node_modules`).
//!
//! [`EdgeProject::shared`] installs the packed tarball (`client-wasm/pkg/client-wasm-*.tgz`, made
//! by `scripts/build-pkg.sh`) into a project folder with `npm install ./client-wasm-*.tgz`, as a
//! user does; [`Scenario::spawn`] copies a script (`tests/edge/scenarios/*.mjs` or
//! `client-wasm/examples/edge/*.mjs`) into it and runs it with a runtime and an environment,
//! reading its stdout as JSON lines ([`Scenario::wait_event`]). The process is killed on drop,
//! and [`Scenario::finish`] kills it after its timeout.
//!
//! ```no_run
//! use std::time::Duration;
//! use tests::edge::{Runtime, Scenario, Script};
//! let mut run = Scenario::spawn(Runtime::Deno, Script::Scenario("fault.mjs"), &[("MQTT_URL", "mqtt://127.0.0.1:1")]);
//! let error = run.wait_event("error", Duration::from_secs(10));
//! ```

mod project;
pub mod world;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::cli::{self, Running};
pub use project::EdgeProject;

/// A JavaScript runtime the package supports outside the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// The machine's `node` (20 or later).
    Node,
    /// Deno from the `deno` npm package.
    Deno,
    /// Bun from the `bun` npm package.
    Bun,
}

impl Runtime {
    /// Every runtime, in the order the tests report them.
    pub const ALL: [Runtime; 3] = [Runtime::Node, Runtime::Deno, Runtime::Bun];

    /// Its lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Node => "node",
            Runtime::Deno => "deno",
            Runtime::Bun => "bun",
        }
    }

    /// The binary: `node` from `PATH`, the others from `tests/edge/node_modules/.bin`.
    pub fn binary(self) -> PathBuf {
        match self {
            Runtime::Node => PathBuf::from("node"),
            Runtime::Deno | Runtime::Bun => {
                let bin = edge_dir().join("node_modules/.bin").join(self.name());
                assert!(
                    bin.exists(),
                    "{} not found: run `bash scripts/setup.sh` (npm ci in tests/edge)",
                    bin.display()
                );
                bin
            }
        }
    }

    /// The command that runs `script` (permissions for Deno: net, read, write, env).
    pub fn command(self, script: &Path) -> Command {
        let mut command = Command::new(self.binary());
        match self {
            Runtime::Node | Runtime::Bun => command.arg(script),
            Runtime::Deno => command
                .args(["run", "--quiet", "--no-lock", "--no-prompt"])
                .args([
                    "--allow-net",
                    "--allow-read",
                    "--allow-write",
                    "--allow-env",
                ])
                .arg(script),
        };
        command
    }
}

/// `tests/edge` (the runtimes' package.json, the scenarios).
pub fn edge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("edge")
}

/// A script a [`Scenario`] runs.
#[derive(Debug, Clone, Copy)]
pub enum Script {
    /// `tests/edge/scenarios/<name>`.
    Scenario(&'static str),
    /// `client-wasm/examples/edge/<name>` (the examples a user copies).
    Example(&'static str),
}

impl Script {
    fn source(self) -> PathBuf {
        match self {
            Script::Scenario(name) => edge_dir().join("scenarios").join(name),
            Script::Example(name) => Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../client-wasm/examples/edge")
                .join(name),
        }
    }
}

/// One runtime running one script; killed on drop.
pub struct Scenario {
    running: Running,
    runtime: Runtime,
    /// Lines before this index were returned by (or passed over by) `wait_for`.
    cursor: usize,
    _dir: tempfile::TempDir,
}

/// A finished scenario: exit code, its JSON events and stderr.
#[derive(Debug)]
pub struct Finished {
    /// The exit code (`None`: killed, e.g. after the timeout).
    pub code: Option<i32>,
    /// Every stdout line that was a JSON object.
    pub events: Vec<Value>,
    /// Its stderr, for failure messages.
    pub stderr: String,
}

impl Finished {
    /// The events named `event`.
    pub fn named(&self, event: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == event).collect()
    }
}

impl Scenario {
    /// Starts `script` with `runtime` in its own folder inside the shared project (so the bare
    /// import "client-wasm" resolves to the installed tarball), with `env` added.
    pub fn spawn(runtime: Runtime, script: Script, env: &[(&str, &str)]) -> Scenario {
        let project = EdgeProject::shared();
        let dir = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(project.path())
            .expect("scenario folder");
        let source = script.source();
        let file = dir
            .path()
            .join(source.file_name().expect("script file name"));
        std::fs::copy(&source, &file).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
        // The scenarios' shared helpers (not part of the package).
        let common = edge_dir().join("scenarios/common.mjs");
        std::fs::copy(&common, dir.path().join("common.mjs")).expect("copy common.mjs");
        let mut command = runtime.command(&file);
        command
            .current_dir(project.path())
            .env("NO_COLOR", "1")
            .envs(env.iter().copied());
        let running = cli::spawn_command(
            &format!("{} {}", runtime.name(), file.display()),
            &mut command,
        );
        Scenario {
            running,
            runtime,
            cursor: 0,
            _dir: dir,
        }
    }

    /// The runtime it runs in.
    pub fn runtime(&self) -> Runtime {
        self.runtime
    }

    /// Waits (up to `limit`) for an event whose `"event"` is `name`, returns it.
    pub fn wait_event(&mut self, name: &str, limit: Duration) -> Option<Value> {
        self.wait_for(limit, |e| e["event"] == name)
    }

    /// Waits (up to `limit`) for the next event satisfying `pred` after the last one returned.
    pub fn wait_for(&mut self, limit: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let found = self.running.seen()[self.cursor..]
            .iter()
            .position(|line| parse(line).is_some_and(|e| pred(&e)));
        if let Some(at) = found {
            self.cursor += at + 1;
            return self
                .running
                .seen()
                .get(self.cursor - 1)
                .and_then(|l| parse(l));
        }
        // `wait_line` looks at the lines seen before too: those were checked just above.
        let old = self.running.seen().len();
        let calls = Cell::new(0);
        let line = self.running.wait_line(limit, |line| {
            calls.set(calls.get() + 1);
            calls.get() > old && parse(line).is_some_and(|e| pred(&e))
        });
        self.cursor = self.running.seen().len();
        line.and_then(|l| parse(&l))
    }

    /// Every event seen so far.
    pub fn events(&self) -> Vec<Value> {
        self.running
            .seen()
            .iter()
            .filter_map(|l| parse(l))
            .collect()
    }

    /// SIGKILL now (a crash: nothing flushed, no DISCONNECT).
    pub fn kill(&mut self) {
        self.running.signal("KILL");
    }

    /// Waits for the exit (killing it after `limit`) and collects its events.
    pub fn finish(self, limit: Duration) -> Finished {
        let done = self.running.wait(limit);
        Finished {
            code: done.code,
            events: done.stdout.lines().filter_map(parse).collect(),
            stderr: done.stderr,
        }
    }
}

fn parse(line: &str) -> Option<Value> {
    serde_json::from_str::<Value>(line)
        .ok()
        .filter(Value::is_object)
}
