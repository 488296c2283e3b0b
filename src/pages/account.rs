use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::{
    current_user, list_sessions, phone_change_status, ChangePassword, ChangePhone,
    ConfirmPhoneChange, EndOtherSessions, EndSession, UpdateProfile,
};
use crate::components::{field_error, form_error, CodeField, Field, FormError};
use crate::error::AppError;

/// What an account page shows when its data did not load: the sign-in page when the session
/// is gone, else the reason.
fn not_loaded(error: AppError) -> AnyView {
    match error {
        AppError::NotSignedIn => view! { <Redirect path="/login" /> }.into_any(),
        error => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
    }
}

/// Every signed-in device, with a way to sign any of them out.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    // Reloads after each sign-out so the list shows what is left.
    let sessions = Resource::new(
        move || (end_one.version().get(), end_others.version().get()),
        |_| list_sessions(),
    );
    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h1 id="sessions-heading">"Where you are signed in"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
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
                                                        {s.device}
                                                        {s.current.then(|| view! { <strong>" (this device)"</strong> })}
                                                    </span>
                                                    <span class="hint">
                                                        {format!("{} · signed in {} · last seen {}", s.ip, s.signed_in, s.last_seen)}
                                                    </span>
                                                    {(!s.current).then(|| view! {
                                                        <ActionForm action=end_one>
                                                            <input type="hidden" name="id" value=id.clone() />
                                                            <button type="submit" class="secondary">"Sign out this device"</button>
                                                        </ActionForm>
                                                    })}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                {(others > 0).then(|| view! {
                                    <ActionForm action=end_others>
                                        <button type="submit">"Sign out all other devices"</button>
                                    </ActionForm>
                                })}
                            }
                                .into_any()
                        }
                        Err(error) => not_loaded(error),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/">"Back to your account"</a></p>
        </section>
    }
}

/// A new password, given the current one.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let failure = Signal::derive(move || change.value().get().and_then(Result::err));
    let query = leptos_router::hooks::use_query_map();
    let changed = Signal::derive(move || {
        query.read().get("changed").is_some() || matches!(change.value().get(), Some(Ok(())))
    });
    let signed_out = Signal::derive(move || matches!(failure.get(), Some(AppError::NotSignedIn)));
    view! {
        <Show when=move || signed_out.get()>
            <Redirect path="/login" />
        </Show>
        <section class="card">
            <h1>"Change your password"</h1>
            <Show when=move || changed.get()>
                <p class="notice" role="status">
                    "Your password is changed. Other devices were signed out."
                </p>
            </Show>
            <ActionForm action=change>
                <Field
                    label="Current password"
                    name="current_password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(failure, |f| &f.current_password)
                />
                <Field
                    label="New password"
                    name="new_password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters"
                    error=field_error(failure, |f| &f.password)
                />
                <FormError error=form_error(failure, |_| false) />
                <button type="submit" disabled=move || change.pending().get()>
                    "Change password"
                </button>
            </ActionForm>
            <p class="switch"><a href="/">"Back to your account"</a></p>
        </section>
    }
}

/// A new phone number: the password and the number, then the code sent to it.
#[component]
pub fn PhonePage() -> impl IntoView {
    let start = ServerAction::<ChangePhone>::new();
    let confirm = ServerAction::<ConfirmPhoneChange>::new();
    let pending = Resource::new(
        move || (start.version().get(), confirm.version().get()),
        |_| phone_change_status(),
    );
    let query = leptos_router::hooks::use_query_map();
    let changed = Signal::derive(move || {
        query.read().get("changed").is_some() || matches!(confirm.value().get(), Some(Ok(())))
    });
    let start_failure = Signal::derive(move || start.value().get().and_then(Result::err));
    let confirm_failure = Signal::derive(move || confirm.value().get().and_then(Result::err));
    let code_error = Signal::derive(move || {
        confirm_failure
            .get()
            .filter(|e| !matches!(e, AppError::InvalidFields(_)))
            .map(|e| e.to_string())
    });
    view! {
        <section class="card">
            <h1>"Change your phone number"</h1>
            <Show when=move || changed.get()>
                <p class="notice" role="status">
                    "Your phone number is changed. We told the old number, and other devices were signed out."
                </p>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match pending.await {
                        Ok(Some(code)) => {
                            view! {
                                <p class="lead">
                                    "We sent a 6-digit code to "
                                    <strong data-testid="masked-phone">{code.masked_phone}</strong>
                                    ". Enter it to make this your number."
                                </p>
                                <ActionForm action=confirm>
                                    <CodeField error=code_error />
                                    <FormError error=field_error(confirm_failure, |f| &f.phone) />
                                    <button type="submit" disabled=move || confirm.pending().get()>
                                        "Verify"
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Ok(None) => {
                            view! {
                                <p class="lead">
                                    "We will text a code to the new number to make sure it is yours, and tell the old number."
                                </p>
                                <ActionForm action=start>
                                    <Field
                                        label="Current password"
                                        name="password"
                                        kind="password"
                                        autocomplete="current-password"
                                        error=field_error(start_failure, |f| &f.current_password)
                                    />
                                    <Field
                                        label="New phone number"
                                        name="phone"
                                        kind="tel"
                                        autocomplete="tel"
                                        inputmode="tel"
                                        hint="Mobile number, e.g. 98765 43210 or +91 98765 43210"
                                        error=field_error(start_failure, |f| &f.phone)
                                    />
                                    <FormError error=form_error(start_failure, |_| false) />
                                    <button type="submit" disabled=move || start.pending().get()>
                                        "Send code"
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Err(error) => not_loaded(error),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/">"Back to your account"</a></p>
        </section>
    }
}

/// The name and email of the account; the username cannot change.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let save = ServerAction::<UpdateProfile>::new();
    let user = Resource::new(move || save.version().get(), |_| current_user());
    let failure = Signal::derive(move || save.value().get().and_then(Result::err));
    let query = leptos_router::hooks::use_query_map();
    let saved = Signal::derive(move || {
        query.read().get("saved").is_some() || matches!(save.value().get(), Some(Ok(())))
    });
    view! {
        <section class="card">
            <h1>"Your profile"</h1>
            <Show when=move || saved.get()>
                <p class="notice" role="status">"Saved."</p>
            </Show>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => {
                            view! {
                                <dl class="profile">
                                    <dt>"Username"</dt>
                                    <dd data-testid="username">{user.username.clone()}</dd>
                                    <dt>"Phone number"</dt>
                                    <dd>{user.masked_phone.clone()} " · " <a href="/account/phone">"Change"</a></dd>
                                </dl>
                                <ActionForm action=save>
                                    <Field
                                        label="Full name"
                                        name="full_name"
                                        autocomplete="name"
                                        value=user.full_name.clone()
                                        error=field_error(failure, |f| &f.full_name)
                                    />
                                    <Field
                                        label="Email"
                                        name="email"
                                        kind="email"
                                        autocomplete="email"
                                        value=user.email.clone()
                                        error=field_error(failure, |f| &f.email)
                                    />
                                    <FormError error=form_error(failure, |_| false) />
                                    <button type="submit" disabled=move || save.pending().get()>
                                        "Save"
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
            <p class="switch"><a href="/">"Back to your account"</a></p>
        </section>
    }
}
