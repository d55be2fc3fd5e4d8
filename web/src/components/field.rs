//! Labelled inputs. Each reports its value on `input` and on `change` (WebDriver's clear fires
//! only `change`), so the reducer always holds what the field shows.

use yew::prelude::*;
use yew::TargetCast;

use web_sys::{HtmlInputElement, HtmlSelectElement};

#[derive(Properties, PartialEq)]
pub struct TextProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub onset: Callback<String>,
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub placeholder: AttrValue,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or_default]
    pub disabled: bool,
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
}

#[component(TextField)]
pub fn text_field(p: &TextProps) -> Html {
    let oninput = p
        .onset
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    let onchange = p
        .onset
        .reform(|e: Event| e.target_unchecked_into::<HtmlInputElement>().value());
    let hint_id = format!("{}-hint", p.id);
    html! {
        <div class="field">
            <label for={p.id.clone()}>{ p.label.clone() }</label>
            <input id={p.id.clone()} data-testid={p.id.clone()} type={p.kind.clone()} value={p.value.clone()}
                placeholder={p.placeholder.clone()} disabled={p.disabled} spellcheck="false"
                autocomplete={p.autocomplete.clone().unwrap_or(AttrValue::Static("off"))}
                aria-describedby={p.hint.as_ref().map(|_| hint_id.clone())}
                {oninput} {onchange} />
            if let Some(hint) = &p.hint {
                <small id={hint_id}>{ hint.clone() }</small>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectProps {
    pub id: AttrValue,
    pub label: AttrValue,
    /// (value, text)
    pub options: Vec<(&'static str, &'static str)>,
    pub value: AttrValue,
    pub onset: Callback<String>,
    #[prop_or_default]
    pub disabled: bool,
}

#[component(SelectField)]
pub fn select_field(p: &SelectProps) -> Html {
    let onchange = p
        .onset
        .reform(|e: Event| e.target_unchecked_into::<HtmlSelectElement>().value());
    html! {
        <div class="field">
            <label for={p.id.clone()}>{ p.label.clone() }</label>
            <select id={p.id.clone()} data-testid={p.id.clone()} disabled={p.disabled} {onchange}>
                { for p.options.iter().map(|(value, text)| html! {
                    <option value={*value} selected={*value == p.value.as_str()}>{ *text }</option>
                }) }
            </select>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct CheckProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub checked: bool,
    pub onset: Callback<bool>,
}

#[component(CheckField)]
pub fn check_field(p: &CheckProps) -> Html {
    let onchange = p
        .onset
        .reform(|e: Event| e.target_unchecked_into::<HtmlInputElement>().checked());
    html! {
        <div class="field check">
            <input id={p.id.clone()} data-testid={p.id.clone()} type="checkbox" checked={p.checked} {onchange} />
            <label for={p.id.clone()}>{ p.label.clone() }</label>
        </div>
    }
}
