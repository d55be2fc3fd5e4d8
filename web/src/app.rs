//! The provider and the layout. Effects live here and only here: the MQTT runtime (`mqtt`),
//! remembered credentials (`storage`) and the hash route. Pages read [`AppContext`]; leaf
//! components take props and callbacks.

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

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Rc::unwrap_or_clone(self).apply(action))
    }
}

/// What pages get from the provider.
#[derive(Clone)]
pub struct AppContext {
    pub state: UseReducerHandle<State>,
    pub run: Callback<Op>,
}

/// Consumers re-render whenever the provider does (that is, on every state change).
impl PartialEq for AppContext {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

impl AppContext {
    /// A callback that dispatches the action made from its argument.
    pub fn on<T: 'static>(&self, make: impl Fn(T) -> Action + 'static) -> Callback<T> {
        let d = self.state.dispatcher();
        Callback::from(move |v| d.dispatch(make(v)))
    }

    pub fn set_field(&self) -> Callback<(Field, String)> {
        self.on(|(field, value)| Action::Set(field, value))
    }

    pub fn set(&self, field: Field) -> Callback<String> {
        self.on(move |value| Action::Set(field, value))
    }

    /// A click handler that runs `op`.
    pub fn op(&self, op: Op) -> Callback<MouseEvent> {
        self.run.reform(move |_| op)
    }
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
    let state = use_reducer(initial_state);
    let runtime = use_mut_ref(Runtime::default);

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
        let state = state.clone();
        use_effect_with((), move |_| {
            move || runtime.borrow_mut().run(&state, Op::Stop)
        });
    }

    let run = {
        let state = state.clone();
        Callback::from(move |op: Op| runtime.borrow_mut().run(&state, op))
    };
    let context = AppContext {
        state: state.clone(),
        run,
    };
    let page = state.page;
    html! {
        <ContextProvider<AppContext> {context}>
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
                <crate::components::status::StatusLine status={state.conn.status.clone()}
                    purpose={state.conn.purpose} notice={state.notice.clone()} />
            </header>
            <main id="page" data-page={page.slug()}>
                { match page {
                    Page::Activate => html! { <pages::activate::ActivatePage /> },
                    Page::Console => html! { <pages::console::ConsolePage /> },
                    Page::Echo => html! { <pages::echo_host::EchoHostPage /> },
                    Page::Device => html! { <pages::device::DevicePage /> },
                    Page::Platform => html! { <pages::platform::PlatformPage /> },
                } }
            </main>
        </ContextProvider<AppContext>>
    }
}

/// Mounts the app on `<body>`.
pub fn start() {
    yew::Renderer::<App>::new().render();
}
