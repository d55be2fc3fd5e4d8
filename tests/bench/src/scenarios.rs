//! Sets up the paths and runs each scenario, bounded in time.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqttws::{ConnectTo, Connector, TlsOptions};
use tests::bridge::{toml_for_broker, BridgeProcess};
use tests::certs::{TempDir, TestPki};
use tests::mosquitto::{supports_websockets, Mosquitto, MosquittoOptions};
use tests::procs::{free_port, loopback, rss_kib, wait_for_port, ChildGuard};

use crate::cpu;
use crate::figures::{Figures, LatencyRow, ThroughputRow, SESSIONS, SIZES};
use crate::holder::Plan;
use crate::idle::{self, IdleRun, Layout, Pids, ScaleRig};
use crate::load::{self, Target, Totals};
use crate::report::Report;

const WINDOW: usize = 8;
/// Time every session of a throughput run gets to connect and subscribe.
const SETUP: Duration = Duration::from_secs(15);
/// From the schedule to the start of the measurement: the windows fill.
const WARMUP: Duration = Duration::from_millis(500);
/// Idle sessions on the bridge tier (the `--quick` run: 2,000).
pub(crate) const SCALE_SESSIONS: usize = 50_000;
/// websockify forks a Python process (about 6 MiB) per connection: a few hundred show its cost.
const WEBSOCKIFY_IDLE: usize = 300;
/// Time allowed to open the idle sessions.
const IDLE_ALLOWANCE: Duration = Duration::from_secs(300);

/// OpenSSL configuration for websockify's process: its upstream TLS capped at 1.2.
///
/// websockify 0.10 (Debian's) reads its TLS target with a blocking `recv` whenever `select`
/// says the socket is readable. With TLS 1.3 the broker sends its session tickets right after
/// the handshake; when they arrive together with the client's CONNECT, websockify queues the
/// CONNECT, then blocks in `recv` on the tickets waiting for application data that only its
/// queued CONNECT would bring: no CONNACK, until mosquitto drops the connection 30 s later
/// (seen with strace: `read(target)` blocked, CONNECT still queued). That was half of its
/// connections here, and the "0 msg/s at 1 session" rows. TLS 1.2 sends nothing after the
/// handshake, so websockify is measured over TLS 1.2 (same AES-GCM records; the handshake is
/// not in the measurement).
const WEBSOCKIFY_OPENSSL_CONF: &str = "openssl_conf = bench_init\n\
    [bench_init]\nssl_conf = bench_ssl\n\
    [bench_ssl]\nsystem_default = bench_tls\n\
    [bench_tls]\nMaxProtocol = TLSv1.2\n";

/// Everything the paths need, kept alive for the run.
struct Paths {
    _pki: TestPki,
    _websockify_dir: TempDir,
    broker: Mosquitto,
    bridge: BridgeProcess,
    websockify: ChildGuard,
    websockify_port: u16,
}

fn connector(
    url: &str,
    ca: Option<&std::path::Path>,
    connect_to: Option<ConnectTo>,
    subprotocol: bool,
) -> Connector {
    let tls = TlsOptions {
        ca_file: ca.map(Into::into),
        ..TlsOptions::default()
    };
    let url = url
        .parse()
        .unwrap_or_else(|e| panic!("bench url {url}: {e:?}"));
    let connector =
        Connector::new(url, &tls, connect_to).unwrap_or_else(|e| panic!("connector: {e}"));
    if subprotocol {
        connector
    } else {
        connector.without_subprotocol()
    }
}

