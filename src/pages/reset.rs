use leptos::prelude::*;

use crate::api::{ForgotPassword, ResetPassword};
use crate::components::{field_error, form_error, CodeField, Field, FormError};
use crate::error::AppError;

/// Step one: which account.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let forgot = ServerAction::<ForgotPassword>::new();
    let failure = Signal::derive(move || forgot.value().get().and_then(Result::err));
    let username_error = field_error(failure, |f| &f.username);
    let form_error = form_error(failure, |_| false);
    view! {
        <section class="card">
            <h1>"Forgot your password?"</h1>
            <p class="lead">
                "Enter your username. We will text a code to the phone number on the account."
            </p>
            <ActionForm action=forgot>
                <Field label="Username" name="username" autocomplete="username" error=username_error />
                <FormError error=form_error />
                <button type="submit" disabled=move || forgot.pending().get()>
                    "Send code"
                </button>
            </ActionForm>
            <p class="switch">"Remembered it? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

/// Step two: the code and a new password. The page cannot tell whether a code was sent, and
/// says so.
#[component]
pub fn ResetPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let failure = Signal::derive(move || reset.value().get().and_then(Result::err));
    let about_the_code =
        |e: &AppError| matches!(e, AppError::ResetCodeRefused | AppError::BadRequest(_));
    let code_error =
        Signal::derive(move || failure.get().filter(about_the_code).map(|e| e.to_string()));
    let form_error = form_error(failure, about_the_code);
    view! {
        <section class="card">
            <h1>"Choose a new password"</h1>
            <p class="lead">
                "If that account exists, a 6-digit code is on its way to its phone. "
                "Enter it with your new password. Every device signed in to the account will be signed out."
            </p>
            <ActionForm action=reset>
                <CodeField error=code_error />
                <Field
                    label="New password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters"
                    error=field_error(failure, |f| &f.password)
                />
                <FormError error=form_error />
                <button type="submit" disabled=move || reset.pending().get()>
                    "Set new password"
                </button>
            </ActionForm>
            <p class="switch">"No code? " <a href="/forgot">"Start again"</a></p>
        </section>
    }
}
