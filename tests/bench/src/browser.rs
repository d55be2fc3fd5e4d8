//! Scenario 4: the browser client. In headless Chromium, our wasm client (the npm package
//! `client-wasm/pkg`, through its JavaScript API) against MQTT.js (its browser bundle
//! `dist/mqtt.min.js`), on the same page (`tests/bench/page`), served by ws-bridge from one
//! temporary folder (page + `pkg/` + `mqtt.min.js`, same origin), through that bridge to the same
//! mosquitto TLS listener.
//!
//! Each run is one fresh page load of one client; the page publishes, counts and sets
//! `window.benchResult`, which the runner polls over WebDriver. The clients alternate within a
//! case (ours first in even runs, MQTT.js first in odd ones) so drift on the shared machine does
//! not favour one. Every run is bounded in time (the page's own deadline, then the runner's), and
//! a failure becomes the row's reason instead of a hang.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tests::bridge::{toml_for_broker, BridgeProcess};
use tests::certs::{TempDir, TestPki};
use tests::mosquitto::{Mosquitto, MosquittoOptions, PLATFORM_PASSWORD, PLATFORM_USER};
use tests::webdriver::Browser;

mod page;
use page::one_run;

/// Messages outstanding (QoS 0: published and not yet received back; QoS 1: not yet acked).
pub(crate) const WINDOW: usize = 16;

/// Where the two clients come from (`bench run --pkg DIR --mqttjs FILE`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    /// client-wasm's npm package folder, built by scripts/build-pkg.sh.
    pub pkg: Option<PathBuf>,
    /// MQTT.js's browser bundle, `dist/mqtt.min.js` of the npm-packed `mqtt@5.16.0`.
    pub mqttjs: Option<PathBuf>,
    /// Save a Chromium CPU profile of every run here (`--browser-profile DIR`; `.cpuprofile`
    /// files open in DevTools' Performance panel).
    pub profile_dir: Option<PathBuf>,
}

/// The runs of one client in one case.
#[derive(Debug, Default)]
pub(crate) struct ClientRuns {
    /// Messages (or acknowledged publishes) per second, one per successful run.
    pub rates: Vec<f64>,
    /// Why the other runs failed.
    pub errors: Vec<String>,
    /// Renderer process CPU time per completion (µs; Chromium's `ProcessTime`), per run.
    pub cpu_us: Vec<f64>,
    /// Main-thread script time per completion (µs; Chromium's `ScriptDuration`), per run. Only
    /// logged: it leaves out promise reactions (microtasks), so it undercounts a client whose
    /// work runs in `.then` callbacks.
    pub script_us: Vec<f64>,
}

/// One case, both clients.
#[derive(Debug)]
pub(crate) struct BrowserRow {
    pub case: &'static str,
    pub size: usize,
    /// Held to the targets.
    pub gated: bool,
    pub ours: ClientRuns,
    pub other: ClientRuns,
}

/// The scenario's results.
#[derive(Debug, Default)]
pub(crate) struct BrowserReport {
    /// E.g. "client-wasm 0.1.0".
    pub ours_name: String,
    /// E.g. "MQTT.js 5.16.0".
    pub other_name: String,
    /// `navigator.userAgent` of the browser used.
    pub user_agent: String,
    pub runs: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub rows: Vec<BrowserRow>,
    /// Set when the scenario could not run at all (no rows then).
    pub failed: Option<String>,
}

/// One row of the scenario.
#[derive(Debug, Clone, Copy)]
struct Case {
    label: &'static str,
    /// `qos0` or `qos1` (the page's `mode`).
    mode: &'static str,
    /// Payload bytes.
    size: usize,
    /// `false`: a persistent session (client-wasm keeps it in IndexedDB).
    clean: bool,
    /// Two tabs: a second window holds the connection first and the measured page goes through
    /// it (client-wasm's tab sharing; MQTT.js gives each tab a connection). The CPU of both
    /// tabs' renderers counts.
    shared: bool,
    /// Held to the targets (`report::browser_misses`); the others show a cost.
    gated: bool,
}

const fn case(label: &'static str, mode: &'static str, size: usize) -> Case {
    Case {
        label,
        mode,
        size,
        clean: true,
        shared: false,
        gated: true,
    }
}

