use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::api::Register;
use crate::components::{failure_of, field_error, form_error, Field, FormError, PhoneField};
use crate::language::use_locale;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let locale = use_locale();
    let register = ServerAction::<Register>::new();
    let failure = failure_of(register);
    let field = move |pick| field_error(failure, pick);
    let form_error = form_error(failure, |_| false);
    view! {
        <section class="card">
            <h1>{td_string!(locale, register.title)}</h1>
            <p class="lead">{td_string!(locale, register.lead)}</p>
            <ActionForm action=register>
                <Field
                    label=move || td_string!(locale, field.username)
                    name="username"
                    autocomplete="username"
                    hint=move || td_string!(locale, field.username_hint)
                    error=field(|f| f.username)
                />
                <Field
                    label=move || td_string!(locale, field.full_name)
                    name="full_name"
                    autocomplete="name"
                    error=field(|f| f.full_name)
                />
                <PhoneField
                    label=move || td_string!(locale, field.phone)
                    error=field(|f| f.phone)
                />
                <Field
                    label=move || td_string!(locale, field.email)
                    name="email"
                    kind="email"
                    autocomplete="email"
                    error=field(|f| f.email)
                />
                <Field
                    label=move || td_string!(locale, field.password)
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint=move || td_string!(locale, field.password_hint)
                    error=field(|f| f.password)
                />
                <FormError error=form_error />
                <button type="submit">
                    {td_string!(locale, register.submit)}
                </button>
            </ActionForm>
            <p class="switch">
                {td_string!(locale, register.already)} " " <a href="/login">{td_string!(locale, sign_in_link)}</a>
            </p>
        </section>
    }
}
