//! Accepting connections: caps, optional TLS, the request head, and dispatch to WebSocket
//! sessions, `/healthz`, `/metrics` or static files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_rustls::TlsAcceptor;
use tungstenite::protocol::WebSocketConfig;

use crate::config::Limits;
use crate::handshake::{self, HeadError, Refusal, RequestHead};
use crate::limits::{CapRefusal, ConnLimiter, ConnPermit};
use crate::metrics::{Metrics, SessionEnd};
use crate::rate_limit::ConnectRateLimiter;
use crate::route::Router;

mod http;
mod session;

use http::{serve_observability, serve_static};
use session::serve_session;

/// At most this many refused connections are answered at once; beyond, they are dropped.
const MAX_CONCURRENT_REFUSALS: usize = 64;
const REFUSAL_HEAD_TIMEOUT: Duration = Duration::from_secs(2);
const LINGER: Duration = Duration::from_millis(250);

/// State shared by all connections.
pub(crate) struct Shared {
    pub router: Router,
    pub limits: Limits,
    pub metrics: Arc<Metrics>,
    pub static_dir: Option<PathBuf>,
    pub observability: bool,
    pub limiter: Arc<ConnLimiter>,
    /// The per-address CONNECT rate limit, if configured.
    pub connect_rate: Option<Arc<ConnectRateLimiter>>,
    pub refusals: Arc<Semaphore>,
    pub tls: Option<TlsAcceptor>,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn new_refusals() -> Arc<Semaphore> {
        Arc::new(Semaphore::new(MAX_CONCURRENT_REFUSALS))
    }

    /// tungstenite reads only pieces of at most `max_batch` bytes ([`CutFrames`] cuts larger data
    /// frames) and writes messages of at most `max_batch` bytes ([`crate::framer::Reframer`]), so
    /// its buffers are bounded by the batch size, not by the packet size.
    pub(super) fn ws_config(&self) -> WebSocketConfig {
        let l = &self.limits;
        WebSocketConfig::default()
            .read_buffer_size(l.ws_buffer_size)
            .write_buffer_size(l.ws_buffer_size)
            .max_write_buffer_size(
                l.max_batch
                    .saturating_add(l.ws_buffer_size)
                    .saturating_add(1024),
            )
            .max_message_size(Some(l.max_batch))
            .max_frame_size(Some(l.max_batch))
    }
}

pub(crate) async fn wait_shutdown(rx: &mut watch::Receiver<bool>) {
    if *rx.borrow() {
        return;
    }
    while rx.changed().await.is_ok() {
        if *rx.borrow() {
            return;
        }
    }
}

/// The accept loop; returns after shutdown once sessions drained (or the drain time passed).
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    let mut conns: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            _ = wait_shutdown(&mut shutdown) => break,
            r = listener.accept() => match r {
                Ok((tcp, peer)) => {
                    let permit = shared.limiter.try_acquire(peer.ip());
                    if permit.is_err() {
                        shared.metrics.connections_refused.inc();
                    }
                    let shared = shared.clone();
                    conns.spawn(async move { handle_conn(tcp, peer, permit, shared).await });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let open = conns.len();
    tracing::info!(open, "shutting down: draining sessions");
    let drain = Duration::from_millis(shared.limits.drain_timeout_ms);
    let drained = timeout(drain, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            left = conns.len(),
            "drain time over: aborting remaining sessions"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
    tracing::info!("shut down");
}

struct OpenGuard(Arc<Metrics>);
impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.connections_open.dec();
    }
}

