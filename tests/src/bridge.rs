//! Starting `ws-bridge` (the real binary or in-process), WebSocket clients for it, raw MQTT
//! packets, and the third-party (Python paho-mqtt) client runner.
//!
//! The binary: the tests crate cannot use `CARGO_BIN_EXE_ws-bridge` (that exists only inside
//! ws-bridge's own tests), so [`bridge_binary`] looks for `<target>/<profile>/ws-bridge` next to
//! the running test executable, or takes `WS_BRIDGE_BIN`. Build it first:
//!
//! ```text
//! cargo build -p ws-bridge && cargo test -p tests
//! ```
//!
//! [`bridge_binary`] refuses a binary older than the ws-bridge sources, so a stale build fails
//! loudly instead of testing old code.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Response;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::Message;
use ws_bridge::{BridgeHandle, Config, Limits, RouteConfig};

use crate::certs::TempDir;
use crate::mosquitto::{Mosquitto, BROKER_NAME};
use crate::procs::ChildGuard;

/// The route to the harness broker's TLS listener: dial 127.0.0.1, verify `broker.test`.
pub fn route_to_broker(broker: &Mosquitto) -> RouteConfig {
    route_to_port(broker.tls_addr().port(), broker.ca_path())
}

/// A route to `127.0.0.1:<port>` verifying `broker.test` against `ca`.
pub fn route_to_port(port: u16, ca: &Path) -> RouteConfig {
    RouteConfig {
        host: "127.0.0.1".into(),
        port,
        sni: Some(BROKER_NAME.into()),
        ca_file: Some(ca.to_path_buf()),
        client_cert: None,
        client_key: None,
        allowed_origins: Vec::new(),
        admission: None,
    }
}

/// A one-route configuration on `127.0.0.1:0` with short test timeouts.
pub fn config_for(route: RouteConfig) -> Config {
    let mut c = Config::single_route("127.0.0.1:0".parse().expect("addr"), route).expect("config");
    c.limits = test_limits();
    c
}

/// Limits for tests: defaults, with a 2 s drain.
pub fn test_limits() -> Limits {
    Limits {
        drain_timeout_ms: 2_000,
        ..Limits::default()
    }
}

/// Starts a bridge in this process. Shut it down with `handle.shutdown().await` (or drop it).
pub async fn start_in_process(config: Config) -> (SocketAddr, BridgeHandle) {
    ws_bridge::Bridge::bind(config)
        .await
        .expect("start in-process bridge")
}

/// Path of the `ws-bridge` binary (see the module docs). Panics with the build command when
/// it is missing or older than the sources.
pub fn bridge_binary() -> PathBuf {
    if let Ok(p) = std::env::var("WS_BRIDGE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // <target>/<profile>/deps/<test-binary>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let bin = profile_dir.join("ws-bridge");
    let hint = "build it first: `cargo build -p ws-bridge` (same profile and CARGO_TARGET_DIR as the tests), or set WS_BRIDGE_BIN";
    let meta =
        std::fs::metadata(&bin).unwrap_or_else(|_| panic!("{} not found: {hint}", bin.display()));
    let built = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ws-bridge/src");
    if let Some(newest) = newest_mtime(&src) {
        assert!(
            built >= newest,
            "{} is older than ws-bridge/src: {hint}",
            bin.display()
        );
    }
    bin
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let t = if e.path().is_dir() {
            newest_mtime(&e.path())
        } else {
            e.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// The real `ws-bridge` binary, running; killed on drop.
#[derive(Debug)]
pub struct BridgeProcess {
    /// The process.
    pub child: ChildGuard,
    /// `ws://127.0.0.1:PORT/mqtt` (or `wss://`), as printed by the bridge.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    stderr_log: PathBuf,
    _dir: TempDir,
}

impl BridgeProcess {
    /// Runs the binary with `--config` set to `toml` written to a temporary file. The file's
    /// `listen` should use port 0; the bound address is read from the bridge's stdout.
    pub fn with_config_toml(toml: &str) -> BridgeProcess {
        let dir = TempDir::new("ws-bridge-proc");
        let conf = dir.path().join("bridge.toml");
        std::fs::write(&conf, toml).expect("write bridge.toml");
        Self::spawn_in(dir, &["--config".as_ref(), conf.as_os_str()])
    }

    /// The quick form on a free loopback port: one route to `upstream` over TLS with SNI
    /// `broker.test`, verified against `ca`, plus `extra` arguments.
    pub fn quick(upstream: &str, ca: &Path, extra: &[&std::ffi::OsStr]) -> BridgeProcess {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--upstream".as_ref(),
            upstream.as_ref(),
            "--sni".as_ref(),
            BROKER_NAME.as_ref(),
            "--ca".as_ref(),
            ca.as_os_str(),
        ];
        args.extend_from_slice(extra);
        Self::spawn(&args)
    }

    /// Runs the binary with these arguments (e.g. the quick form with `--listen 127.0.0.1:0`).
    pub fn spawn(args: &[&std::ffi::OsStr]) -> BridgeProcess {
        Self::spawn_in(TempDir::new("ws-bridge-proc"), args)
    }

    fn spawn_in(dir: TempDir, args: &[&std::ffi::OsStr]) -> BridgeProcess {
        let stderr_log = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_log).expect("stderr log");
        let mut child = ChildGuard::spawn(
            "ws-bridge",
            Command::new(bridge_binary())
                .args(args)
                .env(
                    "RUST_LOG",
                    std::env::var("WS_BRIDGE_LOG").unwrap_or_else(|_| "info".into()),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(stderr)),
        );
        let stdout = child
            .child_mut()
            .and_then(|c| c.stdout.take())
            .expect("stdout pipe");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| {
                panic!(
                    "ws-bridge did not report its address; stderr:\n{}",
                    std::fs::read_to_string(&stderr_log).unwrap_or_default()
                )
            });
        let url = line
            .strip_prefix("ws-bridge listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        let hostport = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .expect("host:port in url");
        let addr: SocketAddr = hostport.parse().expect("socket addr");
        BridgeProcess {
            child,
            url,
            addr,
            stderr_log,
            _dir: dir,
        }
    }

    /// The bridge's log (stderr) so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.child.rss_kib().expect("rss")
    }
}

