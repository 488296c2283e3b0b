//! "Connected apps": the apps that sign this account in through us, what each may know, and a
//! plain form to cut one off (it works without JavaScript).

use leptos::prelude::*;
use leptos_i18n::td_string;

use super::account::not_loaded;
use super::consent::scope_text;
use crate::api::{connected_apps, DisconnectApp};
use crate::components::Loading;
use crate::language::use_locale;

#[component]
pub fn ConnectedAppsPage() -> impl IntoView {
    let locale = use_locale();
    let disconnect = ServerAction::<DisconnectApp>::new();
    // Reloads after each disconnection so the list shows what is left.
    let apps = Resource::new(move || disconnect.version().get(), |_| connected_apps());
    view! {
        <section class="card" aria-labelledby="apps-heading">
            <h1 id="apps-heading">{td_string!(locale, apps.title)}</h1>
            <p class="lead">{td_string!(locale, apps.lead)}</p>
            <Suspense fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match apps.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p data-testid="no-apps">{td_string!(locale, apps.none)}</p> }.into_any()
                        }
                        Ok(list) => view! {
                            <ul class="sessions" data-testid="connected-apps">
                                {list
                                    .into_iter()
                                    .map(|app| {
                                        let knows = app.scopes.iter().map(|s| scope_text(s, locale)).collect::<Vec<_>>().join("; ");
                                        view! {
                                            <li>
                                                <span class="what">{app.name.clone()}</span>
                                                <span class="hint">{td_string!(locale, apps.since, since = app.since.clone())}</span>
                                                <span class="hint">{td_string!(locale, apps.knows, knows)}</span>
                                                <ActionForm action=disconnect>
                                                    <input type="hidden" name="app" value=app.client_id.clone() />
                                                    <button type="submit" class="secondary">
                                                        {td_string!(locale, apps.disconnect, app = app.name.clone())}
                                                    </button>
                                                </ActionForm>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any(),
                        Err(error) => not_loaded(error),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/">{td_string!(locale, back_to_account)}</a></p>
        </section>
    }
}
