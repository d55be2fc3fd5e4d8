//! Accepting connections: caps, optional TLS, the request head, and dispatch to WebSocket
//! sessions, `/healthz`, `/metrics` or static files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::{Role, WebSocketConfig};

use crate::admission::{self, FirstPacketGate};
use crate::config::Limits;
use crate::frame_cutter::CutFrames;
use crate::handshake::{self, HeadError, Refusal};
use crate::limits::{CapRefusal, ConnLimiter, ConnPermit};
use crate::metrics::Metrics;
use crate::rate_limit::ConnectRateLimiter;
use crate::readahead::ReadAhead;
use crate::relay::{self, SessionCtx};
use crate::route::{RouteRefusal, Router};
use crate::static_files::{self, StaticResult};

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
    fn ws_config(&self) -> WebSocketConfig {
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
                        shared.metrics.connections_refused.fetch_add(1, Relaxed);
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
        self.0.connections_open.fetch_sub(1, Relaxed);
    }
}

async fn handle_conn(
    tcp: TcpStream,
    peer: SocketAddr,
    permit: Result<ConnPermit, CapRefusal>,
    shared: Arc<Shared>,
) {
    shared.metrics.connections_open.fetch_add(1, Relaxed);
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

async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, r: Refusal, metrics: &Metrics) {
    metrics.http_refusals.fetch_add(1, Relaxed);
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

async fn serve<S>(
    mut s: S,
    peer: SocketAddr,
    permit: Result<ConnPermit, CapRefusal>,
    shared: Arc<Shared>,
    deadline: Instant,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let metrics = shared.metrics.clone();
    let head = match timeout_at(
        deadline,
        handshake::read_head(&mut s, shared.limits.max_request_head),
    )
    .await
    {
        Err(_) => {
            tracing::debug!(%peer, "request head timed out");
            let r = Refusal::new(
                408,
                "request head not received within the handshake timeout",
            );
            metrics.failure("handshake_timeout");
            let _ = timeout(
                Duration::from_millis(200),
                handshake::write_refusal(&mut s, &r),
            )
            .await;
            return;
        }
        Ok(Err(HeadError::TooLarge)) => {
            return refuse(
                &mut s,
                Refusal::new(431, "request head too large"),
                &metrics,
            )
            .await
        }
        Ok(Err(HeadError::Malformed(m))) => {
            return refuse(
                &mut s,
                Refusal::new(400, format!("malformed request: {m}")),
                &metrics,
            )
            .await
        }
        Ok(Err(_)) => return,
        Ok(Ok(h)) => h,
    };
    let permit = match permit {
        Ok(p) => p,
        Err(CapRefusal::Global) => {
            let mut r = Refusal::new(503, "too many connections: try again later");
            r.headers.push(("Retry-After", "1".into()));
            return refuse(&mut s, r, &metrics).await;
        }
        Err(CapRefusal::PerAddress) => {
            let mut r = Refusal::new(429, "too many connections from your address");
            r.headers.push(("Retry-After", "1".into()));
            return refuse(&mut s, r, &metrics).await;
        }
    };
    if *shared.shutdown.borrow() {
        return refuse(&mut s, Refusal::new(503, "shutting down"), &metrics).await;
    }
    let path = head.path_only().to_string();
    if Router::is_ws_path(&path) {
        let target = match shared.router.resolve(&path) {
            Ok(t) => t,
            Err(RouteRefusal::NotFound) => {
                return refuse(
                    &mut s,
                    Refusal::new(404, format!("route unknown: {path}")),
                    &metrics,
                )
                .await
            }
            Err(RouteRefusal::BadProduct) => {
                return refuse(
                    &mut s,
                    Refusal::new(400, "invalid product id: it must match ^[a-z0-9]{1,32}$"),
                    &metrics,
                )
                .await
            }
        };
        let origin = head.header("origin");
        if !target.route.origin_allowed(origin) {
            tracing::info!(%peer, origin = origin.unwrap_or(""), route = %target.route.name, "origin not allowed");
            return refuse(&mut s, Refusal::new(403, "origin not allowed"), &metrics).await;
        }
        let up = match handshake::check_upgrade(&head) {
            Ok(u) => u,
            Err(r) => return refuse(&mut s, r, &metrics).await,
        };
        let route = &target.route;
        let admitted = match admission::admit(
            route.admission.as_deref(),
            &head,
            &route.name,
            admission::unix_now(),
        ) {
            Ok(claims) => claims,
            Err(r) => {
                metrics.admission_refused(r);
                let token = admission::request_token(&head).map(admission::redact);
                tracing::info!(%peer, route = %route.name, reason = r.label(), token = token.as_deref().unwrap_or("none"), "admission refused");
                return refuse(&mut s, admission::refusal(r), &metrics).await;
            }
        };
        if admitted.is_some() {
            metrics.admission_accepted.fetch_add(1, Relaxed);
        }
        if !matches!(
            timeout_at(deadline, handshake::write_101(&mut s, &up)).await,
            Ok(Ok(()))
        ) {
            return;
        }
        // The bytes read past the request head are the first frame bytes: through the cutter.
        let cut = CutFrames::new(
            ReadAhead::new(s),
            head.leftover,
            shared.limits.max_batch,
            metrics.clone(),
        );
        let ws =
            WebSocketStream::from_raw_socket(cut, Role::Server, Some(shared.ws_config())).await;
        metrics.sessions_open.fetch_add(1, Relaxed);
        metrics.sessions_total.fetch_add(1, Relaxed);
        tracing::info!(%peer, route = %target.route.name, host = %target.host, "session open");
        let ctx = SessionCtx {
            limits: shared.limits.clone(),
            metrics: metrics.clone(),
            shutdown: shared.shutdown.clone(),
            first_packet: FirstPacketGate {
                bound_client_id: admitted.and_then(|c| c.client_id),
                rate_limit: shared.connect_rate.clone().map(|l| (l, peer.ip())),
                metrics: metrics.clone(),
            },
        };
        relay::run_session(ws, target, ctx).await;
        metrics.sessions_open.fetch_sub(1, Relaxed);
        tracing::info!(%peer, "session closed");
        drop(permit);
        return;
    }
    let head_only = head.method == "HEAD";
    if shared.observability && (path == "/healthz" || path == "/metrics") {
        let (status, ctype, body) = if path == "/healthz" {
            if *shared.shutdown.borrow() {
                (
                    503,
                    "text/plain; charset=utf-8",
                    "shutting down\n".to_string(),
                )
            } else {
                (200, "text/plain; charset=utf-8", "ok\n".to_string())
            }
        } else {
            (
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.render(),
            )
        };
        let _ = timeout(
            Duration::from_secs(5),
            handshake::write_response(&mut s, status, ctype, &[], body.as_bytes(), head_only),
        )
        .await;
        return;
    }
    let Some(dir) = shared.static_dir.clone() else {
        return refuse(&mut s, Refusal::new(404, "not found"), &metrics).await;
    };
    if head.method != "GET" && !head_only {
        let mut r = Refusal::new(405, "method not allowed");
        r.headers.push(("Allow", "GET, HEAD".into()));
        return refuse(&mut s, r, &metrics).await;
    }
    let req_path = head.path.clone();
    let found = tokio::task::spawn_blocking(move || static_files::lookup(&dir, &req_path)).await;
    match found {
        Ok(StaticResult::Found { body, content_type }) => {
            let _ = timeout(
                Duration::from_secs(60),
                handshake::write_response(&mut s, 200, content_type, &[], &body, head_only),
            )
            .await;
        }
        Ok(StaticResult::NotFound) => {
            refuse(&mut s, Refusal::new(404, "not found"), &metrics).await
        }
        Ok(StaticResult::BadPath) => refuse(&mut s, Refusal::new(400, "bad path"), &metrics).await,
        Err(_) => refuse(&mut s, Refusal::new(500, "internal error"), &metrics).await,
    }
}
