//! A session's clocks: last data, last sign of life, the idle limit in force, and the
//! watchdog that ends a session when one of them runs out.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::end::End;
use crate::close::{self, Close};
use crate::config::Limits;

/// Shared per-session clocks (milliseconds since the session started).
pub(super) struct Clocks {
    start: Instant,
    last_data: AtomicU64,
    last_seen: AtomicU64,
    /// The idle limit in force: the configured one, then the one the CONNECT's keepalive asks.
    idle_ms: AtomicU64,
    /// Whether WebSocket pings find a dead browser. Off once the CONNECT announced a keepalive:
    /// MQTT then finds it (the broker drops a client silent for 1.5 keepalives), and some
    /// clients answer pings wrongly (paho-mqtt 2.1.0 sends unmasked pongs, which RFC 6455 §5.1
    /// makes us close with 1002).
    pinging: AtomicBool,
}

impl Clocks {
    /// Clocks from now, with the configured idle limit and pings on.
    pub(super) fn new(idle_ms: u64) -> Self {
        Clocks {
            start: Instant::now(),
            last_data: AtomicU64::new(0),
            last_seen: AtomicU64::new(0),
            idle_ms: AtomicU64::new(idle_ms),
            pinging: AtomicBool::new(true),
        }
    }

    /// The CONNECT announced a keepalive: its idle limit, and MQTT finds a dead browser.
    pub(super) fn follow_keepalive(&self, idle_ms: u64) {
        self.idle_ms.store(idle_ms, Relaxed);
        self.pinging.store(false, Relaxed);
    }

    /// Whether WebSocket pings are sent.
    pub(super) fn pinging(&self) -> bool {
        self.pinging.load(Relaxed)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Data went either way (also a sign of life).
    pub(super) fn data(&self) {
        let n = self.now();
        self.last_data.store(n, Relaxed);
        self.last_seen.store(n, Relaxed);
    }
    /// The browser sent something.
    pub(super) fn seen(&self) {
        self.last_seen.store(self.now(), Relaxed);
    }
}

/// The idle limit the first client packet asks for: 1.5 times the keepalive of a CONNECT
/// ([MQTT-3.1.2-24]), capped by the configuration; `None` when it is no CONNECT (whole in this
/// message) or announces no keepalive, and the configured limit stays.
pub(super) fn idle_for_keepalive(first: &[u8], limits: &Limits) -> Option<u64> {
    use mqtt_core::packet::Packet;
    let Ok(Some((Packet::Connect(connect), _))) = mqtt_core::codec::decode_any(first, first.len())
    else {
        return None;
    };
    let keepalive_ms = u64::from(connect.keep_alive) * 1000;
    (keepalive_ms > 0).then(|| (keepalive_ms + keepalive_ms / 2).min(limits.max_idle_timeout_ms))
}

/// Idle and ping timeouts.
pub(super) async fn watchdog(limits: &Limits, clocks: &Clocks) -> End {
    let dead = limits.ping_interval_ms.saturating_mul(2);
    let step = Duration::from_millis(
        (limits.idle_timeout_ms.min(limits.ping_interval_ms) / 4).clamp(10, 1000),
    );
    loop {
        tokio::time::sleep(step).await;
        let now = clocks.now();
        let idle = clocks.idle_ms.load(Relaxed);
        if now.saturating_sub(clocks.last_data.load(Relaxed)) >= idle {
            return End::Close(Close::new(close::NORMAL, close::IDLE_TIMEOUT));
        }
        if clocks.pinging.load(Relaxed)
            && now.saturating_sub(clocks.last_seen.load(Relaxed)) >= dead
        {
            return End::Close(Close::new(close::PING_TIMEOUT, "ping timeout"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_core::codec::encode;
    use mqtt_core::packet::{Connect, Packet, Protocol};

    fn connect(keep_alive: u16) -> Vec<u8> {
        encode(&Packet::Connect(Connect {
            protocol: Protocol::MQTT311,
            keep_alive,
            client_id: "c",
            clean_session: true,
            last_will: None,
            username: None,
            password: None,
        }))
        .expect("CONNECT")
    }

    /// [MQTT-3.1.2-24]: a broker waits 1.5 keepalives; the bridge does not close sooner, and
    /// falls back to its configured limit without a keepalive (or without a whole CONNECT).
    #[test]
    fn the_idle_limit_follows_the_connect_keepalive() {
        let limits = Limits::default();
        assert_eq!(idle_for_keepalive(&connect(900), &limits), Some(1_350_000));
        assert_eq!(
            idle_for_keepalive(&connect(65_535), &limits),
            Some(98_302_500)
        );
        assert_eq!(idle_for_keepalive(&connect(0), &limits), None);
        let whole = connect(60);
        assert_eq!(idle_for_keepalive(&whole[..whole.len() - 1], &limits), None);
        assert_eq!(idle_for_keepalive(&[0xc0, 0x00], &limits), None, "PINGREQ");
        let capped = Limits {
            max_idle_timeout_ms: 60_000,
            ..Limits::default()
        };
        assert_eq!(idle_for_keepalive(&connect(900), &capped), Some(60_000));
    }
}
