use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::api::{ForgotPassword, ResetPassword};
use crate::components::{
    error_message, failure_of, field_error, form_error, CodeField, Field, FormError,
};
use crate::error::AppError;
use crate::language::use_locale;

/// Step one: which account.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let locale = use_locale();
    let forgot = ServerAction::<ForgotPassword>::new();
    let failure = failure_of(forgot);
    let username_error = field_error(failure, |f| f.username);
    let form_error = form_error(failure, |_| false);
    view! {
        <section class="card">
            <h1>{td_string!(locale, forgot.title)}</h1>
            <p class="lead">{td_string!(locale, forgot.lead)}</p>
            <ActionForm action=forgot>
                <Field
                    label=move || td_string!(locale, field.username)
                    name="username"
                    autocomplete="username"
                    error=username_error
                />
                <FormError error=form_error />
                <button type="submit">
                    {td_string!(locale, send_code)}
                </button>
            </ActionForm>
            <p class="switch">
                {td_string!(locale, forgot.remembered)} " " <a href="/login">{td_string!(locale, sign_in_link)}</a>
            </p>
        </section>
    }
}

/// Step two: the code and a new password. The page cannot tell whether a code was sent, and
/// says so.
#[component]
pub fn ResetPage() -> impl IntoView {
    let locale = use_locale();
    let reset = ServerAction::<ResetPassword>::new();
    let failure = failure_of(reset);
    let about_the_code =
        |e: &AppError| matches!(e, AppError::ResetCodeRefused | AppError::CodeFormat);
    let code_error = error_message(Signal::derive(move || failure.get().filter(about_the_code)));
    let form_error = form_error(failure, about_the_code);
    view! {
        <section class="card">
            <h1>{td_string!(locale, reset.title)}</h1>
            <p class="lead">{td_string!(locale, reset.lead)}</p>
            <ActionForm action=reset>
                <CodeField error=code_error />
                <Field
                    label=move || td_string!(locale, field.new_password)
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint=move || td_string!(locale, field.password_hint)
                    error=field_error(failure, |f| f.password)
                />
                <FormError error=form_error />
                <button type="submit">
                    {td_string!(locale, reset.submit)}
                </button>
            </ActionForm>
            <p class="switch">
                {td_string!(locale, reset.no_code)} " " <a href="/forgot">{td_string!(locale, start_again)}</a>
            </p>
        </section>
    }
}
