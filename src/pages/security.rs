//! Sign-in security: the authenticator app (set up with a QR code, confirmed by its first code,
//! removed with the password) and recovery codes. Every form works without JavaScript.

use leptos::prelude::*;
use leptos_i18n::td_string;

use super::account::not_loaded;
use crate::api::{
    security_status, ConfirmApp, RecoveryCodesSaved, RemoveApp, RemovePasskey, RenamePasskey,
    RenewRecoveryCodes, StartApp,
};
use crate::components::{
    failure_of, field_error, form_error, CodeField, Field, FormError, Loading, StepUpLink,
};
use crate::language::use_locale;
use crate::model::{AppState, PasskeyInfo, SecurityView};

#[component]
pub fn SecurityPage() -> impl IntoView {
    let locale = use_locale();
    let start = ServerAction::<StartApp>::new();
    let confirm = ServerAction::<ConfirmApp>::new();
    let remove = ServerAction::<RemoveApp>::new();
    let renew = ServerAction::<RenewRecoveryCodes>::new();
    let saved = ServerAction::<RecoveryCodesSaved>::new();
    let rename_passkey = ServerAction::<RenamePasskey>::new();
    let remove_passkey = ServerAction::<RemovePasskey>::new();
    let state = Resource::new(
        move || {
            (
                start.version().get(),
                confirm.version().get(),
                remove.version().get(),
                renew.version().get(),
                saved.version().get(),
                rename_passkey.version().get(),
                remove_passkey.version().get(),
            )
        },
        |_| security_status(),
    );
    let actions = Actions {
        start,
        confirm,
        remove,
        renew,
        saved,
        rename_passkey,
        remove_passkey,
    };
    view! {
        <section class="card">
            <h1>{td_string!(locale, security.title)}</h1>
            <p class="lead">{td_string!(locale, security.lead)}</p>
            <Suspense fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(view) => view! { <Factors view actions /> }.into_any(),
                        Err(error) => not_loaded(error),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/">{td_string!(locale, back_to_account)}</a></p>
        </section>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    start: ServerAction<StartApp>,
    confirm: ServerAction<ConfirmApp>,
    remove: ServerAction<RemoveApp>,
    renew: ServerAction<RenewRecoveryCodes>,
    saved: ServerAction<RecoveryCodesSaved>,
    rename_passkey: ServerAction<RenamePasskey>,
    remove_passkey: ServerAction<RemovePasskey>,
}

#[component]
fn Factors(view: SecurityView, actions: Actions) -> impl IntoView {
    let locale = use_locale();
    let confirm_failure = failure_of(actions.confirm);
    let remove_failure = failure_of(actions.remove);
    let app_on = matches!(view.app, AppState::On { .. }) || !view.passkeys.is_empty();
    let passkeys = view.passkeys.clone();
    let app = match view.app {
        AppState::Off => view! {
            <p>{td_string!(locale, security.app_off)}</p>
            <ActionForm action=actions.start>
                <button type="submit">{td_string!(locale, security.app_start)}</button>
            </ActionForm>
        }
        .into_any(),
        AppState::Pending { key, qr_svg } => view! {
            <p>{td_string!(locale, security.app_scan)}</p>
            <div class="qr" data-testid="app-qr" inner_html=qr_svg></div>
            <p>
                {td_string!(locale, security.app_key)} ": "
                <code data-testid="app-key">{key}</code>
            </p>
            <ActionForm action=actions.confirm>
                <CodeField
                    error=field_error(confirm_failure, |f| f.code)
                    label=Signal::derive(move || td_string!(locale, field.app_code).to_string())
                />
                <FormError error=form_error(confirm_failure, |_| false) />
                <button type="submit">{td_string!(locale, security.app_confirm)}</button>
            </ActionForm>
        }
        .into_any(),
        AppState::On { since, last_used } => view! {
            <p data-testid="app-on">
                {td_string!(locale, security.app_on, since)} " "
                {last_used.map(|when| td_string!(locale, security.app_last_used, when).to_string())}
            </p>
            <ActionForm action=actions.remove>
                <Field
                    label=move || td_string!(locale, field.current_password)
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(remove_failure, |f| f.current_password)
                />
                <FormError error=form_error(remove_failure, |_| false) />
                <button type="submit" class="secondary">{td_string!(locale, security.app_remove)}</button>
            </ActionForm>
        }
        .into_any(),
    };
    let codes = view.recovery_codes.map(|codes| {
        view! {
            <p class="notice" role="status">{td_string!(locale, security.recovery_show)}</p>
            <ol class="recovery-codes" data-testid="recovery-codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <ActionForm action=actions.saved>
                <button type="submit">{td_string!(locale, security.recovery_saved)}</button>
            </ActionForm>
        }
    });
    let recovery = match view.recovery_left {
        Some(count) => view! {
            <p data-testid="recovery-left">{td_string!(locale, security.recovery_left, count)}</p>
            <ActionForm action=actions.renew>
                <button type="submit" class="secondary">{td_string!(locale, security.recovery_new)}</button>
            </ActionForm>
        }
        .into_any(),
        None => view! { <p>{td_string!(locale, security.recovery_none)}</p> }.into_any(),
    };
    let start_failure = failure_of(actions.start);
    let renew_failure = failure_of(actions.renew);
    let failures = Signal::derive(move || {
        vec![
            start_failure.get(),
            confirm_failure.get(),
            remove_failure.get(),
            renew_failure.get(),
        ]
    });
    view! {
        <Passkeys passkeys rename=actions.rename_passkey remove=actions.remove_passkey />
        <FormError error=form_error(start_failure, |_| false) />
        <FormError error=form_error(renew_failure, |_| false) />
        <StepUpLink failures page="/account/security" />
        <h2>{td_string!(locale, security.app_title)}</h2>
        {app}
        <h2>{td_string!(locale, security.recovery_title)}</h2>
        {codes}
        {app_on.then_some(recovery)}
    }
}

/// The account's passkeys, and adding one (a script-run ceremony: /passkey.js).
#[component]
fn Passkeys(
    passkeys: Vec<PasskeyInfo>,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
) -> impl IntoView {
    let locale = use_locale();
    let remove_failure = failure_of(remove);
    let empty = passkeys.is_empty();
    let rows = passkeys
        .into_iter()
        .map(|key| {
            let kind = if key.synced {
                td_string!(locale, passkey.synced)
            } else {
                td_string!(locale, passkey.device_bound)
            };
            let when = key.added.clone();
            let used = key
                .last_used
                .clone()
                .map(|when| format!(" · {}", td_string!(locale, passkey.last_used, when)));
            let name_id = format!("passkey-{}-name", key.id);
            let (rename_id, remove_id) = (key.id.clone(), key.id.clone());
            view! {
                <li data-testid="passkey">
                    <span class="what">{key.name.clone()}</span>
                    <span class="hint">{td_string!(locale, passkey.added, when)} {used} " · " {kind}</span>
                    <ActionForm action=rename>
                        <input type="hidden" name="id" value=rename_id />
                        <label class="visually-hidden" for=name_id.clone()>{td_string!(locale, passkey.rename)}</label>
                        <input id=name_id name="name" value=key.name.clone() maxlength=60 />
                        <button type="submit" class="secondary">{td_string!(locale, passkey.rename)}</button>
                    </ActionForm>
                    <ActionForm action=remove>
                        <input type="hidden" name="id" value=remove_id />
                        <button type="submit" class="secondary">{td_string!(locale, passkey.remove)}</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! {
        <h2>{td_string!(locale, passkey.title)}</h2>
        <p>{td_string!(locale, passkey.lead)}</p>
        {empty.then(|| view! { <p>{td_string!(locale, passkey.none)}</p> })}
        <ul class="passkeys">{rows}</ul>
        <FormError error=form_error(remove_failure, |_| false) />
        <div class="field">
            <label for="field-passkey_name">{td_string!(locale, passkey.name)}</label>
            <input id="field-passkey_name" name="passkey_name" maxlength=60 autocomplete="off" />
        </div>
        <button type="button" data-passkey="add">{td_string!(locale, passkey.add)}</button>
        <p class="hint" id="passkey-status" aria-live="polite" data-failed=move || td_string!(locale, passkey.failed)></p>
        <leptos_meta::Script src="/passkey.js" defer="true" />
    }
}
