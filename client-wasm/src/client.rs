//! The client handle: what a page (through `js`) or a Rust caller (the web app) holds. Each
//! call becomes a [`Command`] for the driver loop, or a question about its state.

use std::rc::Rc;

use mqtt_core::{CommandError, Event, Options, PublishId, QoS, RequestId};
use mqtt_flows::Flow;
use mqtt_tabs::{Request, TabRole};

use crate::clock::now;
use crate::command::Command;
use crate::driver::flow::{self, ErasedFlow, FlowHandle};
use crate::driver::Driver;
use crate::platform::Active;
use crate::runtime::Runtime;

/// Adapter settings that are not MQTT options.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Keep unacknowledged QoS 1/2 publishes in the store (IndexedDB in the browser) when the
    /// session is not clean.
    pub persist: bool,
    /// Refuse stored records longer than this many bytes, as a full store would (tests; the
    /// browser's own quota applies anyway).
    pub store_quota: Option<usize>,
    /// Browser: run the timer in a Worker so that hidden tabs keep keepalive and reconnect
    /// timing.
    pub worker_timer: bool,
    /// Browser: share one connection with the other tabs of the origin that connect to the same URL
    /// with the same client id (see `mqtt_tabs`): one tab holds the WebSocket, the others go
    /// through it. Falls back to a connection of its own where the browser has no Web Locks
    /// API or BroadcastChannel.
    pub share: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            persist: true,
            worker_timer: true,
            store_quota: None,
            share: false,
        }
    }
}

/// An MQTT client on this runtime's transport. Clones share the same connection.
#[derive(Clone)]
pub struct Client {
    driver: Rc<Driver>,
}

impl Client {
    /// Opens `url` (ws:// or wss://, subprotocol "mqtt", binaryType arraybuffer) and connects with
    /// `options`; every session event goes to `on_event`. Reconnects by itself per
    /// `options.reconnect`. With `clean_session` off, unacknowledged QoS 1/2 publishes left by an
    /// earlier page (same client id) are restored from IndexedDB and resent: the client connects
    /// once they are read. A URL the browser cannot open a WebSocket to is refused here
    /// ([`CommandError::InvalidUrl`]).
    #[cfg(feature = "browser")]
    pub fn connect(
        url: &str,
        options: Options,
        on_event: impl FnMut(Event) + 'static,
    ) -> Result<Client, CommandError> {
        Self::connect_with(url, options, ClientConfig::default(), on_event)
    }

    /// [`Client::connect`] with adapter settings.
    #[cfg(feature = "browser")]
    pub fn connect_with(
        url: &str,
        options: Options,
        config: ClientConfig,
        on_event: impl FnMut(Event) + 'static,
    ) -> Result<Client, CommandError> {
        let runtime = crate::browser::Browser {
            worker_timer: config.worker_timer,
        };
        let share = config
            .share
            .then(|| crate::browser::share_name(url, &options.client_id));
        Self::connect_on(runtime, url, options, &config, share, Box::new(on_event))
    }

    /// Connects on `runtime`'s transport and store; `share` names the tabs' shared connection.
    pub(crate) fn connect_on(
        runtime: Active,
        url: &str,
        options: Options,
        config: &ClientConfig,
        share: Option<String>,
        on_event: Box<dyn FnMut(Event)>,
    ) -> Result<Client, CommandError> {
        check_url(url)?;
        options.check()?;
        let persist = config.persist && !options.clean_session;
        let driver = Driver::new(runtime, url, options, persist, config.store_quota, on_event);
        driver.start(share);
        Ok(Client { driver })
    }

    /// Whether this tab holds the connection, goes through another tab's, or has its own.
    pub fn role(&self) -> TabRole {
        let state = self.driver.state.borrow();
        state.share.as_ref().map_or(TabRole::Solo, |s| s.tab.role())
    }

    /// Calls `on_role` whenever [`Client::role`] changes (a follower becoming the leader).
    pub fn on_role(&self, on_role: impl FnMut(TabRole) + 'static) {
        *self.driver.on_role.borrow_mut() = Some(Box::new(on_role));
    }

    /// Subscribes to `filters` (3.1.1 §3.8); `Event::Subscribed` answers with the same id.
    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> Result<RequestId, CommandError> {
        let list = filters.iter().map(|(f, q)| (f.to_string(), *q)).collect();
        self.run(Request::Subscribe(list)).map(RequestId)
    }

    /// Unsubscribes from `filters` (3.1.1 §3.10); `Event::Unsubscribed` answers with the same id.
    pub fn unsubscribe(&self, filters: &[&str]) -> Result<RequestId, CommandError> {
        let list = filters.iter().map(ToString::to_string).collect();
        self.run(Request::Unsubscribe(list)).map(RequestId)
    }

