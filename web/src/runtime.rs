//! The only module that touches `client_wasm`. One tab holds at most one client: each
//! start opens a new one under a new generation number and reports it; the client's callbacks
//! become [`Report`]s with the time attached. A page's command gets [`Ops`]: the runtime, the
//! settings and a way back into the page's reducer.

use client_wasm::browser::TabRole as BrowserRole;
use client_wasm::{Client, ClientConfig, FlowHandle};
use mqtt_core::{Options, QoS};
use mqtt_flows::Flow;
use yew::Callback;

use crate::model::conn::TabRole;
use crate::model::{Dir, Page, Report, Row, Settings};

/// The tab's client and the flow attached to it.
pub struct Runtime {
    generation: u64,
    purpose: Option<Page>,
    client: Option<Client>,
    /// Keeps the flow attached (dropping the handle detaches it).
    flow: Option<FlowHandle>,
    reports: Callback<Report>,
}

/// Wall-clock time for the log, in Unix milliseconds.
pub fn wall_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

/// A different jitter seed per client, so that tabs do not reconnect in lock step.
fn seeded(mut options: Options) -> Options {
    options.reconnect.seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    options
}

/// The browser crate's role, parsed once: a lone tab shares nothing.
fn shared_role(role: BrowserRole) -> Option<TabRole> {
    match role {
        BrowserRole::Solo => None,
        BrowserRole::Leader => Some(TabRole::Leader),
        BrowserRole::Follower => Some(TabRole::Follower),
    }
}

pub fn with_credentials(options: Options, username: &str, password: &str) -> Options {
    match username.trim() {
        "" => options,
        user => options.with_credentials(user, password.as_bytes().to_vec()),
    }
}

/// `value` trimmed, or what to enter first.
pub fn required<'a>(value: &'a str, what: &str) -> Result<&'a str, String> {
    match value.trim() {
        "" => Err(format!("enter the {what} first")),
        v => Ok(v),
    }
}

impl Runtime {
    pub fn new(reports: Callback<Report>) -> Self {
        Self {
            generation: 0,
            purpose: None,
            client: None,
            flow: None,
            reports,
        }
    }

    /// Ends whatever runs and reports it.
    pub fn stop(&mut self) {
        self.close();
        self.reports.emit(Report::Stopped);
    }

    /// After "connected elsewhere": connect again, taking the client id over.
    pub fn take_over(&self) {
        if let Some(client) = &self.client {
            client.take_over();
        }
    }

    fn close(&mut self) {
        if let Some(flow) = self.flow.take() {
            flow.stop();
        }
        if let Some(client) = self.client.take() {
            client.end();
        }
        self.purpose = None;
    }

    fn open(
        &mut self,
        purpose: Page,
        url: &str,
        options: Options,
        share: bool,
    ) -> Result<(u64, Client), String> {
        self.close();
        self.generation += 1;
        let generation = self.generation;
        self.reports.emit(Report::Started {
            generation,
            purpose,
        });
        let events = self.reports.clone();
        let config = ClientConfig {
            share,
            ..ClientConfig::default()
        };
        let client = Client::connect_with(url, seeded(options), config, move |event| {
            events.emit(Report::Event {
                generation,
                at_ms: wall_ms(),
                event,
            });
        })
        .map_err(|refused| {
            self.reports.emit(Report::Stopped);
            refused.to_string()
        })?;
        self.reports.emit(Report::Role {
            generation,
            role: shared_role(client.role()),
        });
        let roles = self.reports.clone();
        client.on_role(move |role| {
            roles.emit(Report::Role {
                generation,
                role: shared_role(role),
            });
        });
        self.client = Some(client.clone());
        self.purpose = Some(purpose);
        Ok((generation, client))
    }

    fn publish(
        &self,
        purpose: Page,
        topic: String,
        payload: &str,
        qos: QoS,
        retain: bool,
    ) -> Result<(), String> {
        let client = match (&self.client, self.purpose) {
            (Some(client), Some(p)) if p == purpose => client,
            _ => {
                let what = purpose.title().to_lowercase();
                return Err(format!("connect the {what} first"));
            }
        };
        client
            .publish(&topic, payload.as_bytes(), qos, retain)
            .map_err(|e| e.to_string())?;
        let row = Row {
            at_ms: wall_ms(),
            dir: Dir::Out,
            topic,
            qos: mqtt_core::qos_to_u8(qos),
            retain,
            payload: payload.as_bytes().to_vec(),
        };
        self.reports.emit(Report::Sent {
            generation: self.generation,
            row,
        });
        Ok(())
    }
}

/// What a page's command gets: the tab's runtime, the connection panel's settings, and a way
/// for the page's flow to reach the page's reducer.
pub struct Ops<'a, A> {
    runtime: &'a mut Runtime,
    pub settings: &'a Settings,
    output: Callback<(u64, A)>,
}

impl<'a, A: 'static> Ops<'a, A> {
    pub fn new(
        runtime: &'a mut Runtime,
        settings: &'a Settings,
        output: Callback<(u64, A)>,
    ) -> Self {
        Self {
            runtime,
            settings,
            output,
        }
    }

    /// Opens a new client for `purpose` to the panel's endpoint, closing the old one.
    pub fn open(
        &mut self,
        purpose: Page,
        options: Options,
        share: bool,
    ) -> Result<(u64, Client), String> {
        let url = self.settings.endpoint()?;
        self.runtime.open(purpose, &url, options, share)
    }

    /// Opens a client for `purpose` (as [`Ops::open`]) and runs `flow` on it until the next
    /// start or stop, each of its outputs reaching the page's reducer as `to_action` makes it.
    pub fn run_flow<F: Flow + 'static>(
        &mut self,
        purpose: Page,
        options: Options,
        share: bool,
        flow: F,
        to_action: impl Fn(F::Output) -> A + 'static,
    ) -> Result<(), String> {
        let (generation, client) = self.open(purpose, options, share)?;
        let out = self.output(generation);
        self.keep(client.attach(flow, move |output| out.emit(to_action(output))));
        Ok(())
    }

    /// Keeps `flow` attached until the next start or stop.
    fn keep(&mut self, flow: FlowHandle) {
        self.runtime.flow = Some(flow);
    }

    /// Where the flow of the client of `generation` sends its outputs: the page's reducer,
    /// while that client is the current one.
    fn output(&self, generation: u64) -> Callback<A> {
        self.output.reform(move |action| (generation, action))
    }

    /// Publishes on the client of `purpose` and logs it there.
    pub fn publish(
        &self,
        purpose: Page,
        topic: String,
        payload: &str,
        qos: QoS,
        retain: bool,
    ) -> Result<(), String> {
        self.runtime.publish(purpose, topic, payload, qos, retain)
    }

    /// The options of a device page: the panel's client id for `page` and its credentials.
    pub fn device_options(&self, page: Page) -> Options {
        let s = self.settings;
        with_credentials(
            Options::new(s.client_id_for(page)),
            &s.username,
            &s.password,
        )
    }
}
