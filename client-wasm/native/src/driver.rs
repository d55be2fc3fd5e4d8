//! The native runtime adapter: one small tokio loop around a [`Session`] and a [`Flow`].
//!
//! Each step follows the session's polling order: apply the flow's commands, write what
//! `poll_transmit` gives, carry out `poll_transport` (open or close), hand `poll_event` events to
//! the flow and to the caller, then wait for bytes or for one timer armed at the earlier of the
//! session's and the flow's `poll_timeout`. Time is `std::time::Instant` elapsed since the
//! driver's origin, handed to the core as [`Instant::from_millis`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mqttws::{Connector, Driver, Output, TlsOptions};
//! use mqtt_core::{Event, Options, QoS, Session};
//! let connector = Connector::new("mqtt://127.0.0.1:1883".parse()?, &TlsOptions::default(), None)?;
//! let mut driver = Driver::plain(connector, Session::new(Options::new("demo")));
//! driver.connect();
//! driver.publish("demo/topic", b"hello", QoS::AtLeastOnce, false)?;
//! while let Some(output) = driver.next().await {
//!     if let Output::Event(Event::Published { .. }) = output {
//!         driver.disconnect();
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use super::errors::TransportError;
use super::transport::{Connector, Incoming, Transport};
use mqtt_core::{
    CommandError, Event, Instant, PublishId, QoS, RequestId, Session, TransportAction,
    TransportFailure,
};
use mqtt_flows::{self as flows, Flow};

/// What the driver reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<O> {
    /// A session event (also handed to the flow before it is reported).
    Event(Event),
    /// An output of the flow.
    Flow(O),
    /// A command of the flow that the session refused (invalid topic, full queue...).
    CommandFailed(CommandError),
}

/// One step of [`Driver::next_or`].
#[derive(Debug)]
pub enum Step<O, T> {
    /// What [`Driver::next`] would have returned.
    Output(Output<O>),
    /// A value from the caller's channel; `None` once that channel is closed.
    External(Option<T>),
}

/// No flow: drive the session alone (plain publish/subscribe).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFlow;

impl Flow for NoFlow {
    type Output = Infallible;

    fn handle_event(&mut self, _now: Instant, _event: &Event) {}

    fn poll_command(&mut self) -> Option<flows::Command> {
        None
    }

    fn poll_output(&mut self) -> Option<Infallible> {
        None
    }
}

/// Drives a session (and a flow beside it) over a native transport.
pub struct Driver<F: Flow> {
    connector: Connector,
    session: Session,
    flow: F,
    origin: std::time::Instant,
    transport: Option<Transport>,
    outputs: VecDeque<Output<F::Output>>,
}

impl Driver<NoFlow> {
    /// A driver for `session` alone, with no flow.
    pub fn plain(connector: Connector, session: Session) -> Self {
        Self::new(connector, session, NoFlow)
    }
}

impl<F: Flow> Driver<F> {
    /// A driver for `session` and `flow`, dialling through `connector`. Nothing happens until
    /// [`Driver::connect`] and [`Driver::next`]; the core's time starts now.
    pub fn new(connector: Connector, session: Session, flow: F) -> Self {
        Self {
            connector,
            session,
            flow,
            origin: std::time::Instant::now(),
            transport: None,
            outputs: VecDeque::new(),
        }
    }

    /// Now, on the core's timeline.
    pub fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// The session, to read its state.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, to give it commands; they take effect at the next `next()`.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The flow, to read its state.
    pub fn flow(&self) -> &F {
        &self.flow
    }

    /// The flow, to give it input; its commands are applied at the next `next()`.
    pub fn flow_mut(&mut self) -> &mut F {
        &mut self.flow
    }

    /// How the driver dials the broker.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Starts connecting ([`Session::connect`]); the transport opens at the next `next()`.
    pub fn connect(&mut self) {
        let now = self.now();
        self.session.connect(now);
    }

    /// Publishes a message ([`Session::publish`]); it is sent at the next `next()`.
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, CommandError> {
        let now = self.now();
        self.session.publish(now, topic, payload, qos, retain)
    }

    /// Subscribes to filters ([`Session::subscribe`]); sent at the next `next()`.
    pub fn subscribe(&mut self, filters: &[(&str, QoS)]) -> Result<RequestId, CommandError> {
        let now = self.now();
        self.session.subscribe(now, filters)
    }

    /// Sends DISCONNECT and closes; `next()` then reports `Disconnected` and ends.
    pub fn disconnect(&mut self) {
        let now = self.now();
        self.session.disconnect(now);
    }

    /// The next output; `None` once the session is idle (disconnected, or failed for good) and
    /// nothing else is pending.
    pub async fn next(&mut self) -> Option<Output<F::Output>> {
        match self.step::<Infallible>(None).await {
            Some(Step::Output(output)) => Some(output),
            Some(Step::External(_)) | None => None,
        }
    }

