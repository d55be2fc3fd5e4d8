//! Sets up the paths and runs each scenario, bounded in time.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqttws::{ConnectTo, Connector, TlsOptions};
use tests::bridge::{toml_for_broker, BridgeProcess};
use tests::certs::TestPki;
use tests::mosquitto::{supports_websockets, Mosquitto, MosquittoOptions};
use tests::procs::{free_port, loopback, rss_kib, wait_for_port, ChildGuard};

use crate::load::{self, Target, Totals};
use crate::report::{IdleRow, LatencyRow, Report, ThroughputRow};

pub const SESSIONS: [usize; 3] = [1, 10, 100];
pub const SIZES: [usize; 3] = [64, 1024, 16 * 1024];
const WINDOW: usize = 8;

/// Everything the paths need, kept alive for the run.
struct Paths {
    _pki: TestPki,
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
        let websockify = ChildGuard::spawn(
            "websockify",
            Command::new("websockify")
                .arg("--ssl-target")
                .arg(format!("127.0.0.1:{websockify_port}"))
                .arg(broker.tls_addr().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(loopback(websockify_port), Duration::from_secs(10));
        Paths {
            _pki: pki,
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
                connector: connector(
                    &format!("mqtts://broker.test:{tls_port}"),
                    Some(ca),
                    Some(direct_to),
                    true,
                ),
            },
            Target {
                name: "ws-bridge",
                connector: connector(&self.bridge.url, None, None, true),
            },
            Target {
                name: "websockify",
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
                connector: connector(&format!("ws://{ws}/mqtt"), None, None, true),
            });
        }
        targets
    }
}

async fn throughput(
    target: &Target,
    sessions: usize,
    size: usize,
    duration: Duration,
) -> (f64, f64, u64) {
    let totals = Arc::new(Totals::default());
    let start = Instant::now();
    let from = start + Duration::from_millis(500);
    let until = from + duration;
    let mut tasks = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let id = format!(
            "tp-{}-{i}-{}",
            target.name.replace(' ', "-"),
            start.elapsed().as_nanos()
        );
        tasks.push(tokio::spawn(load::round_trip_session(
            target.clone(),
            id,
            size,
            WINDOW,
            from,
            until,
            totals.clone(),
        )));
    }
    for task in tasks {
        let _ = task.await;
    }
    let secs = duration.as_secs_f64();
    let messages = totals.messages.load(std::sync::atomic::Ordering::Relaxed) as f64 / secs;
    let mbytes = totals.bytes.load(std::sync::atomic::Ordering::Relaxed) as f64 / secs / 1e6;
    (
        messages,
        mbytes,
        totals.failures.load(std::sync::atomic::Ordering::Relaxed),
    )
}

/// `bench run --only throughput|latency|idle`: one scenario on a subset of paths, printed (no
/// report).
/// Flags: `--sessions N`, `--size B`, `--paths ws-bridge,direct-TLS,...` (names with `-` for
/// spaces), `--runs N` (interleaved across paths, so noise hits every path alike), `--secs S`,
/// `--samples N` (latency), `--count N` (idle sessions).
pub async fn run_only(args: &[String]) {
    let value = |flag: &str| {
        let i = args.iter().position(|a| a == flag)?;
        args.get(i + 1).cloned()
    };
    let num =
        |flag: &str, default: usize| value(flag).and_then(|v| v.parse().ok()).unwrap_or(default);
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
    match value("--only").as_deref() {
        Some("latency") => {
            for target in &targets {
                let mut l = load::latency_samples(
                    target.clone(),
                    num("--samples", 5_000),
                    Duration::from_secs(60),
                )
                .await;
                l.sort();
                let at = |p: f64| {
                    let i = ((l.len().saturating_sub(1)) as f64 * p).round() as usize;
                    l.get(i).map_or(0, |d| d.as_micros())
                };
                println!(
                    "latency {:<22} {} samples: p50 {} us, p99 {} us",
                    target.name,
                    l.len(),
                    at(0.5),
                    at(0.99)
                );
            }
        }
        Some("idle") => {
            let pid = paths.bridge.child.pid();
            let row = idle_rss(
                "ws-bridge",
                &paths.bridge.url,
                true,
                num("--count", 5_000),
                &|| rss_kib(pid).unwrap_or(0),
            );
            let per = row.rss_with_kib.saturating_sub(row.rss_before_kib) as f64
                / row.sessions.max(1) as f64;
            println!(
                "idle ws-bridge: {} sessions, {per:.1} KiB per session",
                row.sessions
            );
        }
        Some("throughput") => {
            let (sessions, size) = (num("--sessions", 10), num("--size", 1024));
            let duration = Duration::from_secs(num("--secs", 3) as u64);
            let mut rates: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
            for _ in 0..num("--runs", 3) {
                for (target, r) in targets.iter().zip(&mut rates) {
                    r.push(throughput(target, sessions, size, duration).await.0);
                }
            }
            let median = |r: &mut Vec<f64>| {
                r.sort_by(f64::total_cmp);
                r.get(r.len() / 2).copied().unwrap_or(0.0)
            };
            let medians: Vec<(&str, f64)> = targets
                .iter()
                .zip(&mut rates)
                .map(|(t, r)| (t.name, median(r)))
                .collect();
            for ((name, m), r) in medians.iter().zip(&rates) {
                println!("{name:<22} {sessions} sessions {size} B: median {m:.0} msg/s {r:.0?}");
            }
            let of = |n: &str| medians.iter().find(|(name, _)| *name == n).map(|x| x.1);
            if let Some(bridge) = of("ws-bridge") {
                for other in ["direct TLS", "websockify"] {
                    if let Some(o) = of(other).filter(|o| *o > 0.0) {
                        println!("ws-bridge / {other}: {:.2}x", bridge / o);
                    }
                }
            }
        }
        other => eprintln!("bench: --only throughput|latency|idle, not {other:?}"),
    }
}

