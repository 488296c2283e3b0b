use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::language::use_locale;

/// What a page shows while its data is on the way.
#[component]
pub fn Loading() -> impl IntoView {
    let locale = use_locale();
    view! { <p class="loading">{td_string!(locale, loading)}</p> }
}
