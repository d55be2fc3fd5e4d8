//! A WebSocket session from its request head: route, Origin, upgrade and admission checks,
//! the 101 answer, then the relay.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::Role;

use super::{refuse, Shared};
use crate::admission::{self, Claims, FirstPacketGate};
use crate::frame_cutter::CutFrames;
use crate::handshake::{self, Refusal, RequestHead, Upgrade};
use crate::limits::ConnPermit;
use crate::readahead::ReadAhead;
use crate::relay::{self, SessionCtx};
use crate::route::{RouteRefusal, Target};

/// An upgrade the bridge accepts: where it goes, how to answer it, and what its token grants.
struct Admitted {
    target: Target,
    upgrade: Upgrade,
    claims: Option<Claims>,
}

/// Route, Origin, WebSocket upgrade and admission checks, in that order; the first refusal
/// found is the answer.
fn admit_upgrade(
    head: &RequestHead,
    path: &str,
    peer: SocketAddr,
    shared: &Shared,
) -> Result<Admitted, Refusal> {
    let target = shared.router.resolve(path).map_err(|r| match r {
        RouteRefusal::NotFound => Refusal::new(404, format!("route unknown: {path}")),
        RouteRefusal::BadProduct => {
            Refusal::new(400, "invalid product id: it must match ^[a-z0-9]{1,32}$")
        }
    })?;
    let origin = head.header("origin");
    if !target.route.origin_allowed(origin) {
        tracing::info!(%peer, origin = origin.unwrap_or(""), route = %target.route.name, "origin not allowed");
        return Err(Refusal::new(403, "origin not allowed"));
    }
    let upgrade = handshake::check_upgrade(head)?;
    let route = &target.route;
    let now = admission::unix_now();
    let claims = admission::admit(route.admission.as_deref(), head, &route.name, now).map_err(
        |r| {
            shared.metrics.admission_refused(r.metric());
            let token = admission::request_token(head).map(admission::redact);
            tracing::info!(%peer, route = %route.name, reason = r.label(), token = token.as_deref().unwrap_or("none"), "admission refused");
            admission::refusal(r)
        },
    )?;
    if claims.is_some() {
        shared.metrics.admission_accepted.inc();
    }
    Ok(Admitted {
        target,
        upgrade,
        claims,
    })
}

/// A WebSocket session: admitted, answered with 101, then relayed until it ends.
pub(super) async fn serve_session<S>(
    mut s: S,
    head: RequestHead,
    path: &str,
    peer: SocketAddr,
    permit: ConnPermit,
    shared: &Shared,
    deadline: Instant,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let metrics = &shared.metrics;
    let admitted = match admit_upgrade(&head, path, peer, shared) {
        Ok(a) => a,
        Err(r) => return refuse(&mut s, r, metrics).await,
    };
    let written = timeout_at(deadline, handshake::write_101(&mut s, &admitted.upgrade)).await;
    if !matches!(written, Ok(Ok(()))) {
        return;
    }
    // The bytes read past the request head are the first frame bytes: through the cutter.
    let cut = CutFrames::new(
        ReadAhead::new(s),
        head.leftover,
        shared.limits.max_batch,
        metrics.clone(),
    );
    let ws = WebSocketStream::from_raw_socket(cut, Role::Server, Some(shared.ws_config())).await;
    metrics.sessions_open.inc();
    metrics.sessions_total.inc();
    let target = admitted.target;
    tracing::info!(%peer, route = %target.route.name, host = %target.host, "session open");
    let ctx = SessionCtx {
        limits: shared.limits.clone(),
        metrics: metrics.clone(),
        shutdown: shared.shutdown.clone(),
        first_packet: FirstPacketGate {
            bound_client_id: admitted.claims.and_then(|c| c.client_id),
            rate_limit: shared.connect_rate.clone().map(|l| (l, peer.ip())),
            metrics: metrics.clone(),
        },
    };
    relay::run_session(ws, target, ctx).await;
    metrics.sessions_open.dec();
    tracing::info!(%peer, "session closed");
    drop(permit);
}
