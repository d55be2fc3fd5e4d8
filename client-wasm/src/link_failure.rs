//! How an edge transport's report of a link that ended (the `LinkFailure` object of
//! `client-wasm/js/index.d.ts`) becomes the session's [`TransportFailure`], which decides the
//! retry and the error a user sees. Pure, so it builds and is tested natively.

use mqtt_core::wire::tls::TlsFailure;
use mqtt_core::TransportFailure;

use crate::close;

/// What a JavaScript transport reports when its link ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFailure {
    /// `dropped`, `closed`, `handshake_refused`, `unreachable`, `tls`, `timeout` or `setup`;
    /// empty when the transport gave no reason.
    pub kind: String,
    /// The runtime's words, for people.
    pub message: String,
    /// Kind `closed`: the WebSocket close frame's code and reason.
    pub close: Option<(u16, String)>,
    /// Kind `tls`: which check failed ([`TlsFailure::code`]).
    pub tls: Option<String>,
}

impl LinkFailure {
    /// The session's failure; `opened` says whether the link had reported `open`.
    pub fn into_transport_failure(self, opened: bool) -> TransportFailure {
        let LinkFailure {
            kind,
            message,
            close,
            tls,
        } = self;
        let or = |fallback: &str| {
            if message.is_empty() {
                fallback.to_string()
            } else {
                message.clone()
            }
        };
        match kind.as_str() {
            "closed" => match close {
                Some((code, reason)) => close::failure(code, &reason, opened),
                None => close::failure(mqtt_core::wire::close::ABNORMAL, "", opened),
            },
            "handshake_refused" => {
                TransportFailure::HandshakeRefused(or("the WebSocket upgrade was refused"))
            }
            "unreachable" => TransportFailure::Unreachable(or("the broker could not be reached")),
            "timeout" => TransportFailure::Unreachable(or("the connection timed out")),
            "setup" => TransportFailure::Setup(or("the connection could not be set up")),
            "tls" => match tls.as_deref().and_then(TlsFailure::from_code) {
                Some(kind) if kind.is_verification() => TransportFailure::TlsVerification {
                    kind,
                    detail: or(kind.summary()),
                },
                Some(TlsFailure::ClientCertRefused) => TransportFailure::TlsClientCertRefused(or(
                    TlsFailure::ClientCertRefused.summary(),
                )),
                _ => TransportFailure::TlsHandshake(or("the TLS handshake failed")),
            },
            // "dropped", and what a transport did not name.
            _ if opened => TransportFailure::Dropped(or("the connection was closed")),
            _ => TransportFailure::Unreachable(or("the connection closed before it opened")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: &str) -> LinkFailure {
        LinkFailure {
            kind: kind.into(),
            message: "words".into(),
            ..LinkFailure::default()
        }
    }

    /// Each kind lands on the failure whose retry rule fits it: a refused certificate is not
    /// retried, a drop or an unreachable broker is.
    #[test]
    fn each_kind_maps_onto_its_failure_and_retry_rule() {
        let tls = LinkFailure {
            tls: Some("unknown_issuer".into()),
            ..failure("tls")
        };
        assert_eq!(
            tls.into_transport_failure(false),
            TransportFailure::TlsVerification {
                kind: TlsFailure::UnknownIssuer,
                detail: "words".into()
            }
        );
        let alert = LinkFailure {
            tls: Some("handshake_failed".into()),
            ..failure("tls")
        };
        assert!(matches!(
            alert.into_transport_failure(false),
            TransportFailure::TlsHandshake(_)
        ));
        let refused = LinkFailure {
            tls: Some("client_cert_refused".into()),
            ..failure("tls")
        }
        .into_transport_failure(true);
        assert_eq!(
            refused,
            TransportFailure::TlsClientCertRefused("words".into())
        );
        assert_eq!(refused.tls_failure(), Some(TlsFailure::ClientCertRefused));
        assert!(!refused.is_retried());
        let unnamed_tls = failure("tls").into_transport_failure(false);
        assert!(!unnamed_tls.is_retried());
        for kind in ["unreachable", "timeout", "handshake_refused"] {
            assert!(
                failure(kind).into_transport_failure(false).is_retried(),
                "{kind}"
            );
        }
        assert!(matches!(
            failure("dropped").into_transport_failure(true),
            TransportFailure::Dropped(_)
        ));
        assert!(matches!(
            failure("setup").into_transport_failure(false),
            TransportFailure::Setup(_)
        ));
    }

    /// A WebSocket close frame keeps its code, and the bridge's codes their retry rule
    /// (4010: unknown issuer, not retried); a close with no frame after open is a drop.
    #[test]
    fn a_close_frame_keeps_its_code() {
        let closed = LinkFailure {
            close: Some((4010, String::new())),
            ..failure("closed")
        };
        let failure_4010 = closed.into_transport_failure(true);
        assert_eq!(failure_4010.code(), "closed");
        assert!(!failure_4010.is_retried());
        let no_frame = LinkFailure {
            close: Some((1006, String::new())),
            ..failure("closed")
        };
        assert!(matches!(
            no_frame.into_transport_failure(true),
            TransportFailure::Dropped(_)
        ));
    }

    /// A transport that names nothing: a drop once open, unreachable before.
    #[test]
    fn an_unnamed_end_is_a_drop_or_unreachable() {
        let none = LinkFailure::default();
        assert!(matches!(
            none.clone().into_transport_failure(true),
            TransportFailure::Dropped(_)
        ));
        assert!(matches!(
            none.into_transport_failure(false),
            TransportFailure::Unreachable(_)
        ));
    }
}
