//! WebSocket clients of the bridge: connecting with chosen headers, refusals, close frames, and
//! raw MQTT packets carried in binary messages.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Response;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::Message;

use super::mqtt;
use super::stream::{client_tls, ClientStream};

/// A WebSocket client connection.
pub type Ws = WebSocketStream<ClientStream>;

/// Options for [`ws_connect`].
#[derive(Debug, Clone)]
pub struct WsOptions {
    /// `Origin` header, if any.
    pub origin: Option<String>,
    /// `Sec-WebSocket-Protocol` offered (default `mqtt`; `None`: no header).
    pub subprotocol: Option<String>,
    /// CA to trust for `wss://` (the server name checked is the URL's host).
    pub ca: Option<PathBuf>,
    /// Client-side read buffer (small values make a slow reader slower).
    pub read_buffer: Option<usize>,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            origin: None,
            subprotocol: Some("mqtt".into()),
            ca: None,
            read_buffer: None,
        }
    }
}

/// Opens a WebSocket (`ws://` or `wss://`) to the bridge. A refused upgrade comes back as
/// `Err(tungstenite::Error::Http(response))` carrying the HTTP status.
pub async fn ws_connect(url: &str, opts: &WsOptions) -> Result<(Ws, Response), tungstenite::Error> {
    let mut req = url.into_client_request()?;
    if let Some(o) = &opts.origin {
        req.headers_mut()
            .insert("Origin", HeaderValue::from_str(o).expect("origin header"));
    }
    if let Some(p) = &opts.subprotocol {
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(p).expect("protocol header"),
        );
    }
    let host = req.uri().host().unwrap_or("127.0.0.1").to_string();
    let port = req.uri().port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    let _ = tcp.set_nodelay(true);
    let stream = if req.uri().scheme_str() == Some("wss") {
        let ca = opts.ca.as_ref().expect("wss needs WsOptions::ca");
        let connector = tokio_rustls::TlsConnector::from(client_tls(ca, None));
        let name = ServerName::try_from(host.clone()).expect("server name");
        ClientStream::Tls(Box::new(connector.connect(name, tcp).await?))
    } else {
        ClientStream::Plain(tcp)
    };
    let mut cfg = WebSocketConfig::default();
    if let Some(n) = opts.read_buffer {
        cfg = cfg.read_buffer_size(n).write_buffer_size(n);
    }
    tokio_tungstenite::client_async_with_config(req, stream, Some(cfg)).await
}

/// The HTTP status of a refused upgrade (panics if the upgrade succeeded or failed otherwise).
pub fn refused_status(r: Result<(Ws, Response), tungstenite::Error>) -> u16 {
    match r {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got error {e}"),
        Ok(_) => panic!("expected an HTTP refusal, but the upgrade succeeded"),
    }
}

/// Reads until the server's close frame; returns (code, reason). Data messages are skipped.
/// Panics if none arrives within `timeout` or the connection drops without one.
pub async fn expect_close(ws: &mut Ws, timeout: Duration) -> (u16, String) {
    let r = tokio::time::timeout(timeout, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(f)))) => {
                    return (u16::from(f.code), f.reason.to_string())
                }
                Some(Ok(Message::Close(None))) => return (1005, String::new()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("connection failed before a close frame: {e}"),
                None => panic!("connection ended without a close frame"),
            }
        }
    })
    .await;
    r.unwrap_or_else(|_| panic!("no close frame within {timeout:?}"))
}

/// Sends raw bytes as one binary message.
pub async fn send_bin(ws: &mut Ws, bytes: Vec<u8>) {
    ws.send(Message::Binary(bytes.into())).await.expect("send");
}

/// Reads binary messages until `n` whole MQTT packets arrived (each message must hold whole
/// packets); returns them. Panics after `timeout`.
pub async fn read_packets(ws: &mut Ws, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    tokio::time::timeout(timeout, async {
        while out.len() < n {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => {
                    let pk = mqtt::split_packets(&b).expect("messages carry whole packets");
                    out.extend(pk);
                }
                Some(Ok(Message::Close(f))) => panic!("closed while reading packets: {f:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("read failed: {e}"),
                None => panic!("connection ended"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "{n} packets not received within {timeout:?} (got {})",
            out.len()
        )
    });
    out
}
