//! What a page owns and what it gets: the state and reducer ([`PageState`]), the hooks through
//! which the tab's one connection reaches the page it runs for ([`Hooks`]), what its reducer may
//! change besides its own state ([`Around`]), and what its view gets besides its state ([`Env`]).

use std::fmt::Debug;
use std::rc::Rc;

use super::log::Row;
use super::page::Page;
use super::settings::Settings;
use crate::format::PayloadFormat;

/// What a page's reducer may change besides its own state.
pub(crate) struct Around<'a> {
    /// Copied on write (`Rc::make_mut`) only by the reducer that changes it.
    pub settings: &'a mut Rc<Settings>,
    /// The page shown.
    pub page: &'a mut Page,
}

/// What the tab's connection tells the page it runs for. Every hook defaults to nothing: a page
/// implements those it cares about.
pub(crate) trait Hooks {
    /// A connection for this page began (counters, charts start over).
    fn started(&mut self, _settings: &Settings) {}

    /// Whether the page's connection runs: false once it stopped, failed for good or ended.
    fn running(&mut self, _running: bool) {}

    /// The connection was lost, or the broker refused a subscription, in words.
    fn failed(&mut self, _reason: String) {}

    /// A message went out or came in.
    fn logged(&mut self, _row: Row) {}

    /// Whether a refused subscription is a problem to report (the activation flow reports its own).
    fn reports_refused_subscriptions(&self) -> bool {
        true
    }
}

/// A page's state and its reducer: the page's edits and its flow's outputs come in as `Action`.
pub(crate) trait PageState: Hooks + Default + Clone + PartialEq + Debug + 'static {
    type Action: Clone + PartialEq + Debug + 'static;

    fn reduce(&mut self, action: Self::Action, around: &mut Around<'_>);

    /// Whether `action` would change nothing: then the page is not copied, keeps its pointer
    /// and does not render again.
    fn ignores(&self, _action: &Self::Action) -> bool {
        false
    }
}

/// What every page's view gets besides its own state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Env {
    pub settings: Rc<Settings>,
    /// The page the tab's connection runs for, if any.
    pub purpose: Option<Page>,
    /// How the message logs show payloads.
    pub format: PayloadFormat,
    /// Minutes to add to UTC for clock times.
    pub tz_offset_min: i64,
}

impl Env {
    /// Whether the tab's connection is `page`'s.
    pub(crate) fn runs(&self, page: Page) -> bool {
        self.purpose == Some(page)
    }
}