impl Paths {
    fn start() -> Paths {
        let pki = TestPki::generate();
        let broker = Mosquitto::start(
            &pki,
            MosquittoOptions {
                websockets: true,
                ..MosquittoOptions::default()
            },
        );
        let limits =
            "max_connections = 20000\nmax_connections_per_ip = 20000\nidle_timeout_ms = 600000";
        let bridge = BridgeProcess::with_config_toml(&toml_for_broker(&broker, limits));
        let websockify_port = free_port();
        let websockify_dir = TempDir::new("bench-websockify");
        let openssl_conf = websockify_dir.path().join("openssl.cnf");
        std::fs::write(&openssl_conf, WEBSOCKIFY_OPENSSL_CONF)
            .unwrap_or_else(|e| panic!("write {}: {e}", openssl_conf.display()));
        let websockify = ChildGuard::spawn(
            "websockify",
            Command::new("websockify")
                .env("OPENSSL_CONF", &openssl_conf)
                .arg("--ssl-target")
                .arg(format!("127.0.0.1:{websockify_port}"))
                .arg(broker.tls_addr().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(loopback(websockify_port), Duration::from_secs(10));
        Paths {
            _pki: pki,
            _websockify_dir: websockify_dir,
            broker,
            bridge,
            websockify,
            websockify_port,
        }
    }

    fn targets(&self) -> Vec<Target> {
        let ca = self.broker.ca_path();
        let tls_port = self.broker.tls_addr().port();
        let direct_to = ConnectTo {
            host: "127.0.0.1".into(),
            port: tls_port,
        };
        let mut targets = vec![
            Target {
                name: "direct TLS",
                relay_pid: None,
                connector: connector(
                    &format!("mqtts://broker.test:{tls_port}"),
                    Some(ca),
                    Some(direct_to),
                    true,
                ),
            },
            Target {
                name: "ws-bridge",
                relay_pid: Some(self.bridge.child.pid()),
                connector: connector(&self.bridge.url, None, None, true),
            },
            Target {
                name: "websockify",
                relay_pid: Some(self.websockify.pid()),
                connector: connector(
                    &format!("ws://127.0.0.1:{}/", self.websockify_port),
                    None,
                    None,
                    false,
                ),
            },
        ];
        if let Some(ws) = self.broker.ws_addr().filter(|_| supports_websockets()) {
            targets.push(Target {
                name: "mosquitto websockets",
                relay_pid: None,
                connector: connector(&format!("ws://{ws}/mqtt"), None, None, true),
            });
        }
        targets
    }
}

/// One throughput run: `sessions` sessions connect and subscribe, then all measure together
/// for `duration`. Any failed session fails the run, with its reason.
async fn throughput(
    target: &Target,
    broker_pid: u32,
    sessions: usize,
    size: usize,
    duration: Duration,
) -> Result<Figures, String> {
    let totals = Arc::new(Totals::default());
    let ready = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let setup_by = start + SETUP;
    let mut tasks = Vec::with_capacity(sessions);
    let mut schedules = Vec::with_capacity(sessions);
    for i in 0..sessions {
        // Unique per run: a session taking over a previous run's client id would be a failure
        // of the bench, not of the path.
        let id = format!(
            "tp-{}-{i}-{}",
            target.name.replace(' ', "-"),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        schedules.push(tx);
        tasks.push(tokio::spawn(load::round_trip_session(
            target.clone(),
            id,
            size,
            WINDOW,
            rx,
            setup_by,
            ready.clone(),
            totals.clone(),
        )));
    }
    while (ready.load(Ordering::Relaxed) as usize) + totals.failed().0 < sessions
        && Instant::now() < setup_by
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let from = Instant::now() + WARMUP;
    let until = from + duration;
    for tx in &schedules {
        let _ = tx.send((from, until));
    }
    let sample = || {
        (
            target.relay_pid.and_then(cpu::tree_cpu),
            cpu::tree_cpu(broker_pid),
        )
    };
    tokio::time::sleep_until(from.into()).await;
    let before = sample();
    tokio::time::sleep_until(until.into()).await;
    let after = sample();
    for task in tasks {
        if let Err(e) = task.await {
            if let Ok(mut f) = totals.failures.lock() {
                f.push(format!("session task: {e}"));
            }
        }
    }
    drop(schedules);
    let messages = totals.messages.load(Ordering::Relaxed);
    let (failed, first) = totals.failed();
    if failed > 0 {
        return Err(format!(
            "{failed} of {sessions} sessions failed: {}",
            first.unwrap_or_default()
        ));
    }
    if messages == 0 {
        return Err("0 messages measured".into());
    }
    let secs = until.duration_since(from).as_secs_f64();
    let relay_us = cpu::per_message_us(before.0.as_ref(), after.0.as_ref(), messages);
    match relay_us {
        None if target.relay_pid.is_some() => {
            return Err("the relay's CPU time could not be read (process gone?)".into());
        }
        // A relay cannot carry messages for free: a zero is a sampling fault, not a figure.
        Some(us) if us <= 0.0 => {
            let text = |s: &Option<cpu::Sample>| s.as_ref().map_or("-".into(), ToString::to_string);
            return Err(format!(
                "the relay's CPU time did not move during the measurement ({} -> {})",
                text(&before.0),
                text(&after.0)
            ));
        }
        _ => {}
    }
    Ok(Figures {
        messages_per_s: messages as f64 / secs,
        mbytes_per_s: totals.bytes.load(Ordering::Relaxed) as f64 / secs / 1e6,
        relay_us,
        broker_us: cpu::per_message_us(before.1.as_ref(), after.1.as_ref(), messages),
    })
}

/// Latency runs, one per round, each a failure or sorted samples.
async fn latency(target: &Target, samples: usize) -> Result<Vec<Duration>, String> {
    let mut l = load::latency_samples(target.clone(), samples, Duration::from_secs(60)).await?;
    l.sort();
    Ok(l)
}

/// `bench run --only throughput|latency|idle`: one scenario on a subset of paths, printed (no
/// report).
/// Flags: `--sessions N`, `--size B`, `--paths ws-bridge,direct-TLS,...` (names with `-` for
/// spaces), `--runs N` (alternating across paths, so noise hits every path alike), `--secs S`,
/// `--samples N` (latency), `--count N` and `--sources N` (idle sessions on the scale rig).
pub(crate) async fn run_only(args: &[String]) -> bool {
    let value = |flag: &str| {
        let i = args.iter().position(|a| a == flag)?;
        args.get(i + 1).cloned()
    };
    let num =
        |flag: &str, default: usize| value(flag).and_then(|v| v.parse().ok()).unwrap_or(default);
    if value("--only").as_deref() == Some("idle") {
        let count = num("--count", 5_000);
        let mut layout = Layout::for_count(count, open_files());
        // `--bridges 1`: all on one bridge, past its open-file limit if asked (to see it stop).
        if let Some(bridges) = value("--bridges").and_then(|b| b.parse().ok()) {
            layout.bridges = bridges;
        }
        layout.sources = num("--sources", layout.sources);
        layout.holders = num("--holders", layout.holders);
        let allowance =
            Duration::from_secs(num("--allowance", IDLE_ALLOWANCE.as_secs() as usize) as u64);
        let run = tokio::task::block_in_place(|| scale(count, layout, allowance));
        println!("{}", crate::report::idle_summary(&run));
        return run.failed.is_none();
    }
    let paths = Paths::start();
    let wanted = value("--paths");
    let targets: Vec<Target> = paths
        .targets()
        .into_iter()
        .filter(|t| {
            wanted
                .as_ref()
                .is_none_or(|w| w.split(',').any(|n| n == t.name.replace(' ', "-")))
        })
        .collect();
    let broker = paths.broker.pid();
    let mut ok = true;
    match value("--only").as_deref() {
        Some("latency") => {
            for target in &targets {
                match latency(target, num("--samples", 5_000)).await {
                    Ok(l) => {
                        let at = |p: f64| {
                            let i = ((l.len().saturating_sub(1)) as f64 * p).round() as usize;
                            l.get(i).map_or(0, Duration::as_micros)
                        };
                        println!(
                            "latency {:<22} {} samples: p50 {} us, p99 {} us",
                            target.name,
                            l.len(),
                            at(0.5),
                            at(0.99)
                        );
                    }
                    Err(why) => {
                        ok = false;
                        println!("latency {:<22} FAILED: {why}", target.name);
                    }
                }
            }
        }
        Some("throughput") => {
            let (sessions, size) = (num("--sessions", 10), num("--size", 1024));
            let duration = Duration::from_secs(num("--secs", 2) as u64);
            let mut rows: Vec<ThroughputRow> = targets
                .iter()
                .map(|t| ThroughputRow::new(t.name, sessions, size))
                .collect();
            for round in 0..num("--runs", 3) {
                for (target, row) in targets.iter().zip(&mut rows) {
                    let run = throughput(target, broker, sessions, size, duration).await;
                    print_run(target.name, sessions, size, round, &run);
                    row.runs.push(run);
                }
            }
            for row in &rows {
                println!("{}", crate::report::throughput_summary(row));
                ok &= row.failures().is_empty();
            }
        }
        other => {
            eprintln!("bench: --only throughput|latency|idle|browser, not {other:?}");
            ok = false;
        }
    }
    ok
}

fn print_run(
    name: &str,
    sessions: usize,
    size: usize,
    round: usize,
    run: &Result<Figures, String>,
) {
    match run {
        Ok(f) => eprintln!(
            "throughput {name:<22} {sessions:>3} sessions {size:>6} B round {round}: {:.0} msg/s, relay {} µs/msg, broker {} µs/msg",
            f.messages_per_s,
            f.relay_us.map_or("-".into(), |u| format!("{u:.1}")),
            f.broker_us.map_or("-".into(), |u| format!("{u:.1}")),
        ),
        Err(why) => eprintln!(
            "throughput {name:<22} {sessions:>3} sessions {size:>6} B round {round}: FAILED: {why}"
        ),
    }
}

/// The open-file limit this process (and so every process it starts) runs with.
fn open_files() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |l| l.0)
}

/// `count` idle sessions on the scale rig laid out as `layout`.
fn scale(count: usize, layout: Layout, allowance: Duration) -> IdleRun {
    let rig = match ScaleRig::start(layout) {
        Ok(rig) => rig,
        Err(why) => {
            return IdleRun {
                relay: "ws-bridge",
                requested: count,
                failed: Some(why),
                ..IdleRun::default()
            }
        }
    };
    let plan = Plan {
        urls: rig.urls.clone(),
        count,
        first: 0,
        sources: layout.sources,
        subprotocol: true,
        allowance,
    };
    let pids = Pids {
        relays: rig.bridges.iter().map(|b| b.child.pid()).collect(),
        brokers: rig.brokers.iter().map(ChildGuard::pid).collect(),
    };
    let relays = pids.relays.clone();
    idle::measure("ws-bridge", &plan, layout.holders, &pids, &|| {
        relays.iter().map(|p| rss_kib(*p).unwrap_or(0)).sum()
    })
}

pub(crate) async fn run_all(quick: bool, browser: &crate::browser::Inputs) -> Report {
    let paths = Paths::start();
    let targets = paths.targets();
    let broker = paths.broker.pid();
    let rounds = if quick { 2 } else { 5 };
    let duration = Duration::from_secs(if quick { 1 } else { 2 });
    let mut report = Report {
        rounds,
        duration,
        ..Report::default()
    };
    for sessions in SESSIONS {
        for size in SIZES {
            for target in &targets {
                report
                    .throughput
                    .push(ThroughputRow::new(target.name, sessions, size));
            }
        }
    }
    // Alternating: every round runs every case on every path in turn, so a slow moment of the
    // shared machine hits all paths alike; the report takes medians over the rounds.
    for round in 0..rounds {
        for sessions in SESSIONS {
            for size in SIZES {
                for target in &targets {
                    let run = throughput(target, broker, sessions, size, duration).await;
                    print_run(target.name, sessions, size, round, &run);
                    if let Some(row) = report
                        .throughput
                        .iter_mut()
                        .find(|r| r.path == target.name && r.sessions == sessions && r.size == size)
                    {
                        row.runs.push(run);
                    }
                }
            }
        }
    }

    let samples = if quick { 500 } else { 2_000 };
    for target in &targets {
        report.latency.push(LatencyRow {
            path: target.name,
            runs: Vec::new(),
        });
    }
    for round in 0..rounds {
        for (target, row) in targets.iter().zip(&mut report.latency) {
            let run = latency(target, samples).await;
            match &run {
                Ok(l) => eprintln!(
                    "latency {:<22} round {round}: {} samples",
                    target.name,
                    l.len()
                ),
                Err(why) => eprintln!("latency {:<22} round {round}: FAILED: {why}", target.name),
            }
            row.runs.push(run);
        }
    }

    // One bridge as far as its open-file limit lets it go; then, if that is short of 50,000,
    // 50,000 on as few bridges as the limit allows.
    let want = if quick { 2_000 } else { SCALE_SESSIONS };
    let nofile = open_files();
    let one = want.min(Layout::bridge_capacity(nofile) / 1000 * 1000);
    let mut layout = Layout::for_count(one, nofile);
    layout.bridges = 1;
    report.idle.push(tokio::task::block_in_place(|| {
        scale(one, layout, IDLE_ALLOWANCE)
    }));
    if one < want {
        let layout = Layout::for_count(want, nofile);
        report.idle.push(tokio::task::block_in_place(|| {
            scale(want, layout, IDLE_ALLOWANCE)
        }));
    }
    let websockify_pid = paths.websockify.pid();
    let plan = Plan {
        urls: vec![format!("ws://127.0.0.1:{}/", paths.websockify_port)],
        count: if quick { 100 } else { WEBSOCKIFY_IDLE },
        first: 0,
        sources: 1,
        subprotocol: false,
        allowance: IDLE_ALLOWANCE,
    };
    let pids = Pids {
        relays: vec![websockify_pid],
        brokers: Vec::new(),
    };
    report.idle.push(tokio::task::block_in_place(|| {
        idle::measure("websockify", &plan, 1, &pids, &|| {
            tree_pss_kib(websockify_pid)
        })
    }));

    // Scenario 4: the browser client (blocking WebDriver calls; the paths stay up meanwhile).
    report.browser = Some(tokio::task::block_in_place(|| {
        crate::browser::run(&paths.broker, browser, quick)
    }));
    report
}

/// Proportional set size (KiB) of a process and its children: websockify forks one process per
/// connection, and summing their RSS would count the pages they share once per child.
fn tree_pss_kib(root: u32) -> u64 {
    let pss = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("Pss:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    };
    let mut total = pss(root);
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(root) {
                total += pss(pid);
            }
        }
    }
    total
}
