//! The per-address CONNECT rate limit: a token bucket per client address, to slow password
//! guessing through the bridge (`limits.connects_per_minute`, `limits.connect_burst`).
//!
//! Each session's first packet (its CONNECT) takes a token from its address's bucket; the
//! bucket holds at most `connect_burst` tokens and refills at `connects_per_minute`. An empty
//! bucket closes the session with 4029 before the CONNECT reaches the broker.
//!
//! An IPv6 client counts per /64 (one host commonly holds a whole /64); an IPv4-mapped IPv6
//! address counts as its IPv4 address. Clients behind one NAT or proxy share a bucket.
//!
//! Memory is bounded: at most `connect_rate_max_addresses` buckets. A full bucket says nothing a
//! new one would not, so full buckets go first; if the table is still full, the least recently
//! used eighth goes.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The per-address CONNECT limiter.
#[derive(Debug)]
pub struct ConnectRateLimiter {
    per_second: f64,
    burst: f64,
    max_addresses: usize,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn refilled(&self, now: Instant, per_second: f64, burst: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        (self.tokens + elapsed * per_second).min(burst)
    }
}

/// The address a bucket is kept for.
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 64))),
        },
    }
}

impl ConnectRateLimiter {
    /// A limiter, or `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32, burst: u32, max_addresses: usize) -> Option<ConnectRateLimiter> {
        (per_minute > 0).then(|| ConnectRateLimiter {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            max_addresses: max_addresses.max(1),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a CONNECT from `ip`'s bucket now: `Err(wait)` when it is empty, `wait` being the
    /// time until the next token.
    pub fn try_connect(&self, ip: IpAddr) -> Result<(), Duration> {
        self.try_connect_at(ip, Instant::now())
    }

    /// As [`ConnectRateLimiter::try_connect`], at `now` (tests).
    pub fn try_connect_at(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = bucket_key(ip);
        // A poisoned lock (a panic elsewhere while holding it) must not open the door.
        let mut buckets = self.buckets.lock().map_err(|_| Duration::from_secs(60))?;
        if !buckets.contains_key(&key) && buckets.len() >= self.max_addresses {
            self.evict(&mut buckets, now);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let tokens = bucket.refilled(now, self.per_second, self.burst);
        bucket.last = now;
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            bucket.tokens = tokens;
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }

    fn evict(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        let (per_second, burst) = (self.per_second, self.burst);
        buckets.retain(|_, b| b.refilled(now, per_second, burst) < burst);
        if buckets.len() < self.max_addresses {
            return;
        }
        let mut ages: Vec<Instant> = buckets.values().map(|b| b.last).collect();
        let eighth = (ages.len() / 8).max(1);
        let (_, cut, _) = ages.select_nth_unstable(eighth - 1);
        let cut = *cut;
        buckets.retain(|_, b| b.last > cut);
    }

    /// Addresses remembered now.
    pub fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }

    /// True when no address is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn off_when_zero_per_minute() {
        assert!(ConnectRateLimiter::new(0, 10, 10).is_none());
    }

    #[test]
    fn a_burst_then_the_rate() {
        let l = ConnectRateLimiter::new(60, 3, 100).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.try_connect_at(ip("192.0.2.1"), t0).is_ok());
        }
        let wait = l.try_connect_at(ip("192.0.2.1"), t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        // Another address has its own bucket.
        assert!(l.try_connect_at(ip("192.0.2.2"), t0).is_ok());
        // One token a second comes back.
        let t1 = t0 + Duration::from_millis(1_000);
        assert!(l.try_connect_at(ip("192.0.2.1"), t1).is_ok());
        assert!(l.try_connect_at(ip("192.0.2.1"), t1).is_err());
        // Never more than the burst, however long the wait.
        let t2 = t1 + Duration::from_secs(3_600);
        for _ in 0..3 {
            assert!(l.try_connect_at(ip("192.0.2.1"), t2).is_ok());
        }
        assert!(l.try_connect_at(ip("192.0.2.1"), t2).is_err());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(bucket_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(bucket_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        let l = ConnectRateLimiter::new(1, 1, 100).unwrap();
        let t0 = Instant::now();
        assert!(l.try_connect_at(ip("2001:db8:1:2::1"), t0).is_ok());
        assert!(l.try_connect_at(ip("2001:db8:1:2::ffff"), t0).is_err());
        assert!(l.try_connect_at(ip("2001:db8:1:3::1"), t0).is_ok());
    }

    /// The table never holds more than its cap; refilled buckets go first, then the least
    /// recently used, and an address being limited is not forgotten for a newcomer's sake
    /// while older entries remain.
    #[test]
    fn memory_is_bounded() {
        let l = ConnectRateLimiter::new(1, 2, 64).unwrap();
        let t0 = Instant::now();
        let attacker = ip("198.51.100.1");
        assert!(l.try_connect_at(attacker, t0).is_ok());
        assert!(l.try_connect_at(attacker, t0).is_ok());
        for i in 0..10_000u32 {
            let t = t0 + Duration::from_millis(u64::from(i));
            let a = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = l.try_connect_at(a, t);
            assert!(l.len() <= 64);
            if i % 10 == 0 {
                // The attacker keeps trying: its bucket stays recent and empty.
                assert!(l.try_connect_at(attacker, t).is_err(), "{i}");
            }
        }
        // After a quiet hour every bucket is full again: the next newcomer at the cap sweeps
        // them all out, and the attacker may try again.
        while l.len() < 64 {
            let a = IpAddr::V4(std::net::Ipv4Addr::from(0x0b00_0000 + l.len() as u32));
            let _ = l.try_connect_at(a, t0 + Duration::from_secs(20));
        }
        let later = t0 + Duration::from_secs(3_600);
        assert!(l.try_connect_at(ip("203.0.113.9"), later).is_ok());
        assert_eq!(l.len(), 1);
        assert!(l.try_connect_at(attacker, later).is_ok());
    }
}
