//! Connection caps: global and per client address. A permit is held for a connection's whole
//! life (handshake included), so slow handshakes count too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Which cap refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapRefusal {
    /// Too many connections in total (HTTP 503).
    Global,
    /// Too many connections from this address (HTTP 429).
    PerAddress,
}

/// Hands out connection permits.
#[derive(Debug)]
pub struct ConnLimiter {
    global: Arc<Semaphore>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    max_per_ip: usize,
}

/// Held while a connection is open; releases its slots on drop.
#[derive(Debug)]
pub struct ConnPermit {
    _global: OwnedSemaphorePermit,
    ip: IpAddr,
    limiter: Arc<ConnLimiter>,
}

impl ConnLimiter {
    /// A limiter with both caps.
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(ConnLimiter {
            global: Arc::new(Semaphore::new(max_total)),
            per_ip: Mutex::new(HashMap::new()),
            max_per_ip,
        })
    }

    /// Takes a slot for `ip`, or says which cap is full.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnPermit, CapRefusal> {
        let global = self
            .global
            .clone()
            .try_acquire_owned()
            .map_err(|_| CapRefusal::Global)?;
        let mut map = self.per_ip.lock().map_err(|_| CapRefusal::Global)?;
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(CapRefusal::PerAddress);
        }
        *n += 1;
        Ok(ConnPermit {
            _global: global,
            ip,
            limiter: self.clone(),
        })
    }

    /// Connections open now from `ip`.
    pub fn count(&self, ip: IpAddr) -> usize {
        self.per_ip
            .lock()
            .ok()
            .and_then(|m| m.get(&ip).copied())
            .unwrap_or(0)
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        if let Ok(mut map) = self.limiter.per_ip.lock() {
            if let Some(n) = map.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&self.ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_release() {
        let l = ConnLimiter::new(3, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let p1 = l.try_acquire(a).unwrap();
        let _p2 = l.try_acquire(a).unwrap();
        assert_eq!(l.try_acquire(a).unwrap_err(), CapRefusal::PerAddress);
        let _p3 = l.try_acquire(b).unwrap();
        assert_eq!(l.try_acquire(b).unwrap_err(), CapRefusal::Global);
        drop(p1);
        assert_eq!(l.count(a), 1);
        let _p4 = l.try_acquire(a).unwrap();
    }
}
