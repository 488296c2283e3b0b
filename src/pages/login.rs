use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::api::Login;
use crate::components::{error_message, failure_of, Field, FormError};
use crate::language::use_locale;

#[component]
pub fn LoginPage() -> impl IntoView {
    let locale = use_locale();
    let login = ServerAction::<Login>::new();
    let error = error_message(failure_of(login));
    let query = leptos_router::hooks::use_query_map();
    let reset_done = Signal::derive(move || query.read().get("reset").as_deref() == Some("done"));
    // Sent here to confirm it is the owner before a sensitive change, or by an app that signs
    // its users in through us: back there afterwards.
    let next = query
        .read_untracked()
        .get("next")
        .and_then(|next| crate::model::return_page(&next));
    let step_up = next
        .as_deref()
        .and_then(crate::model::step_up_page)
        .is_some();
    view! {
        <section class="card">
            <h1>{td_string!(locale, login.title)}</h1>
            <p class="lead">{td_string!(locale, login.lead)}</p>
            <Show when=move || reset_done.get()>
                <p class="notice" role="status">{td_string!(locale, login.reset_done)}</p>
            </Show>
            {step_up.then(|| view! { <p class="notice" role="status">{td_string!(locale, login.step_up)}</p> })}
            <ActionForm action=login>
                {next.map(|page| view! { <input type="hidden" name="next" value=page /> })}
                <Field
                    label=move || td_string!(locale, field.username)
                    name="username"
                    autocomplete="username webauthn"
                />
                <Field
                    label=move || td_string!(locale, field.password)
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                />
                <FormError error />
                <button type="submit">
                    {td_string!(locale, login.submit)}
                </button>
            </ActionForm>
            // A passkey is a whole sign-in: no username, no password, no SMS. Script-only, as
            // WebAuthn is; everything else on this page works without it.
            <div class="passkey">
                <button type="button" class="secondary" data-passkey="sign-in">
                    {td_string!(locale, login.passkey)}
                </button>
                <p class="hint" id="passkey-status" aria-live="polite" data-failed=move || td_string!(locale, passkey.failed)></p>
                // Through the meta context: into the head, with the page's nonce.
                <leptos_meta::Script src="/passkey.js" defer="true" />
            </div>
            <p class="switch">
                <a href="/forgot">{td_string!(locale, login.forgot)}</a>
            </p>
            <p class="switch">
                {td_string!(locale, login.new_here)} " " <a href="/register">{td_string!(locale, login.create_account)}</a>
            </p>
        </section>
    }
}
