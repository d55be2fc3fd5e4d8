//! Idle sessions at scale: how many real sessions one bridge holds, what each costs, how fast
//! they open, and which limit of the machine comes first.
//!
//! The scale rig is its own: a mosquitto with several TLS listeners (each listener is another
//! destination for the bridge's upstream connections, whose ephemeral ports run out near
//! 28,000 per destination) and one bridge with one route per listener. The sessions are held by
//! a separate process (`bench idle`, see `holder.rs`) from several loopback source addresses.

use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::bridge::BridgeProcess;
use tests::certs::{TempDir, TestPki};
use tests::mosquitto::{BROKER_NAME, MOSQUITTO};
use tests::procs::{free_port, loopback, rss_kib, try_wait_for_port, ChildGuard};

use crate::holder::Plan;

/// Sessions per loopback source address: under the ~28,000 ports of `ip_local_port_range`,
/// with room for the bridge's own connects (which skip ports bound explicitly).
pub(crate) const PER_SOURCE: usize = 12_500;
/// Sessions per broker listener (per upstream destination of the bridges).
pub(crate) const PER_LISTENER: usize = 12_500;
/// Descriptors a process keeps besides its sessions' (listeners, logs, epoll, a margin).
const FD_MARGIN: u64 = 500;

/// How the sessions are spread over processes, each within its open-file limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub bridges: usize,
    pub brokers: usize,
    pub listeners_per_broker: usize,
    pub holders: usize,
    pub sources: usize,
}

impl Layout {
    /// The fewest processes that hold `count` sessions under `nofile` descriptors each: a
    /// bridge needs two per session (browser side and broker side), mosquitto and the holder
    /// one.
    pub(crate) fn for_count(count: usize, nofile: u64) -> Layout {
        let room = nofile.saturating_sub(FD_MARGIN).max(2) as usize;
        let bridges = count.div_ceil(room / 2).max(1);
        let brokers = count.div_ceil(room).max(1);
        let listeners = count.div_ceil(PER_LISTENER).max(brokers);
        Layout {
            bridges,
            brokers,
            listeners_per_broker: listeners.div_ceil(brokers),
            holders: count.div_ceil(room).max(1),
            sources: count.div_ceil(PER_SOURCE).max(1),
        }
    }

    /// Sessions one bridge process can hold under `nofile`.
    pub(crate) fn bridge_capacity(nofile: u64) -> usize {
        (nofile.saturating_sub(FD_MARGIN) / 2) as usize
    }
}

/// Brokers with TLS listeners and bridges each with a route to every listener.
pub(crate) struct ScaleRig {
    _pki: TestPki,
    _dirs: Vec<TempDir>,
    pub brokers: Vec<ChildGuard>,
    pub bridges: Vec<BridgeProcess>,
    /// Every (bridge, route) URL.
    pub urls: Vec<String>,
}