const CASES: [Case; 6] = [
    case("QoS 0 round trips", "qos0", 64),
    case("QoS 0 round trips", "qos0", 1024),
    case("QoS 1 acknowledged publishes", "qos1", 64),
    case("QoS 1 acknowledged publishes", "qos1", 1024),
    Case {
        label: "QoS 1 acknowledged publishes, clean: false (ours: IndexedDB)",
        clean: false,
        gated: false,
        ..case("", "qos1", 1024)
    },
    Case {
        label: "QoS 0 round trips, two tabs (ours: one shared connection; MQTT.js: one each)",
        shared: true,
        gated: false,
        ..case("", "qos0", 64)
    },
];

/// The page's source folder.
fn page_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("page")
}

/// The package folder used when `--pkg` is not given.
pub(crate) fn default_pkg() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../client-wasm/pkg")
}

/// `version` from a package.json, if readable.
fn package_version(package_json: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_json).ok()?;
    serde_json::from_str::<Value>(&text)
        .ok()?
        .get("version")?
        .as_str()
        .map(str::to_string)
}

/// Checks the package folder; `Err` says what is missing.
fn check_pkg(pkg: Option<&Path>) -> Result<PathBuf, String> {
    let pkg = pkg.ok_or("no client-wasm package (pass --pkg client-wasm/pkg)")?;
    for file in ["client_wasm.js", "client_wasm_bg.wasm"] {
        if !pkg.join(file).is_file() {
            return Err(format!(
                "{} has no {file}: build it with `bash scripts/build-pkg.sh`",
                pkg.display()
            ));
        }
    }
    Ok(pkg.to_path_buf())
}

/// Checks the MQTT.js bundle; `Err` says what is missing.
fn check_mqttjs(bundle: Option<&Path>) -> Result<PathBuf, String> {
    let bundle = bundle.ok_or(
        "no MQTT.js bundle (pass --mqttjs DIR/dist/mqtt.min.js from `npm pack mqtt@5.16.0`; scripts/bench.sh does)",
    )?;
    if bundle.is_file() {
        Ok(bundle.to_path_buf())
    } else {
        Err(format!(
            "MQTT.js bundle {} not found (`npm pack mqtt@5.16.0` failed?)",
            bundle.display()
        ))
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The query value, percent-encoded (all but RFC 3986 unreserved bytes).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(ToString::to_string))
        .unwrap_or_else(|| "panic".into())
}

/// Runs the scenario against `broker` (its TLS listener, as the `platform` user). Never panics:
/// a setup failure (no Chromium, no bridge) comes back in [`BrowserReport::failed`].
pub(crate) fn run(broker: &Mosquitto, inputs: &Inputs, quick: bool) -> BrowserReport {
    let runs = if quick { 1 } else { 3 };
    let warmup = Duration::from_millis(if quick { 300 } else { 500 });
    let duration = Duration::from_millis(if quick { 1_000 } else { 3_000 });
    let mut report = BrowserReport {
        ours_name: "client-wasm".into(),
        other_name: "MQTT.js".into(),
        runs,
        warmup,
        duration,
        ..BrowserReport::default()
    };
    let pkg = check_pkg(inputs.pkg.as_deref());
    let mqttjs = check_mqttjs(inputs.mqttjs.as_deref());
    if let Ok(dir) = &pkg {
        if let Some(v) = package_version(&dir.join("package.json")) {
            report.ours_name = format!("client-wasm {v}");
        }
    }
    if let Ok(bundle) = &mqttjs {
        let package_json = bundle
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("package.json"));
        if let Some(v) = package_json.as_deref().and_then(package_version) {
            report.other_name = format!("MQTT.js {v}");
        }
    }
    if let (Err(a), Err(b)) = (&pkg, &mqttjs) {
        report.failed = Some(format!("{a}; {b}"));
        return report;
    }
    let toml = toml_for_broker(broker, "idle_timeout_ms = 600000");
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        measure(
            &mut report,
            &toml,
            pkg.clone(),
            mqttjs.clone(),
            inputs.profile_dir.as_deref(),
        )
    }));
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => report.failed = Some(e),
        Err(panic) => report.failed = Some(panic_text(panic.as_ref())),
    }
    report
}

/// `bench run --only browser`: its own PKI and broker, nothing else.
pub(crate) fn run_alone(inputs: &Inputs, quick: bool) -> BrowserReport {
    let pki = TestPki::generate();
    let broker = Mosquitto::start(&pki, MosquittoOptions::default());
    run(&broker, inputs, quick)
}

