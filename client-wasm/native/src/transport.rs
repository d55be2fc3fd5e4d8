//! The four native transports: TCP, TLS, WebSocket and WebSocket over TLS.
//!
//! [`Connector::open`] dials and does the TLS and WebSocket handshakes; a [`Transport`] then
//! moves bytes. WebSocket messages are binary; ping/pong are answered by tungstenite and not
//! reported; a close frame becomes [`Incoming::Closed`] with its code and reason.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mqtt_tls::{server_name, ClientCertOffer, TlsOptions};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use super::errors::{ConfigError, TransportError};
use super::url::{BrokerUrl, ConnectTo};

/// The largest WebSocket message accepted from the broker (MQTT's own limit is enforced by the
/// session's `max_incoming_packet`).
const MAX_WS_MESSAGE: usize = 16 << 20;

/// TCP, or TLS over TCP.
#[derive(Debug)]
pub enum ByteStream {
    /// Plain TCP (`mqtt://`, `ws://`).
    Tcp(TcpStream),
    /// TLS over TCP, handshake done (`mqtts://`, `wss://`).
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for ByteStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            ByteStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ByteStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ByteStream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            ByteStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(s) => Pin::new(s).poll_flush(cx),
            ByteStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ByteStream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            ByteStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What a transport read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Bytes from the broker: a TCP read, or one binary WebSocket message.
    Bytes(Vec<u8>),
    /// The peer sent a WebSocket close frame.
    Closed {
        /// The close code (RFC 6455 §7.4; 4000-4999 are ws-bridge's).
        code: u16,
        /// The close frame's reason text, possibly empty.
        reason: String,
    },
    /// The peer closed the connection without a close frame.
    Eof,
}

/// An open connection to the broker.
#[derive(Debug)]
pub enum Transport {
    /// `mqtt://` and `mqtts://`.
    Stream {
        /// The TCP or TLS stream.
        stream: ByteStream,
        /// The URL's host, the TLS server name, for error messages.
        server: String,
        /// Whether a client certificate was presented (sorts a refusal alert).
        offer: ClientCertOffer,
        /// The read buffer, kept between reads.
        buf: Vec<u8>,
    },
    /// `ws://` and `wss://`.
    WebSocket {
        /// The WebSocket, its handshake done, over TCP or TLS.
        ws: Box<WebSocketStream<ByteStream>>,
        /// The URL's host, the TLS server name, for error messages.
        server: String,
        /// Whether a client certificate was presented (sorts a refusal alert).
        offer: ClientCertOffer,
    },
}

impl Transport {
    /// Reads what arrives next. Cancel-safe: nothing is lost if the future is dropped.
    pub async fn recv(&mut self) -> Result<Incoming, TransportError> {
        match self {
            Transport::Stream {
                stream,
                server,
                offer,
                buf,
            } => {
                if buf.len() < 16 * 1024 {
                    buf.resize(16 * 1024, 0);
                }
                match stream.read(buf).await {
                    Ok(0) => Ok(Incoming::Eof),
                    Ok(n) => Ok(Incoming::Bytes(buf.get(..n).unwrap_or_default().to_vec())),
                    Err(e) => Err(io_error(server, &e, *offer)),
                }
            }
            Transport::WebSocket { ws, server, offer } => loop {
                match ws.next().await {
                    None => return Ok(Incoming::Eof),
                    Some(Ok(Message::Binary(bytes))) => return Ok(Incoming::Bytes(bytes.to_vec())),
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = match frame {
                            Some(f) => (u16::from(f.code), f.reason.to_string()),
                            None => (1005, String::new()),
                        };
                        return Ok(Incoming::Closed { code, reason });
                    }
                    Some(Ok(Message::Text(_))) => {
                        return Err(TransportError::WebSocket(
                            "text message received; MQTT needs binary".into(),
                        ))
                    }
                    Some(Ok(_)) => continue, // ping, pong (answered by tungstenite), raw frames
                    Some(Err(e)) => return Err(ws_error(server, e, *offer)),
                }
            },
        }
    }

    /// Writes bytes (one or more whole MQTT packets) and flushes them.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        match self {
            Transport::Stream {
                stream,
                server,
                offer,
                ..
            } => {
                let result = async {
                    stream.write_all(bytes).await?;
                    stream.flush().await
                }
                .await;
                result.map_err(|e| io_error(server, &e, *offer))
            }
            Transport::WebSocket { ws, server, offer } => ws
                .send(Message::binary(bytes.to_vec()))
                .await
                .map_err(|e| ws_error(server, e, *offer)),
        }
    }

    /// Closes gracefully (WebSocket close frame, TLS close_notify, TCP FIN), bounded in time.
    pub async fn close(mut self) {
        let graceful = async {
            match &mut self {
                Transport::Stream { stream, .. } => {
                    let _ = stream.shutdown().await;
                }
                Transport::WebSocket { ws, .. } => {
                    // The inherent close (sends a close frame), named: once `Box<_>` is a
                    // `Sink` (futures' `alloc` feature), `ws.close` would resolve to `SinkExt`.
                    let _ = WebSocketStream::close(ws, None).await;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), graceful).await;
    }
}

