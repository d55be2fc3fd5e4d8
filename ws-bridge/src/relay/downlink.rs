//! Broker -> browser: upstream bytes re-framed into WebSocket messages of whole packets (or
//! bounded pieces of a large one), one flush per batch, plus the WebSocket pings.

use std::time::Duration;

use bytes::BufMut;
use futures_util::SinkExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tungstenite::{Bytes, Message};

use super::clocks::Clocks;
use super::end::{ready_now, too_large, End};
use crate::close::{self, Close};
use crate::config::Limits;
use crate::framer::Reframer;
use crate::metrics::Metrics;

/// One upstream read (a TLS record's plaintext is at most 16 KiB).
const READ_CHUNK: usize = crate::pool::SIZE;

/// Broker -> browser, plus WebSocket pings.
pub(super) async fn downlink<S, R>(
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
            metrics.bytes_down.inc_by(sent as u64);
            let large = reframer.large_packets();
            metrics.large_packets_down.inc_by(large - large_packets);
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
                if clocks.pinging() && tx.send(Message::Ping(Bytes::new())).await.is_err() {
                    return End::BrowserGone;
                }
            }
        }
    }
}

/// Accounts for one upstream read; `Some` when the upstream is gone (what was read before is
/// still relayed).
pub(super) fn after_read(
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
pub(super) async fn read_some<R: AsyncRead + Unpin>(
    up: &mut R,
    reframer: &mut Reframer,
) -> std::io::Result<usize> {
    reframer.reserve(READ_CHUNK);
    let mut room = reframer.buffer_mut().limit(READ_CHUNK);
    up.read_buf(&mut room).await
}

/// Keeps `Metrics::buffered_bytes` in step with one session's reframer.
pub(super) struct BufferedGuard<'a> {
    metrics: &'a Metrics,
    held: usize,
}

impl BufferedGuard<'_> {
    fn set(&mut self, now: usize) {
        // A session's buffer is bounded by the packet limit, far below i64::MAX.
        let signed = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.metrics
            .buffered_bytes
            .inc_by(signed(now) - signed(self.held));
        self.held = now;
    }
}

impl Drop for BufferedGuard<'_> {
    fn drop(&mut self) {
        self.set(0);
    }
}
