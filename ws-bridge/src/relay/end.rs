//! How a session ends, and the small helpers both directions share.

use std::future::Future;
use std::task::Poll;

use crate::close::{self, Close};
use crate::framer::FrameError;

/// How a session ended.
#[derive(Debug)]
pub(super) enum End {
    /// We close with this code.
    Close(Close),
    /// The browser closed (or vanished); nothing more to send but the close reply.
    BrowserGone,
}

pub(super) fn too_large(e: FrameError, direction: &str) -> End {
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
pub(super) async fn ready_now<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}
