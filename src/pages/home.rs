use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::{current_user, Logout};

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
                                <ActionForm action=logout>
                                    <button type="submit" class="secondary">"Sign out"</button>
                                </ActionForm>
                            </section>
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
