//! The load client: the same native MQTT client (client-wasm's `native::Driver`) for every path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_core::{Event, Options, QoS, Session};
use mqttws::{Connector, Driver, Output, Step};
use tests::mosquitto::{PLATFORM_PASSWORD, PLATFORM_USER};

/// How a path is reached.
#[derive(Clone)]
pub(crate) struct Target {
    pub name: &'static str,
    pub connector: Connector,
    /// The relay process whose CPU time is measured (`None`: no relay of ours to watch).
    pub relay_pid: Option<u32>,
}

/// Totals of one throughput run.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    /// Why sessions failed, one entry per failed session.
    pub failures: std::sync::Mutex<Vec<String>>,
}

impl Totals {
    fn fail(&self, reason: String) {
        if let Ok(mut f) = self.failures.lock() {
            f.push(reason);
        }
    }

    /// Failed sessions and the first reason.
    pub(crate) fn failed(&self) -> (usize, Option<String>) {
        self.failures
            .lock()
            .map(|f| (f.len(), f.first().cloned()))
            .unwrap_or((0, None))
    }
}

/// Where a throughput session got to; a run that ends before `Running` measured nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Subscribing,
    Running,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Connecting => "no CONNACK",
            Phase::Subscribing => "no SUBACK",
            Phase::Running => "running",
        })
    }
}

/// Every bench client logs in as the harness's privileged user (the ACL allows it `#`).
fn options(id: &str) -> Options {
    let mut options = Options::new(id).with_credentials(PLATFORM_USER, PLATFORM_PASSWORD);
    options.keep_alive_secs = 120;
    options.reconnect.enabled = false;
    options.max_inflight = 1024;
    options.max_queued = 1024;
    options.max_incoming_packet = 1 << 20;
    options
}

/// Sessions stay open this long after the measurement ends: the runner reads the relay's CPU
/// time at `until`, and websockify's child for a session takes its CPU time with it when it
/// exits (closing right at `until` raced the reading: 0 µs/msg at times).
const LINGER: Duration = Duration::from_millis(500);

/// When a throughput run measures: `(from, until)`, sent once every session is running (or the
/// setup time is up), so no session's connect falls inside the measurement.
pub(crate) type Schedule = tokio::sync::mpsc::UnboundedReceiver<(Instant, Instant)>;

/// One session publishing QoS 0 messages to a topic it subscribes to, keeping `window` in
/// flight (sent and not yet received back). It connects and subscribes, adds itself to `ready`,
/// and starts publishing when `schedule` says when the measurement runs; it counts what comes
/// back between `from` and `until`.
///
/// A session that is not running by `setup_by` or when the measurement starts, loses its
/// connection, ends early, has a publish refused, or gets nothing back for the second half of
/// the measurement (its window lost on the way) is a failure with its reason in `totals`,
/// never a zero.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn round_trip_session(
    target: Target,
    id: String,
    size: usize,
    window: usize,
    mut schedule: Schedule,
    setup_by: Instant,
    ready: Arc<AtomicU64>,
    totals: Arc<Totals>,
) {
    let topic = format!("bench/{id}");
    let payload = vec![0x42u8; size];
    let mut driver = Driver::plain(target.connector, Session::new(options(&id)));
    driver.connect();
    let mut phase = Phase::Connecting;
    let mut times: Option<(Instant, Instant)> = None;
    let mut running_at: Option<Instant> = None;
    let mut counted = 0u64;
    let mut last_back: Option<Instant> = None;
    let failure = loop {
        // Until the schedule is known, the setup deadline (plus the time the runner takes to
        // announce the schedule) bounds the wait. `next_or` races only the transport's receive
        // (cancel-safe) against the schedule, never a send or a connect.
        let deadline = times.map_or(setup_by + Duration::from_secs(5), |t| t.1 + LINGER);
        let next = if times.is_none() {
            tokio::time::timeout_at(deadline.into(), driver.next_or(&mut schedule)).await
        } else {
            tokio::time::timeout_at(deadline.into(), async {
                driver.next().await.map(Step::Output)
            })
            .await
        };
        let next = match next {
            Ok(Some(Step::External(Some(t)))) => {
                times = Some(t);
                if phase == Phase::Running {
                    if let Err(e) = start_window(&mut driver, &topic, &payload, window) {
                        break Some(e);
                    }
                }
                continue;
            }
            Ok(Some(Step::External(None))) => {
                break Some(format!("{phase}: the runner gave up on the run"));
            }
            Ok(Some(Step::Output(output))) => Ok(Some(output)),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        let output = match next {
            Err(_) => break None,
            Ok(None) => break Some(format!("{phase}: the session ended by itself")),
            Ok(Some(output)) => output,
        };
        match output {
            Output::Event(Event::Connected { .. }) => {
                phase = Phase::Subscribing;
                if let Err(e) = driver.subscribe(&[(&topic, QoS::AtMostOnce)]) {
                    break Some(format!("subscribe refused: {e}"));
                }
            }
            Output::Event(Event::Subscribed { granted, .. }) => {
                if granted.first().copied().flatten().is_none() {
                    break Some("the broker refused the subscription".into());
                }
                phase = Phase::Running;
                running_at = Some(Instant::now());
                ready.fetch_add(1, Ordering::Relaxed);
                if times.is_some() {
                    if let Err(e) = start_window(&mut driver, &topic, &payload, window) {
                        break Some(e);
                    }
                }
            }
            Output::Event(Event::Message(m)) => {
                let now = Instant::now();
                if times.is_some_and(|(from, until)| now >= from && now < until) {
                    counted += 1;
                    last_back = Some(now);
                    totals.messages.fetch_add(1, Ordering::Relaxed);
                    totals
                        .bytes
                        .fetch_add(m.payload.len() as u64, Ordering::Relaxed);
                }
                if let Err(e) = driver.publish(&topic, &payload, QoS::AtMostOnce, false) {
                    break Some(format!("publish refused: {e}"));
                }
            }
            Output::Event(Event::ConnectionLost { error, .. }) => {
                break Some(format!("{phase}: connection lost: {error}"));
            }
            _ => {}
        }
    };
    let failure = failure.or_else(|| verdict(phase, times, running_at, last_back, counted, window));
    if let Some(reason) = failure {
        totals.fail(reason);
    }
    driver.disconnect();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while driver.next().await.is_some() {}
    })
    .await;
}

