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
pub struct Front {
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
pub async fn serve(listener: TcpListener, front: Arc<Front>, mut shutdown: watch::Receiver<bool>) {
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
    let (role, upstream_connect, dollar_filters) = {
        let connect = match codec::decode_any(&first, MAX_CONNECT) {
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
                refuse(&mut tls, code).await;
                return Ok(());
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
            Ok(bytes) => {
                let broker_id = policy::broker_client_id(&role, connect.client_id);
                let filters = front.sessions.open(&broker_id, connect.clean_session);
                (role, bytes, filters)
            }
            Err(code) => {
                tracing::info!(role = %role.describe(), "will refused");
                refuse(&mut tls, code).await;
                return Ok(());
            }
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
        .write_all(&upstream_connect)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(role = %role.describe(), "client admitted");

    let (api, hidden) = CurrentApi::new(role.clone(), front.max_packet);
    for action in hidden {
        if let Action::ToBroker(bytes) = action {
            broker.write_all(&bytes).await.map_err(|e| e.to_string())?;
        }
    }
    let api = Mutex::new(api);
    let guard = Mutex::new(Guard::in_session(role, front.max_packet, dollar_filters));
    let (mut client_rx, client_tx) = tokio::io::split(tls);
    let client_tx = tokio::sync::Mutex::new(client_tx);
    let (mut broker_rx, broker_tx) = broker.into_split();
    // Both directions write to rumqttd: the guard acknowledges the messages it drops.
    let broker_tx = tokio::sync::Mutex::new(broker_tx);

    let upward = async {
        loop {
            let Some(frame) = read_frame(&mut client_rx, &mut client_buf, front.max_packet).await?
            else {
                return Ok::<(), String>(());
            };
            let handled = api.lock().map_err(|_| "api poisoned")?.on_client(&frame);
            let actions = match handled {
                Some(actions) => actions,
                None => guard
                    .lock()
                    .map_err(|_| "guard poisoned")?
                    .on_client(&frame),
            };
            for action in actions {
                match action {
                    Action::ToBroker(bytes) => broker_tx
                        .lock()
                        .await
                        .write_all(&bytes)
                        .await
                        .map_err(|e| e.to_string())?,
                    Action::ToClient(bytes) => client_tx
                        .lock()
                        .await
                        .write_all(&bytes)
                        .await
                        .map_err(|e| e.to_string())?,
                    Action::Close(reason) => return Err(reason),
                }
            }
        }
    };
    let downward = async {
        let mut buf = Vec::new();
        loop {
            let Some(frame) = read_frame(&mut broker_rx, &mut buf, front.max_packet).await? else {
                return Ok::<(), String>(());
            };
            let handled = api.lock().map_err(|_| "api poisoned")?.on_broker(&frame);
            let actions = match handled {
                Some(actions) => actions,
                None => guard
                    .lock()
                    .map_err(|_| "guard poisoned")?
                    .on_broker(&frame),
            };
            for action in actions {
                match action {
                    Action::ToClient(bytes) => client_tx
                        .lock()
                        .await
                        .write_all(&bytes)
                        .await
                        .map_err(|e| e.to_string())?,
                    Action::ToBroker(bytes) => broker_tx
                        .lock()
                        .await
                        .write_all(&bytes)
                        .await
                        .map_err(|e| e.to_string())?,
                    Action::Close(reason) => return Err(reason),
                }
            }
        }
    };
    let result = tokio::select! {
        r = upward => r,
        r = downward => r,
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), client_tx.lock().await.shutdown()).await;
    result
}