/// Starts one mosquitto with `ports.len()` TLS listeners.
fn start_broker(pki: &TestPki, dir: &Path, ports: &[u16]) -> Result<ChildGuard, String> {
    let (broker_files, ca) = (pki.broker(), pki.ca());
    // Anonymous, no persistence, no per-connection log lines: 50,000 of them would only cost
    // the broker CPU while the sessions open.
    let mut conf = format!(
        "user root\nallow_anonymous true\npersistence false\nconnection_messages false\n\
         log_dest file {}\nlog_type error\nlog_type warning\nmax_connections -1\n",
        dir.join("mosquitto.log").display()
    );
    for port in ports {
        conf.push_str(&format!(
            "\nlistener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n",
            ca.display(),
            broker_files.cert.display(),
            broker_files.key.display()
        ));
    }
    let conf_path = dir.join("mosquitto.conf");
    std::fs::write(&conf_path, conf).map_err(|e| format!("mosquitto.conf: {e}"))?;
    let broker = ChildGuard::spawn(
        "mosquitto (scale)",
        Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    for port in ports {
        if !try_wait_for_port(loopback(*port), Duration::from_secs(10)) {
            return Err(format!(
                "mosquitto did not open port {port}: {}",
                std::fs::read_to_string(dir.join("mosquitto.log")).unwrap_or_default()
            ));
        }
    }
    Ok(broker)
}

impl ScaleRig {
    pub(crate) fn start(layout: Layout) -> Result<ScaleRig, String> {
        let pki = TestPki::generate();
        let ca = pki.ca();
        let mut dirs = Vec::new();
        let mut brokers = Vec::new();
        let mut all_ports = Vec::new();
        for _ in 0..layout.brokers {
            let dir = TempDir::new("bench-scale");
            let ports: Vec<u16> = (0..layout.listeners_per_broker.max(1))
                .map(|_| free_port())
                .collect();
            brokers.push(start_broker(&pki, dir.path(), &ports)?);
            all_ports.extend(ports);
            dirs.push(dir);
        }
        let mut toml = String::from(
            "listen = \"127.0.0.1:0\"\n[limits]\nmax_connections = 1000000\n\
             max_connections_per_ip = 1000000\nidle_timeout_ms = 3600000\n",
        );
        for (i, port) in all_ports.iter().enumerate() {
            toml.push_str(&format!(
                "[routes.s{i}]\nhost = \"127.0.0.1\"\nport = {port}\nsni = \"{BROKER_NAME}\"\nca_file = \"{}\"\n",
                ca.display()
            ));
        }
        let bridges: Vec<BridgeProcess> = (0..layout.bridges)
            .map(|_| BridgeProcess::with_config_toml(&toml))
            .collect();
        // Route-major, then bridge: consecutive sessions go to different bridges and brokers.
        let mut urls = Vec::new();
        for i in 0..all_ports.len() {
            for bridge in &bridges {
                urls.push(format!("{}/s{i}", bridge.url.trim_end_matches('/')));
            }
        }
        Ok(ScaleRig {
            _pki: pki,
            _dirs: dirs,
            brokers,
            bridges,
            urls,
        })
    }
}

/// Memory of what is measured, in KiB.
pub(crate) type Measure<'a> = &'a dyn Fn() -> u64;

/// One idle-sessions run: what was asked, what held, what it cost.
#[derive(Debug, Default, Clone)]
pub(crate) struct IdleRun {
    pub relay: &'static str,
    pub requested: usize,
    /// Sessions that got their CONNACK.
    pub connected: usize,
    /// Sessions still open when the memory was read.
    pub alive: usize,
    /// From the first connect to the last CONNACK.
    pub connect_time: Duration,
    /// Most CONNACKs in one second.
    pub peak_rate: f64,
    pub relay_before_kib: u64,
    pub relay_with_kib: u64,
    /// The broker's, the holder's and the kernel's TCP memory, with the sessions minus before
    /// (KiB; 0 when not measured).
    pub broker_delta_kib: u64,
    pub holder_kib: u64,
    pub kernel_tcp_delta_kib: u64,
    /// The relay's open files, before and with the sessions.
    pub relay_fds: (usize, usize),
    /// Failed attempts (retried) and sessions closed after their CONNACK, by reason.
    pub failures: Vec<(u64, String)>,
    pub lost: Vec<(u64, String)>,
    /// Where this machine stops, sorted (first = the binding limit): (sessions, what, why).
    pub ceilings: Vec<(u64, String)>,
    pub sources: usize,
    pub listeners: usize,
    /// Relay processes sharing the sessions (1: one bridge holds them all).
    pub relays: usize,
    /// Broker processes and holder processes.
    pub brokers: usize,
    pub holders: usize,
    /// The open-file limit every process ran with.
    pub nofile: u64,
    /// Entries in the kernel's connection tracking table with the sessions open (`None`: no
    /// conntrack module).
    pub conntrack: Option<u64>,
    /// Set when not every requested session was open when measured.
    pub failed: Option<String>,
}

impl IdleRun {
    pub(crate) fn per_session_kib(&self) -> f64 {
        self.relay_with_kib.saturating_sub(self.relay_before_kib) as f64 / self.alive.max(1) as f64
    }

    pub(crate) fn connect_rate(&self) -> f64 {
        self.connected as f64 / self.connect_time.as_secs_f64().max(1e-3)
    }
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// The soft open-file limit of a process, from `/proc/<pid>/limits`.
fn nofile(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Kernel TCP socket buffer memory in KiB (`/proc/net/sockstat`, `TCP: ... mem <pages>`).
fn kernel_tcp_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let i = f.iter().position(|w| *w == "mem")?;
            f.get(i + 1)?.parse::<u64>().ok()
        })
        .map_or(0, |pages| pages * 4)
}

fn mem_available_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Ephemeral ports available to one (source, destination) pair.
fn port_range() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| {
            let mut it = t.split_whitespace().filter_map(|n| n.parse::<u64>().ok());
            Some(it.next_back()? - it.next()? + 1)
        })
        .unwrap_or(28_232)
}

/// The processes whose memory and descriptors are read.
pub(crate) struct Pids {
    pub relays: Vec<u32>,
    pub brokers: Vec<u32>,
}

