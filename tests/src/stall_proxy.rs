//! A loopback TCP proxy that can stop forwarding without closing anything: a network stall as a
//! client sees it when a NAT, a Wi-Fi hand-over or a dead middlebox silently eats packets.
//!
//! ```text
//!  client ──tcp──▶ StallProxy (127.0.0.1:P) ──tcp──▶ upstream
//!                  stall():  keep every socket open, forward nothing, either way
//!                  resume(): forward again (what waited in the socket buffers goes through)
//!                  cut():    close every connection now (new ones are still accepted)
//! ```
//!
//! While stalled, new connections are accepted (the kernel completes the TCP handshake) and their
//! upstream is dialled, but no byte moves: a client's CONNECT goes unanswered, as it would behind
//! a black hole. Needs a tokio runtime; dropping the proxy stops it and closes every connection.
//!
//! ```no_run
//! # async fn f(upstream: std::net::SocketAddr) {
//! let proxy = tests::stall_proxy::StallProxy::start(upstream).await;
//! println!("dial {}", proxy.addr());
//! proxy.stall();
//! proxy.resume();
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Forwarding state, shared with every connection's copy loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Stall,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
}

/// The running proxy; stopped (every connection closed) on drop.
#[derive(Debug)]
pub struct StallProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    /// Bumped by [`StallProxy::cut`]: every connection alive at that moment closes.
    generation: watch::Sender<u64>,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl StallProxy {
    /// Listens on `127.0.0.1:0` and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> StallProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stall proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (mode, mode_rx) = watch::channel(Mode::Forward);
        let (generation, gen_rx) = watch::channel(0u64);
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    // Out of file descriptors, say: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                c.accepted.fetch_add(1, Ordering::Relaxed);
                // Reap finished connections so the set stays small.
                while conns.try_join_next().is_some() {}
                conns.spawn(connection(
                    client,
                    upstream,
                    mode_rx.clone(),
                    gen_rx.clone(),
                    c.clone(),
                ));
            }
            // The JoinSet aborts every connection when this task is aborted (drop).
        });
        StallProxy {
            addr,
            mode,
            generation,
            counters,
            task,
        }
    }

    /// Where clients dial.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops forwarding in both directions; sockets stay open.
    pub fn stall(&self) {
        let _ = self.mode.send(Mode::Stall);
    }

    /// Forwards again.
    pub fn resume(&self) {
        let _ = self.mode.send(Mode::Forward);
    }

    /// True while stalled.
    pub fn is_stalled(&self) -> bool {
        *self.mode.borrow() == Mode::Stall
    }

    /// Closes every current connection (both sides); later connections are unaffected.
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.counters.accepted.load(Ordering::Relaxed)
    }

    /// Bytes forwarded client -> upstream and upstream -> client.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.counters.bytes_up.load(Ordering::Relaxed),
            self.counters.bytes_down.load(Ordering::Relaxed),
        )
    }
}

impl Drop for StallProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connection(
    client: TcpStream,
    upstream: SocketAddr,
    mode: watch::Receiver<Mode>,
    mut generation: watch::Receiver<u64>,
    counters: Arc<Counters>,
) {
    let born = *generation.borrow_and_update();
    let Ok(server) = TcpStream::connect(upstream).await else {
        return; // dropping `client` closes it: the upstream is down
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, mode.clone(), &counters.bytes_up);
    let down = pump(sr, cw, mode, &counters.bytes_down);
    let cut = async {
        loop {
            if generation.changed().await.is_err() || *generation.borrow() != born {
                return;
            }
        }
    };
    // Either direction ending (EOF or error) or a cut closes both: dropping the halves closes.
    tokio::select! {
        () = up => {}
        () = down => {}
        () = cut => {}
    }
}

/// Copies `from` to `to` while the mode is `Forward`; while stalled it reads nothing, so bytes
/// wait in the kernel's buffers and the peer sees silence, not a close.
async fn pump<R, W>(mut from: R, mut to: W, mut mode: watch::Receiver<Mode>, count: &AtomicU64)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Wait until forwarding is allowed.
        if mode.wait_for(|m| *m == Mode::Forward).await.is_err() {
            return;
        }
        tokio::select! {
            biased;
            // A stall that starts while waiting for bytes stops this read at once.
            r = mode.changed() => {
                if r.is_err() {
                    return;
                }
                continue;
            }
            n = from.read(&mut buf) => {
                let n = match n {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                // Bytes read just before a stall began are held back until it ends.
                if mode.wait_for(|m| *m == Mode::Forward).await.is_err() {
                    return;
                }
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
}
