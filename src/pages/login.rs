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
    let query = leptos_router::hooks::use_query_map();
    let reset_done = Signal::derive(move || query.read().get("reset").as_deref() == Some("done"));
    view! {
        <section class="card">
            <h1>"Sign in"</h1>
            <p class="lead">"We will text a code to the phone number on your account."</p>
            <Show when=move || reset_done.get()>
                <p class="notice" role="status">
                    "Your password is changed and every device was signed out. Sign in with the new password."
                </p>
            </Show>
            <ActionForm action=login>
                <Field label="Username" name="username" autocomplete="username" />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" />
                <FormError error />
                <button type="submit" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="switch">
                <a href="/forgot">"Forgot password?"</a>
            </p>
            <p class="switch">"New here? " <a href="/register">"Create an account"</a></p>
        </section>
    }
}
