//! Plain HTTP/1.1 requests to the bridge (health, metrics, refusals before the upgrade).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends a raw HTTP/1.1 request to `addr` and returns (status, body). Panics on timeout.
pub async fn http_request(addr: SocketAddr, raw: &str) -> (u16, Vec<u8>) {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(raw.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        let text = String::from_utf8_lossy(&buf);
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
        let body = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| buf[i + 4..].to_vec())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .expect("HTTP request timed out")
}

/// `GET path` and return (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    http_request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await
}
