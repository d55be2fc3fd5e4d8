//! The provider and the layout. Effects live here and only here: the MQTT runtime (`runtime`),
//! remembered credentials (`storage`) and the hash route. Each page gets its own state, its
//! callbacks and what every page shows as props (`pages::view`), so it renders only when those
//! changed; the [`AppContext`] gives every page the common actions.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::status::StatusLine;
use crate::context::AppContext;
use crate::model::page_state::Env;
use crate::model::Common;
use crate::pages::{self, Handles, PageOp};
use crate::runtime::Runtime;
use crate::state::{Action, State};
use crate::{format, storage};

impl Reducible for State {
    type Action = Action;

    /// yew still holds the previous state here, so this clones it: a page, settings and
    /// connection pointers and a few words. `apply` then copies only the part the action changes.
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Rc::unwrap_or_clone(self).apply(action))
    }
}

/// What the app is asked to do: a page's command, or one of the connection itself.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Page(PageOp),
    Stop,
    /// After "connected elsewhere": connect again, taking the client id over.
    TakeOver,
}

/// Carries out `op` against the latest state; a problem comes back as the notice.
fn run(runtime: &RefCell<Runtime>, state: &UseReducerHandle<State>, op: Op) {
    let d = state.dispatcher();
    let mut runtime = runtime.borrow_mut();
    let result = match op {
        Op::Page(op) => {
            let output = d
                .to_callback()
                .reform(|(generation, action)| Action::Flow { generation, action });
            pages::run(op, &state.pages, &state.settings, &mut runtime, &output)
        }
        Op::Stop => {
            runtime.stop();
            Ok(())
        }
        Op::TakeOver => {
            runtime.take_over();
            Ok(())
        }
    };
    d.dispatch(Action::Notice(result.err()));
}

fn hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

fn initial_state() -> State {
    let location = web_sys::window().map(|w| w.location());
    let protocol = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .unwrap_or_default();
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let offset = -(js_sys::Date::new_0().get_timezone_offset() as i64);
    State::new(
        format::default_bridge_url(&protocol, &host),
        pages::route(&hash()),
        storage::load(),
        offset,
    )
}

/// Hash routing: `#/activate`, `#/console`, `#/echo`, `#/device`, `#/platform`, both ways.
#[hook]
fn use_hash_route(state: &UseReducerHandle<State>) {
    {
        let d = state.dispatcher();
        use_effect_with((), move |_| {
            let listener = Closure::<dyn Fn()>::new(move || {
                d.dispatch(Common::Navigate(pages::route(&hash())).into());
            });
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w.add_event_listener_with_callback(
                    "hashchange",
                    listener.as_ref().unchecked_ref(),
                );
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback(
                        "hashchange",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    // The reducer may navigate (after activation): keep the address in step.
    use_effect_with(state.page, |page| {
        if pages::route(&hash()) != *page {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_hash(&page.hash());
            }
        }
    });
}

/// Remembered credentials: stored only while "remember" is ticked, removed when not.
#[hook]
fn use_remembered(state: &UseReducerHandle<State>) {
    let s = &state.settings;
    use_effect_with(
        (s.remember, s.username.clone(), s.password.clone()),
        |(remember, user, password)| match (*remember, user.is_empty() || password.is_empty()) {
            (true, false) => storage::save(user, password),
            (true, true) => {}
            (false, _) => storage::forget(),
        },
    );
}

#[component(App)]
pub fn app() -> Html {
    // Renders only when an action changed the state (`State: PartialEq` by pointers).
    let state = use_reducer_eq(initial_state);
    let runtime = {
        let reports = state.dispatcher().to_callback().reform(Action::Conn);
        use_mut_ref(move || Runtime::new(reports))
    };
    // The state commands read; kept current on every render so `run` can stay the same callback.
    let latest = use_mut_ref(|| state.clone());
    *latest.borrow_mut() = state.clone();
    use_hash_route(&state);
    use_remembered(&state);
    // Close the connection when the app goes away.
    {
        let runtime = runtime.clone();
        use_effect_with((), move |_| move || runtime.borrow_mut().stop());
    }

    // Every callback is made once, so the context and the pages' props never change by them.
    let callbacks = use_memo((), {
        let dispatch = state.dispatcher().to_callback();
        move |_| {
            let run = Callback::from(move |op: Op| run(&runtime, &latest.borrow(), op));
            let context = AppContext {
                common: dispatch.reform(Action::Common),
                stop: run.reform(|()| Op::Stop),
            };
            let handles = Handles::new(&dispatch.reform(Action::Page), &run.reform(Op::Page));
            (context, handles, run.reform(|()| Op::TakeOver))
        }
    });
    let (context, handles, take_over) = (*callbacks).clone();
    let s = &*state;
    let env = Env {
        settings: s.settings.clone(),
        purpose: s.conn.purpose,
        format: s.format,
        tz_offset_min: s.tz_offset_min,
    };
    html! {
        <ContextProvider<AppContext> {context}>
            <header class="top">
                <h1>{ "MQTT in the browser" }</h1>
                <nav aria-label="Pages">
                    <ul>
                        { for pages::ALL.iter().map(|p| html! {
                            <li><a id={format!("nav-{}", p.slug())} href={p.hash()}
                                aria-current={(*p == s.page).then_some("page")}>{ p.title() }</a></li>
                        }) }
                    </ul>
                </nav>
                <StatusLine status={s.conn.status.clone()} purpose={s.conn.purpose}
                    notice={s.notice.clone()} role={s.conn.role} on_take_over={take_over} />
            </header>
            <main id="page" data-page={s.page.slug()}>
                { pages::view(s.page, &s.pages, &env, &handles) }
            </main>
        </ContextProvider<AppContext>>
    }
}

/// Mounts the app on `<body>`.
pub fn start() {
    yew::Renderer::<App>::new().render();
}