/// TOML for a one-route file config to the harness broker (extra top-level lines and limits
/// may be appended by the caller as `[limits]` entries in `limits_toml`).
pub fn toml_for_broker(broker: &Mosquitto, limits_toml: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\ndefault_route = \"local\"\n[limits]\n{limits_toml}\n[routes.local]\nhost = \"127.0.0.1\"\nport = {}\nsni = \"{BROKER_NAME}\"\nca_file = \"{}\"\n",
        broker.tls_addr().port(),
        broker.ca_path().display()
    )
}

/// A client-side stream: plain TCP or TLS (for `wss://` with the test CA).
#[derive(Debug)]
pub enum ClientStream {
    /// `ws://`
    Plain(TcpStream),
    /// `wss://`
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ClientStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

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

/// A rustls client configuration trusting `ca` (ring provider), with an optional client
/// certificate (cert, key) for mutual TLS.
pub fn client_tls(ca: &Path, client: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("read ca") {
        roots.add(c.expect("ca pem")).expect("add ca");
    }
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("tls versions")
    .with_root_certificates(roots);
    let cfg = match client {
        Some((cert, key)) => {
            let chain: Vec<_> = CertificateDer::pem_file_iter(cert)
                .expect("read cert")
                .map(|c| c.expect("cert pem"))
                .collect();
            let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).expect("key pem");
            b.with_client_auth_cert(chain, key).expect("client auth")
        }
        None => b.with_no_client_auth(),
    };
    Arc::new(cfg)
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

/// Hand-encoded MQTT 3.1.1 packets (just enough for raw protocol tests).
pub mod mqtt {
    use mqtt_core::wire::frame::{read_frame_header, write_remaining_length};

    /// Packet type of a packet's first byte.
    pub fn kind(p: &[u8]) -> u8 {
        p.first().map_or(0, |b| b >> 4)
    }
    /// CONNACK = 2, PUBLISH = 3, PUBACK = 4, SUBACK = 9, PINGRESP = 13.
    pub const CONNACK: u8 = 2;
    /// PUBLISH
    pub const PUBLISH: u8 = 3;
    /// PUBACK
    pub const PUBACK: u8 = 4;
    /// SUBACK
    pub const SUBACK: u8 = 9;
    /// PINGRESP
    pub const PINGRESP: u8 = 13;

    fn string(s: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s);
    }

    fn packet(first: u8, body: Vec<u8>) -> Vec<u8> {
        let mut p = vec![first];
        // Test packets are small; a body over the MQTT maximum would be a bug in the test.
        write_remaining_length(body.len(), &mut p).expect("test packet within MQTT's maximum");
        p.extend(body);
        p
    }

    /// CONNECT with clean session and the given keepalive (seconds).
    pub fn connect(client_id: &str, user: Option<(&str, &str)>, keepalive: u16) -> Vec<u8> {
        let mut b = Vec::new();
        string(b"MQTT", &mut b);
        b.push(4);
        b.push(if user.is_some() { 0xC2 } else { 0x02 });
        b.extend_from_slice(&keepalive.to_be_bytes());
        string(client_id.as_bytes(), &mut b);
        if let Some((u, p)) = user {
            string(u.as_bytes(), &mut b);
            string(p.as_bytes(), &mut b);
        }
        packet(0x10, b)
    }

    /// SUBSCRIBE to one filter.
    pub fn subscribe(pid: u16, filter: &str, qos: u8) -> Vec<u8> {
        let mut b = pid.to_be_bytes().to_vec();
        string(filter.as_bytes(), &mut b);
        b.push(qos);
        packet(0x82, b)
    }

