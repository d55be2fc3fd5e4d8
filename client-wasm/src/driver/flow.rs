//! Flows attached to a browser [`Client`](crate::Client), type-erased so one client can run
//! several of them.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use super::Driver;
use mqtt_core::{Event, Instant};
use mqtt_flows::Flow;

pub(crate) trait ErasedFlow {
    fn handle_event(&self, driver: &Rc<Driver>, now: Instant, event: &Event);
    fn handle_timeout(&self, driver: &Rc<Driver>, now: Instant);
    /// Applies the flow's commands to the session and delivers its outputs.
    fn pump(&self, driver: &Rc<Driver>, now: Instant);
    /// When the flow wants `handle_timeout`.
    #[must_use]
    fn poll_timeout(&self) -> Option<Instant>;
    fn detach(&self);
}

pub(crate) struct Slot<F: Flow> {
    alive: Cell<bool>,
    flow: RefCell<F>,
    on_output: RefCell<Box<dyn FnMut(F::Output)>>,
}

impl<F: Flow + 'static> Slot<F> {
    pub(crate) fn new(flow: F, on_output: impl FnMut(F::Output) + 'static) -> Rc<Self> {
        Rc::new(Slot {
            alive: Cell::new(true),
            flow: RefCell::new(flow),
            on_output: RefCell::new(Box::new(on_output)),
        })
    }
}

impl<F: Flow> ErasedFlow for Slot<F> {
    fn handle_event(&self, _driver: &Rc<Driver>, now: Instant, event: &Event) {
        if !self.alive.get() {
            return;
        }
        if let Ok(mut flow) = self.flow.try_borrow_mut() {
            flow.handle_event(now, event);
        }
    }

    fn handle_timeout(&self, driver: &Rc<Driver>, now: Instant) {
        if !self.alive.get() {
            return;
        }
        if let Ok(mut flow) = self.flow.try_borrow_mut() {
            if flow.poll_timeout().is_some_and(|at| at <= now) {
                flow.handle_timeout(now);
            }
        }
        self.pump(driver, now);
    }

    fn pump(&self, driver: &Rc<Driver>, now: Instant) {
        if !self.alive.get() {
            return;
        }
        let mut outputs = Vec::new();
        if let Ok(mut flow) = self.flow.try_borrow_mut() {
            if let Ok(mut state) = driver.state.try_borrow_mut() {
                if !state.ended {
                    // Refused commands (a full queue) are the flow's to notice through events.
                    // Through `command`, so that a follower tab hands them to the leader.
                    while let Some(command) = flow.poll_command() {
                        let _ = state.command(now, command.into());
                    }
                }
            }
            while let Some(output) = flow.poll_output() {
                outputs.push(output);
            }
        }
        if outputs.is_empty() {
            return;
        }
        if let Ok(mut on_output) = self.on_output.try_borrow_mut() {
            for output in outputs {
                if self.alive.get() {
                    on_output(output);
                }
            }
        }
        driver.drive();
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if !self.alive.get() {
            return None;
        }
        self.flow.try_borrow().ok().and_then(|f| f.poll_timeout())
    }

    fn detach(&self) {
        self.alive.set(false);
    }
}

/// A flow running on a [`Client`](crate::Client). Dropping it or calling [`FlowHandle::stop`]
/// detaches the flow (its pending commands are not applied any more).
pub struct FlowHandle {
    driver: Weak<Driver>,
    flow: Rc<dyn ErasedFlow>,
}

impl FlowHandle {
    pub(crate) fn new(driver: Weak<Driver>, flow: Rc<dyn ErasedFlow>) -> Self {
        Self { driver, flow }
    }

    /// Detaches the flow.
    pub fn stop(self) {}
}

impl Drop for FlowHandle {
    fn drop(&mut self) {
        self.flow.detach();
        if let Some(driver) = self.driver.upgrade() {
            if let Ok(mut flows) = driver.flows.try_borrow_mut() {
                flows.retain(|f| !Rc::ptr_eq(f, &self.flow));
            }
        }
    }
}