fn io_error(server: &str, error: &io::Error, offer: ClientCertOffer) -> TransportError {
    let from_tls = error
        .get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync + 'static>::is::<rustls::Error>);
    if from_tls {
        TransportError::from_tls_io(server, error, offer)
    } else {
        TransportError::Io(error.to_string())
    }
}

fn ws_error(server: &str, error: tungstenite::Error, offer: ClientCertOffer) -> TransportError {
    match error {
        tungstenite::Error::Io(e) => io_error(server, &e, offer),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            TransportError::Io("connection closed".into())
        }
        tungstenite::Error::Http(response) => TransportError::WebSocketHandshake(format!(
            "server answered HTTP {}",
            response.status()
        )),
        other => TransportError::WebSocket(other.to_string()),
    }
}

/// Knows how to open a transport to one broker.
#[derive(Clone)]
pub struct Connector {
    url: BrokerUrl,
    connect_to: Option<ConnectTo>,
    tls: Option<Arc<ClientConfig>>,
    subprotocol: bool,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("url", &self.url)
            .field("connect_to", &self.connect_to)
            .finish()
    }
}

impl Connector {
    /// Reads the TLS files now (for `mqtts`/`wss`), so configuration errors show before dialling.
    pub fn new(
        url: BrokerUrl,
        tls: &TlsOptions,
        connect_to: Option<ConnectTo>,
    ) -> Result<Self, ConfigError> {
        let tls = if url.scheme.is_tls() {
            server_name(&url.host)?;
            Some(tls.client_config()?)
        } else {
            None
        };
        Ok(Self {
            url,
            connect_to,
            tls,
            subprotocol: true,
        })
    }

    /// Leaves out `Sec-WebSocket-Protocol: mqtt` (for relays such as websockify that refuse it).
    pub fn without_subprotocol(mut self) -> Self {
        self.subprotocol = false;
        self
    }

    /// The broker URL it connects to.
    pub fn url(&self) -> &BrokerUrl {
        &self.url
    }

    /// Dials, then does the TLS and WebSocket handshakes.
    pub async fn open(&self) -> Result<Transport, TransportError> {
        let (host, port) = match &self.connect_to {
            Some(c) => (c.host.as_str(), c.port),
            None => (self.url.host.as_str(), self.url.port),
        };
        let tcp = dial(host, port).await?;
        let _ = tcp.set_nodelay(true);
        let server = self.url.host.clone();
        let offer = self
            .tls
            .as_deref()
            .map_or(ClientCertOffer::None, ClientCertOffer::of);
        let stream = match &self.tls {
            None => ByteStream::Tcp(tcp),
            Some(config) => {
                let name = server_name(&server).map_err(|e| TransportError::Config(e.into()))?;
                let tls = TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| TransportError::from_tls_io(&server, &e, offer))?;
                ByteStream::Tls(Box::new(tls))
            }
        };
        if !self.url.scheme.is_websocket() {
            return Ok(Transport::Stream {
                stream,
                server,
                offer,
                buf: Vec::new(),
            });
        }
        let mut request = self
            .url
            .websocket_uri()
            .into_client_request()
            .map_err(|e| TransportError::WebSocketHandshake(e.to_string()))?;
        if self.subprotocol {
            let mqtt = HeaderValue::from_static("mqtt");
            request.headers_mut().insert("Sec-WebSocket-Protocol", mqtt);
        }
        let config = WebSocketConfig::default().max_message_size(Some(MAX_WS_MESSAGE));
        let (ws, response) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(|e| match ws_error(&server, e, offer) {
                    TransportError::WebSocket(m) => TransportError::WebSocketHandshake(m),
                    other => other,
                })?;
        let protocol = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        if protocol.is_some_and(|p| !p.eq_ignore_ascii_case("mqtt")) {
            return Err(TransportError::WebSocketHandshake(format!(
                "server chose subprotocol {:?}, not mqtt",
                protocol.unwrap_or_default()
            )));
        }
        Ok(Transport::WebSocket {
            ws: Box::new(ws),
            server,
            offer,
        })
    }
}

async fn dial(host: &str, port: u16) -> Result<TcpStream, TransportError> {
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| TransportError::Dns {
            host: host.into(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(TransportError::Dns {
            host: host.into(),
            reason: "no address found".into(),
        });
    }
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some((addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
            TransportError::Refused {
                addr: addr.to_string(),
            }
        }
        Some((addr, e)) => TransportError::Connect {
            addr: addr.to_string(),
            reason: e.to_string(),
        },
        None => TransportError::Dns {
            host: host.into(),
            reason: "no address found".into(),
        },
    })
}
