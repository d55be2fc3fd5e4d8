//! One session: dial the upstream, then relay both ways until one side ends.
//!
//! ```text
//!  browser --ws frames--> CutFrames (pieces <= max_batch) --> tungstenite --> PacketSizer
//!          (max size, from each header) --write_all--> upstream TLS
//!  browser <--ws binary: whole small packets, or pieces <= max_batch of a large one-- Reframer
//!          <--read (16 KiB at a time)-- upstream TLS
//! ```
//!
//! Batching: each direction waits for its first piece of data, then takes whatever else is
//! already readable without waiting (up to `max_batch` bytes) and writes it in one go: several
//! browser messages become one TLS write (one record, one syscall), several upstream records
//! become one WebSocket message of whole packets with one flush. Under load this divides the
//! syscalls per message; a lone message is written as soon as it arrives, so latency is
//! unchanged. Both sockets sit on a [`crate::readahead::ReadAhead`]: one `recv` of up to 16 KiB
//! serves the small reads tungstenite (frame header, then payload) and rustls (4 KiB) make.
//!
//! Large packets stream (MQTT 3.1.1 §6.0: a packet may span WebSocket frames and messages): a
//! browser frame is read in pieces of at most `max_batch` bytes ([`crate::frame_cutter`]), and
//! a broker packet larger than `max_batch` goes to the browser as several messages as it
//! arrives ([`Reframer`]). The packet size limit is still enforced from each packet's header.
//!
//! Backpressure: each direction awaits its write before reading more, so a slow browser stops
//! the upstream read (and the broker's TCP window fills), and a slow broker stops the browser
//! read. Per-session memory is bounded by constants, not by the packet size: about one
//! `max_batch` piece and one batch per direction, a 16 KiB read, plus tungstenite's and rustls'
//! buffers; the batch and read-ahead buffers exist only while data is flowing (an idle session
//! holds none; freed buffers go to a small per-thread stock, [`crate::pool`], at most 512 KiB
//! per worker thread).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Bytes, Message};

use crate::close::{self, truncate_reason, Close};
use crate::config::Limits;
use crate::frame_cutter::Refusal;
use crate::framer::{FrameError, PacketSizer, Reframer};
use crate::metrics::Metrics;
use crate::route::Target;
use crate::upstream;

/// One upstream read (a TLS record's plaintext is at most 16 KiB).
const READ_CHUNK: usize = crate::pool::SIZE;
const CLOSE_GRACE: Duration = Duration::from_millis(1000);

/// How a session ended.
#[derive(Debug)]
enum End {
    /// We close with this code.
    Close(Close),
    /// The browser closed (or vanished); nothing more to send but the close reply.
    BrowserGone,
}

/// Shared per-session clocks (milliseconds since the session started).
struct Clocks {
    start: Instant,
    last_data: AtomicU64,
    last_seen: AtomicU64,
    /// The idle limit in force: the configured one, then the one the CONNECT's keepalive asks.
    idle_ms: AtomicU64,
    /// Whether WebSocket pings find a dead browser. Off once the CONNECT announced a keepalive:
    /// MQTT then finds it (the broker drops a client silent for 1.5 keepalives), and some
    /// clients answer pings wrongly (paho-mqtt 2.1.0 sends unmasked pongs, which RFC 6455 §5.1
    /// makes us close with 1002).
    pinging: AtomicBool,
}

impl Clocks {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
    fn data(&self) {
        let n = self.now();
        self.last_data.store(n, Relaxed);
        self.last_seen.store(n, Relaxed);
    }
    fn seen(&self) {
        self.last_seen.store(self.now(), Relaxed);
    }
}

/// Everything a session needs besides its sockets.
#[derive(Clone)]
pub struct SessionCtx {
    /// Limits and timeouts.
    pub limits: Limits,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Becomes `true` when the bridge shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Admission's checks of the first packet (the CONNECT), before it is relayed.
    pub first_packet: crate::admission::FirstPacketGate,
}

async fn wait_shutdown(rx: &mut watch::Receiver<bool>) {
    if *rx.borrow() {
        return;
    }
    while rx.changed().await.is_ok() {
        if *rx.borrow() {
            return;
        }
    }
    // The sender is gone: the bridge is being dropped, treat as shutdown.
}

