//! Plain HTTP answers on the bridge's listener: `/healthz`, `/metrics` and static files.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;

use super::{refuse, Shared};
use crate::handshake::{self, Refusal, RequestHead};
use crate::metrics;
use crate::static_files::{self, StaticResult};

/// `/healthz` (503 while shutting down) and `/metrics`.
pub(super) async fn serve_observability<S>(s: &mut S, path: &str, head_only: bool, shared: &Shared)
where
    S: AsyncWrite + Unpin,
{
    const PLAIN: &str = "text/plain; charset=utf-8";
    let (status, ctype, body) = match path {
        "/healthz" if *shared.shutdown.borrow() => (503, PLAIN, "shutting down\n".to_string()),
        "/healthz" => (200, PLAIN, "ok\n".to_string()),
        _ => (200, metrics::CONTENT_TYPE, shared.metrics.render()),
    };
    let _ = timeout(
        Duration::from_secs(5),
        handshake::write_response(s, status, ctype, &[], body.as_bytes(), head_only),
    )
    .await;
}

/// A file of the static folder, if one is served (GET and HEAD only).
pub(super) async fn serve_static<S>(s: &mut S, head: &RequestHead, shared: &Shared)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let metrics = &shared.metrics;
    let head_only = head.method == "HEAD";
    let Some(dir) = shared.static_dir.clone() else {
        return refuse(s, Refusal::new(404, "not found"), metrics).await;
    };
    if head.method != "GET" && !head_only {
        let mut r = Refusal::new(405, "method not allowed");
        r.headers.push(("Allow", "GET, HEAD".into()));
        return refuse(s, r, metrics).await;
    }
    let req_path = head.path.clone();
    let found = tokio::task::spawn_blocking(move || static_files::lookup(&dir, &req_path)).await;
    let refusal = match found {
        Ok(StaticResult::Found { body, content_type }) => {
            let _ = timeout(
                Duration::from_secs(60),
                handshake::write_response(s, 200, content_type, &[], &body, head_only),
            )
            .await;
            return;
        }
        Ok(StaticResult::NotFound) => Refusal::new(404, "not found"),
        Ok(StaticResult::BadPath) => Refusal::new(400, "bad path"),
        Err(_) => Refusal::new(500, "internal error"),
    };
    refuse(s, refusal, metrics).await;
}
