//! The HTTP request head and the WebSocket upgrade, done by hand so every refusal gets a
//! precise HTTP status (see the table in [`crate::close`]).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tungstenite::handshake::derive_accept_key;

/// Subprotocols answered, in order of preference.
pub const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Request target as sent (path and query).
    pub path: String,
    /// HTTP/1.x minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Bytes read after the head (a client may pipeline its first frames).
    pub leftover: Vec<u8>,
}

/// Why a request head could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// Larger than the cap, or too many headers (HTTP 431).
    #[error("request head too large")]
    TooLarge,
    /// Not HTTP/1.x (HTTP 400).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The peer closed before completing the head.
    #[error("connection closed during the request head")]
    Eof,
    /// Socket error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads and parses a request head of at most `cap` bytes.
pub async fn read_head<S: AsyncRead + Unpin>(
    s: &mut S,
    cap: usize,
) -> Result<RequestHead, HeadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(HeadError::Eof);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let head = RequestHead {
                    method: req.method.unwrap_or("").to_string(),
                    path: req.path.unwrap_or("").to_string(),
                    version: req.version.unwrap_or(0),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                    leftover: buf.get(len..).unwrap_or(&[]).to_vec(),
                };
                return Ok(head);
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() >= cap {
                    return Err(HeadError::TooLarge);
                }
            }
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
            Err(e) => return Err(HeadError::Malformed(e.to_string())),
        }
    }
}

impl RequestHead {
    /// First value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All comma-separated tokens of every occurrence of a header, trimmed.
    pub fn tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// The path without query string.
    pub fn path_only(&self) -> &str {
        self.path.split(['?', '#']).next().unwrap_or("")
    }
}

/// An HTTP refusal: status, reason phrase, text body, extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status code.
    pub status: u16,
    /// Plain-text body explaining the refusal.
    pub message: String,
    /// Extra response headers.
    pub headers: Vec<(&'static str, String)>,
}

impl Refusal {
    /// A refusal without extra headers.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }
}

/// What the upgrade check accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// `Sec-WebSocket-Accept` value.
    pub accept: String,
    /// Subprotocol chosen, spelled as the client offered it (RFC 6455 §4.1: the client fails
    /// the connection unless the answer is one of its own values).
    pub protocol: Option<String>,
}

/// Checks a WebSocket upgrade request (method, headers, version, subprotocol).
pub fn check_upgrade(head: &RequestHead) -> Result<Upgrade, Refusal> {
    if head.method != "GET" {
        let mut r = Refusal::new(405, "method not allowed: use GET to open a WebSocket");
        r.headers.push(("Allow", "GET".into()));
        return Err(r);
    }
    let upgrade = head
        .tokens("upgrade")
        .any(|t| t.eq_ignore_ascii_case("websocket"));
    let connection = head
        .tokens("connection")
        .any(|t| t.eq_ignore_ascii_case("upgrade"));
    if !upgrade || !connection {
        let mut r = Refusal::new(
            426,
            "upgrade required: this path serves MQTT over WebSockets only",
        );
        r.headers.push(("Upgrade", "websocket".into()));
        return Err(r);
    }
    // RFC 6455 §4.2.1 items 1 and 2: an HTTP/1.1 (or later) GET with a Host header.
    if head.version < 1 {
        return Err(Refusal::new(
            400,
            "a WebSocket upgrade needs HTTP/1.1 (RFC 6455 4.2.1)",
        ));
    }
    if head.header("host").map(str::trim).is_none_or(str::is_empty) {
        return Err(Refusal::new(400, "missing Host header (RFC 6455 4.2.1)"));
    }
    if head.header("sec-websocket-version").map(str::trim) != Some("13") {
        let mut r = Refusal::new(426, "unsupported WebSocket version: use 13");
        r.headers.push(("Sec-WebSocket-Version", "13".into()));
        return Err(r);
    }
    let key = head
        .header("sec-websocket-key")
        .map(str::trim)
        .filter(|k| is_websocket_key(k))
        .ok_or_else(|| {
            Refusal::new(
                400,
                "missing or invalid Sec-WebSocket-Key: it must be 16 bytes in base64 \
                 (RFC 6455 4.2.1)",
            )
        })?;
    let offered: Vec<&str> = head.tokens("sec-websocket-protocol").collect();
    let protocol = if offered.is_empty() {
        None
    } else {
        // Our preference order, the client's spelling: a client offering "MQTT" must get
        // "MQTT" back, or it fails the connection.
        let chosen = SUBPROTOCOLS
            .iter()
            .find_map(|p| offered.iter().find(|o| o.eq_ignore_ascii_case(p)));
        match chosen {
            Some(o) => Some(o.to_string()),
            None => {
                return Err(Refusal::new(
                    400,
                    format!(
                    "unsupported subprotocol {:?}: this bridge speaks \"mqtt\" (or \"mqttv3.1\")",
                    offered.join(", ")
                ),
                ))
            }
        }
    };
    Ok(Upgrade {
        accept: derive_accept_key(key.as_bytes()),
        protocol,
    })
}

/// RFC 6455 §4.2.1 item 5: the key is a nonce of 16 bytes, base64-encoded, so 22 characters of
/// the base64 alphabet and `==`.
fn is_websocket_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    bytes.len() == 24
        && bytes.ends_with(b"==")
        && bytes
            .iter()
            .take(22)
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// Writes the `101 Switching Protocols` answer.
pub async fn write_101<S: AsyncWrite + Unpin>(s: &mut S, up: &Upgrade) -> std::io::Result<()> {
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        up.accept
    );
    if let Some(p) = &up.protocol {
        r.push_str("Sec-WebSocket-Protocol: ");
        r.push_str(p);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    s.write_all(r.as_bytes()).await?;
    s.flush().await
}

