//! The consent screen: an app that signs its users in through us asks to know who the user is
//! (and their name, phone or email). Yes is remembered for that app; no goes back to it with
//! `access_denied`. Both answers are plain forms, so they work without JavaScript.

use leptos::prelude::*;
use leptos_i18n::td_string;

use super::account::not_loaded;
use crate::api::{consent_request, AnswerConsent};
use crate::components::Loading;
use crate::language::use_locale;
use crate::model::OidcConsent;

#[component]
pub fn ConsentPage() -> impl IntoView {
    let locale = use_locale();
    let query = leptos_router::hooks::use_query_map();
    let request = query.read_untracked().get("r").unwrap_or_default();
    let details = Resource::new(|| (), move |_| consent_request(request.clone()));
    view! {
        <section class="card">
            <Suspense fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(asked) => view! { <Ask asked /> }.into_any(),
                        Err(error) => view! {
                            <h1>{td_string!(locale, consent.title_plain)}</h1>
                            {not_loaded(error)}
                        }
                            .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Ask(asked: OidcConsent) -> impl IntoView {
    let locale = use_locale();
    let answer = ServerAction::<AnswerConsent>::new();
    let app = asked.app_name.clone();
    let items: Vec<_> = asked
        .scopes
        .iter()
        .map(|scope| view! { <li>{scope_text(scope, locale)}</li> })
        .collect();
    let (allow_request, deny_request) = (asked.request.clone(), asked.request);
    view! {
        <h1>{td_string!(locale, consent.title, app = app.clone())}</h1>
        <p class="lead">{td_string!(locale, consent.lead, app)}</p>
        <ul class="consent" data-testid="consent-scopes">{items}</ul>
        <div class="consent-answers">
            <ActionForm action=answer>
                <input type="hidden" name="request" value=allow_request />
                <input type="hidden" name="allow" value="yes" />
                <button type="submit">{td_string!(locale, consent.allow)}</button>
            </ActionForm>
            <ActionForm action=answer>
                <input type="hidden" name="request" value=deny_request />
                <input type="hidden" name="allow" value="no" />
                <button type="submit" class="secondary">{td_string!(locale, consent.deny)}</button>
            </ActionForm>
        </div>
    }
}

/// What a scope lets an app know, in the reader's words.
pub(super) fn scope_text(scope: &str, locale: crate::i18n::Locale) -> &'static str {
    match scope {
        "profile" => td_string!(locale, consent.profile),
        "phone" => td_string!(locale, consent.phone),
        "email" => td_string!(locale, consent.email),
        _ => td_string!(locale, consent.openid),
    }
}