async fn handle_conn(
    tcp: TcpStream,
    peer: SocketAddr,
    permit: Result<ConnPermit, CapRefusal>,
    shared: Arc<Shared>,
) {
    shared.metrics.connections_open.inc();
    let _open = OpenGuard(shared.metrics.clone());
    let _ = tcp.set_nodelay(true);
    let (deadline, _refusal_slot) = match &permit {
        Ok(_) => (
            Instant::now() + Duration::from_millis(shared.limits.handshake_timeout_ms),
            None,
        ),
        Err(_) => match shared.refusals.clone().try_acquire_owned() {
            Ok(slot) => (
                Instant::now()
                    + REFUSAL_HEAD_TIMEOUT
                        .min(Duration::from_millis(shared.limits.handshake_timeout_ms)),
                Some(slot),
            ),
            Err(_) => return,
        },
    };
    match &shared.tls {
        Some(acceptor) => match timeout_at(deadline, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => serve(tls, peer, permit, shared, deadline).await,
            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS accept failed"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        },
        None => serve(tcp, peer, permit, shared, deadline).await,
    }
}

pub(super) async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    r: Refusal,
    metrics: &Metrics,
) {
    metrics.http_refusals.inc();
    if let Ok(Ok(())) = timeout(Duration::from_secs(2), handshake::write_refusal(s, &r)).await {
        linger_close(s).await;
    }
}

/// Half-closes and discards what the client still sends for a moment, so the response is not
/// destroyed by a TCP reset caused by unread request bytes.
async fn linger_close<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = timeout(Duration::from_millis(100), s.shutdown()).await;
    let _ = timeout(LINGER, async {
        let mut sink = [0u8; 1024];
        let mut total = 0usize;
        while total < 64 * 1024 {
            match s.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

/// One connection after accept (and TLS): its request head, the caps, then a WebSocket
/// session, `/healthz` or `/metrics`, or a static file.
async fn serve<S>(
    mut s: S,
    peer: SocketAddr,
    permit: Result<ConnPermit, CapRefusal>,
    shared: Arc<Shared>,
    deadline: Instant,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(head) = read_request_head(&mut s, peer, &shared, deadline).await else {
        return;
    };
    let permit = match permit {
        Ok(p) => p,
        Err(cap) => return refuse(&mut s, cap_refusal(cap), &shared.metrics).await,
    };
    if *shared.shutdown.borrow() {
        let r = Refusal::new(503, "shutting down");
        return refuse(&mut s, r, &shared.metrics).await;
    }
    let path = head.path_only().to_string();
    if Router::is_ws_path(&path) {
        serve_session(s, head, &path, peer, permit, &shared, deadline).await;
    } else if shared.observability && (path == "/healthz" || path == "/metrics") {
        serve_observability(&mut s, &path, head.method == "HEAD", &shared).await;
    } else {
        serve_static(&mut s, &head, &shared).await;
    }
}

/// The request head, or `None` once the connection has been answered (timeout, too large,
/// malformed) or has gone.
async fn read_request_head<S>(
    s: &mut S,
    peer: SocketAddr,
    shared: &Shared,
    deadline: Instant,
) -> Option<RequestHead>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let metrics = &shared.metrics;
    let refusal = match timeout_at(
        deadline,
        handshake::read_head(s, shared.limits.max_request_head),
    )
    .await
    {
        Ok(Ok(head)) => return Some(head),
        Err(_) => {
            tracing::debug!(%peer, "request head timed out");
            let r = Refusal::new(
                408,
                "request head not received within the handshake timeout",
            );
            metrics.failure(SessionEnd::HandshakeTimeout);
            let _ = timeout(Duration::from_millis(200), handshake::write_refusal(s, &r)).await;
            return None;
        }
        Ok(Err(HeadError::TooLarge)) => Refusal::new(431, "request head too large"),
        Ok(Err(HeadError::Malformed(m))) => Refusal::new(400, format!("malformed request: {m}")),
        Ok(Err(_)) => return None,
    };
    refuse(s, refusal, metrics).await;
    None
}

/// The answer to a connection over a cap (it waited for its request head to be answered).
fn cap_refusal(cap: CapRefusal) -> Refusal {
    let mut r = match cap {
        CapRefusal::Global => Refusal::new(503, "too many connections: try again later"),
        CapRefusal::PerAddress => Refusal::new(429, "too many connections from your address"),
    };
    r.headers.push(("Retry-After", "1".into()));
    r
}
