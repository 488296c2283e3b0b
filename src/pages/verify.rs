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

#[component]
fn CodeForm(pending: PendingCode) -> impl IntoView {
    let verify = ServerAction::<VerifyCode>::new();
    let resend = ServerAction::<ResendCode>::new();
    let resend_in = RwSignal::new(pending.resend_in_secs);
    Effect::new(move |_| {
        if let Some(Ok(fresh)) = resend.value().get() {
            resend_in.set(fresh.resend_in_secs);
        }
    });
    // The countdown ticks in the browser only; the server enforces the wait either way.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || resend_in.update(|s| *s = s.saturating_sub(1)),
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

    view! {
        <section class="card">
            <h1>{heading}</h1>
            <p class="lead">
                "We sent a 6-digit code to " <strong data-testid="masked-phone">{pending.masked_phone.clone()}</strong>
                "."
            </p>
            <ActionForm action=verify>
                <CodeField error=code_error />
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
            <p class="switch">"Wrong number? " <a href="/register">"Start again"</a></p>
        </section>
    }
}
