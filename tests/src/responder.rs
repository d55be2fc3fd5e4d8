//! The Murano platform's side of activation, played against the test mosquitto.
//!
//! [`Responder`] connects as the privileged platform user (with the native driver and the sans-IO
//! core), subscribes to `activate` and `$provision/+`, and for each new identity issues a
//! 40-hex-character password, adds the user to mosquitto (password file + SIGHUP, through the
//! callback) and publishes the password to `activate/<identity>` (legacy) or
//! `$provision/<identity>` (current API). Like Murano it stays silent for an identity that is
//! already activated. [`platform_write`] publishes a value as the platform (a value entered in
//! Murano's web UI).

use std::collections::hash_map::RandomState;
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mqtt_core::{Event, Options, QoS, Session};
use mqttws::{Connector, Driver, Output, Step, TlsOptions};
use tokio::sync::mpsc;

use crate::mosquitto::{PLATFORM_PASSWORD, PLATFORM_USER};

/// Adds (or updates) a broker user; called from the responder's own thread.
pub type AddUser = Box<dyn FnMut(&str, &str) + Send + 'static>;

/// A running activation responder; stops on drop.
pub struct Responder {
    stop: Option<mpsc::UnboundedSender<()>>,
    thread: Option<JoinHandle<()>>,
    activated: Arc<Mutex<Vec<(String, String)>>>,
}

fn session_options(client_id: &str) -> Options {
    let mut options = Options::new(client_id).with_credentials(PLATFORM_USER, PLATFORM_PASSWORD);
    options.keep_alive_secs = 30;
    options
}

fn connector(addr: SocketAddr) -> Connector {
    let url = format!("mqtt://{addr}").parse().expect("loopback URL");
    Connector::new(url, &TlsOptions::default(), None).expect("plain connector")
}

/// A 40-character lowercase hex password, like Murano's.
pub fn new_password() -> String {
    (0..3)
        .map(|i| {
            let mut h = RandomState::new().build_hasher();
            h.write_u64(i);
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos(),
            );
            format!("{:016x}", h.finish())
        })
        .collect::<String>()
        .chars()
        .take(40)
        .collect()
}

/// Which identity a request on `topic` asks to activate, and where the answer goes.
fn request(topic: &str, payload: &[u8]) -> Option<(String, String)> {
    let (identity, reply) = if topic == "activate" {
        let identity = std::str::from_utf8(payload).ok()?.trim().to_string();
        let reply = format!("activate/{identity}");
        (identity, reply)
    } else {
        // The current API: an empty message on $provision/<identity>. The responder's own
        // (non-empty) reply on the same topic comes back to it and is ignored here.
        let identity = topic.strip_prefix("$provision/")?.to_string();
        if !payload.is_empty() {
            return None;
        }
        (identity, topic.to_string())
    };
    let valid = !identity.is_empty() && !identity.contains(['/', '+', '#']);
    valid.then_some((identity, reply))
}

impl Responder {
    /// Starts the responder on a harness mosquitto's plain listener, adding each activated
    /// device to the broker's password file.
    pub fn for_mosquitto(broker: &Arc<Mutex<crate::mosquitto::Mosquitto>>) -> Responder {
        let plain = match broker.lock() {
            Ok(b) => b.plain_addr(),
            Err(e) => e.into_inner().plain_addr(),
        };
        let users = broker.clone();
        Responder::start(
            plain,
            Box::new(move |user, password| {
                if let Ok(mut b) = users.lock() {
                    b.add_user(user, password);
                }
            }),
        )
    }

    /// Starts the responder on the broker's plain listener and waits (up to 10 s) until it is
    /// subscribed. `add_user` must make the new credentials usable before it returns
    /// (`Mosquitto::add_user` does).
    pub fn start(broker: SocketAddr, add_user: AddUser) -> Responder {
        let (stop_tx, stop_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let activated = Arc::new(Mutex::new(Vec::new()));
        let record = activated.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(broker, add_user, stop_rx, ready_tx, record));
        });
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("activation responder failed: {e}"),
            Err(_) => panic!("activation responder not subscribed within 10 s"),
        }
        Responder {
            stop: Some(stop_tx),
            thread: Some(thread),
            activated,
        }
    }

    /// Identities activated so far, with their passwords.
    pub fn activated(&self) -> Vec<(String, String)> {
        self.activated.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    broker: SocketAddr,
    mut add_user: AddUser,
    mut stop: mpsc::UnboundedReceiver<()>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    activated: Arc<Mutex<Vec<(String, String)>>>,
) {
    let mut driver = Driver::plain(
        connector(broker),
        Session::new(session_options("platform-responder")),
    );
    let subscribed = driver.subscribe(&[
        ("activate", QoS::AtLeastOnce),
        ("$provision/+", QoS::AtLeastOnce),
    ]);
    if let Err(e) = subscribed {
        let _ = ready.send(Err(e.to_string()));
        return;
    }
    driver.connect();
    let mut known = BTreeSet::new();
    while let Some(step) = driver.next_or(&mut stop).await {
        match step {
            Step::Output(Output::Event(Event::Subscribed { granted, .. })) => {
                let result = if granted.iter().all(Option::is_some) {
                    Ok(())
                } else {
                    Err("platform refused activate / $provision/+".to_string())
                };
                let _ = ready.send(result);
            }
            Step::Output(Output::Event(Event::ConnectionLost {
                error,
                reconnect_in: None,
                ..
            })) => {
                let _ = ready.send(Err(error.to_string()));
                return;
            }
            Step::Output(Output::Event(Event::Message(m))) => {
                let Some((identity, reply)) = request(&m.topic, &m.payload) else {
                    continue;
                };
                if !known.insert(identity.clone()) {
                    continue; // already activated: Murano does not answer
                }
                let password = new_password();
                add_user(&identity, &password);
                if let Ok(mut list) = activated.lock() {
                    list.push((identity.clone(), password.clone()));
                }
                let _ = driver.publish(&reply, password.as_bytes(), QoS::AtLeastOnce, false);
            }
            Step::Output(_) => {}
            Step::External(_) => {
                // Stop: say goodbye to the broker, then drain without the closed channel.
                driver.disconnect();
                while driver.next().await.is_some() {}
                return;
            }
        }
    }
}

/// Publishes `payload` on `topic` as the platform (QoS 1) and waits for the acknowledgement.
pub fn platform_write(broker: SocketAddr, topic: &str, payload: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut driver = Driver::plain(
            connector(broker),
            Session::new(session_options("platform-writer")),
        );
        driver.connect();
        driver
            .publish(topic, payload.as_bytes(), QoS::AtLeastOnce, false)
            .expect("valid topic");
        let work = async {
            while let Some(output) = driver.next().await {
                match output {
                    Output::Event(Event::Published { .. }) => driver.disconnect(),
                    Output::Event(Event::ConnectionLost { error, .. }) => {
                        panic!("platform write failed: {error}")
                    }
                    _ => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), work)
            .await
            .expect("platform write within 10 s");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_40_hex_chars_and_differ() {
        let (a, b) = (new_password(), new_password());
        assert_eq!(a.len(), 40);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn requests_are_recognised() {
        assert_eq!(
            request("activate", b"007"),
            Some(("007".into(), "activate/007".into()))
        );
        assert_eq!(
            request("$provision/007", b""),
            Some(("007".into(), "$provision/007".into()))
        );
        assert_eq!(request("$provision/007", b"token"), None);
        assert_eq!(request("activate", b"a/b"), None);
        assert_eq!(request("activate", b""), None);
    }
}