/// Reason phrase for the statuses the bridge uses.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes a complete HTTP response and flushes it (the connection is closed afterwards).
pub async fn write_response<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: u16,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let mut r = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n",
        reason_phrase(status),
        body.len()
    );
    for (n, v) in headers {
        r.push_str(n);
        r.push_str(": ");
        r.push_str(v);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    s.write_all(r.as_bytes()).await?;
    if !head_only {
        s.write_all(body).await?;
    }
    s.flush().await
}

/// Writes a refusal as `text/plain`.
pub async fn write_refusal<S: AsyncWrite + Unpin>(s: &mut S, r: &Refusal) -> std::io::Result<()> {
    let body = format!("{}\n", r.message);
    write_response(
        s,
        r.status,
        "text/plain; charset=utf-8",
        &r.headers,
        body.as_bytes(),
        false,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(extra: &[(&str, &str)]) -> RequestHead {
        let mut headers = vec![
            ("upgrade".to_string(), "websocket".to_string()),
            ("connection".to_string(), "keep-alive, Upgrade".to_string()),
            ("sec-websocket-version".to_string(), "13".to_string()),
            ("host".to_string(), "bridge.test".to_string()),
            (
                "sec-websocket-key".to_string(),
                "dGhlIHNhbXBsZSBub25jZQ==".to_string(),
            ),
        ];
        headers.extend(extra.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        RequestHead {
            method: "GET".into(),
            path: "/mqtt".into(),
            version: 1,
            headers,
            leftover: vec![],
        }
    }

    #[test]
    fn accepts_mqtt_subprotocols() {
        let u = check_upgrade(&head(&[("sec-websocket-protocol", "mqtt")])).unwrap();
        assert_eq!(u.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(u.protocol.as_deref(), Some("mqtt"));
        let u = check_upgrade(&head(&[("sec-websocket-protocol", "foo, mqttv3.1")])).unwrap();
        assert_eq!(u.protocol.as_deref(), Some("mqttv3.1"));
        assert_eq!(check_upgrade(&head(&[])).unwrap().protocol, None);
    }

    /// RFC 6455 §4.1: the client fails the connection unless the server answers one of the
    /// values it offered, as it spelled it.
    #[test]
    fn the_subprotocol_is_echoed_as_offered() {
        let u = check_upgrade(&head(&[("sec-websocket-protocol", "MQTT")])).unwrap();
        assert_eq!(u.protocol.as_deref(), Some("MQTT"));
        let u = check_upgrade(&head(&[("sec-websocket-protocol", "MQTTv3.1, Mqtt")])).unwrap();
        assert_eq!(
            u.protocol.as_deref(),
            Some("Mqtt"),
            "our preference, their spelling"
        );
    }

    /// RFC 6455 §4.2.1: HTTP/1.1 or later, a Host header, and a key that is 16 bytes in base64.
    #[test]
    fn handshakes_outside_rfc_6455_are_refused() {
        let with_key = |key: &str| {
            let mut h = head(&[]);
            h.headers.retain(|(n, _)| n != "sec-websocket-key");
            h.headers.push(("sec-websocket-key".into(), key.into()));
            check_upgrade(&h)
        };
        for bad in [
            "short==",
            "dGhlIHNhbXBsZSBub25jZQ",
            "dGhlIHNhbXBsZSBub25jZQ!=",
            "dGhlIHNhbXBsZSBub25j*Q==",
            "dGhlIHNhbXBsZSBub25jZQAA",
        ] {
            assert_eq!(with_key(bad).unwrap_err().status, 400, "{bad}");
        }
        assert!(with_key("AAAAAAAAAAAAAAAAAAAAAA==").is_ok());
        let mut no_host = head(&[]);
        no_host.headers.retain(|(n, _)| n != "host");
        assert_eq!(check_upgrade(&no_host).unwrap_err().status, 400);
        let mut http10 = head(&[]);
        http10.version = 0;
        assert_eq!(check_upgrade(&http10).unwrap_err().status, 400);
    }

    #[test]
    fn refusals_have_statuses() {
        assert_eq!(
            check_upgrade(&head(&[("sec-websocket-protocol", "chat")]))
                .unwrap_err()
                .status,
            400
        );
        let mut h = head(&[]);
        h.headers.retain(|(n, _)| n != "upgrade");
        assert_eq!(check_upgrade(&h).unwrap_err().status, 426);
        let mut h = head(&[]);
        h.method = "POST".into();
        assert_eq!(check_upgrade(&h).unwrap_err().status, 405);
    }

    #[tokio::test]
    async fn reads_head_with_cap() {
        let data = b"GET /x?y HTTP/1.1\r\nHost: a\r\n\r\nEXTRA".to_vec();
        let mut r = &data[..];
        let h = read_head(&mut r, 8192).await.unwrap();
        assert_eq!(h.path_only(), "/x");
        assert_eq!(h.header("host"), Some("a"));
        assert_eq!(h.leftover, b"EXTRA");
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(10_000));
        let mut r = big.as_bytes();
        assert!(matches!(
            read_head(&mut r, 4096).await,
            Err(HeadError::TooLarge)
        ));
        let mut r = &b"\x16\x03\x01garbage\r\n\r\n"[..];
        assert!(matches!(
            read_head(&mut r, 4096).await,
            Err(HeadError::Malformed(_))
        ));
    }
}
