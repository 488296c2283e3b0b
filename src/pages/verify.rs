use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::api::{code_status, ResendCode, VerifyCode};
use crate::components::{error_message, failure_of, CodeField, FormError, Loading};
use crate::error::AppError;
use crate::language::use_locale;
use crate::model::{CodePurpose, PendingCode};

/// The code step of both registration and sign-in.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let locale = use_locale();
    let pending = Resource::new(|| (), |_| code_status());
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match pending.await {
                    Ok(Some(code)) => view! { <CodeForm pending=code /> }.into_any(),
                    Ok(None) => {
                        view! {
                            <section class="card">
                                <h1>{td_string!(locale, verify.no_code_title)}</h1>
                                <p class="lead">{td_string!(locale, verify.no_code_lead)}</p>
                                <p class="switch">
                                    <a href="/login">{td_string!(locale, sign_in_link)}</a>
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <section class="card">
                                <FormError error=Some(error.message(locale)) />
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
    let locale = use_locale();
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

    let (verify_failure, resend_failure) = (failure_of(verify), failure_of(resend));
    // An expired code has its own notice below, with the way back to sign-in.
    let unless_expired = |failure: Signal<Option<AppError>>| {
        error_message(Signal::derive(move || {
            failure.get().filter(|e| *e != AppError::CodeExpired)
        }))
    };
    let code_error = unless_expired(verify_failure);
    let resend_error = unless_expired(resend_failure);
    let expired = Signal::derive(move || {
        verify_failure.get() == Some(AppError::CodeExpired)
            || resend_failure.get() == Some(AppError::CodeExpired)
    });
    let resend_note = move || {
        matches!(resend.value().get(), Some(Ok(_))).then(|| td_string!(locale, verify.resent))
    };
    let purpose = pending.purpose;
    let heading = move || match purpose {
        CodePurpose::VerifyPhone => td_string!(locale, verify.heading_phone),
        // Reset codes are entered on /reset and never reach this page.
        CodePurpose::SignIn | CodePurpose::ResetPassword | CodePurpose::ChangePhone => {
            td_string!(locale, verify.heading_code)
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
                {td_string!(locale, verify.sent_to)} " "
                <strong data-testid="masked-phone">{pending.masked_phone.clone()}</strong>
            </p>
            // Six digits typed, pasted or filled in by the phone: send them without a click.
            <ActionForm action=verify on:input=submit_when_complete>
                <CodeField error=code_error />
                <p class="hint" data-testid="expires">
                    {move || match expires_in.get() {
                        0 => td_string!(locale, verify.expired).to_string(),
                        s => {
                            let time = format!("{}:{:02}", s / 60, s % 60);
                            td_string!(locale, verify.expires_in, time)
                        }
                    }}
                </p>
                <button type="submit" disabled=move || verify.pending().get()>
                    {td_string!(locale, verify_button)}
                </button>
            </ActionForm>
            <Show when=move || expired.get()>
                <p class="form-error" role="alert">
                    {AppError::CodeExpired.message(locale)} " "
                    <a href="/login">{td_string!(locale, verify.sign_in_again)}</a>
                </p>
            </Show>
            <div class="resend">
                <span class="hint">{td_string!(locale, verify.didnt_get)}</span>
                <ActionForm action=resend>
                    <button
                        type="submit"
                        class="link"
                        disabled=move || { resend.pending().get() || resend_in.get() > 0 }
                    >
                        {td_string!(locale, verify.resend)}
                    </button>
                </ActionForm>
                <Show when=move || { resend_in.get() > 0 }>
                    <span class="hint countdown">
                        {move || td_string!(locale, verify.resend_in, secs = resend_in.get())}
                    </span>
                </Show>
                <p class="hint" role="status">{resend_note}</p>
                <FormError error=resend_error />
            </div>
            <p class="switch">
                {td_string!(locale, verify.wrong_number)} " " <a href=start_again>{td_string!(locale, start_again)}</a>
            </p>
        </section>
    }
}
