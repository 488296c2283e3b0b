use leptos::prelude::*;

use leptos_i18n::td_string;

use crate::error::{AppError, FieldErrors, Problem};
use crate::language::use_locale;

/// A labelled input whose error sits right under it and is announced to screen readers.
#[component]
pub fn Field(
    #[prop(into)] label: TextProp,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional, into)] hint: Option<TextProp>,
    #[prop(optional)] maxlength: Option<u32>,
    /// What the field holds when the page opens (a profile being edited).
    #[prop(optional_no_strip, into)]
    value: Option<String>,
    #[prop(into, optional)] error: Signal<Option<String>>,
) -> impl IntoView {
    // Back from a refused post: what was typed (never a secret) goes back in.
    #[cfg(feature = "ssr")]
    let value = crate::api::typed_value(name).or(value);
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_hint = hint.is_some();
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{move || label.get()}</label>
            {hint.map(|text| view! { <p class="hint" id=hint_id.clone()>{move || text.get()}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                inputmode=inputmode
                maxlength=maxlength
                value=value
                required=true
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
            />
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="field-error" id=error_id.clone() role="alert">
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// The code field of every code step: takes a pasted or autofilled SMS code. A step that asks
/// for two codes names and labels the second one.
#[component]
pub fn CodeField(
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "code")] name: &'static str,
    #[prop(optional_no_strip, into)] label: Option<Signal<String>>,
) -> impl IntoView {
    let locale = use_locale();
    let label =
        label.unwrap_or_else(|| Signal::derive(move || td_string!(locale, field.code).to_string()));
    view! {
        <Field
            label=move || label.get()
            name=name
            autocomplete="one-time-code"
            inputmode="numeric"
            maxlength=9
            error
        />
    }
}

/// One field's message out of a failed action's error, in the reader's language.
pub fn field_error(
    failure: Signal<Option<AppError>>,
    pick: fn(&FieldErrors) -> Option<Problem>,
) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || {
        let locale = locale;
        failure.get().and_then(|e| {
            let fields = e.fields()?;
            Some(fields.message(pick(fields)?, locale))
        })
    })
}

/// A failure's whole message in the reader's language (errors not shown at a field).
pub fn error_message(failure: Signal<Option<AppError>>) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || failure.get().map(|e| e.message(locale)))
}

/// The form's message: a failure not already shown next to a field.
pub fn form_error(
    failure: Signal<Option<AppError>>,
    shown_at_a_field: fn(&AppError) -> bool,
) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || {
        failure
            .get()
            .filter(|e| !matches!(e, AppError::InvalidFields(_)) && !shown_at_a_field(e))
            .map(|e| e.message(locale))
    })
}

/// An error about the whole form rather than one field.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! {
                <p class="form-error" role="alert">
                    {message}
                </p>
            }
        })
    }
}
