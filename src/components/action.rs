//! What a form's server action came to, as the pages show it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;

/// The error of the action's last run, while it stands.
pub fn failure_of<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// Whether the action succeeded: here, or before this page load when its form was posted
/// without script and the server came back with `flag` in the query.
pub fn succeeded<S>(action: ServerAction<S>, flag: &'static str) -> Signal<bool>
where
    S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let query = leptos_router::hooks::use_query_map();
    Signal::derive(move || {
        query.read().get(flag).is_some() || matches!(action.value().get(), Some(Ok(())))
    })
}

/// After a change was refused for want of a recent sign-in: the way to sign in again and come
/// back to `page` (one of model::STEP_UP_PAGES).
#[component]
pub fn StepUpLink(
    #[prop(into)] failures: Signal<Vec<Option<AppError>>>,
    page: &'static str,
) -> impl IntoView {
    let locale = crate::language::use_locale();
    let needed = move || failures.get().contains(&Some(AppError::StepUpNeeded));
    move || {
        needed().then(|| {
            view! {
                <p class="switch" data-testid="step-up">
                    <a href=format!("/login?next={page}")>
                        {leptos_i18n::td_string!(locale, verify.sign_in_again)}
                    </a>
                </p>
            }
        })
    }
}
