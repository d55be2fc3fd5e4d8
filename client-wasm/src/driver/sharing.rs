//! The driver's side of a shared connection (only a tab that shares comes here): joining the
//! other tabs, their messages as inputs of this tab's [`mqtt_tabs::Tab`], and the lock.

use std::rc::Rc;

use mqtt_tabs::msgs::{TabId, TabMessage};

use super::{Driver, State};
use crate::browser::share::{request_lock, Sharing};
use crate::clock::{now, performance_now};
use crate::runner::Runner;

impl Driver {
    /// Joins the tabs sharing `name`: a follower until the lock is granted. False when the
    /// browser cannot share (no BroadcastChannel or Web Locks): the tab connects alone.
    pub(super) fn join(self: &Rc<Self>, name: &str) -> bool {
        let weak = Rc::downgrade(self);
        let id = TabId(js_sys::Math::random().to_bits() ^ performance_now().to_bits());
        let sharing = Sharing::open(name, id, move |message| {
            if let Some(driver) = weak.upgrade() {
                driver.on_channel(message);
            }
        });
        let Some(sharing) = sharing else { return false };
        self.state.borrow_mut().share = Some(sharing);
        let weak = Rc::downgrade(self);
        let requested = request_lock(name, move |release| {
            weak.upgrade().is_some_and(|driver| driver.promote(release))
        });
        if !requested {
            self.state.borrow_mut().share = None;
        }
        requested
    }

    fn on_channel(self: &Rc<Self>, message: TabMessage) {
        {
            let mut state = self.state.borrow_mut();
            if state.ended {
                return;
            }
            let State {
                session,
                stored,
                share,
                ..
            } = &mut *state;
            let Some(share) = share.as_mut() else { return };
            let mut runner = Runner {
                session,
                persistence: stored.as_mut().map(|s| &mut s.persistence),
            };
            share.tab.handle(&mut runner, now(), message);
            share.flush();
        }
        self.drive();
    }

    /// The lock was granted: this tab becomes the leader once the stored session is read
    /// (until then its calls wait as a follower's do). False when it no longer wants it.
    fn promote(self: &Rc<Self>, release: js_sys::Function) -> bool {
        {
            let mut state = self.state.borrow_mut();
            let ended = state.ended;
            let Some(share) = state.share.as_mut().filter(|_| !ended) else {
                return false;
            };
            share.granted(release);
        }
        self.restore_store();
        true
    }
}
