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
//! arrives ([`crate::framer::Reframer`]). The packet size limit is still enforced from each
//! packet's header.
//!
//! Backpressure: each direction awaits its write before reading more, so a slow browser stops
//! the upstream read (and the broker's TCP window fills), and a slow broker stops the browser
//! read. Per-session memory is bounded by constants, not by the packet size: about one
//! `max_batch` piece and one batch per direction, a 16 KiB read, plus tungstenite's and rustls'
//! buffers; the batch and read-ahead buffers exist only while data is flowing (an idle session
//! holds none; freed buffers go to a small per-thread stock, [`crate::pool`], at most 512 KiB
//! per worker thread).

mod clocks;
mod downlink;
mod end;
mod uplink;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

use crate::close::{self, truncate_reason, Close};
use crate::config::Limits;
use crate::metrics::{Metrics, SessionEnd};
use crate::route::Target;
use crate::upstream;
use clocks::{watchdog, Clocks};
use downlink::downlink;
use end::End;
use uplink::uplink;
const CLOSE_GRACE: Duration = Duration::from_millis(1000);

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
    let clocks = Clocks::new(limits.idle_timeout_ms);
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
            metrics.failure(SessionEnd::BrowserClosed);
            let _ = tokio::time::timeout(CLOSE_GRACE, tx.close()).await;
        }
    }
}
