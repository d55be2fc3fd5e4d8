//! A browser `CloseEvent` as the session's [`TransportFailure`]. The codes, their retry rule and
//! the default reasons are `mqtt_core::wire::close`'s; this module only tells a close frame from
//! a WebSocket that never opened or dropped. Pure, so it also builds natively for the
//! close-code contract test (`tests/tests/close_contract.rs`).

use mqtt_core::wire::close;
use mqtt_core::TransportFailure;

/// The failure a `CloseEvent` with `code` and `reason` reports. `opened` says whether the
/// WebSocket ever reached `open`.
pub fn failure(code: u16, reason: &str, opened: bool) -> TransportFailure {
    match code {
        // 0 is not a close code; a browser should never report it, but if one does it is a drop.
        close::NO_STATUS | close::ABNORMAL | 0 if opened => TransportFailure::Dropped(format!(
            "connection dropped (WebSocket close {code}, no close frame)"
        )),
        close::NO_STATUS | close::ABNORMAL | 0 => TransportFailure::HandshakeRefused(format!(
            "WebSocket handshake failed (close {code}): the bridge refused the upgrade \
             (e.g. HTTP 401 admission token refused, 403 Origin not allowed or 404 unknown \
             route; browsers hide the status) or it is unreachable"
        )),
        _ => TransportFailure::closed(code, reason),
    }
}

/// The close code and reason the browser sends when the server sent a text frame.
pub const TEXT_FRAME_REFUSED: (u16, &str) = (close::CLIENT_TEXT_FRAME, "text frames are not MQTT");

/// Whether a page may pass `code` to `WebSocket.close` (WHATWG WebSockets, `close()` step 1:
/// otherwise it throws `InvalidAccessError` and the peer sees 1005).
pub fn page_may_send(code: u16) -> bool {
    code == close::NORMAL || (3000..=4999).contains(&code)
}

/// Whether the browser adapter reconnects after a `CloseEvent` with `code` on an open socket.
pub fn is_retried(code: u16) -> bool {
    failure(code, "", true).is_retried()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// 1002 used to be retried here, while the CLI stopped: the one rule in `wire::close` makes
    /// it permanent (the bridge sends it for bytes the client itself produced).
    #[test]
    fn refusals_are_permanent_and_outages_are_retried() {
        for code in [
            1002, 1003, 1008, 1009, 4001, 4003, 4010, 4016, 4400, 4401, 4499,
        ] {
            assert!(!is_retried(code), "{code}");
        }
        for code in [1000, 1001, 1011, 1014, 4000, 4029, 4502] {
            assert!(is_retried(code), "{code}");
        }
    }

    /// Issue 16: the adapter called `close(1003, ...)`, which throws; the peer saw 1005.
    #[test]
    fn codes_the_browser_sends_are_ones_the_websocket_api_allows() {
        assert!(
            page_may_send(TEXT_FRAME_REFUSED.0),
            "{TEXT_FRAME_REFUSED:?}"
        );
        assert!(TEXT_FRAME_REFUSED.1.len() <= close::MAX_REASON_BYTES);
        assert!(!page_may_send(close::UNSUPPORTED_DATA));
    }

    #[test]
    fn a_failed_handshake_says_so() {
        match failure(1006, "", false) {
            TransportFailure::HandshakeRefused(text) => {
                assert!(text.contains("handshake failed") && text.contains("403"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            failure(4001, "", true),
            TransportFailure::Closed {
                code: 4001,
                reason: "route unknown".into(),
            }
        );
        assert!(!failure(4001, "", true).is_retried());
    }
}
