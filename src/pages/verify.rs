use leptos::prelude::*;

use crate::api::{code_status, ResendCode, VerifyCode};
use crate::components::{CodeField, FormError};
use crate::error::AppError;
use crate::model::{CodePurpose, PendingCode};

/// The code step of both registration and sign-in.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let pending = Resource::new(|| (), |_| code_status());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pending.await {
                    Ok(Some(code)) => view! { <CodeForm pending=code /> }.into_any(),
                    Ok(None) => {
                        view! {
                            <section class="card">
                                <h1>"No code is waiting"</h1>
                                <p class="lead">
                                    "Your code step has ended. " <a href="/login">"Sign in"</a>
                                    " to get a new code."
                                </p>
                            </section>
                        }
                            .into_any()
                    }
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

/// Submits the code form once its field holds six digits, however they were separated.
fn submit_when_complete(event: leptos::ev::Event) {
    use leptos::wasm_bindgen::JsCast;
    let Some(input) = event
        .target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let digits = input.value().chars().filter(char::is_ascii_digit).count();
    if digits == 6 {
        if let Some(form) = input.form() {
            let _ = form.request_submit();
        }
    }
}

#[component]
fn CodeForm(pending: PendingCode) -> impl IntoView {
    let verify = ServerAction::<VerifyCode>::new();
    let resend = ServerAction::<ResendCode>::new();
    let resend_in = RwSignal::new(pending.resend_in_secs);
    let expires_in = RwSignal::new(pending.expires_in_secs);
    Effect::new(move |_| {
        if let Some(Ok(fresh)) = resend.value().get() {
            resend_in.set(fresh.resend_in_secs);
            expires_in.set(fresh.expires_in_secs);
        }
    });
    // The countdowns tick in the browser only; the server enforces both either way.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                resend_in.update(|s| *s = s.saturating_sub(1));
                expires_in.update(|s| *s = s.saturating_sub(1));
            },
            std::time::Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });

    let code_error = Signal::derive(move || {
        verify
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !matches!(e, AppError::CodeExpired))
            .map(|e| e.to_string())
    });
    let expired = Signal::derive(move || {
        matches!(verify.value().get(), Some(Err(AppError::CodeExpired)))
            || matches!(resend.value().get(), Some(Err(AppError::CodeExpired)))
    });
    let resend_note = Signal::derive(move || {
        match resend.value().get() {
        Some(Ok(_)) => Some(
            "A new code is on its way, through another SMS route if we have one. The old code no longer works."
                .to_string(),
        ),
        _ => None,
    }
    });
    let resend_error = Signal::derive(move || {
        resend
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !matches!(e, AppError::CodeExpired))
            .map(|e| e.to_string())
    });
    let heading = match pending.purpose {
        CodePurpose::VerifyPhone => "Verify your phone",
        // Reset codes are entered on /reset and never reach this page.
        CodePurpose::SignIn | CodePurpose::ResetPassword | CodePurpose::ChangePhone => {
            "Enter your code"
        }
    };

    // Back to where the number was typed: registration for a new account, else sign-in.
    let start_again = match pending.purpose {
        CodePurpose::VerifyPhone => "/register",
        _ => "/login",
    };

    view! {
        <section class="card">
            <h1>{heading}</h1>
            <p class="lead">
                "We sent a 6-digit code to " <strong data-testid="masked-phone">{pending.masked_phone.clone()}</strong>
                "."
            </p>
            // Six digits typed, pasted or filled in by the phone: send them without a click.
            <ActionForm action=verify on:input=submit_when_complete>
                <CodeField error=code_error />
                <p class="hint" data-testid="expires">
                    {move || match expires_in.get() {
                        0 => "This code has expired. Ask for a new one below.".to_string(),
                        s => format!("The code expires in {}:{:02}.", s / 60, s % 60),
                    }}
                </p>
                <button type="submit" disabled=move || verify.pending().get()>
                    "Verify"
                </button>
            </ActionForm>
            <Show when=move || expired.get()>
                <p class="form-error" role="alert">
                    {AppError::CodeExpired.to_string()} " " <a href="/login">"Sign in again"</a>
                </p>
            </Show>
            <div class="resend">
                <span class="hint">"Didn't get it?"</span>
                <ActionForm action=resend>
                    <button
                        type="submit"
                        class="link"
                        disabled=move || { resend.pending().get() || resend_in.get() > 0 }
                    >
                        "Resend code"
                    </button>
                </ActionForm>
                <Show when=move || { resend_in.get() > 0 }>
                    <span class="hint">"You can ask for a new code in " {move || resend_in.get()} " s."</span>
                </Show>
                <p class="hint" role="status">{move || resend_note.get()}</p>
                <FormError error=resend_error />
            </div>
            <p class="switch">"Wrong number? " <a href=start_again>"Start again"</a></p>
        </section>
    }
}
