//! The whole UI state as a pure reducer: `State::apply(Action)`. No browser API, no clock and no
//! MQTT client here: the provider (`app.rs`, `mqtt.rs`) turns clicks and client events into
//! [`Action`]s with the time already attached, so every transition is tested natively.
//!
//! One tab holds at most one MQTT connection. Each start (activate, console, echo host, device,
//! platform) opens a new one under a new generation number; events of older generations are
//! ignored, so a late callback from a closed client cannot touch the new page.

use std::collections::{BTreeMap, VecDeque};

use mqtt_core::flows::rotate::Direction;
use mqtt_core::flows::{
    ActivationError, ActivationMode, ConsoleOutput, Credentials, DeviceOutput, EchoOutput,
};
use mqtt_core::Event;

use crate::format::{self, PayloadFormat};

/// Most log entries kept (older ones are dropped first).
pub const LOG_CAP: usize = 500;
/// Entries shown in the "last messages" lists of the echo host and the device.
pub const LAST_CAP: usize = 10;
/// Points kept per chart.
pub const CHART_POINTS: usize = 120;

/// The pages, reached by hash routes so that each tab can open one directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    #[default]
    Activate,
    Console,
    Echo,
    Device,
    Platform,
}

impl Page {
    pub const ALL: [Page; 5] = [
        Page::Activate,
        Page::Console,
        Page::Echo,
        Page::Device,
        Page::Platform,
    ];

    /// `#/console` → Console; anything unknown → Activate.
    pub fn from_hash(hash: &str) -> Page {
        let name = hash.trim_start_matches('#').trim_start_matches('/');
        let name = name.split(['/', '?']).next().unwrap_or("");
        Page::ALL
            .into_iter()
            .find(|p| p.slug() == name)
            .unwrap_or_default()
    }

    pub fn slug(self) -> &'static str {
        match self {
            Page::Activate => "activate",
            Page::Console => "console",
            Page::Echo => "echo",
            Page::Device => "device",
            Page::Platform => "platform",
        }
    }

    pub fn hash(self) -> String {
        format!("#/{}", self.slug())
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Activate => "Activate",
            Page::Console => "Console",
            Page::Echo => "Echo host",
            Page::Device => "Device",
            Page::Platform => "Platform",
        }
    }

    /// The default client id suffix, so that pages in two tabs with one identity do not take
    /// over each other's session.
    pub fn client_suffix(self) -> &'static str {
        match self {
            Page::Activate | Page::Console => "",
            Page::Echo => "-echo-host",
            Page::Device => "-device",
            Page::Platform => "-platform",
        }
    }
}

/// What the tab's connection is for.
pub type Purpose = Page;

/// The connection as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Idle,
    Connecting {
        attempt: u32,
    },
    Connected,
    /// Lost; the session retries in `in_secs`.
    Reconnecting {
        in_secs: u64,
        attempt: u32,
        reason: String,
    },
    /// Lost for good (or refused); `reason` is the bridge's or broker's words.
    Failed {
        code: String,
        reason: String,
    },
    Disconnected,
}

impl Status {
    /// A stable key for `data-state`.
    pub fn key(&self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Connecting { .. } => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting { .. } => "reconnecting",
            Status::Failed { .. } => "error",
            Status::Disconnected => "disconnected",
        }
    }

    pub fn text(&self) -> String {
        match self {
            Status::Idle => "Not connected".into(),
            Status::Connecting { attempt: 0 } => "Connecting…".into(),
            Status::Connecting { attempt } => format!("Connecting… (attempt {attempt})"),
            Status::Connected => "Connected".into(),
            Status::Reconnecting {
                in_secs,
                attempt,
                reason,
            } => {
                format!("Reconnecting in {in_secs} s (attempt {attempt}): {reason}")
            }
            Status::Failed { code, reason } => format!("Error: {reason}{}", hint(code)),
            Status::Disconnected => "Disconnected".into(),
        }
    }
}

/// What a refusal most likely means. mosquitto 2.0 answers a wrong password on MQTT 3.1.1 with
/// CONNACK 5 ("not authorized"), Murano and others with 4 ("bad user name or password").
fn hint(code: &str) -> &'static str {
    match code {
        "not_authorized" => " (bad user name or password, or this client may not connect)",
        "bad_credentials" => " (check the user name and password)",
        "identifier_rejected" => " (the broker refuses this client id)",
        _ => "",
    }
}