    /// Publishes. With a stored session, a QoS 1/2 message is checked now and accepted once its
    /// row is committed to IndexedDB; a store that cannot hold it ends it with
    /// `Event::PublishFailed` (code `storage_full`) and it is never sent. In a follower tab,
    /// `Ok` means it is on its way to the leader, whose store keeps it.
    pub fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, CommandError> {
        self.run(Request::Publish {
            topic: topic.to_string(),
            payload: payload.to_vec(),
            qos,
            retain,
        })
        .map(PublishId)
    }

    /// Whether the publish `id` completed within the call that made it (a QoS 0 publish made
    /// inside an event callback, handed to the socket there); its `Published` event is then
    /// taken, not delivered.
    pub fn take_published(&self, id: PublishId) -> bool {
        self.driver.take_published(id)
    }

    fn run(&self, request: Request) -> Result<u64, CommandError> {
        let command = Command::Request(request);
        self.driver
            .with_state(|state, now| state.command(now, command))
    }

    /// True while this tab's connection (or its leader's, when it follows) is up.
    pub fn is_connected(&self) -> bool {
        let state = self.driver.state.borrow();
        match &state.share {
            Some(share) if !share.tab.is_leader() => share.tab.connected(),
            _ => state.session.is_connected(),
        }
    }

    /// Whether [`Client::end`] was called.
    pub fn is_ended(&self) -> bool {
        self.driver.state.borrow().ended
    }

    /// Publishes not yet acknowledged.
    pub fn pending_count(&self) -> usize {
        let state = self.driver.state.borrow();
        match &state.share {
            Some(share) if !share.tab.is_leader() => share.tab.pending_count(),
            _ => state.session.pending_count(),
        }
    }

    /// Whether the timer runs in a Worker (false: the page's `setTimeout`).
    pub fn timer_uses_worker(&self) -> bool {
        let state = self.driver.state.borrow();
        state
            .timer
            .as_ref()
            .is_some_and(crate::runtime::Timer::uses_worker)
    }

    /// Change options for the next connection (e.g. credentials after activation).
    pub fn update_options(&self, change: impl FnOnce(&mut Options)) {
        change(self.driver.state.borrow_mut().session.options_mut());
    }

    /// Skip the remaining reconnect delay (e.g. on the `online` event). No-op while connected,
    /// while the stored session is read, and after [`Client::connected_elsewhere`].
    pub fn reconnect_now(&self) {
        self.driver.reconnect_now();
    }

    /// Whether the session stopped because another client uses its client id
    /// ([`mqtt_core::ConnectionError::ConnectedElsewhere`]).
    pub fn connected_elsewhere(&self) -> bool {
        let state = self.driver.state.borrow();
        match &state.share {
            Some(share) if !share.tab.is_leader() => share.tab.elsewhere(),
            _ => state.session.is_connected_elsewhere(),
        }
    }

    /// Connects again after "connected elsewhere", taking the client id over (the other client
    /// is disconnected by the broker). Also skips a reconnect delay. In a follower tab it asks
    /// the leader, whose connection it is, to do so.
    pub fn take_over(&self) {
        self.driver.take_over();
    }

    /// DISCONNECT, close, stop timers; drops attached flows. Unacknowledged QoS 1/2 publishes
    /// stay in IndexedDB (clean session off) for the next page with this client id.
    pub fn end(&self) {
        self.driver.end();
    }

    /// Runs a sans-IO flow on this client: feeds it every event, applies its commands
    /// (`flows::pump`), arms its timer (merged with the session's) and hands each output to
    /// `on_output`. Dropping or calling `stop()` on the handle detaches it.
    pub fn attach<F: Flow + 'static>(
        &self,
        flow: F,
        on_output: impl FnMut(F::Output) + 'static,
    ) -> FlowHandle {
        let slot = flow::Slot::new(flow, on_output);
        let erased: Rc<dyn ErasedFlow> = slot.clone();
        if !self.is_ended() {
            self.driver.flows.borrow_mut().push(erased.clone());
        }
        // A flow may have commands or a timer from its constructor (e.g. subscribe first).
        erased.pump(&self.driver, now());
        self.driver.drive();
        FlowHandle::new(Rc::downgrade(&self.driver), erased)
    }
}

/// Refuses what this runtime cannot open: not a URL, a scheme it has no transport for (the
/// browser: ws:// or wss://), a #fragment (WHATWG WebSockets, "establish a WebSocket
/// connection", which the edge follows for every scheme).
fn check_url(url: &str) -> Result<(), CommandError> {
    let invalid = |reason: &str| CommandError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = web_sys::Url::new(url).map_err(|_| invalid("not an absolute URL"))?;
    if !Active::SCHEMES.contains(&parsed.protocol().as_str()) {
        return Err(invalid(Active::SCHEME_ERROR));
    }
    if !parsed.hash().is_empty() {
        return Err(invalid("a WebSocket URL cannot have a #fragment"));
    }
    Ok(())
}
