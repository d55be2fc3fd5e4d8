//! Browser -> broker: WebSocket messages, size-checked from each packet's header, batched
//! into one TLS write; the first packet (the CONNECT) passes admission's gate first.

use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tungstenite::{Bytes, Message};

use super::clocks::{idle_for_keepalive, Clocks};
use super::end::{ready_now, too_large, End};
use crate::admission::FirstPacketGate;
use crate::close::{self, Close};
use crate::config::Limits;
use crate::frame_cutter::Refusal;
use crate::framer::PacketSizer;
use crate::metrics::Metrics;

/// One item from the browser, classified.
pub(super) enum Inbound {
    /// Binary data, already checked by the sizer.
    Data(Bytes),
    /// Nothing to relay (ping, pong).
    Skip,
    /// The session ends.
    End(End),
}

pub(super) fn inbound(
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
pub(super) async fn uplink<S, W>(
    rx: &mut futures_util::stream::SplitStream<WebSocketStream<S>>,
    up: &mut W,
    limits: &Limits,
    metrics: &Metrics,
    clocks: &Clocks,
    gate: &FirstPacketGate,
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
                clocks.follow_keepalive(idle);
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
        metrics.bytes_up.inc_by(total as u64);
        clocks.data();
        if let Some(end) = ended {
            return end;
        }
    }
}
