use leptos::prelude::*;

use crate::api::Register;
use crate::components::{field_error, form_error, Field, FormError};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let failure = Signal::derive(move || register.value().get().and_then(Result::err));
    let field = move |pick| field_error(failure, pick);
    let form_error = form_error(failure, |_| false);
    view! {
        <section class="card">
            <h1>"Create your account"</h1>
            <p class="lead">"We will text a code to your phone to confirm it is yours."</p>
            <ActionForm action=register>
                <Field
                    label="Username"
                    name="username"
                    autocomplete="username"
                    hint="3–32 characters: letters, digits, _ and ."
                    error=field(|f| &f.username)
                />
                <Field label="Full name" name="full_name" autocomplete="name" error=field(|f| &f.full_name) />
                <Field
                    label="Phone number"
                    name="phone"
                    kind="tel"
                    autocomplete="tel"
                    inputmode="tel"
                    hint="Mobile number, e.g. 98765 43210 or +91 98765 43210"
                    error=field(|f| &f.phone)
                />
                <Field label="Email" name="email" kind="email" autocomplete="email" error=field(|f| &f.email) />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters"
                    error=field(|f| &f.password)
                />
                <FormError error=form_error />
                <button type="submit" disabled=move || register.pending().get()>
                    "Create account"
                </button>
            </ActionForm>
            <p class="switch">"Already registered? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}