/// Runs one upgraded session to its end.
pub async fn run_session<S>(ws: WebSocketStream<S>, target: Target, mut ctx: SessionCtx)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (mut tx, mut rx) = ws.split();
    let metrics = ctx.metrics.clone();
    let limits = ctx.limits.clone();
    let connect_timeout = Duration::from_millis(limits.connect_timeout_ms);
    let dialled = tokio::select! {
        r = upstream::dial(&target, connect_timeout, &metrics) => Some(r),
        _ = wait_shutdown(&mut ctx.shutdown) => None,
    };
    let upstream = match dialled {
        None => {
            finish(&mut tx, &mut rx, End::Close(going_away()), &metrics).await;
            return;
        }
        Some(Err(e)) => {
            tracing::warn!(route = %target.route.name, host = %target.host, port = target.port, error = %e, "upstream failed");
            finish(&mut tx, &mut rx, End::Close(e.to_close()), &metrics).await;
            return;
        }
        Some(Ok(s)) => s,
    };
    tracing::debug!(route = %target.route.name, host = %target.host, "upstream connected");
    let (mut up_rd, mut up_wr) = tokio::io::split(upstream);
    let clocks = Clocks {
        start: Instant::now(),
        last_data: AtomicU64::new(0),
        last_seen: AtomicU64::new(0),
        idle_ms: AtomicU64::new(limits.idle_timeout_ms),
        pinging: AtomicBool::new(true),
    };
    let end = tokio::select! {
        e = uplink(&mut rx, &mut up_wr, &limits, &metrics, &clocks, &ctx.first_packet) => e,
        e = downlink(&mut tx, &mut up_rd, &limits, &metrics, &clocks) => e,
        e = watchdog(&limits, &clocks) => e,
        _ = wait_shutdown(&mut ctx.shutdown) => End::Close(going_away()),
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, up_wr.shutdown()).await;
    finish(&mut tx, &mut rx, end, &metrics).await;
}

fn going_away() -> Close {
    Close::new(close::GOING_AWAY, "going away")
}

async fn finish<S>(
    tx: &mut futures_util::stream::SplitSink<WebSocketStream<S>, Message>,
    rx: &mut futures_util::stream::SplitStream<WebSocketStream<S>>,
    end: End,
    metrics: &Metrics,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    match end {
        End::Close(c) => {
            metrics.failure(c.metric_label());
            tracing::debug!(code = c.code, reason = %c.reason, "closing session");
            let frame = CloseFrame {
                code: CloseCode::from(c.code),
                reason: truncate_reason(&c.reason).to_string().into(),
            };
            let sent = tokio::time::timeout(CLOSE_GRACE, tx.send(Message::Close(Some(frame))))
                .await
                .is_ok_and(|r| r.is_ok());
            if sent {
                // Wait briefly for the browser's close reply so it sees a clean close.
                let _ = tokio::time::timeout(CLOSE_GRACE, async {
                    while let Some(Ok(m)) = rx.next().await {
                        if m.is_close() {
                            break;
                        }
                    }
                })
                .await;
            }
        }
        End::BrowserGone => {
            metrics.failure("browser_closed");
            let _ = tokio::time::timeout(CLOSE_GRACE, tx.close()).await;
        }
    }
}

fn too_large(e: FrameError, direction: &str) -> End {
    match e {
        FrameError::TooLarge { size, max } => End::Close(Close::new(
            close::MESSAGE_TOO_BIG,
            format!("packet too large: {size} bytes (max {max}) {direction}"),
        )),
        other if direction == "from browser" => {
            End::Close(Close::new(close::PROTOCOL_ERROR, other.to_string()))
        }
        other => End::Close(Close::new(
            close::INTERNAL_ERROR,
            format!("upstream sent bad data: {other}"),
        )),
    }
}

/// Polls `fut` once with the task's own waker: `Some(output)` if it is ready now, `None` if it
/// would wait. Only for cancel-safe futures (a stream's `next`, `read_buf`).
async fn ready_now<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// One item from the browser, classified.
enum Inbound {
    /// Binary data, already checked by the sizer.
    Data(Bytes),
    /// Nothing to relay (ping, pong).
    Skip,
    /// The session ends.
    End(End),
}

fn inbound(
    item: Option<Result<Message, tungstenite::Error>>,
    sizer: &mut PacketSizer,
    clocks: &Clocks,
) -> Inbound {
    let msg = match item {
        None => return Inbound::End(End::BrowserGone),
        Some(Ok(m)) => m,
        Some(Err(tungstenite::Error::Capacity(e))) => {
            return Inbound::End(End::Close(Close::new(
                close::MESSAGE_TOO_BIG,
                format!("message too large: {e}"),
            )))
        }
        Some(Err(tungstenite::Error::Protocol(e))) => {
            return Inbound::End(End::Close(Close::new(close::PROTOCOL_ERROR, e.to_string())))
        }
        Some(Err(tungstenite::Error::Io(e))) => {
            return Inbound::End(match Refusal::of(&e) {
                Some(r) => End::Close(Close::new(r.code, r.reason)),
                None => End::BrowserGone,
            })
        }
        Some(Err(_)) => return Inbound::End(End::BrowserGone),
    };
    clocks.seen();
    match msg {
        Message::Binary(data) => match sizer.feed(&data) {
            Ok(()) => Inbound::Data(data),
            Err(e) => Inbound::End(too_large(e, "from browser")),
        },
        Message::Text(_) => Inbound::End(End::Close(Close::new(
            close::UNSUPPORTED_DATA,
            "text frames are not allowed: MQTT over WebSockets uses binary frames",
        ))),
        Message::Close(_) => Inbound::End(End::BrowserGone),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Inbound::Skip,
    }
}

