//! `ws-bridge`: a hardened relay from MQTT over WebSockets (browsers) to MQTT over TLS (brokers).
//!
//! ```text
//!  browser --ws:// or wss://, subprotocol "mqtt"--> [ws-bridge] --TLS + SNI, :8883--> broker
//!            /mqtt/<route>[/<product>]                 routes come from configuration only
//! ```
//!
//! * The destination comes only from the configuration ([`config`]): named routes with host,
//!   port, SNI name, CA and optional client certificate; a route may be a template whose
//!   `{product}` comes from the URL and is validated (`^[a-z0-9]{1,32}$`). See [`route`].
//! * The relay ([`relay`]) is bounded both ways with backpressure; upstream bytes are re-framed
//!   ([`framer`]) so each WebSocket message carries whole MQTT packets, or a bounded piece of a
//!   large one; browser frames are read in bounded pieces ([`frame_cutter`]); packet size is
//!   capped in both directions, and memory per session does not grow with it.
//! * Optional admission ([`admission`]): a route may require a signed token (HMAC, expiry,
//!   route, optional client id), and a per-address CONNECT rate limit ([`rate_limit`]) slows
//!   password guessing.
//! * Every refusal has a precise HTTP status (before the upgrade) or WebSocket close code
//!   (after it): the table is in [`close`].
//! * `/healthz`, `/metrics` (Prometheus text, [`metrics`]) and an optional static folder
//!   ([`static_files`]) share the listener. Shutdown closes sessions with 1001 "going away"
//!   within a bounded drain time.
//!
//! In-process use (tests):
//! ```no_run
//! # async fn f(config: ws_bridge::Config) -> Result<(), ws_bridge::BridgeError> {
//! let (addr, handle) = ws_bridge::Bridge::bind(config).await?;
//! println!("ws://{addr}/mqtt");
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// `AsyncWrite` for a wrapper `$wrapper<S>` that only changes what is read: writes, flushes and
/// shutdowns go straight to its `inner` stream (`frame_cutter::CutFrames`, `readahead::ReadAhead`).
macro_rules! write_through_inner {
    ($wrapper:ident) => {
        impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for $wrapper<S> {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                data: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.get_mut().inner).poll_flush(cx)
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
            }
        }
    };
}

pub mod admission;
pub mod close;
pub mod config;
pub mod fd_budget;
pub mod frame_cutter;
pub mod framer;
pub mod handshake;
pub mod limits;
mod listener;
pub mod metrics;
pub mod pool;
pub mod rate_limit;
pub mod readahead;
pub mod relay;
pub mod route;
pub mod static_files;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use config::{AdmissionKeys, Config, ConfigError, Limits, RouteConfig, ServerTls};
pub use metrics::Metrics;

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The configuration (or a file it names) is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The IO error.
        source: std::io::Error,
    },
}

/// Starts bridges.
#[derive(Debug)]
pub struct Bridge;

/// A running bridge. Dropping it (or calling [`BridgeHandle::shutdown`]) shuts it down.
#[derive(Debug)]
pub struct BridgeHandle {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    metrics: Arc<Metrics>,
    tls: bool,
}

impl Bridge {
    /// Validates the configuration, loads its files, binds the listener and starts serving.
    /// Returns the bound address (useful with port 0) and the handle.
    pub async fn bind(config: Config) -> Result<(SocketAddr, BridgeHandle), BridgeError> {
        config.validate()?;
        let router = route::Router::new(&config)?;
        let tls = match &config.tls {
            Some(t) => Some(server_tls(t)?),
            None => None,
        };
        let listener = listen(config.listen).map_err(|source| BridgeError::Bind {
            addr: config.listen,
            source,
        })?;
        let local_addr = listener.local_addr().map_err(|source| BridgeError::Bind {
            addr: config.listen,
            source,
        })?;
        let (tx, rx) = watch::channel(false);
        let metrics = Arc::new(Metrics::default());
        let is_tls = tls.is_some();
        let shared = Arc::new(listener::Shared {
            router,
            limiter: limits::ConnLimiter::new(
                config.limits.max_connections,
                config.limits.max_connections_per_ip,
            ),
            connect_rate: rate_limit::ConnectRateLimiter::new(
                config.limits.connects_per_minute,
                config.limits.connect_burst,
                config.limits.connect_rate_max_addresses,
            )
            .map(Arc::new),
            limits: config.limits.clone(),
            metrics: metrics.clone(),
            static_dir: config.static_dir.clone(),
            observability: config.observability,
            refusals: listener::Shared::new_refusals(),
            tls,
            shutdown: rx,
        });
        let task = tokio::spawn(listener::accept_loop(listener, shared));
        tracing::info!(%local_addr, tls = is_tls, "listening");
        Ok((
            local_addr,
            BridgeHandle {
                local_addr,
                shutdown: tx,
                task,
                metrics,
                tls: is_tls,
            },
        ))
    }
}

/// Pending connections the kernel queues for `accept` (capped by `net.core.somaxconn`). The
/// standard library's 128 overflows when thousands of browsers reconnect at once (a bridge
/// restart): the excess SYNs are dropped and retried only after 1, 3, 7 s.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

fn server_tls(t: &ServerTls) -> Result<TlsAcceptor, ConfigError> {
    let certs = route::load_certs(&t.cert)?;
    let key = route::load_key(&t.key)?;
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(ConfigError::ServerTls)?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(ConfigError::ServerTls)?;
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

impl BridgeHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `ws://ADDR/mqtt` or `wss://ADDR/mqtt`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}{path}", self.local_addr)
    }

    /// The bridge's counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Stops accepting, closes sessions with 1001 "going away", and returns once they are
    /// closed or the drain time has passed.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the bridge stops (after [`BridgeHandle::shutdown`] from elsewhere: never
    /// otherwise).
    pub async fn wait(self) {
        let BridgeHandle { task, shutdown, .. } = self;
        let _keep = shutdown;
        let _ = task.await;
    }
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT): the signals a service manager or a person stops a
/// bridge with.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