fn sum(pids: &[u32], f: impl Fn(u32) -> u64) -> u64 {
    pids.iter().map(|p| f(*p)).sum()
}

/// One started holder process and its output.
struct Holder {
    guard: ChildGuard,
    stdin: std::process::ChildStdin,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Holder {
    fn spawn(plan: &Plan, first: usize, count: usize) -> Result<Holder, String> {
        let exe = std::env::current_exe().map_err(|e| format!("the bench executable: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(["idle", "--urls", &plan.urls.join(",")])
            .args(["--count", &count.to_string()])
            .args(["--first", &first.to_string()])
            .args(["--sources", &plan.sources.to_string()])
            .args(["--allowance", &plan.allowance.as_secs().to_string()]);
        if !plan.subprotocol {
            cmd.arg("--no-subprotocol");
        }
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a holder: {e}"))?;
        let mut guard = ChildGuard::from_child("bench idle", child);
        let (stdin, stdout) = guard
            .child_mut()
            .and_then(|c| Some((c.stdin.take()?, c.stdout.take()?)))
            .ok_or("a holder's pipes are missing")?;
        Ok(Holder {
            guard,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// Lines up to the next `end`, split into (tag, number, rest).
    fn block(&mut self) -> Vec<(String, u64, String)> {
        let mut out = Vec::new();
        for line in self.lines.by_ref() {
            let Ok(line) = line else { break };
            if line == "end" {
                break;
            }
            if line.starts_with("progress") {
                eprintln!("idle holder {}: {line}", self.guard.pid());
            }
            let mut words = line.splitn(3, ' ');
            let tag = words.next().unwrap_or("").to_string();
            let n = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            out.push((tag, n, words.next().unwrap_or("").to_string()));
        }
        out
    }
}

/// Runs holders with `plan` against the relays and measures. `relay_memory` reads the relays'
/// memory in KiB (RSS for bridges; websockify's process tree PSS).
pub(crate) fn measure(
    relay: &'static str,
    plan: &Plan,
    holders: usize,
    pids: &Pids,
    relay_memory: Measure,
) -> IdleRun {
    let mut run = IdleRun {
        relay,
        requested: plan.count,
        sources: plan.sources,
        listeners: plan.urls.len() / pids.relays.len().max(1),
        relays: pids.relays.len(),
        brokers: pids.brokers.len(),
        holders: holders.max(1),
        nofile: rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |l| l.0),
        ..IdleRun::default()
    };
    let rss = |p: u32| rss_kib(p).unwrap_or(0);
    let broker_before = sum(&pids.brokers, rss);
    let kernel_before = kernel_tcp_kib();
    let available_before = mem_available_kib();
    run.relay_before_kib = relay_memory();
    let fds_before = sum(&pids.relays, |p| fd_count(p) as u64) as usize;
    let started = Instant::now();
    let mut procs = Vec::new();
    let mut first = plan.first;
    for h in 0..run.holders {
        // The first holders take the remainder.
        let count = plan.count / run.holders + usize::from(h < plan.count % run.holders);
        let spawned = Holder::spawn(plan, first, count);
        first += count;
        match spawned {
            Ok(holder) => procs.push(holder),
            Err(why) => {
                run.failed = Some(why);
                return run;
            }
        }
    }
    // Connected sessions per whole second since the start, summed over the holders.
    let mut per_second: std::collections::BTreeMap<u64, u64> = Default::default();
    let tally = |list: &mut Vec<(u64, String)>, n: u64, reason: String| match list
        .iter_mut()
        .find(|(_, r)| *r == reason)
    {
        Some(entry) => entry.0 += n,
        None => list.push((n, reason)),
    };
    for holder in &mut procs {
        let mut last = 0;
        for (tag, n, rest) in holder.block() {
            match tag.as_str() {
                "progress" => {
                    let ms: u64 = rest.parse().unwrap_or(0);
                    *per_second.entry(ms.div_ceil(1000)).or_insert(0) += n - last.min(n);
                    last = n;
                }
                "connected" => {
                    run.connected += n as usize;
                    let ms: u64 = rest.parse().unwrap_or(0);
                    *per_second.entry(ms.div_ceil(1000)).or_insert(0) += n - last.min(n);
                    run.connect_time = run.connect_time.max(Duration::from_millis(ms));
                }
                "failure" => tally(&mut run.failures, n, rest),
                _ => {}
            }
        }
    }
    run.peak_rate = per_second.values().copied().max().unwrap_or(0) as f64;
    let total = run.connected;
    eprintln!(
        "idle {relay}: {total} of {} sessions connected in {:.1} s",
        run.requested,
        run.connect_time.as_secs_f64()
    );
    // Let the last sessions' buffers settle before reading memory.
    std::thread::sleep(Duration::from_secs(3));
    run.relay_with_kib = relay_memory();
    run.relay_fds = (
        fds_before,
        sum(&pids.relays, |p| fd_count(p) as u64) as usize,
    );
    run.broker_delta_kib = sum(&pids.brokers, rss).saturating_sub(broker_before);
    run.holder_kib = procs.iter().map(|h| rss(h.guard.pid())).sum();
    run.kernel_tcp_delta_kib = kernel_tcp_kib().saturating_sub(kernel_before);
    run.conntrack = read_number("/proc/sys/net/netfilter/nf_conntrack_count");
    for holder in &mut procs {
        let _ = writeln!(holder.stdin, "alive?");
        for (tag, n, rest) in holder.block() {
            match tag.as_str() {
                "alive" => run.alive += n as usize,
                "lost" => tally(&mut run.lost, n, rest),
                _ => {}
            }
        }
    }
    for mut holder in procs {
        drop(holder.stdin);
        if holder.guard.wait_timeout(Duration::from_secs(30)).is_none() {
            holder.guard.kill();
        }
    }
    eprintln!(
        "idle {relay}: {} open when measured ({:.0} s in all)",
        run.alive,
        started.elapsed().as_secs_f64()
    );
    if run.alive < run.requested {
        let mut why = format!("{} of {} sessions open", run.alive, run.requested);
        if run.connected < run.requested {
            why.push_str(&format!(
                "; {} never connected within {} s",
                run.requested - run.connected,
                plan.allowance.as_secs()
            ));
        }
        for (n, reason) in &run.lost {
            why.push_str(&format!("; {n} closed after CONNACK: {reason}"));
        }
        for (n, reason) in &run.failures {
            why.push_str(&format!("; {n} failed attempts: {reason}"));
        }
        run.failed = Some(why);
    }
    run.ceilings = ceilings(&run, pids, available_before);
    run
}

/// The limits this machine puts on sessions through one relay process, from what the run
/// measured.
fn ceilings(run: &IdleRun, pids: &Pids, available_kib: u64) -> Vec<(u64, String)> {
    let alive = run.alive.max(1) as f64;
    let mut out = Vec::new();
    let (before, with) = run.relay_fds;
    let fds_per = with.saturating_sub(before) as f64 / alive;
    let first = pids.relays.first().copied().unwrap_or(0);
    if let Some(limit) = nofile(first).filter(|_| fds_per > 0.0) {
        let own = (before / pids.relays.len().max(1)) as u64;
        out.push((
            (limit.saturating_sub(own) as f64 / fds_per) as u64,
            format!("open files of one relay process ({limit} allowed, {fds_per:.1} per session)"),
        ));
    }
    if let Some(limit) = pids.brokers.first().and_then(|p| nofile(*p)) {
        out.push((
            limit,
            format!("open files of one mosquitto ({limit} allowed, one per session)"),
        ));
    }
    let per_kib = (run.relay_with_kib.saturating_sub(run.relay_before_kib)
        + run.broker_delta_kib
        + run.holder_kib
        + run.kernel_tcp_delta_kib) as f64
        / alive;
    if per_kib > 0.0 && available_kib > 0 {
        out.push((
            (available_kib as f64 / per_kib) as u64,
            format!(
                "memory ({} MiB available before the run; {per_kib:.0} KiB per session for relay, broker, holder and kernel together)",
                available_kib / 1024
            ),
        ));
    }
    let range = port_range();
    out.push((
        range * run.sources as u64,
        format!(
            "client ports ({range} ephemeral ports per source address x {} addresses)",
            run.sources
        ),
    ));
    if !pids.brokers.is_empty() {
        out.push((
            range * run.listeners as u64,
            format!(
                "upstream ports ({range} per broker listener x {}; fewer where the holders' bound ports overlap)",
                run.listeners
            ),
        ));
    }
    if let (Some(n), Some(max)) = (
        run.conntrack.filter(|n| *n > 0),
        read_number("/proc/sys/net/netfilter/nf_conntrack_max"),
    ) {
        out.push((
            max / 2,
            format!("conntrack table ({max} entries, {n} in use, two connections per session)"),
        ));
    }
    out.sort_by_key(|c| c.0);
    out
}