/// Browser -> broker.
async fn uplink<S, W>(
    rx: &mut futures_util::stream::SplitStream<WebSocketStream<S>>,
    up: &mut W,
    limits: &Limits,
    metrics: &Metrics,
    clocks: &Clocks,
    gate: &crate::admission::FirstPacketGate,
) -> End
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    W: AsyncWrite + Unpin,
{
    let mut sizer = PacketSizer::new(limits.max_packet_size);
    let mut connect_seen = false;
    loop {
        let first = match inbound(rx.next().await, &mut sizer, clocks) {
            Inbound::Data(data) => data,
            Inbound::Skip => continue,
            Inbound::End(end) => return end,
        };
        if !connect_seen {
            connect_seen = true;
            if let Some(idle) = idle_for_keepalive(&first, limits) {
                clocks.idle_ms.store(idle, Relaxed);
                clocks.pinging.store(false, Relaxed);
            }
            if let Err(close) = gate.check(&first) {
                return End::Close(close);
            }
        }
        let mut total = first.len();
        let mut ended = None;
        // Further messages ready now are copied here with the first and written as one.
        let mut joined = BytesMut::new();
        while total < limits.max_batch {
            let Some(item) = ready_now(rx.next()).await else {
                break;
            };
            match inbound(item, &mut sizer, clocks) {
                Inbound::Data(data) => {
                    if joined.is_empty() {
                        joined = crate::pool::take();
                        joined.extend_from_slice(&first);
                    }
                    joined.extend_from_slice(&data);
                    total += data.len();
                }
                Inbound::Skip => {}
                Inbound::End(end) => {
                    // Relay what came before the end, then end.
                    ended = Some(end);
                    break;
                }
            }
        }
        let out: &[u8] = if joined.is_empty() { &first } else { &joined };
        if up.write_all(out).await.is_err() || up.flush().await.is_err() {
            return End::Close(Close::new(close::NORMAL, "upstream closed"));
        }
        crate::pool::give(joined);
        metrics.bytes_up.fetch_add(total as u64, Relaxed);
        clocks.data();
        if let Some(end) = ended {
            return end;
        }
    }
}

/// Broker -> browser, plus WebSocket pings.
async fn downlink<S, R>(
    tx: &mut futures_util::stream::SplitSink<WebSocketStream<S>, Message>,
    up: &mut R,
    limits: &Limits,
    metrics: &Metrics,
    clocks: &Clocks,
) -> End
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    R: AsyncRead + Unpin,
{
    let mut reframer = Reframer::new(limits.max_packet_size, limits.max_batch);
    let guard = BufferedGuard { metrics, held: 0 };
    let mut guard = guard;
    let mut ping = tokio::time::interval(Duration::from_millis(limits.ping_interval_ms));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut ended = None;
    let mut large_packets = 0;
    loop {
        // Everything ready goes out (runs of whole packets, or pieces of a large one, of up to
        // `max_batch` bytes each), with one flush for all of it.
        let mut sent = 0;
        loop {
            let piece = match reframer.take() {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(e) => {
                    // The framing error says more than the upstream close that may follow it.
                    ended = Some(too_large(e, "from broker"));
                    break;
                }
            };
            sent += piece.len();
            guard.set(reframer.buffered());
            if tx.feed(Message::Binary(piece)).await.is_err() {
                return End::BrowserGone;
            }
        }
        if sent > 0 {
            if tx.flush().await.is_err() {
                return End::BrowserGone;
            }
            metrics.bytes_down.fetch_add(sent as u64, Relaxed);
            let large = reframer.large_packets();
            metrics
                .large_packets_down
                .fetch_add(large - large_packets, Relaxed);
            large_packets = large;
            clocks.data();
        }
        if let Some(end) = ended {
            return end;
        }
        reframer.shrink_if_empty();
        tokio::select! {
            r = read_some(up, &mut reframer) => {
                ended = after_read(r, &reframer, &mut guard);
                // Take whatever else the broker already sent, up to one batch, before writing.
                while ended.is_none() && reframer.buffered() < limits.max_batch {
                    let Some(r) = ready_now(read_some(up, &mut reframer)).await else {
                        break;
                    };
                    ended = after_read(r, &reframer, &mut guard);
                }
            },
            _ = ping.tick() => {
                if clocks.pinging.load(Relaxed) && tx.send(Message::Ping(Bytes::new())).await.is_err() {
                    return End::BrowserGone;
                }
            }
        }
    }
}