/// Every text input of the app, so one action sets any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Url,
    Route,
    Product,
    Identity,
    Username,
    Password,
    ClientId,
    PubTopic,
    PubMessage,
    EchoIn,
    EchoOut,
    DeviceIn,
    DeviceOut,
    DeviceMessage,
    DeviceInterval,
    PlatformUser,
    PlatformPassword,
    PlatformIdentity,
    PlatformResource,
    PlatformValue,
}

/// Where to connect and as whom (the connection panel).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub url: String,
    pub route: String,
    pub product: String,
    pub identity: String,
    pub username: String,
    pub password: String,
    /// Empty: the identity plus the page's suffix.
    pub client_id: String,
    /// Remember the credentials in this browser (localStorage).
    pub remember: bool,
}

impl Settings {
    pub fn endpoint(&self) -> Result<String, String> {
        format::endpoint(&self.url, &self.route, &self.product)
    }

    pub fn client_id_for(&self, page: Page) -> String {
        match self.client_id.trim() {
            "" => self.default_client_id(page),
            id => id.to_string(),
        }
    }

    /// The client id used when the field is empty: the identity plus the page's suffix.
    pub fn default_client_id(&self, page: Page) -> String {
        format!("{}{}", self.identity.trim(), page.client_suffix())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
}

impl Dir {
    pub fn arrow(self) -> &'static str {
        match self {
            Dir::In => "in",
            Dir::Out => "out",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub id: u64,
    pub at_ms: u64,
    pub dir: Dir,
    pub topic: String,
    pub qos: u8,
    pub retain: bool,
    pub payload: Vec<u8>,
}

/// A capped message log that can be paused: while paused, new entries wait (also capped) and
/// join the log on resume, so the view stays still while the user reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Log {
    pub entries: VecDeque<LogEntry>,
    pub held: VecDeque<LogEntry>,
    pub paused: bool,
    /// Entries dropped by the cap since the start.
    pub dropped: u64,
    next_id: u64,
}

impl Log {
    pub fn push(
        &mut self,
        at_ms: u64,
        dir: Dir,
        topic: String,
        qos: u8,
        retain: bool,
        payload: Vec<u8>,
    ) {
        let entry = LogEntry {
            id: self.next_id,
            at_ms,
            dir,
            topic,
            qos,
            retain,
            payload,
        };
        self.next_id += 1;
        let list = if self.paused {
            &mut self.held
        } else {
            &mut self.entries
        };
        list.push_back(entry);
        if list.len() > LOG_CAP {
            list.pop_front();
            self.dropped += 1;
        }
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if !paused {
            let held = std::mem::take(&mut self.held);
            for entry in held {
                self.entries.push_back(entry);
                if self.entries.len() > LOG_CAP {
                    self.entries.pop_front();
                    self.dropped += 1;
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.held.clear();
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivationView {
    pub mode: ActivationMode,
    pub running: bool,
    /// The seed's printed lines (`Activation succeeded!`, `username = …`, `password = …`).
    pub lines: Vec<String>,
    pub credentials: Option<Credentials>,
    pub error: Option<String>,
}

/// Numeric values per resource for the charts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Charts {
    pub series: BTreeMap<String, VecDeque<(u64, f64)>>,
}

impl Charts {
    pub fn push(&mut self, resource: &str, at_ms: u64, value: f64) {
        let series = self.series.entry(resource.to_string()).or_default();
        series.push_back((at_ms, value));
        if series.len() > CHART_POINTS {
            series.pop_front();
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleView {
    /// A resource (`temperature`) or a full topic (`007/temperature`), as in the seed.
    pub topic: String,
    pub message: String,
    pub qos: u8,
    pub retain: bool,
    pub format: PayloadFormat,
    pub log: Log,
    pub charts: Charts,
}

impl Default for ConsoleView {
    fn default() -> Self {
        Self {
            topic: "temperature".into(),
            message: String::new(),
            qos: 1,
            retain: false,
            format: PayloadFormat::Text,
            log: Log::default(),
            charts: Charts::default(),
        }
    }
}

/// Counters and last messages of the echo host or the device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoopStats {
    pub running: bool,
    pub received: u64,
    pub sent: u64,
    pub errors: u64,
    pub last_error: Option<String>,
    /// Newest first: (direction, text).
    pub last: VecDeque<(Dir, String)>,
}

impl LoopStats {
    fn note(&mut self, dir: Dir, payload: &[u8]) {
        match dir {
            Dir::In => self.received += 1,
            Dir::Out => self.sent += 1,
        }
        self.last
            .push_front((dir, String::from_utf8_lossy(payload).into_owned()));
        self.last.truncate(LAST_CAP);
    }

    fn error(&mut self, reason: String) {
        self.errors += 1;
        self.last_error = Some(reason);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoView {
    pub in_topic: String,
    pub out_topic: String,
    pub direction: Direction,
    pub stats: LoopStats,
}

impl Default for EchoView {
    fn default() -> Self {
        Self {
            in_topic: "azuresphere/sample/host".into(),
            out_topic: "azuresphere/sample/device".into(),
            direction: Direction::Left,
            stats: LoopStats::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    pub in_topic: String,
    pub out_topic: String,
    pub message: String,
    pub interval_ms: String,
    pub stats: LoopStats,
}

impl Default for DeviceView {
    fn default() -> Self {
        Self {
            in_topic: "azuresphere/sample/device".into(),
            out_topic: "azuresphere/sample/host".into(),
            message: "Hello from Azure Sphere".into(),
            interval_ms: "1000".into(),
            stats: LoopStats::default(),
        }
    }
}

impl DeviceView {
    /// The interval, clamped to 100 ms … 1 h; `None` when not a number.
    pub fn interval(&self) -> Option<u64> {
        self.interval_ms
            .trim()
            .parse::<u64>()
            .ok()
            .map(|ms| ms.clamp(100, 3_600_000))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformView {
    pub username: String,
    pub password: String,
    pub identity: String,
    pub resource: String,
    pub value: String,
    pub log: Log,
}

impl Default for PlatformView {
    fn default() -> Self {
        Self {
            username: String::new(),
            password: String::new(),
            identity: String::new(),
            resource: "temperature".into(),
            value: "212".into(),
            log: Log::default(),
        }
    }
}

impl PlatformView {
    /// `<identity>/<resource>`, where the device console receives platform writes.
    pub fn topic(&self) -> String {
        format!("{}/{}", self.identity.trim(), self.resource.trim())
    }
}

/// The connection of this tab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conn {
    /// Generation of the current client; events of other generations are ignored.
    pub generation: u64,
    /// What the current client is for (`None`: no client).
    pub purpose: Option<Purpose>,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub page: Page,
    pub settings: Settings,
    pub conn: Conn,
    /// A problem with the last command (invalid topic, bad URL...), shown next to the status.
    pub notice: Option<String>,
    /// Minutes to add to UTC for clock times.
    pub tz_offset_min: i64,
    pub activation: ActivationView,
    pub console: ConsoleView,
    pub echo: EchoView,
    pub device: DeviceView,
    pub platform: PlatformView,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Navigate(Page),
    Set(Field, String),
    SetQos(u8),
    SetRetain(bool),
    SetFormat(PayloadFormat),
    SetActivationMode(ActivationMode),
    SetDirection(Direction),
    SetRemember(bool),
    /// Forget the remembered credentials (the provider clears the storage).
    Forget,
    TogglePause,
    ClearLog,
    /// The provider opened a client for `purpose` under `generation`.
    Started {
        generation: u64,
        purpose: Purpose,
    },
    /// The user stopped the connection; later events of it are ignored.
    Stopped,
    /// A command could not be carried out; `None` clears the notice.
    Notice(Option<String>),
    Event {
        generation: u64,
        at_ms: u64,
        event: Event,
    },
    Activation {
        generation: u64,
        outcome: Result<Credentials, ActivationError>,
    },
    Console {
        generation: u64,
        at_ms: u64,
        output: ConsoleOutput,
    },
    Echo {
        generation: u64,
        output: EchoOutput,
    },
    Device {
        generation: u64,
        output: DeviceOutput,
    },
    /// A publish the console or the platform made.
    Sent {
        generation: u64,
        at_ms: u64,
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
    },
    /// Copy the activated credentials into the connection panel and open the console.
    UseCredentials,
}

impl State {
    /// The initial state: bridge URL from the page, page from the hash, remembered credentials.
    pub fn new(
        url: String,
        page: Page,
        remembered: Option<Credentials>,
        tz_offset_min: i64,
    ) -> Self {
        let mut state = State {
            page,
            tz_offset_min,
            ..State::default()
        };
        state.settings.url = url;
        if let Some(c) = remembered {
            state.settings.identity = c.username.clone();
            state.settings.username = c.username;
            state.settings.password = c.password;
            state.settings.remember = true;
        }
        state
    }

    fn field(&mut self, field: Field) -> &mut String {
        match field {
            Field::Url => &mut self.settings.url,
            Field::Route => &mut self.settings.route,
            Field::Product => &mut self.settings.product,
            Field::Identity => &mut self.settings.identity,
            Field::Username => &mut self.settings.username,
            Field::Password => &mut self.settings.password,
            Field::ClientId => &mut self.settings.client_id,
            Field::PubTopic => &mut self.console.topic,
            Field::PubMessage => &mut self.console.message,
            Field::EchoIn => &mut self.echo.in_topic,
            Field::EchoOut => &mut self.echo.out_topic,
            Field::DeviceIn => &mut self.device.in_topic,
            Field::DeviceOut => &mut self.device.out_topic,
            Field::DeviceMessage => &mut self.device.message,
            Field::DeviceInterval => &mut self.device.interval_ms,
            Field::PlatformUser => &mut self.platform.username,
            Field::PlatformPassword => &mut self.platform.password,
            Field::PlatformIdentity => &mut self.platform.identity,
            Field::PlatformResource => &mut self.platform.resource,
            Field::PlatformValue => &mut self.platform.value,
        }
    }

    fn current(&self, generation: u64) -> Option<Purpose> {
        (generation == self.conn.generation)
            .then_some(self.conn.purpose)
            .flatten()
    }

    /// The loop counters of the running echo host or device, if that is what is connected.
    fn loop_stats(&mut self) -> Option<&mut LoopStats> {
        match self.conn.purpose? {
            Page::Echo => Some(&mut self.echo.stats),
            Page::Device => Some(&mut self.device.stats),
            _ => None,
        }
    }

    fn set_running(&mut self, running: bool) {
        match self.conn.purpose {
            Some(Page::Activate) => self.activation.running = running,
            Some(Page::Echo) => self.echo.stats.running = running,
            Some(Page::Device) => self.device.stats.running = running,
            _ => {}
        }
    }

    /// The reducer.
    pub fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Navigate(page) => self.page = page,
            Action::Set(field, value) => *self.field(field) = value,
            Action::SetQos(qos) => self.console.qos = qos.min(2),
            Action::SetRetain(retain) => self.console.retain = retain,
            Action::SetFormat(format) => self.console.format = format,
            Action::SetActivationMode(mode) => self.activation.mode = mode,
            Action::SetDirection(direction) => self.echo.direction = direction,
            Action::SetRemember(remember) => self.settings.remember = remember,
            Action::Forget => self.settings.remember = false,
            Action::TogglePause => {
                let log = match self.page {
                    Page::Platform => &mut self.platform.log,
                    _ => &mut self.console.log,
                };
                log.set_paused(!log.paused);
            }
            Action::ClearLog => match self.page {
                Page::Platform => self.platform.log.clear(),
                _ => self.console.log.clear(),
            },
            Action::Started {
                generation,
                purpose,
            } => {
                self.set_running(false);
                self.conn = Conn {
                    generation,
                    purpose: Some(purpose),
                    status: Status::Connecting { attempt: 0 },
                };
                self.notice = None;
                match purpose {
                    Page::Activate => {
                        self.activation.lines =
                            vec![format!("Activating {}…", self.settings.identity.trim())];
                        self.activation.credentials = None;
                        self.activation.error = None;
                    }
                    Page::Echo => self.echo.stats = LoopStats::default(),
                    Page::Device => self.device.stats = LoopStats::default(),
                    Page::Console => self.console.charts = Charts::default(),
                    Page::Platform => {}
                }
                self.set_running(true);
            }
            Action::Stopped => {
                self.set_running(false);
                if self.conn.purpose.is_some() {
                    self.conn.status = Status::Disconnected;
                }
                self.conn.purpose = None;
            }
            Action::Notice(notice) => self.notice = notice,
            Action::Event {
                generation,
                at_ms,
                event,
            } => self.event(generation, at_ms, event),
            Action::Activation {
                generation,
                outcome,
            } => {
                if self.current(generation) == Some(Page::Activate) {
                    self.activated(outcome);
                }
            }
            Action::Console {
                generation,
                at_ms,
                output,
            } => {
                if let (
                    Some(Page::Console),
                    ConsoleOutput::Received {
                        resource, payload, ..
                    },
                ) = (self.current(generation), output)
                {
                    if let Some(value) = format::number(&payload) {
                        self.console.charts.push(&resource, at_ms, value);
                    }
                }
            }
            Action::Echo { generation, output } => {
                if self.current(generation) == Some(Page::Echo) {
                    self.echo.stats.note(Dir::In, &output.received);
                    self.echo.stats.note(Dir::Out, &output.sent);
                }
            }
            Action::Device { generation, output } => {
                if self.current(generation) == Some(Page::Device) {
                    match output {
                        DeviceOutput::Sent(p) => self.device.stats.note(Dir::Out, &p),
                        DeviceOutput::Received(p) => self.device.stats.note(Dir::In, &p),
                    }
                }
            }
            Action::Sent {
                generation,
                at_ms,
                topic,
                payload,
                qos,
                retain,
            } => match self.current(generation) {
                Some(Page::Console) => {
                    self.console
                        .log
                        .push(at_ms, Dir::Out, topic, qos, retain, payload)
                }
                Some(Page::Platform) => {
                    self.platform
                        .log
                        .push(at_ms, Dir::Out, topic, qos, retain, payload)
                }
                _ => {}
            },
            Action::UseCredentials => {
                if let Some(c) = self.activation.credentials.clone() {
                    self.settings.identity = c.username.clone();
                    self.settings.username = c.username;
                    self.settings.password = c.password;
                    self.page = Page::Console;
                }
            }
        }
        self
    }

    fn event(&mut self, generation: u64, at_ms: u64, event: Event) {
        let Some(purpose) = self.current(generation) else {
            return;
        };
        match event {
            Event::Connected { .. } => self.conn.status = Status::Connected,
            Event::Reconnecting { attempt } => self.conn.status = Status::Connecting { attempt },
            Event::ConnectionLost {
                error,
                reconnect_in,
                attempt,
            } => {
                let reason = error.to_string();
                if let Some(stats) = self.loop_stats() {
                    stats.error(reason.clone());
                }
                self.conn.status = match reconnect_in {
                    Some(delay) => Status::Reconnecting {
                        in_secs: delay.as_millis().div_ceil(1000) as u64,
                        attempt,
                        reason,
                    },
                    None => {
                        self.set_running(false);
                        Status::Failed {
                            code: error.code().into(),
                            reason,
                        }
                    }
                };
            }
            Event::Disconnected => {
                // Activation ends with DISCONNECT once the reply is in: that is success, not a loss.
                self.conn.status = Status::Disconnected;
                self.set_running(false);
            }
            Event::Message(m) => {
                let qos = mqtt_core::qos_to_u8(m.qos);
                match purpose {
                    Page::Console => {
                        self.console
                            .log
                            .push(at_ms, Dir::In, m.topic, qos, m.retain, m.payload)
                    }
                    Page::Platform => {
                        self.platform
                            .log
                            .push(at_ms, Dir::In, m.topic, qos, m.retain, m.payload)
                    }
                    _ => {}
                }
            }
            Event::Subscribed { granted, .. }
                if granted.iter().any(Option::is_none) && purpose != Page::Activate =>
            {
                let text = "the broker refused the subscription (not authorized)".to_string();
                if let Some(stats) = self.loop_stats() {
                    stats.error(text.clone());
                }
                self.notice = Some(text);
            }
            _ => {}
        }
    }

    fn activated(&mut self, outcome: Result<Credentials, ActivationError>) {
        self.activation.running = false;
        match outcome {
            Ok(c) => {
                self.activation.lines = vec![
                    "Activation succeeded!".into(),
                    format!("username = {}", c.username),
                    format!("password = {}", c.password),
                ];
                // Copied into the connection panel at once: the console and "remember" use them.
                self.settings.identity = c.username.clone();
                self.settings.username = c.username.clone();
                self.settings.password = c.password.clone();
                self.activation.credentials = Some(c);
                self.activation.error = None;
            }
            Err(e) => {
                let text = e.to_string();
                self.activation.lines = vec![format!("Activation failed: {text}")];
                self.activation.error = Some(text);
            }
        }
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
