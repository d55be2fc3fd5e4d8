//! Flows attached to a browser [`Client`](super::Client), type-erased so one client can run
//! several of them.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use super::Shared;
use mqtt_core::{Event, Instant};
use mqtt_flows::Flow;

pub(super) trait ErasedFlow {
    fn handle_event(&self, shared: &Rc<Shared>, now: Instant, event: &Event);
    fn handle_timeout(&self, shared: &Rc<Shared>, now: Instant);
    /// Applies the flow's commands to the session and delivers its outputs.
    fn pump(&self, shared: &Rc<Shared>, now: Instant);
    fn poll_timeout(&self) -> Option<Instant>;
    fn detach(&self);
}

pub(super) struct Slot<F: Flow> {
    alive: Cell<bool>,
    flow: RefCell<F>,
    on_output: RefCell<Box<dyn FnMut(F::Output)>>,
}

impl<F: Flow + 'static> Slot<F> {
    pub(super) fn new(flow: F, on_output: impl FnMut(F::Output) + 'static) -> Rc<Self> {
        Rc::new(Slot {
            alive: Cell::new(true),
            flow: RefCell::new(flow),
            on_output: RefCell::new(Box::new(on_output)),
        })
    }
}

impl<F: Flow> ErasedFlow for Slot<F> {
    fn handle_event(&self, _shared: &Rc<Shared>, now: Instant, event: &Event) {
        if !self.alive.get() {
            return;
        }
        if let Ok(mut flow) = self.flow.try_borrow_mut() {
            flow.handle_event(now, event);
        }
    }

    fn handle_timeout(&self, shared: &Rc<Shared>, now: Instant) {
        if !self.alive.get() {
            return;
        }
        if let Ok(mut flow) = self.flow.try_borrow_mut() {
            if flow.poll_timeout().is_some_and(|at| at <= now) {
                flow.handle_timeout(now);
            }
        }
        self.pump(shared, now);
    }

    fn pump(&self, shared: &Rc<Shared>, now: Instant) {
        if !self.alive.get() {
            return;
        }
        let mut outputs = Vec::new();
        if let Ok(mut flow) = self.flow.try_borrow_mut() {
            if let Ok(mut inner) = shared.inner.try_borrow_mut() {
                if !inner.ended {
                    // Refused commands (a full queue) are the flow's to notice through events.
                    // Through `command`, so that a follower tab hands them to the leader.
                    while let Some(command) = flow.poll_command() {
                        let _ = inner.command(now, command);
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
        shared.drive();
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

/// A flow running on a [`Client`](super::Client). Dropping it or calling [`FlowHandle::stop`]
/// detaches the flow (its pending commands are not applied any more).
pub struct FlowHandle {
    shared: Weak<Shared>,
    flow: Rc<dyn ErasedFlow>,
}

impl FlowHandle {
    pub(super) fn new(shared: Weak<Shared>, flow: Rc<dyn ErasedFlow>) -> Self {
        Self { shared, flow }
    }

    /// Detaches the flow.
    pub fn stop(self) {}
}

impl Drop for FlowHandle {
    fn drop(&mut self) {
        self.flow.detach();
        if let Some(shared) = self.shared.upgrade() {
            if let Ok(mut flows) = shared.flows.try_borrow_mut() {
                flows.retain(|f| !Rc::ptr_eq(f, &self.flow));
            }
        }
    }
}
