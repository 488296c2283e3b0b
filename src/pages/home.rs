use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::{current_user, recent_activity, Logout};

/// The signed-in user's page; visitors without a session go to /login.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        view! {
                            <section class="card">
                                <h1>"Welcome, " {user.full_name.clone()}</h1>
                                <p class="lead">"You are signed in."</p>
                                <dl class="profile">
                                    <dt>"Username"</dt>
                                    <dd data-testid="username">{user.username.clone()}</dd>
                                    <dt>"Full name"</dt>
                                    <dd data-testid="full-name">{user.full_name.clone()}</dd>
                                    <dt>"Phone number"</dt>
                                    <dd data-testid="phone">{user.masked_phone.clone()}</dd>
                                </dl>
                                <nav class="account-links" aria-label="Account">
                                    <a href="/account/profile">"Edit profile"</a>
                                    <a href="/account/sessions">"Where you are signed in"</a>
                                    <a href="/account/password">"Change password"</a>
                                    <a href="/account/phone">"Change phone number"</a>
                                </nav>
                                <ActionForm action=logout>
                                    <button type="submit" class="secondary">"Sign out"</button>
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
                                <p class="form-error" role="alert">{error.to_string()}</p>
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
    let activity = Resource::new(|| (), |_| recent_activity());
    view! {
        <section class="card activity" aria-labelledby="activity-heading">
            <h2 id="activity-heading">"Recent activity"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
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
                                                    <span class="what">{event.what}</span>
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
                            view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
