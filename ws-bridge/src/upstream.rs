//! Dialling the upstream broker: TCP connect, then TLS with SNI and certificate verification.
//! Failures map to the close codes of [`crate::close`], naming the check that failed.

use std::io;
use std::time::{Duration, Instant};

use mqtt_tls::{ClientCertOffer, HandshakeError, TlsVerifyError};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::close::{self, Close};
use crate::metrics::Metrics;
use crate::readahead::ReadAhead;
use crate::route::Target;

/// Why the upstream could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// Name resolution or TCP connect failed.
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    /// TCP connect plus TLS handshake took longer than the connect timeout.
    #[error("upstream unreachable: connect timed out after {0:?}")]
    Timeout(Duration),
    /// The broker's certificate failed verification.
    #[error("TLS verification failed: {reason}")]
    Verification {
        /// Close code naming the check ([`close::TLS_UNKNOWN_ISSUER`] ...).
        code: u16,
        /// Human-readable reason.
        reason: String,
    },
    /// The TLS handshake failed otherwise (alert, protocol mismatch, connection reset).
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// The broker refused the route's client certificate, or wanted one (close 4017).
    #[error("TLS client certificate refused: {0}")]
    ClientCertRefused(String),
}

impl UpstreamError {
    /// The close code and reason sent to the browser.
    pub fn to_close(&self) -> Close {
        let code = match self {
            UpstreamError::Unreachable(_) | UpstreamError::Timeout(_) => {
                close::UPSTREAM_UNREACHABLE
            }
            UpstreamError::Verification { code, .. } => *code,
            UpstreamError::Handshake(_) => close::TLS_HANDSHAKE_FAILED,
            UpstreamError::ClientCertRefused(_) => close::TLS_CLIENT_CERT_REFUSED,
        };
        Close::new(code, self.to_string())
    }
}

/// Sorts a TLS failure with mqtt_tls's one rustls classification; the reason is the bridge's own
/// short text (a close reason holds at most 123 bytes).
fn classify_tls(err: io::Error, sni: &str, offer: ClientCertOffer) -> UpstreamError {
    match HandshakeError::from_io(sni, &err, offer) {
        None => UpstreamError::Handshake(err.to_string()),
        Some(HandshakeError::Verification(verify)) => UpstreamError::Verification {
            code: verify.kind().close_code(),
            reason: match &verify {
                TlsVerifyError::NameMismatch { .. } => format!("certificate not valid for {sni}"),
                TlsVerifyError::Other { detail, .. } => detail.clone(),
                other => other.kind().summary().to_string(),
            },
        },
        Some(HandshakeError::Refused(alert)) => {
            UpstreamError::Handshake(format!("broker sent alert {alert:?}"))
        }
        Some(HandshakeError::ClientCertRefused(alert)) => {
            UpstreamError::ClientCertRefused(format!("broker sent alert {alert:?}"))
        }
        Some(other) => UpstreamError::Handshake(other.to_string()),
    }
}

/// Connects to the target and completes the TLS handshake within `timeout`.
pub async fn dial(
    target: &Target,
    timeout: Duration,
    metrics: &Metrics,
) -> Result<TlsStream<ReadAhead<TcpStream>>, UpstreamError> {
    let start = Instant::now();
    let work = async {
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| {
                UpstreamError::Unreachable(format!("{}:{}: {e}", target.host, target.port))
            })?;
        let _ = tcp.set_nodelay(true);
        let connector = TlsConnector::from(target.route.tls.clone());
        connector
            .connect(target.sni.clone(), ReadAhead::new(tcp))
            .await
            .map_err(|e| {
                let offer = ClientCertOffer::of(&target.route.tls);
                classify_tls(e, target.sni.to_str().as_ref(), offer)
            })
    };
    let stream = tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| UpstreamError::Timeout(timeout))??;
    metrics.connect_latency(start.elapsed());
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    use rustls::CertificateError;

    /// The close code and reason for a certificate error, as the bridge reports it.
    fn classify_certificate_error(e: &CertificateError, sni: &str) -> (u16, String) {
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(e.clone()),
        );
        let close = classify_tls(io, sni, ClientCertOffer::None).to_close();
        (close.code, close.reason)
    }

    #[test]
    fn certificate_errors_name_the_check() {
        assert_eq!(
            classify_certificate_error(&CertificateError::UnknownIssuer, "x").0,
            close::TLS_UNKNOWN_ISSUER
        );
        let (c, r) = classify_certificate_error(&CertificateError::NotValidForName, "broker.test");
        assert_eq!(c, close::TLS_NAME_MISMATCH);
        assert!(r.contains("broker.test"));
        assert_eq!(
            classify_certificate_error(&CertificateError::Expired, "x").0,
            close::TLS_EXPIRED
        );
        assert_eq!(
            classify_certificate_error(&CertificateError::BadSignature, "x").0,
            close::TLS_BAD_CERTIFICATE
        );
        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
        );
        assert_eq!(
            classify_tls(alert, "x", ClientCertOffer::None)
                .to_close()
                .code,
            close::TLS_CLIENT_CERT_REFUSED
        );
        let unknown_ca = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA),
            )
        };
        let refused = classify_tls(unknown_ca(), "x", ClientCertOffer::Offered).to_close();
        assert_eq!(refused.code, close::TLS_CLIENT_CERT_REFUSED);
        assert_eq!(
            refused.reason,
            "TLS client certificate refused: broker sent alert UnknownCA"
        );
        assert_eq!(
            classify_tls(unknown_ca(), "x", ClientCertOffer::None)
                .to_close()
                .code,
            close::TLS_HANDSHAKE_FAILED
        );
        let e = UpstreamError::Unreachable("127.0.0.1:1: refused".into()).to_close();
        assert_eq!(e.code, close::UPSTREAM_UNREACHABLE);
        assert!(e.reason.starts_with("upstream unreachable: "));
    }
}