pub async fn run_all(quick: bool, browser: &crate::browser::Inputs) -> Report {
    let paths = Paths::start();
    let targets = paths.targets();
    let runs = if quick { 1 } else { 3 };
    let duration = Duration::from_secs(if quick { 1 } else { 3 });
    let mut report = Report::default();

    for target in &targets {
        for sessions in SESSIONS {
            for size in SIZES {
                let mut rates = Vec::new();
                let mut failures = 0;
                for _ in 0..runs {
                    let (msgs, mb, failed) = throughput(target, sessions, size, duration).await;
                    rates.push((msgs, mb));
                    failures += failed;
                }
                eprintln!(
                    "throughput {:<22} {sessions:>3} sessions {size:>6} B: {:?}",
                    target.name, rates
                );
                report.throughput.push(ThroughputRow {
                    path: target.name,
                    sessions,
                    size,
                    rates,
                    failures,
                });
            }
        }
    }

    let samples = if quick { 1_000 } else { 10_000 };
    for target in &targets {
        let mut latencies =
            load::latency_samples(target.clone(), samples, Duration::from_secs(60)).await;
        latencies.sort();
        eprintln!("latency {:<22} {} samples", target.name, latencies.len());
        report.latency.push(LatencyRow {
            path: target.name,
            samples: latencies,
        });
    }

    let idle = if quick { 500 } else { 5_000 };
    let bridge_pid = paths.bridge.child.pid();
    report.idle.push(idle_rss(
        "ws-bridge",
        &paths.bridge.url,
        true,
        idle,
        &|| rss_kib(bridge_pid).unwrap_or(0),
    ));
    let websockify_pid = paths.websockify.pid();
    let websockify_url = format!("ws://127.0.0.1:{}/", paths.websockify_port);
    report.idle.push(idle_rss(
        "websockify",
        &websockify_url,
        false,
        idle.min(300),
        &|| tree_pss_kib(websockify_pid),
    ));

    // Scenario 4: the browser client (blocking WebDriver calls; the paths stay up meanwhile).
    report.browser = Some(tokio::task::block_in_place(|| {
        crate::browser::run(&paths.broker, browser, quick)
    }));
    report
}

/// Memory of `count` idle sessions: RSS before, and with them held by a separate process.
fn idle_rss(
    name: &'static str,
    url: &str,
    subprotocol: bool,
    count: usize,
    rss: &dyn Fn() -> u64,
) -> IdleRow {
    let before = rss();
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current exe: {e}"));
    let mut cmd = Command::new(exe);
    cmd.args(["idle", "--url", url, "--count", &count.to_string()]);
    if !subprotocol {
        cmd.arg("--no-subprotocol");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("idle client: {e}"));
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        use std::io::BufRead;
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
    }
    let connected: usize = line
        .trim()
        .strip_prefix("connected ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    std::thread::sleep(Duration::from_secs(2));
    let with = rss();
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("idle {name}: {connected} sessions, RSS {before} KiB -> {with} KiB");
    IdleRow {
        path: name,
        sessions: connected,
        rss_before_kib: before,
        rss_with_kib: with,
    }
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

/// The `bench idle` process: opens the sessions, prints `connected N`, holds until stdin closes.
pub async fn idle_client(url: &str, count: usize, no_subprotocol: bool) {
    let target = Target {
        name: "idle",
        connector: connector(url, None, None, !no_subprotocol),
    };
    let connected = load::hold_idle_sessions(target, count).await;
    println!("connected {connected}");
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        let _ = std::io::stdin().read_line(&mut sink);
    })
    .await;
}
