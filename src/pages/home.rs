use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_router::components::Redirect;

use crate::api::{current_user, recent_activity, DismissStronger, Logout};
use crate::components::{FormError, Loading};
use crate::i18n::Locale;
use crate::language::use_locale;
use crate::model::ActivityKind;

/// The signed-in user's page; visitors without a session go to /login.
#[component]
pub fn HomePage() -> impl IntoView {
    let locale = use_locale();
    let user = Resource::new(|| (), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    let dismiss = ServerAction::<DismissStronger>::new();
    let dismissed = Signal::derive(move || matches!(dismiss.value().get(), Some(Ok(()))));
    let query = leptos_router::hooks::use_query_map();
    // Signed in with a recovery code: how many are left (the redirect carries it once).
    let recovery_left = move || {
        query
            .read()
            .get("recovery_left")
            .and_then(|n| n.parse::<u32>().ok())
    };
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        view! {
                            <section class="card">
                                <h1>{td_string!(locale, home.welcome, name = user.full_name.clone())}</h1>
                                <p class="lead">{td_string!(locale, home.lead)}</p>
                                {move || recovery_left().map(|count| view! {
                                    <p class="notice" role="status" data-testid="recovery-left-notice">
                                        {td_string!(locale, home.recovery_left, count)}
                                    </p>
                                })}
                                {(user.suggest_stronger).then(|| view! {
                                    <Show when=move || !dismissed.get()>
                                        <aside class="notice suggestion" data-testid="suggest-stronger">
                                            <p>{td_string!(locale, home.stronger)}</p>
                                            <div class="actions">
                                                <a href="/account/security">{td_string!(locale, home.stronger_add)}</a>
                                                <ActionForm action=dismiss>
                                                    <button type="submit" class="link">{td_string!(locale, home.not_now)}</button>
                                                </ActionForm>
                                            </div>
                                        </aside>
                                    </Show>
                                })}
                                <dl class="profile">
                                    <dt>{td_string!(locale, field.username)}</dt>
                                    <dd data-testid="username">{user.username.clone()}</dd>
                                    <dt>{td_string!(locale, field.full_name)}</dt>
                                    <dd data-testid="full-name">{user.full_name.clone()}</dd>
                                    <dt>{td_string!(locale, field.phone)}</dt>
                                    <dd data-testid="phone">{user.masked_phone.clone()}</dd>
                                </dl>
                                <nav
                                    class="account-links"
                                    aria-label=move || td_string!(locale, home.account)
                                >
                                    <a href="/account/profile">{td_string!(locale, home.edit_profile)}</a>
                                    <a href="/account/sessions">{td_string!(locale, home.sessions)}</a>
                                    <a href="/account/password">{td_string!(locale, home.change_password)}</a>
                                    <a href="/account/phone">{td_string!(locale, home.change_phone)}</a>
                                    <a href="/account/security">{td_string!(locale, home.security)}</a>
                                    <a href="/account/apps">{td_string!(locale, home.apps)}</a>
                                </nav>
                                <ActionForm action=logout>
                                    <button type="submit" class="secondary">
                                        {td_string!(locale, home.sign_out)}
                                    </button>
                                </ActionForm>
                            </section>
                            <RecentActivity />
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => {
                        view! {
                            <section class="card">
                                <FormError error=Some(error.message(locale)) />
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The user's newest security events, so a sign-in they did not make stands out.
#[component]
fn RecentActivity() -> impl IntoView {
    let locale = use_locale();
    let activity = Resource::new(|| (), |_| recent_activity());
    view! {
        <section class="card activity" aria-labelledby="activity-heading">
            <h2 id="activity-heading">{td_string!(locale, home.activity)}</h2>
            <Suspense fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match activity.await {
                        Ok(events) => {
                            view! {
                                <ul data-testid="activity">
                                    {events
                                        .into_iter()
                                        .map(|event| {
                                            view! {
                                                <li>
                                                    <span class="what">
                                                        {move || describe(event.kind, locale)}
                                                    </span>
                                                    <span class="hint">
                                                        {event.when} " · " {event.ip}
                                                    </span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! { <FormError error=Some(error.message(locale)) /> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// One line of the activity list, in the reader's language.
fn describe(kind: ActivityKind, locale: Locale) -> &'static str {
    match kind {
        ActivityKind::Registered => td_string!(locale, activity.registered),
        ActivityKind::CodeSent => td_string!(locale, activity.code_sent),
        ActivityKind::CodeFailed => td_string!(locale, activity.code_failed),
        ActivityKind::CodeVerified => td_string!(locale, activity.code_verified),
        ActivityKind::SignedIn => td_string!(locale, activity.signed_in),
        ActivityKind::SignInFailed => td_string!(locale, activity.sign_in_failed),
        ActivityKind::SignedOut => td_string!(locale, activity.signed_out),
        ActivityKind::Locked => td_string!(locale, activity.locked),
        ActivityKind::LimitHit => td_string!(locale, activity.limit_hit),
        ActivityKind::ResetRequested => td_string!(locale, activity.reset_requested),
        ActivityKind::PasswordReset => td_string!(locale, activity.password_reset),
        ActivityKind::PasswordChanged => td_string!(locale, activity.password_changed),
        ActivityKind::SessionEnded => td_string!(locale, activity.session_ended),
        ActivityKind::PhoneChanged => td_string!(locale, activity.phone_changed),
        ActivityKind::PhoneChangeWaiting => td_string!(locale, activity.phone_change_waiting),
        ActivityKind::PhoneChangeCancelled => td_string!(locale, activity.phone_change_cancelled),
        ActivityKind::FactorAdded => td_string!(locale, activity.factor_added),
        ActivityKind::FactorRemoved => td_string!(locale, activity.factor_removed),
        ActivityKind::RecoveryCodesRenewed => td_string!(locale, activity.recovery_codes_renewed),
        ActivityKind::ProfileChanged => td_string!(locale, activity.profile_changed),
        ActivityKind::AppSignedIn => td_string!(locale, activity.app_signed_in),
        ActivityKind::AppRevoked => td_string!(locale, activity.app_revoked),
        ActivityKind::AppRefused => td_string!(locale, activity.app_refused),
        ActivityKind::PumpingAlarm => td_string!(locale, activity.pumping_alarm),
        ActivityKind::Unlocked => td_string!(locale, activity.unlocked),
        ActivityKind::Removed => td_string!(locale, activity.removed),
        ActivityKind::Other => td_string!(locale, activity.other),
    }
}
