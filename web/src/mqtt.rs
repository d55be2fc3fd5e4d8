//! The only module that touches `client_wasm::browser`. One tab holds at most one client: each
//! start opens a new one under a new generation number, attaches the page's flow, and turns the
//! client's callbacks into reducer actions with the time attached.

use core::time::Duration;

use client_wasm::browser::{BrowserConfig, Client, FlowHandle, TabRole};
use mqtt_core::flows::{
    Activation, ActivationMode, Console, ConsoleMode, Device, DeviceConfig, EchoHost,
    EchoHostConfig, LoginStyle,
};
use mqtt_core::{qos_from_u8, Options, QoS};
use yew::{UseReducerDispatcher, UseReducerHandle};

use crate::state::{Action, Page, State};

/// What the pages ask of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Activate,
    ConnectConsole,
    Publish,
    /// `$resource.batch` from the console's batch field (current API).
    SendBatch,
    StartEcho,
    StartDevice,
    ConnectPlatform,
    WritePlatform,
    /// Disconnect whatever runs (console, echo host, device, platform, activation).
    Stop,
    /// After "connected elsewhere": connect again, taking the client id over.
    TakeOver,
}

/// The tab's client and the flow attached to it.
#[derive(Default)]
pub struct Runtime {
    generation: u64,
    purpose: Option<Page>,
    client: Option<Client>,
    /// Keeps the flow attached (dropping the handle detaches it).
    flow: Option<FlowHandle>,
}

/// Wall-clock time for the log, in Unix milliseconds.
fn wall_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

/// A different jitter seed per client, so that tabs do not reconnect in lock step.
fn seeded(mut options: Options) -> Options {
    options.reconnect.seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    options
}

fn with_credentials(options: Options, username: &str, password: &str) -> Options {
    match username.trim() {
        "" => options,
        user => options.with_credentials(user, password.as_bytes().to_vec()),
    }
}

fn required<'a>(value: &'a str, what: &str) -> Result<&'a str, String> {
    match value.trim() {
        "" => Err(format!("enter the {what} first")),
        v => Ok(v),
    }
}

impl Runtime {
    fn stop(&mut self) {
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
        d: &UseReducerDispatcher<State>,
        purpose: Page,
        url: &str,
        options: Options,
        share: bool,
    ) -> Result<(u64, Client), String> {
        self.stop();
        self.generation += 1;
        let generation = self.generation;
        d.dispatch(Action::Started {
            generation,
            purpose,
        });
        let events = d.clone();
        let config = BrowserConfig {
            share,
            ..BrowserConfig::default()
        };
        let client = Client::connect_with(url, seeded(options), config, move |event| {
            events.dispatch(Action::Event {
                generation,
                at_ms: wall_ms(),
                event,
            });
        });
        let client = match client {
            Ok(client) => client,
            Err(refused) => {
                d.dispatch(Action::Stopped);
                return Err(refused.to_string());
            }
        };
        let role_of = |role: TabRole| match role {
            TabRole::Solo => "",
            other => other.as_str(),
        };
        d.dispatch(Action::Role {
            generation,
            role: role_of(client.role()),
        });
        let roles = d.clone();
        client.on_role(move |role| {
            roles.dispatch(Action::Role {
                generation,
                role: role_of(role),
            })
        });
        self.client = Some(client.clone());
        self.purpose = Some(purpose);
        Ok((generation, client))
    }

    fn client_for(&self, purpose: Page) -> Result<&Client, String> {
        match (&self.client, self.purpose) {
            (Some(client), Some(p)) if p == purpose => Ok(client),
            _ => Err(format!(
                "connect the {} first",
                purpose.title().to_lowercase()
            )),
        }
    }

    fn publish(
        &self,
        d: &UseReducerDispatcher<State>,
        purpose: Page,
        topic: String,
        payload: &str,
        qos: QoS,
        retain: bool,
    ) -> Result<(), String> {
        let client = self.client_for(purpose)?;
        client
            .publish(&topic, payload.as_bytes(), qos, retain)
            .map_err(|e| e.to_string())?;
        d.dispatch(Action::Sent {
            generation: self.generation,
            at_ms: wall_ms(),
            topic,
            payload: payload.as_bytes().to_vec(),
            qos: mqtt_core::qos_to_u8(qos),
            retain,
        });
        Ok(())
    }

