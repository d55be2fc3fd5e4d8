//! The MQTT-aware TLS front: rustls on the public port, rumqttd behind it on loopback.
//!
//! Per connection: TLS handshake (bounded time), then the client's CONNECT (bounded size and
//! time) is authenticated ([`resource::token_login`], else [`guard::authenticate`]); an admitted
//! client is connected to rumqttd with the front's own login and every packet both ways goes
//! through Murano's current API layer ([`CurrentApi`]) and then, unless that handled it, its
//! [`Guard`]. Frames are cut with `codec::read_frame_header`, with a size cap, before anything
//! is buffered whole.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mqtt_core::codec;
use mqtt_core::packet::{ConnectReturnCode, Packet};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::broker::FRONT_USER;
use super::guard::{self, Action, Guard};
use super::policy::{self, Role};
use super::resource::{self, CurrentApi};
use super::store::Store;

/// The largest CONNECT accepted (user name, password, will included).
const MAX_CONNECT: usize = 64 * 1024;

/// What the front needs.
pub(super) struct Front {
    /// TLS server configuration (the demo certificate).
    pub acceptor: TlsAcceptor,
    /// rumqttd's internal address.
    pub broker: SocketAddr,
    /// The front's login to rumqttd.
    pub front_password: String,
    /// The platform password.
    pub platform_password: String,
    /// Activated devices.
    pub store: Arc<Mutex<Store>>,
    /// Largest packet relayed either way.
    pub max_packet: usize,
    /// Time for the TLS handshake, and then for the CONNECT.
    pub handshake_timeout: Duration,
    /// The `$…` filters of the sessions rumqttd keeps.
    pub sessions: guard::Sessions,
}