/// Puts `window` messages in flight.
fn start_window(
    driver: &mut Driver<mqttws::NoFlow>,
    topic: &str,
    payload: &[u8],
    window: usize,
) -> Result<(), String> {
    for _ in 0..window {
        driver
            .publish(topic, payload, QoS::AtMostOnce, false)
            .map_err(|e| format!("publish refused: {e}"))?;
    }
    Ok(())
}

/// Why a session that reached its deadline without an error measured nothing worth counting.
fn verdict(
    phase: Phase,
    times: Option<(Instant, Instant)>,
    running_at: Option<Instant>,
    last_back: Option<Instant>,
    counted: u64,
    window: usize,
) -> Option<String> {
    let Some((from, until)) = times else {
        return Some(format!("{phase}: no measurement was scheduled"));
    };
    let measured = until.saturating_duration_since(from);
    match (phase, running_at, last_back) {
        (Phase::Running, Some(at), _) if at > from => Some(format!(
            "running only {:.2} s after the measurement started",
            (at - from).as_secs_f64()
        )),
        (Phase::Running, _, None) => Some(format!(
            "nothing came back in the measured {:.1} s ({window} messages in flight lost)",
            measured.as_secs_f64()
        )),
        (Phase::Running, _, Some(last)) if until.saturating_duration_since(last) > measured / 2 => {
            Some(format!(
                "stalled: nothing came back in the last {:.1} s of {:.1} s ({counted} before)",
                until.saturating_duration_since(last).as_secs_f64(),
                measured.as_secs_f64()
            ))
        }
        (Phase::Running, _, _) => None,
        (phase, _, _) => Some(format!("{phase} when the measurement ended")),
    }
}

/// Publish → receive round trips with one message in flight: `samples` latencies, or why the
/// run got fewer (connection lost, ended, or `budget` spent).
pub(crate) async fn latency_samples(
    target: Target,
    samples: usize,
    budget: Duration,
) -> Result<Vec<Duration>, String> {
    let topic = "bench/latency";
    let payload = vec![0x42u8; 64];
    let mut driver = Driver::plain(target.connector, Session::new(options("bench-latency")));
    driver.connect();
    let deadline = tokio::time::Instant::now() + budget;
    let mut out = Vec::with_capacity(samples);
    let mut sent_at = Instant::now();
    let warmup = 200;
    let mut seen = 0usize;
    let mut failure = None;
    while out.len() < samples {
        let output = match tokio::time::timeout_at(deadline, driver.next()).await {
            Err(_) => {
                failure = Some(format!("{} s budget spent", budget.as_secs()));
                break;
            }
            Ok(None) => {
                failure = Some("the session ended by itself".to_string());
                break;
            }
            Ok(Some(output)) => output,
        };
        match output {
            Output::Event(Event::Connected { .. }) => {
                if let Err(e) = driver.subscribe(&[(topic, QoS::AtMostOnce)]) {
                    failure = Some(format!("subscribe refused: {e}"));
                    break;
                }
            }
            Output::Event(Event::Subscribed { .. }) => {
                sent_at = Instant::now();
                if let Err(e) = driver.publish(topic, &payload, QoS::AtMostOnce, false) {
                    failure = Some(format!("publish refused: {e}"));
                    break;
                }
            }
            Output::Event(Event::Message(_)) => {
                if seen >= warmup {
                    out.push(sent_at.elapsed());
                }
                seen += 1;
                sent_at = Instant::now();
                if let Err(e) = driver.publish(topic, &payload, QoS::AtMostOnce, false) {
                    failure = Some(format!("publish refused: {e}"));
                    break;
                }
            }
            Output::Event(Event::ConnectionLost { error, .. }) => {
                failure = Some(format!("connection lost: {error}"));
                break;
            }
            _ => {}
        }
    }
    driver.disconnect();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while driver.next().await.is_some() {}
    })
    .await;
    match failure {
        Some(why) => Err(format!("{} of {samples} samples: {why}", out.len())),
        None => Ok(out),
    }
}