    /// PUBLISH (QoS 0 ignores `pid`).
    pub fn publish(topic: &str, payload: &[u8], qos: u8, pid: u16) -> Vec<u8> {
        let mut b = Vec::new();
        string(topic.as_bytes(), &mut b);
        if qos > 0 {
            b.extend_from_slice(&pid.to_be_bytes());
        }
        b.extend_from_slice(payload);
        packet(0x30 | (qos << 1), b)
    }

    /// PUBACK.
    pub fn puback(pid: u16) -> Vec<u8> {
        packet(0x40, pid.to_be_bytes().to_vec())
    }

    /// PINGREQ.
    pub fn pingreq() -> Vec<u8> {
        vec![0xC0, 0]
    }

    /// DISCONNECT.
    pub fn disconnect() -> Vec<u8> {
        vec![0xE0, 0]
    }

    /// Splits a buffer of whole packets; `None` if it ends inside a packet.
    pub fn split_packets(mut b: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let total = read_frame_header(b).ok()??.frame_len();
            out.push(b.get(..total)?.to_vec());
            b = b.get(total..)?;
        }
        Some(out)
    }

    /// Length of the first whole packet in `b`, or `None` if `b` does not hold one yet.
    pub fn first_packet_len(b: &[u8]) -> Option<usize> {
        let total = read_frame_header(b).ok()??.frame_len();
        (b.len() >= total).then_some(total)
    }

    /// A raw MQTT connection over plain TCP (for test-side helpers talking to mosquitto's
    /// plain listener). Keeps unread bytes between calls.
    #[derive(Debug)]
    pub struct TcpMqtt {
        /// The socket.
        pub stream: tokio::net::TcpStream,
        buf: Vec<u8>,
    }

    impl TcpMqtt {
        /// Connects and sends CONNECT; panics unless CONNACK accepts within `timeout`.
        pub async fn connect(
            addr: std::net::SocketAddr,
            client_id: &str,
            user: Option<(&str, &str)>,
            timeout: std::time::Duration,
        ) -> TcpMqtt {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let mut c = TcpMqtt {
                stream,
                buf: Vec::new(),
            };
            c.send(&connect(client_id, user, 60)).await;
            let ack = c.next_packet(timeout).await;
            assert_eq!(
                (kind(&ack), ack.get(3).copied()),
                (CONNACK, Some(0)),
                "CONNACK for {client_id}"
            );
            c
        }

        /// Writes bytes.
        pub async fn send(&mut self, bytes: &[u8]) {
            use tokio::io::AsyncWriteExt;
            self.stream.write_all(bytes).await.expect("write");
        }

        /// The next whole packet; panics after `timeout` or if the broker closes.
        pub async fn next_packet(&mut self, timeout: std::time::Duration) -> Vec<u8> {
            use tokio::io::AsyncReadExt;
            tokio::time::timeout(timeout, async {
                loop {
                    if let Some(n) = first_packet_len(&self.buf) {
                        return self.buf.drain(..n).collect();
                    }
                    let mut chunk = [0u8; 8192];
                    let n = self.stream.read(&mut chunk).await.expect("read");
                    assert!(n > 0, "broker closed the connection");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
            })
            .await
            .expect("packet timed out")
        }
    }

    /// Topic and payload of a PUBLISH packet.
    pub fn publish_parts(p: &[u8]) -> Option<(String, Vec<u8>)> {
        let i = read_frame_header(p).ok()??.header_len;
        let tl = usize::from(u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]));
        let topic = String::from_utf8(p.get(i + 2..i + 2 + tl)?.to_vec()).ok()?;
        let mut j = i + 2 + tl;
        if (p.first()? >> 1) & 3 > 0 {
            j += 2;
        }
        Some((topic, p.get(j..)?.to_vec()))
    }
}

/// The command that installs the third-party client.
pub const PAHO_INSTALL: &str = "python3 -m pip install paho-mqtt==2.1.0";

/// Checks that Python and paho-mqtt 2.x are installed; panics naming the install command.
pub fn require_paho() {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import paho.mqtt, sys; sys.exit(0 if paho.mqtt.__version__.startswith('2.') else 3)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the Python MQTT client paho-mqtt 2.x is missing: install it with `{PAHO_INSTALL}`"
    );
}

/// Runs `tests/clients/<script>` with python3 and `args`; kills it after `timeout`.
/// Returns (success, stdout, stderr).
pub fn run_python_client(
    script: &str,
    args: &[String],
    timeout: Duration,
) -> (bool, String, String) {
    require_paho();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("clients")
        .join(script);
    let dir = TempDir::new("py-client");
    let out_path = dir.path().join("out");
    let err_path = dir.path().join("err");
    let mut child = ChildGuard::spawn(
        "python3",
        Command::new("python3")
            .arg(&path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).expect("out"))
            .stderr(std::fs::File::create(&err_path).expect("err")),
    );
    let status = child.wait_timeout(timeout);
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    match status {
        Some(s) => (s.success(), out, err),
        None => (false, out, format!("{err}\n(killed after {timeout:?})")),
    }
}