/// Accepts until `shutdown` turns true, then drops every connection.
pub(super) async fn serve(
    listener: TcpListener,
    front: Arc<Front>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let front = front.clone();
                    connections.spawn(async move {
                        if let Err(reason) = connection(tcp, &front).await {
                            tracing::debug!(%peer, %reason, "front connection ended");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "front accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    connections.shutdown().await;
}

/// Reads one whole frame into `buf`'s front; `Ok(None)` at a clean end of stream.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<Option<Vec<u8>>, String> {
    loop {
        if let Some(header) = codec::read_frame_header(buf).map_err(|e| e.to_string())? {
            let len = header.frame_len();
            if len > max {
                return Err(format!("packet of {len} bytes exceeds {max}"));
            }
            if buf.len() >= len {
                let rest = buf.split_off(len);
                return Ok(Some(std::mem::replace(buf, rest)));
            }
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = reader.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return match buf.is_empty() {
                true => Ok(None),
                false => Err("end of stream inside a packet".into()),
            };
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// A number for each anonymous client that came without a client id.
fn unnamed_client_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

async fn refuse<W: AsyncWrite + Unpin>(writer: &mut W, code: ConnectReturnCode) {
    let _ = writer.write_all(&guard::connack(code)).await;
    let _ = writer.shutdown().await;
}

/// Which side a frame came from, for the relay's one loop per direction.
#[derive(Clone, Copy)]
enum Side {
    Client,
    Broker,
}

/// What an admitted client's CONNECT turns into on the broker side.
struct Admitted {
    role: Role,
    /// The CONNECT the front sends to rumqttd in the client's name.
    upstream_connect: Vec<u8>,
    /// The `$…` filters rumqttd's kept session holds for this client.
    dollar_filters: guard::DollarFilters,
}

async fn connection(tcp: TcpStream, front: &Front) -> Result<(), String> {
    let _ = tcp.set_nodelay(true);
    let mut tls = tokio::time::timeout(front.handshake_timeout, front.acceptor.accept(tcp))
        .await
        .map_err(|_| "TLS handshake timed out".to_string())?
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let mut client_buf = Vec::new();
    let first = tokio::time::timeout(
        front.handshake_timeout,
        read_frame(&mut tls, &mut client_buf, MAX_CONNECT),
    )
    .await
    .map_err(|_| "no CONNECT in time".to_string())??
    .ok_or("closed before CONNECT")?;
    let admitted = match admit(&first, front)? {
        Ok(admitted) => admitted,
        Err(code) => {
            refuse(&mut tls, code).await;
            return Ok(());
        }
    };
    let mut broker = match TcpStream::connect(front.broker).await {
        Ok(b) => b,
        Err(e) => {
            refuse(&mut tls, ConnectReturnCode::ServerUnavailable).await;
            return Err(format!("embedded broker unreachable: {e}"));
        }
    };
    let _ = broker.set_nodelay(true);
    broker
        .write_all(&admitted.upstream_connect)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(role = %admitted.role.describe(), "client admitted");
    relay(tls, client_buf, broker, admitted, front).await
}

/// Authenticates the first frame, which must be a CONNECT: `Ok(Err(code))` is a refusal to send
/// the client, `Err` a connection to drop without an answer.
fn admit(first: &[u8], front: &Front) -> Result<Result<Admitted, ConnectReturnCode>, String> {
    let connect = match codec::decode_any(first, MAX_CONNECT) {
        Ok(Some((Packet::Connect(c), _))) => c,
        Ok(_) => return Err("first packet is not CONNECT".into()),
        Err(e) => return Err(format!("bad CONNECT: {e}")),
    };
    let role = {
        let store = front.store.lock().map_err(|_| "store poisoned")?;
        match resource::token_login(&connect, &store) {
            Some(identity) => Ok(Role::Device { identity }),
            None => guard::authenticate(&connect, &store, &front.platform_password),
        }
    };
    let role = match role {
        Ok(role) => role,
        Err(code) => {
            tracing::info!(user = ?connect.username, client_id = connect.client_id, "login refused");
            return Ok(Err(code));
        }
    };
    // rumqttd needs a client id: a device's is its identity, an anonymous client's a name
    // no identity can take (`~` is not valid in one).
    let client_id = match (&role, connect.client_id) {
        (Role::Device { identity }, "") => identity.clone(),
        (_, "") => format!("~anonymous-{}", unnamed_client_number()),
        (_, id) => id.to_string(),
    };
    let connect = mqtt_core::packet::Connect {
        client_id: &client_id,
        ..connect
    };
    match guard::broker_connect(&connect, &role, FRONT_USER, &front.front_password) {
        Ok(upstream_connect) => {
            let broker_id = policy::broker_client_id(&role, connect.client_id);
            let dollar_filters = front.sessions.open(&broker_id, connect.clean_session);
            Ok(Ok(Admitted {
                role,
                upstream_connect,
                dollar_filters,
            }))
        }
        Err(code) => {
            tracing::info!(role = %role.describe(), "will refused");
            Ok(Err(code))
        }
    }
}

/// Relays every packet both ways through Murano's current API layer and then, unless that
/// handled it, the guard, until either side ends.
async fn relay(
    tls: tokio_rustls::server::TlsStream<TcpStream>,
    client_buf: Vec<u8>,
    broker: TcpStream,
    admitted: Admitted,
    front: &Front,
) -> Result<(), String> {
    let (api, hidden) = CurrentApi::new(admitted.role.clone(), front.max_packet);
    let (mut client_rx, client_tx) = tokio::io::split(tls);
    let (mut broker_rx, mut broker_tx) = broker.into_split();
    for action in hidden {
        if let Action::ToBroker(bytes) = action {
            broker_tx
                .write_all(&bytes)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let layers = Layers {
        api: Mutex::new(api),
        guard: Mutex::new(Guard::in_session(
            admitted.role,
            front.max_packet,
            admitted.dollar_filters,
        )),
        // Both directions write to both sides: the guard acknowledges the messages it drops.
        client_tx: tokio::sync::Mutex::new(client_tx),
        broker_tx: tokio::sync::Mutex::new(broker_tx),
        max_packet: front.max_packet,
    };
    let result = tokio::select! {
        r = layers.forward(Side::Client, &mut client_rx, client_buf) => r,
        r = layers.forward(Side::Broker, &mut broker_rx, Vec::new()) => r,
    };
    let shutdown = async { layers.client_tx.lock().await.shutdown().await };
    let _ = tokio::time::timeout(Duration::from_secs(1), shutdown).await;
    result
}

/// The per-connection state both relay directions share.
struct Layers<C, B> {
    api: Mutex<CurrentApi>,
    guard: Mutex<Guard>,
    client_tx: tokio::sync::Mutex<C>,
    broker_tx: tokio::sync::Mutex<B>,
    max_packet: usize,
}

impl<C: AsyncWrite + Unpin, B: AsyncWrite + Unpin> Layers<C, B> {
    /// Reads frames from one side and carries out what the layers make of each.
    async fn forward<R: AsyncRead + Unpin>(
        &self,
        from: Side,
        reader: &mut R,
        mut buf: Vec<u8>,
    ) -> Result<(), String> {
        while let Some(frame) = read_frame(reader, &mut buf, self.max_packet).await? {
            for action in self.actions(from, &frame)? {
                match action {
                    Action::ToBroker(bytes) => write(&self.broker_tx, &bytes).await?,
                    Action::ToClient(bytes) => write(&self.client_tx, &bytes).await?,
                    Action::Close(reason) => return Err(reason),
                }
            }
        }
        Ok(())
    }

    fn actions(&self, from: Side, frame: &[u8]) -> Result<Vec<Action>, String> {
        let mut api = self.api.lock().map_err(|_| "api poisoned")?;
        let handled = match from {
            Side::Client => api.on_client(frame),
            Side::Broker => api.on_broker(frame),
        };
        drop(api);
        if let Some(actions) = handled {
            return Ok(actions);
        }
        let mut guard = self.guard.lock().map_err(|_| "guard poisoned")?;
        Ok(match from {
            Side::Client => guard.on_client(frame),
            Side::Broker => guard.on_broker(frame),
        })
    }
}

async fn write<W: AsyncWrite + Unpin>(
    writer: &tokio::sync::Mutex<W>,
    bytes: &[u8],
) -> Result<(), String> {
    writer
        .lock()
        .await
        .write_all(bytes)
        .await
        .map_err(|e| e.to_string())
}