    /// Carries out `op` against the current state; a problem comes back in words.
    fn try_run(
        &mut self,
        state: &State,
        d: &UseReducerDispatcher<State>,
        op: Op,
    ) -> Result<(), String> {
        let s = &state.settings;
        match op {
            Op::Activate => {
                let identity = required(&s.identity, "device identity")?;
                let url = s.endpoint()?;
                let a = &state.activation;
                // The log-in styles and a pushed reply belong to the current API.
                let current = a.mode == ActivationMode::Provision;
                let flow = Activation::new(identity, a.mode)
                    .with_login(if current {
                        a.login
                    } else {
                        LoginStyle::Identity
                    })
                    .subscribing(a.subscribe || !current);
                let options = flow.session_options();
                let (generation, client) = self.open(d, Page::Activate, &url, options, false)?;
                let out = d.clone();
                self.flow = Some(client.attach(flow, move |outcome| {
                    out.dispatch(Action::Activated {
                        generation,
                        outcome,
                    })
                }));
            }
            Op::ConnectConsole => {
                let identity = required(&s.identity, "device identity")?;
                let url = s.endpoint()?;
                let c = &state.console;
                let mut options = match c.mode {
                    ConsoleMode::Legacy => with_credentials(
                        Options::new(s.client_id_for(Page::Console)),
                        &s.username,
                        &s.password,
                    ),
                    // The current API: the log-in style decides client id and user name.
                    ConsoleMode::Resource => c.login.login_options(identity, &s.password),
                };
                // A persistent session, shared by every console tab of this identity: one
                // connection, and accepted QoS 1/2 publishes survive a reload or a closed tab.
                // Not with an empty client id (the token-only log-in): the broker assigns one,
                // which needs a clean session [MQTT-3.1.3-7] and cannot be shared.
                let persistent = !options.client_id.is_empty();
                options.clean_session = !persistent;
                let (generation, client) =
                    self.open(d, Page::Console, &url, options, persistent)?;
                let out = d.clone();
                let flow = Console::new(identity, c.mode);
                self.flow = Some(client.attach(flow, move |output| {
                    out.dispatch(Action::ConsoleOutput {
                        generation,
                        at_ms: wall_ms(),
                        output,
                    })
                }));
            }
            Op::Publish => {
                let resource = required(&state.console.topic, "topic")?;
                let console = Console::new(s.identity.trim(), state.console.mode);
                let topic = console.topic_for(resource);
                let qos = qos_from_u8(state.console.qos).unwrap_or(QoS::AtMostOnce);
                console
                    .check(qos, state.console.message.as_bytes())
                    .map_err(|e| e.to_string())?;
                self.publish(
                    d,
                    Page::Console,
                    topic,
                    &state.console.message,
                    qos,
                    state.console.retain,
                )?;
            }
            Op::SendBatch => {
                let c = &state.console;
                let qos = qos_from_u8(c.qos).unwrap_or(QoS::AtMostOnce);
                let now_us = (js_sys::Date::now().max(0.0) as u64).saturating_mul(1000);
                Console::new(s.identity.trim(), ConsoleMode::Resource)
                    .check(qos, b"")
                    .map_err(|e| e.to_string())?;
                let (topic, body) = Console::batch(&c.batch, now_us).map_err(|e| e.to_string())?;
                let body = String::from_utf8(body).map_err(|e| e.to_string())?;
                self.publish(d, Page::Console, topic, &body, qos, false)?;
            }
            Op::StartEcho => {
                let e = &state.echo;
                let config = EchoHostConfig {
                    in_topic: required(&e.in_topic, "input topic")?.into(),
                    out_topic: required(&e.out_topic, "output topic")?.into(),
                    direction: e.direction,
                    qos: QoS::AtMostOnce,
                };
                let url = s.endpoint()?;
                let options = with_credentials(
                    Options::new(s.client_id_for(Page::Echo)),
                    &s.username,
                    &s.password,
                );
                let (generation, client) = self.open(d, Page::Echo, &url, options, false)?;
                let out = d.clone();
                self.flow = Some(client.attach(EchoHost::new(config), move |output| {
                    out.dispatch(Action::EchoOutput { generation, output })
                }));
            }
            Op::StartDevice => {
                let v = &state.device;
                let interval = v
                    .interval()
                    .ok_or("the interval must be a number of milliseconds")?;
                let config = DeviceConfig {
                    in_topic: required(&v.in_topic, "input topic")?.into(),
                    out_topic: required(&v.out_topic, "output topic")?.into(),
                    interval: Duration::from_millis(interval),
                    message: v.message.clone(),
                    qos: QoS::AtMostOnce,
                };
                let url = s.endpoint()?;
                let options = with_credentials(
                    Options::new(s.client_id_for(Page::Device)),
                    &s.username,
                    &s.password,
                );
                let (generation, client) = self.open(d, Page::Device, &url, options, false)?;
                let out = d.clone();
                self.flow = Some(client.attach(Device::new(config), move |output| {
                    out.dispatch(Action::DeviceOutput { generation, output })
                }));
            }
            Op::ConnectPlatform => {
                let p = &state.platform;
                let user = required(&p.username, "platform user name")?;
                let url = s.endpoint()?;
                let options =
                    with_credentials(Options::new(format!("{user}-portal")), user, &p.password);
                self.open(d, Page::Platform, &url, options, false)?;
            }
            Op::WritePlatform => {
                let p = &state.platform;
                required(&p.identity, "device identity")?;
                required(&p.resource, "resource")?;
                self.publish(
                    d,
                    Page::Platform,
                    p.topic(),
                    &p.value,
                    QoS::AtLeastOnce,
                    false,
                )?;
            }
            Op::Stop => {
                self.stop();
                d.dispatch(Action::Stopped);
            }
            Op::TakeOver => {
                if let Some(client) = &self.client {
                    client.take_over();
                }
            }
        }
        Ok(())
    }

    pub fn run(&mut self, state: &UseReducerHandle<State>, op: Op) {
        let d = state.dispatcher();
        let result = self.try_run(state, &d, op);
        d.dispatch(Action::Notice(result.err()));
    }
}