    /// Like [`next`](Self::next), but also returns values arriving on the caller's channel (lines
    /// typed on stdin, say); `None` once the session is idle, as for `next`. Do not pass a channel
    /// that already reported `None`.
    pub async fn next_or<T>(
        &mut self,
        external: &mut UnboundedReceiver<T>,
    ) -> Option<Step<F::Output, T>> {
        self.step(Some(external)).await
    }

    async fn step<T>(
        &mut self,
        mut external: Option<&mut UnboundedReceiver<T>>,
    ) -> Option<Step<F::Output, T>> {
        loop {
            self.flush().await;
            if let Some(output) = self.outputs.pop_front() {
                return Some(Step::Output(output));
            }
            let deadline = flows::earliest(self.session.poll_timeout(), self.flow.poll_timeout());
            if self.transport.is_none() && deadline.is_none() {
                return None;
            }
            let sleep_until = deadline.map(|d| {
                tokio::time::Instant::from_std(self.origin) + Duration::from_millis(d.as_millis())
            });
            tokio::select! {
                biased;
                incoming = recv(self.transport.as_mut()) => self.on_incoming(incoming),
                () = sleep(sleep_until) => {
                    let now = self.now();
                    self.session.handle_timeout(now);
                    self.flow.handle_timeout(now);
                }
                value = recv_external(external.as_deref_mut()) => return Some(Step::External(value)),
            }
        }
    }

    fn on_incoming(&mut self, incoming: Result<Incoming, TransportError>) {
        let now = self.now();
        match incoming {
            Ok(Incoming::Bytes(bytes)) => self.session.handle_bytes(now, &bytes),
            Ok(Incoming::Closed { code, reason }) => {
                self.transport = None;
                self.session
                    .handle_transport_closed(now, close_failure(code, &reason));
            }
            Ok(Incoming::Eof) => {
                self.transport = None;
                let failure = TransportFailure::Dropped("connection closed by the broker".into());
                self.session.handle_transport_closed(now, failure);
            }
            Err(e) => self.fail(now, e),
        }
    }

    /// The transport failed: the session gets the typed cause (see `TransportError`'s
    /// conversion), so its `ConnectionLost` carries everything the CLI needs.
    fn fail(&mut self, now: Instant, error: TransportError) {
        self.transport = None;
        self.session.handle_transport_closed(now, error.into());
    }

    /// Drains the session and the flow in the documented order until neither has anything left.
    async fn flush(&mut self) {
        loop {
            let mut progressed = false;
            let now = self.now();
            for error in flows::pump(&mut self.session, &mut self.flow, now) {
                self.outputs.push_back(Output::CommandFailed(error));
            }
            while let Some(bytes) = self.session.poll_transmit() {
                progressed = true;
                if let Some(transport) = self.transport.as_mut() {
                    if let Err(e) = transport.send(&bytes).await {
                        let now = self.now();
                        self.fail(now, e);
                    }
                }
            }
            while let Some(action) = self.session.poll_transport() {
                progressed = true;
                match action {
                    TransportAction::Open => self.open().await,
                    TransportAction::Close => {
                        if let Some(transport) = self.transport.take() {
                            transport.close().await;
                        }
                    }
                }
            }
            let now = self.now();
            while let Some(event) = self.session.poll_event() {
                progressed = true;
                self.flow.handle_event(now, &event);
                self.outputs.push_back(Output::Event(event));
            }
            while let Some(output) = self.flow.poll_output() {
                self.outputs.push_back(Output::Flow(output));
            }
            if !progressed {
                return;
            }
        }
    }

    async fn open(&mut self) {
        if let Some(old) = self.transport.take() {
            old.close().await;
        }
        let now = self.now();
        let limit = self
            .session
            .poll_timeout()
            .map(|deadline| deadline.saturating_duration_since(now))
            .unwrap_or(Duration::from_secs(10));
        let result = match tokio::time::timeout(limit, self.connector.open()).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout(
                u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
            )),
        };
        let now = self.now();
        match result {
            Ok(transport) => {
                self.transport = Some(transport);
                self.session.handle_transport_open(now);
            }
            Err(e) => self.fail(now, e),
        }
    }
}

async fn recv(transport: Option<&mut Transport>) -> Result<Incoming, TransportError> {
    match transport {
        Some(t) => t.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep(until: Option<tokio::time::Instant>) {
    match until {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn recv_external<T>(external: Option<&mut UnboundedReceiver<T>>) -> Option<T> {
    match external {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// What a WebSocket close frame from the server tells the session: its code and reason (the
/// reason defaulted from `mqtt_core::wire::close`); whether it is retried is the core's rule.
pub fn close_failure(code: u16, reason: &str) -> TransportFailure {
    TransportFailure::closed(code, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes() {
        assert!(close_failure(1001, "").is_retried());
        assert!(close_failure(1013, "").is_retried());
        assert!(!close_failure(1008, "").is_retried());
        assert!(!close_failure(4003, "").is_retried());
        assert!(!close_failure(4011, "").is_retried());
        assert!(close_failure(4502, "").is_retried());
    }
}
