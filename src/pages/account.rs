use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_router::components::Redirect;

use crate::api::{
    current_user, list_sessions, ChangePassword, EndOtherSessions, EndSession, UpdateProfile,
};
use crate::components::{
    failure_of, field_error, form_error, succeeded, Field, FormError, Loading, StepUpLink,
};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::language::use_locale;
use crate::model::{Device, SignInMethod};

/// What an account page shows when its data did not load: the sign-in page when the session
/// is gone, else the reason.
pub(super) fn not_loaded(error: AppError) -> AnyView {
    match error {
        AppError::NotSignedIn => view! { <Redirect path="/login" /> }.into_any(),
        error => view! { <FormError error=Some(error.message(use_locale())) /> }.into_any(),
    }
}

/// Every signed-in device, with a way to sign any of them out.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let locale = use_locale();
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    // Reloads after each sign-out so the list shows what is left.
    let sessions = Resource::new(
        move || (end_one.version().get(), end_others.version().get()),
        |_| list_sessions(),
    );
    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h1 id="sessions-heading">{td_string!(locale, sessions.title)}</h1>
            <Suspense fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => {
                            let others = list.iter().filter(|s| !s.current).count();
                            view! {
                                <ul class="sessions" data-testid="sessions">
                                    {list
                                        .into_iter()
                                        .map(|s| {
                                            let id = s.id.clone();
                                            view! {
                                                <li>
                                                    <span class="what">
                                                        {device_name(&s.device, locale)}
                                                        {s.current.then(|| view! { " " <strong>{td_string!(locale, sessions.this_device)}</strong> })}
                                                    </span>
                                                    <span class="hint">
                                                        {td_string!(locale, sessions.detail, ip = s.ip.clone(), signed_in = s.signed_in.clone(), last_seen = s.last_seen.clone())}
                                                    </span>
                                                    {(!s.methods.is_empty()).then(|| {
                                                        let methods = s.methods.iter().map(|m| method_name(*m, locale)).collect::<Vec<_>>().join(" + ");
                                                        view! { <span class="hint" data-testid="session-methods">{td_string!(locale, sessions.methods, methods)}</span> }
                                                    })}
                                                    {(!s.current).then(|| view! {
                                                        <ActionForm action=end_one>
                                                            <input type="hidden" name="id" value=id.clone() />
                                                            <button type="submit" class="secondary">{td_string!(locale, sessions.end_one)}</button>
                                                        </ActionForm>
                                                    })}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                {(others > 0).then(|| view! {
                                    <ActionForm action=end_others>
                                        <button type="submit">{td_string!(locale, sessions.end_others)}</button>
                                    </ActionForm>
                                })}
                            }
                                .into_any()
                        }
                        Err(error) => not_loaded(error),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/">{td_string!(locale, back_to_account)}</a></p>
        </section>
    }
}

/// A new password, given the current one.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let locale = use_locale();
    let change = ServerAction::<ChangePassword>::new();
    let failure = failure_of(change);
    let changed = succeeded(change, "changed");
    let signed_out = Signal::derive(move || matches!(failure.get(), Some(AppError::NotSignedIn)));
    view! {
        <Show when=move || signed_out.get()>
            <Redirect path="/login" />
        </Show>
        <section class="card">
            <h1>{td_string!(locale, password.title)}</h1>
            <Show when=move || changed.get()>
                <p class="notice" role="status">{td_string!(locale, password.changed)}</p>
            </Show>
            <ActionForm action=change>
                <Field
                    label=move || td_string!(locale, field.current_password)
                    name="current_password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(failure, |f| f.current_password)
                />
                <Field
                    label=move || td_string!(locale, field.new_password)
                    name="new_password"
                    kind="password"
                    autocomplete="new-password"
                    hint=move || td_string!(locale, field.password_hint)
                    error=field_error(failure, |f| f.password)
                />
                <FormError error=form_error(failure, |_| false) />
                <StepUpLink failures=Signal::derive(move || vec![failure.get()]) page="/account/password" />
                <button type="submit">
                    {td_string!(locale, password.submit)}
                </button>
            </ActionForm>
            <p class="switch"><a href="/">{td_string!(locale, back_to_account)}</a></p>
        </section>
    }
}

/// The name and email of the account; the username cannot change.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let locale = use_locale();
    let save = ServerAction::<UpdateProfile>::new();
    let user = Resource::new(move || save.version().get(), |_| current_user());
    let failure = failure_of(save);
    let saved = succeeded(save, "saved");
    view! {
        <section class="card">
            <h1>{td_string!(locale, profile.title)}</h1>
            <Show when=move || saved.get()>
                <p class="notice" role="status">{td_string!(locale, profile.saved)}</p>
            </Show>
            <Suspense fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => {
                            view! {
                                <dl class="profile">
                                    <dt>{td_string!(locale, field.username)}</dt>
                                    <dd data-testid="username">{user.username.clone()}</dd>
                                    <dt>{td_string!(locale, field.phone)}</dt>
                                    <dd>
                                        {user.masked_phone.clone()} " · "
                                        <a href="/account/phone">{td_string!(locale, profile.change)}</a>
                                    </dd>
                                </dl>
                                <ActionForm action=save>
                                    <Field
                                        label=move || td_string!(locale, field.full_name)
                                        name="full_name"
                                        autocomplete="name"
                                        value=user.full_name.clone()
                                        error=field_error(failure, |f| f.full_name)
                                    />
                                    <Field
                                        label=move || td_string!(locale, field.email)
                                        name="email"
                                        kind="email"
                                        autocomplete="email"
                                        value=user.email.clone()
                                        error=field_error(failure, |f| f.email)
                                    />
                                    <FormError error=form_error(failure, |_| false) />
                                    <StepUpLink failures=Signal::derive(move || vec![failure.get()]) page="/account/profile" />
                                    <button type="submit">
                                        {td_string!(locale, profile.save)}
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Ok(None) => not_loaded(AppError::NotSignedIn),
                        Err(error) => not_loaded(error),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/">{td_string!(locale, back_to_account)}</a></p>
        </section>
    }
}

/// "SMS code" in the reader's language.
fn method_name(method: SignInMethod, locale: Locale) -> &'static str {
    match method {
        SignInMethod::Password => td_string!(locale, method.password),
        SignInMethod::Sms => td_string!(locale, method.sms),
        SignInMethod::App => td_string!(locale, method.app),
        SignInMethod::RecoveryCode => td_string!(locale, method.recovery_code),
        SignInMethod::Passkey => td_string!(locale, method.passkey),
    }
}

/// "Chrome on Android" in the reader's language.
fn device_name(device: &Device, locale: Locale) -> String {
    match device {
        Device::Known {
            browser: Some(browser),
            system: Some(system),
        } => td_string!(locale, sessions.browser_on, browser, system).to_string(),
        Device::Known {
            browser: Some(name),
            system: None,
        }
        | Device::Known {
            browser: None,
            system: Some(name),
        }
        | Device::Other(name) => name.clone(),
        Device::Known {
            browser: None,
            system: None,
        }
        | Device::Unknown => td_string!(locale, sessions.unknown_device).to_string(),
    }
}
