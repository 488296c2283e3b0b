use leptos::prelude::*;

use crate::api::Login;
use crate::components::{Field, FormError};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = Signal::derive(move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    });
    view! {
        <section class="card">
            <h1>"Sign in"</h1>
            <p class="lead">"We will text a code to the phone number on your account."</p>
            <ActionForm action=login>
                <Field label="Username" name="username" autocomplete="username" />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" />
                <FormError error />
                <button type="submit" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="switch">"New here? " <a href="/register">"Create an account"</a></p>
        </section>
    }
}