/// Accounts for one upstream read; `Some` when the upstream is gone (what was read before is
/// still relayed).
fn after_read(
    r: std::io::Result<usize>,
    reframer: &Reframer,
    guard: &mut BufferedGuard<'_>,
) -> Option<End> {
    match r {
        Ok(0) | Err(_) => Some(End::Close(Close::new(close::NORMAL, "upstream closed"))),
        Ok(_) => {
            guard.set(reframer.buffered());
            None
        }
    }
}

/// Reads at most [`READ_CHUNK`] bytes, so the buffer stays under one batch plus one read.
async fn read_some<R: AsyncRead + Unpin>(
    up: &mut R,
    reframer: &mut Reframer,
) -> std::io::Result<usize> {
    reframer.reserve(READ_CHUNK);
    let mut room = reframer.buffer_mut().limit(READ_CHUNK);
    up.read_buf(&mut room).await
}

/// Keeps `Metrics::buffered_bytes` in step with one session's reframer.
struct BufferedGuard<'a> {
    metrics: &'a Metrics,
    held: usize,
}

impl BufferedGuard<'_> {
    fn set(&mut self, now: usize) {
        let delta = now as i64 - self.held as i64;
        self.metrics.buffered_bytes.fetch_add(delta, Relaxed);
        self.held = now;
    }
}

impl Drop for BufferedGuard<'_> {
    fn drop(&mut self) {
        self.set(0);
    }
}

/// The idle limit the first client packet asks for: 1.5 times the keepalive of a CONNECT
/// ([MQTT-3.1.2-24]), capped by the configuration; `None` when it is no CONNECT (whole in this
/// message) or announces no keepalive, and the configured limit stays.
fn idle_for_keepalive(first: &[u8], limits: &Limits) -> Option<u64> {
    use mqtt_core::packet::Packet;
    let Ok(Some((Packet::Connect(connect), _))) = mqtt_core::codec::decode_any(first, first.len())
    else {
        return None;
    };
    let keepalive_ms = u64::from(connect.keep_alive) * 1000;
    (keepalive_ms > 0).then(|| (keepalive_ms + keepalive_ms / 2).min(limits.max_idle_timeout_ms))
}

/// Idle and ping timeouts.
async fn watchdog(limits: &Limits, clocks: &Clocks) -> End {
    let dead = limits.ping_interval_ms.saturating_mul(2);
    let step = Duration::from_millis(
        (limits.idle_timeout_ms.min(limits.ping_interval_ms) / 4).clamp(10, 1000),
    );
    loop {
        tokio::time::sleep(step).await;
        let now = clocks.now();
        let idle = clocks.idle_ms.load(Relaxed);
        if now.saturating_sub(clocks.last_data.load(Relaxed)) >= idle {
            return End::Close(Close::new(close::NORMAL, close::IDLE_TIMEOUT));
        }
        if clocks.pinging.load(Relaxed)
            && now.saturating_sub(clocks.last_seen.load(Relaxed)) >= dead
        {
            return End::Close(Close::new(close::PING_TIMEOUT, "ping timeout"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_core::codec::encode;
    use mqtt_core::packet::{Connect, Packet, Protocol};

    fn connect(keep_alive: u16) -> Vec<u8> {
        encode(&Packet::Connect(Connect {
            protocol: Protocol::MQTT311,
            keep_alive,
            client_id: "c",
            clean_session: true,
            last_will: None,
            username: None,
            password: None,
        }))
        .expect("CONNECT")
    }

    /// [MQTT-3.1.2-24]: a broker waits 1.5 keepalives; the bridge does not close sooner, and
    /// falls back to its configured limit without a keepalive (or without a whole CONNECT).
    #[test]
    fn the_idle_limit_follows_the_connect_keepalive() {
        let limits = Limits::default();
        assert_eq!(idle_for_keepalive(&connect(900), &limits), Some(1_350_000));
        assert_eq!(
            idle_for_keepalive(&connect(65_535), &limits),
            Some(98_302_500)
        );
        assert_eq!(idle_for_keepalive(&connect(0), &limits), None);
        let whole = connect(60);
        assert_eq!(idle_for_keepalive(&whole[..whole.len() - 1], &limits), None);
        assert_eq!(idle_for_keepalive(&[0xc0, 0x00], &limits), None, "PINGREQ");
        let capped = Limits {
            max_idle_timeout_ms: 60_000,
            ..Limits::default()
        };
        assert_eq!(idle_for_keepalive(&connect(900), &capped), Some(60_000));
    }
}
