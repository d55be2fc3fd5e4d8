//! WebSocket close codes from the bridge (see `ws-bridge/src/close.rs`) mapped to the session's
//! `handle_transport_close_frame(now, code, reason, retry)`.

/// What the browser transport tells the session about a closed WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Closed {
    /// A close frame with a code the bridge (or broker front end) chose.
    Frame {
        code: u16,
        reason: String,
        retry: bool,
    },
    /// No close frame (1005, 1006): the handshake failed or the connection dropped.
    Dropped(String),
}

/// Whether reconnecting may succeed after the peer closed with `code`.
///
/// Permanent: 1003 (text frames), 1008 (policy), 1009 (too large), 1010 (extension), 4001 route
/// unknown, 4003 Origin not allowed, 4010..=4016 TLS verification or handshake with the upstream
/// failed, and the whole 4400..=4499 range (refusals, by analogy with HTTP 4xx). Everything else
/// (1000, 1001 going away, 1002, 1011, 1012, 1013, 1014, 4000 ping timeout, 4502 upstream
/// unreachable, ...) is retried with backoff.
pub fn close_code_is_retried(code: u16) -> bool {
    !matches!(code, 1003 | 1008 | 1009 | 1010 | 4001 | 4003 | 4010..=4016 | 4400..=4499)
}

/// Classifies a `CloseEvent`. `opened` says whether the WebSocket ever reached `open`.
pub(crate) fn classify(code: u16, reason: &str, opened: bool) -> Closed {
    match code {
        1005 | 1006 | 0 => Closed::Dropped(if opened {
            format!("connection dropped (WebSocket close {code}, no close frame)")
        } else {
            format!(
                "WebSocket handshake failed (close {code}): the bridge refused the upgrade \
                 (e.g. HTTP 403 Origin not allowed or 404 unknown route; browsers hide the \
                 status) or it is unreachable"
            )
        }),
        _ => {
            let reason = if reason.is_empty() {
                default_reason(code).to_string()
            } else {
                reason.to_string()
            };
            Closed::Frame {
                code,
                reason,
                retry: close_code_is_retried(code),
            }
        }
    }
}

fn default_reason(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1008 => "policy violation",
        1009 => "message too big",
        1011 => "internal error",
        1014 => "bad gateway",
        4001 => "route unknown",
        4003 => "origin not allowed",
        4502 => "upstream unreachable",
        _ => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn refusals_are_permanent_and_outages_are_retried() {
        for code in [1003, 1008, 1009, 4001, 4003, 4010, 4016, 4400, 4499] {
            assert!(!close_code_is_retried(code), "{code}");
        }
        for code in [1000, 1001, 1002, 1011, 1014, 4000, 4502] {
            assert!(close_code_is_retried(code), "{code}");
        }
    }

    #[test]
    fn a_failed_handshake_says_so() {
        match classify(1006, "", false) {
            Closed::Dropped(text) => {
                assert!(text.contains("handshake failed") && text.contains("403"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify(4001, "", true),
            Closed::Frame {
                code: 4001,
                reason: "route unknown".into(),
                retry: false
            }
        );
    }
}
