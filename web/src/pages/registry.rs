//! `pages!`: from one line per page, the glue the app needs (the list of pages, each page's
//! state behind an `Rc`, the action and command enums that route to a page, its view) so that
//! none of it is written by hand per page.

/// `Variant => module,` per page; `module` is the page's folder.
macro_rules! pages {
    ($($variant:ident => $module:ident,)+) => {
        $(pub(crate) mod $module;)+

        use std::rc::Rc;

        use crate::model::{Around, Hooks, Page, PageState};

        /// Every page, in the order of the navigation bar.
        pub(crate) const ALL: &[Page] = &[$($module::PAGE),+];

        /// The page of a hash route; anything unknown: the first page.
        pub(crate) fn route(hash: &str) -> Page {
            Page::from_hash(hash, ALL).unwrap_or(ALL[0])
        }

        /// Every page's state. Each sits behind an `Rc`: an action copies only the page it
        /// changes, and two snapshots compare by pointer.
        #[derive(Debug, Clone, Default)]
        pub(crate) struct Pages {
            $(pub(crate) $module: Rc<$module::State>,)+
        }

        impl PartialEq for Pages {
            fn eq(&self, other: &Self) -> bool {
                true $(&& Rc::ptr_eq(&self.$module, &other.$module))+
            }
        }

        /// An action of one page.
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) enum PageAction {
            $($variant($module::Action),)+
        }

        $(impl From<$module::Action> for PageAction {
            fn from(action: $module::Action) -> Self {
                PageAction::$variant(action)
            }
        })+

        impl PageAction {
            /// The page this action is for.
            pub(crate) fn page(&self) -> Page {
                match self {
                    $(PageAction::$variant(_) => $module::PAGE,)+
                }
            }
        }

        impl Pages {
            pub(crate) fn reduce(&mut self, action: PageAction, around: &mut Around<'_>) {
                match action {
                    $(PageAction::$variant(a) => {
                        if !self.$module.ignores(&a) {
                            Rc::make_mut(&mut self.$module).reduce(a, around);
                        }
                    })+
                }
            }

            /// The hooks of `page`, which is copied on write.
            pub(crate) fn hooks(&mut self, page: Page) -> Option<&mut dyn Hooks> {
                $(if page == $module::PAGE {
                    let state: &mut $module::State = Rc::make_mut(&mut self.$module);
                    return Some(state);
                })+
                None
            }

            /// Whether `page` reports a refused subscription (see [`Hooks`]).
            pub(crate) fn reports_refused_subscriptions(&self, page: Page) -> bool {
                $(if page == $module::PAGE {
                    return self.$module.reports_refused_subscriptions();
                })+
                false
            }
        }

        #[cfg(target_arch = "wasm32")]
        pub(crate) use wasm::{run, view, Handles, PageOp};

        /// What the pages start and how they look.
        #[cfg(target_arch = "wasm32")]
        mod wasm {
            use yew::{html, Callback, Html};

            use super::*;
            use crate::model::page_state::Env;
            use crate::model::Settings;
            use crate::runtime::{Ops, Runtime};

            /// A command of one page.
            #[derive(Debug, Clone, Copy, PartialEq)]
            pub(crate) enum PageOp {
                $($variant($module::Op),)+
            }

            /// Each page's callbacks (its actions, its commands), made once by the app so that
            /// a page renders only when its own props change.
            #[derive(Clone, PartialEq)]
            pub(crate) struct Handles {
                $($module: (Callback<$module::Action>, Callback<$module::Op>),)+
            }

            impl Handles {
                pub(crate) fn new(act: &Callback<PageAction>, run: &Callback<PageOp>) -> Self {
                    Self {
                        $($module: (act.reform(PageAction::$variant), run.reform(PageOp::$variant)),)+
                    }
                }
            }

            /// The view of `page`.
            pub(crate) fn view(page: Page, pages: &Pages, env: &Env, handles: &Handles) -> Html {
                $(if page == $module::PAGE {
                    let (act, run) = handles.$module.clone();
                    let state = pages.$module.clone();
                    return html! { <$module::View {state} env={env.clone()} {act} {run} /> };
                })+
                Html::default()
            }

            /// Carries out a page's command; `output` takes what its flow reports, with the
            /// generation of the client it came from.
            pub(crate) fn run(
                op: PageOp,
                pages: &Pages,
                settings: &Settings,
                runtime: &mut Runtime,
                output: &Callback<(u64, PageAction)>,
            ) -> Result<(), String> {
                match op {
                    $(PageOp::$variant(op) => {
                        let output = output.reform(|(generation, action)| {
                            (generation, PageAction::$variant(action))
                        });
                        $module::run(op, &pages.$module, Ops::new(runtime, settings, output))
                    })+
                }
            }
        }
    };
}
