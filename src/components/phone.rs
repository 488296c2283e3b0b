use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::api::phone_countries;
use crate::browser::{phone_hint_text, COUNTRY_ID, PHONE_HINT_ID, PHONE_ID};
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
    view! {
        <Suspense>
            {move || {
                let label = label.get().to_string();
                Suspend::new(async move {
                    let countries = countries.await.unwrap_or_default();
                    view! { <PhoneInputs countries label error=error.get_untracked() /> }
                })
            }}
        </Suspense>
    }
}

#[component]
fn PhoneInputs(
    countries: Vec<PhoneCountry>,
    label: String,
    error: Option<String>,
) -> impl IntoView {
    let locale = use_locale();
    // Back from a refused post: the number and country as they were typed.
    #[cfg(feature = "ssr")]
    let (number, country) = (
        crate::api::typed_value("phone"),
        crate::api::typed_value("country"),
    );
    #[cfg(not(feature = "ssr"))]
    let (number, country): (Option<String>, Option<String>) = (None, None);
    let picked = countries
        .iter()
        .find(|c| Some(&c.region) == country.as_ref())
        .or_else(|| countries.iter().find(|c| c.is_default))
        .or(countries.first());
    // The picked country's example number is the grouping pattern.
    let example = picked.map(|c| c.example.clone()).unwrap_or_default();
    let picked = picked.map(|c| c.region.clone());
    let examples: Vec<(String, String)> = countries
        .iter()
        .map(|c| (c.region.clone(), c.example.clone()))
        .collect();
    let described_by = match error {
        Some(_) => format!("{PHONE_HINT_ID} field-phone-error"),
        None => PHONE_HINT_ID.to_string(),
    };
    let has_error = error.is_some();
    let picker = (!countries.is_empty()).then(|| {
        view! {
            <select name="country" id=COUNTRY_ID aria-label=td_string!(locale, field.country)>
                {countries
                    .into_iter()
                    .map(|c| {
                        view! {
                            <option value=c.region.clone() selected=Some(&c.region) == picked.as_ref()>
                                {format!("{} +{}", c.region, c.calling_code)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
    });
    view! {
        <div class="field" class:has-error=has_error>
            <label for=PHONE_ID>{label}</label>
            <p class="hint" id=PHONE_HINT_ID>
                {phone_hint_text(locale, example)}
            </p>
            <div class="phone-row">
                {picker}
                <input
                    id=PHONE_ID
                    name="phone"
                    type="tel"
                    autocomplete="tel"
                    inputmode="tel"
                    required=true
                    value=number
                    aria-invalid=has_error.then_some("true")
                    aria-describedby=described_by
                />
            </div>
            {error.map(|message| view! {
                <p class="field-error" id="field-phone-error" role="alert">
                    {message}
                </p>
            })}
            <GroupPhoneAsTyped examples />
        </div>
    }
}

/// In the browser: the number is grouped like the picked country's example as it is typed,
/// and the hint follows the picker (`examples`: each region with its example number).
#[island]
fn GroupPhoneAsTyped(examples: Vec<(String, String)>) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    crate::browser::group_phone_as_typed(use_locale(), examples);
    #[cfg(not(feature = "hydrate"))]
    let _ = examples;
}
