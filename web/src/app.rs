//! The provider and the layout. Effects live here and only here: the MQTT runtime (`mqtt`),
//! remembered credentials (`storage`) and the hash route. Each page gets its own state as props,
//! so it renders only when that state changed; [`use_app`] gives it the way to act.

use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::mqtt::{Op, Runtime};
use crate::pages;
use crate::state::{Action, Field, Page, State};
use crate::{format, storage};

impl Reducible for State {
    type Action = Action;

    /// yew still holds the previous state here, so this clones it: a page, settings and
    /// connection pointers and a few words. `apply` then copies only the page the action changes.
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Rc::unwrap_or_clone(self).apply(action))
    }
}

/// What pages get from the provider: how to change the state and how to run a connection
/// command. Both are made once, so the context never changes and never renders a page.
#[derive(Clone, PartialEq)]
pub struct AppContext {
    dispatch: UseReducerDispatcher<State>,
    pub run: Callback<Op>,
}

impl AppContext {
    /// A callback that dispatches the action made from its argument.
    pub fn on<T: 'static>(&self, make: impl Fn(T) -> Action + 'static) -> Callback<T> {
        let d = self.dispatch.clone();
        Callback::from(move |v| d.dispatch(make(v)))
    }

    pub fn set_field(&self) -> Callback<(Field, String)> {
        self.on(|(field, value)| Action::Set(field, value))
    }

    /// A click handler that runs `op`.
    pub fn op(&self, op: Op) -> Callback<MouseEvent> {
        self.run.reform(move |_| op)
    }
}

/// The app's context, or (outside the provider, a programming error) a page that says so.
#[hook]
pub fn use_app() -> Result<AppContext, Html> {
    use_context::<AppContext>().ok_or_else(|| {
        html! {
            <p id="app-error" class="notice" role="alert">
                { "This page must be shown inside the app (no AppContext provider)." }
            </p>
        }
    })
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
        Page::from_hash(&hash()),
        storage::load(),
        offset,
    )
}

#[component(App)]
pub fn app() -> Html {
    // Renders only when an action changed the state (`State: PartialEq` by pointers).
    let state = use_reducer_eq(initial_state);
    let runtime = use_mut_ref(Runtime::default);
    // The state commands read; kept current on every render so `run` can stay the same callback.
    let latest = use_mut_ref(|| state.clone());
    *latest.borrow_mut() = state.clone();

    // Hash routing: `#/activate`, `#/console`, `#/echo`, `#/device`, `#/platform`.
    {
        let d = state.dispatcher();
        use_effect_with((), move |_| {
            let listener = Closure::<dyn Fn()>::new(move || {
                d.dispatch(Action::Navigate(Page::from_hash(&hash())))
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
        if Page::from_hash(&hash()) != *page {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_hash(&page.hash());
            }
        }
    });
    // Remembered credentials: stored only while "remember" is ticked, removed when not.
    {
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
    // Close the connection when the app goes away.
    {
        let runtime = runtime.clone();
        let latest = latest.clone();
        use_effect_with((), move |_| {
            move || {
                let state = latest.borrow().clone();
                runtime.borrow_mut().run(&state, Op::Stop)
            }
        });
    }

    let context = use_memo((), {
        let dispatch = state.dispatcher();
        move |_| AppContext {
            dispatch,
            run: Callback::from(move |op: Op| {
                let state = latest.borrow().clone();
                runtime.borrow_mut().run(&state, op)
            }),
        }
    });
    let page = state.page;
    let s = &*state;
    html! {
        <ContextProvider<AppContext> context={(*context).clone()}>
            <header class="top">
                <h1>{ "MQTT in the browser" }</h1>
                <nav aria-label="Pages">
                    <ul>
                        { for Page::ALL.iter().map(|p| html! {
                            <li><a id={format!("nav-{}", p.slug())} href={p.hash()}
                                aria-current={(*p == page).then_some("page")}>{ p.title() }</a></li>
                        }) }
                    </ul>
                </nav>
                <crate::components::status::StatusLine status={s.conn.status.clone()}
                    purpose={s.conn.purpose} notice={s.notice.clone()} role={s.conn.role} />
            </header>
            <main id="page" data-page={page.slug()}>
                { match page {
                    Page::Activate => html! {
                        <pages::activate::ActivatePage state={s.activation.clone()} settings={s.settings.clone()} />
                    },
                    Page::Console => html! {
                        <pages::console::ConsolePage state={s.console.clone()} settings={s.settings.clone()}
                            connected={s.conn.purpose == Some(Page::Console)} format={s.format}
                            tz_offset_min={s.tz_offset_min} />
                    },
                    Page::Echo => html! {
                        <pages::echo_host::EchoHostPage state={s.echo.clone()} settings={s.settings.clone()} />
                    },
                    Page::Device => html! {
                        <pages::device::DevicePage state={s.device.clone()} settings={s.settings.clone()} />
                    },
                    Page::Platform => html! {
                        <pages::platform::PlatformPage state={s.platform.clone()} settings={s.settings.clone()}
                            connected={s.conn.purpose == Some(Page::Platform)} format={s.format}
                            tz_offset_min={s.tz_offset_min} />
                    },
                } }
            </main>
        </ContextProvider<AppContext>>
    }
}

/// Mounts the app on `<body>`.
pub fn start() {
    yew::Renderer::<App>::new().render();
}
