use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::api::phone_countries;
use crate::language::use_locale;
use crate::model::PhoneCountry;

/// The phone number field: a country picker limited to the countries we send SMS to, and a
/// number grouped the local way as it is typed. Without JavaScript both still post as they
/// are; the server reads the digits whatever the spacing. Pages holding it render with
/// `SsrMode::Async`, so the picker is in the first HTML.
#[component]
pub fn PhoneField(
    #[prop(into)] label: TextProp,
    #[prop(into, optional)] error: Signal<Option<String>>,
) -> impl IntoView {
    let countries = OnceResource::new(phone_countries());
    let waiting = label.clone();
    // Back from a refused post: the number and country as they were typed.
    #[cfg(feature = "ssr")]
    let typed = (
        crate::api::typed_value("phone"),
        crate::api::typed_value("country"),
    );
    #[cfg(not(feature = "ssr"))]
    let typed: (Option<String>, Option<String>) = (None, None);
    let again = typed.clone();
    view! {
        // Until the list is here (a client-side visit), the number alone.
        <Suspense fallback=move || {
            view! {
                <PhoneInputs
                    countries=Vec::new()
                    label=waiting.get().to_string()
                    error=error.get_untracked()
                    typed=again.clone()
                />
            }
        }>
            {move || {
                let (label, typed) = (label.get().to_string(), typed.clone());
                Suspend::new(async move {
                    let countries = countries.await.unwrap_or_default();
                    view! { <PhoneInputs countries label error=error.get_untracked() typed /> }
                })
            }}
        </Suspense>
    }
}

/// The part that acts in the browser: the picked country's grouping follows the picker.
/// `typed` is the number and country from before a refusal.
#[island]
fn PhoneInputs(
    countries: Vec<PhoneCountry>,
    label: String,
    error: Option<String>,
    typed: (Option<String>, Option<String>),
) -> impl IntoView {
    let locale = use_locale();
    let error = Signal::stored(error);
    let (number, country) = typed;
    let picked = RwSignal::new(
        countries
            .iter()
            .find(|c| Some(&c.region) == country.as_ref())
            .or_else(|| countries.iter().find(|c| c.is_default))
            .or(countries.first())
            .map(|c| c.region.clone()),
    );
    // The picked country's example number is the grouping pattern.
    let examples: Vec<(String, String)> = countries
        .iter()
        .map(|c| (c.region.clone(), c.example.clone()))
        .collect();
    let pattern = Signal::derive(move || {
        let picked = picked.get();
        examples
            .iter()
            .find(|(region, _)| Some(region) == picked.as_ref())
            .map(|(_, example)| example.clone())
            .unwrap_or_default()
    });
    let described_by = move || {
        let mut ids = vec!["field-phone-hint"];
        if error.get().is_some() {
            ids.push("field-phone-error");
        }
        ids.join(" ")
    };
    let picker = (!countries.is_empty()).then(|| view! { <CountryPicker list=countries picked /> });
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for="field-phone">{label}</label>
            <p class="hint" id="field-phone-hint">
                {move || td_string!(locale, field.phone_hint, example = pattern.get())}
            </p>
            <div class="phone-row">
                {picker}
                <input
                    id="field-phone"
                    name="phone"
                    type="tel"
                    autocomplete="tel"
                    inputmode="tel"
                    required=true
                    value=number
                    aria-invalid=move || error.get().is_some().then_some("true")
                    aria-describedby=described_by
                    on:input=move |ev| group_as_typed(&ev, &pattern.get_untracked())
                />
            </div>
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="field-error" id="field-phone-error" role="alert">
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

#[component]
fn CountryPicker(list: Vec<PhoneCountry>, picked: RwSignal<Option<String>>) -> impl IntoView {
    let locale = use_locale();
    let initial = picked.get_untracked();
    view! {
        <select
            name="country"
            id="field-country"
            aria-label=move || td_string!(locale, field.country)
            on:change=move |ev| picked.set(Some(event_target_value(&ev)))
        >
            {list
                .into_iter()
                .map(|c| {
                    view! {
                        <option value=c.region.clone() selected=Some(&c.region) == initial.as_ref()>
                            {format!("{} +{}", c.region, c.calling_code)}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// Regroups the typed digits like `example` ("81234 56789"), only while typing at the end so an
/// edit in the middle keeps its caret. Numbers typed with + are left as they are.
fn group_as_typed(event: &leptos::ev::Event, example: &str) {
    use leptos::wasm_bindgen::JsCast;
    let Some(input) = event
        .target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let value = input.value();
    let at_end = input
        .selection_start()
        .ok()
        .flatten()
        .is_none_or(|caret| caret as usize >= value.encode_utf16().count());
    if !at_end || value.trim_start().starts_with('+') {
        return;
    }
    let grouped = group_digits(&value, example);
    if grouped != value {
        input.set_value(&grouped);
    }
}

/// The digits of `typed` laid out on `example`'s pattern; digits past the pattern follow on.
pub fn group_digits(typed: &str, example: &str) -> String {
    let mut digits = typed.chars().filter(char::is_ascii_digit).peekable();
    let mut out = String::new();
    for slot in example.chars() {
        if digits.peek().is_none() {
            break;
        }
        if slot.is_ascii_digit() {
            out.extend(digits.next());
        } else {
            out.push(slot);
        }
    }
    out.extend(digits);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_follow_the_local_grouping() {
        assert_eq!(group_digits("9876543210", "81234 56789"), "98765 43210");
        assert_eq!(group_digits("98765", "81234 56789"), "98765");
        assert_eq!(group_digits("987654", "81234 56789"), "98765 4");
        assert_eq!(group_digits("98-765 4321 0", "81234 56789"), "98765 43210");
        assert_eq!(group_digits("2015550123", "201-555-0123"), "201-555-0123");
        assert_eq!(group_digits("98765432109", "81234 56789"), "98765 432109");
        assert_eq!(group_digits("", "81234 56789"), "");
    }
}