fn measure(
    report: &mut BrowserReport,
    broker_toml: &str,
    pkg: Result<PathBuf, String>,
    mqttjs: Result<PathBuf, String>,
    profile_dir: Option<&Path>,
) -> Result<(), String> {
    // The site: the page, ./pkg and ./mqtt.min.js in one folder served by the bridge.
    let site = TempDir::new("bench-page");
    copy_dir(&page_source(), site.path())
        .map_err(|e| format!("copy {}: {e}", page_source().display()))?;
    if let Ok(dir) = &pkg {
        copy_dir(dir, &site.path().join("pkg"))
            .map_err(|e| format!("copy {}: {e}", dir.display()))?;
    }
    if let Ok(bundle) = &mqttjs {
        std::fs::copy(bundle, site.path().join("mqtt.min.js"))
            .map_err(|e| format!("copy {}: {e}", bundle.display()))?;
    }
    // TOML: top-level keys come before the first table, so the folder goes first.
    let toml = format!(
        "static_dir = \"{}\"\n{broker_toml}",
        site.path().display().to_string().replace('\\', "\\\\")
    );
    let bridge = BridgeProcess::with_config_toml(&toml);
    let page = format!("http://{}/index.html", bridge.addr);
    let browser = Browser::start();
    // A page that does not load fails its run within a bounded time (chromedriver's default
    // page-load timeout is 300 s).
    browser.set_timeouts(Duration::from_secs(30), Duration::from_secs(30))?;

    for Case {
        label,
        mode,
        size,
        clean,
        shared,
        gated,
    } in CASES
    {
        let mut row = BrowserRow {
            case: label,
            size,
            gated,
            ours: ClientRuns::default(),
            other: ClientRuns::default(),
        };
        for run in 0..report.runs {
            let order = if run % 2 == 0 {
                ["ours", "mqttjs"]
            } else {
                ["mqttjs", "ours"]
            };
            for client in order {
                let (runs, available) = match client {
                    "ours" => (&mut row.ours, pkg.as_ref().map(|_| ())),
                    _ => (&mut row.other, mqttjs.as_ref().map(|_| ())),
                };
                if let Err(e) = available {
                    if runs.errors.is_empty() {
                        runs.errors.push(e.clone());
                    }
                    continue;
                }
                let mut query = vec![
                    ("client", client.to_string()),
                    ("mode", mode.to_string()),
                    ("size", size.to_string()),
                    ("clean", clean.to_string()),
                    ("window", WINDOW.to_string()),
                    ("warmup", report.warmup.as_millis().to_string()),
                    ("duration", report.duration.as_millis().to_string()),
                    ("url", bridge.url.clone()),
                    ("user", PLATFORM_USER.to_string()),
                    ("password", PLATFORM_PASSWORD.to_string()),
                ];
                if shared {
                    query.push(("share", format!("bench-share-{client}-{run}-{}", unique())));
                }
                let url = |extra: &[(&str, String)]| {
                    let query = query
                        .iter()
                        .chain(extra)
                        .map(|(k, v)| format!("{k}={}", encode(v)))
                        .collect::<Vec<_>>()
                        .join("&");
                    format!("{page}?{query}")
                };
                let holder = shared.then(|| url(&[("hold", "true".to_string())]));
                let limit = report.warmup + report.duration + Duration::from_secs(30);
                let session = match (clean, shared) {
                    (_, true) => "-shared",
                    (false, _) => "-persistent",
                    _ => "",
                };
                let profile = profile_dir
                    .map(|d| d.join(format!("{client}-{mode}-{size}{session}-{run}.cpuprofile")));
                match one_run(
                    &browser,
                    &url(&[]),
                    holder.as_deref(),
                    limit,
                    profile.as_deref(),
                ) {
                    Ok(r) => {
                        eprintln!(
                            "browser {client:<6} {mode} {size:>5} B: {:.0}/s, renderer CPU {:.1?} µs/msg, script {:.1?} µs/msg {}",
                            r.rate, r.cpu_us, r.script_us, r.user_agent
                        );
                        runs.rates.push(r.rate);
                        runs.cpu_us.extend(r.cpu_us);
                        runs.script_us.extend(r.script_us);
                        if report.user_agent.is_empty() {
                            report.user_agent = r.user_agent;
                        }
                    }
                    Err(e) => {
                        eprintln!("browser {client:<6} {mode} {size:>5} B: failed: {e}");
                        runs.errors.push(e);
                    }
                }
            }
        }
        report.rows.push(row);
    }
    drop(browser);
    drop(bridge);
    Ok(())
}

/// A number no other run of this process has had (names a shared connection).
fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
