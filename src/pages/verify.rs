use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::api::{code_status, ResendCode, VerifyCode};
use crate::browser::{expires_text, resend_in_text, EXPIRES_ID, RESEND_ID, RESEND_IN_ID};
use crate::components::{error_message, failure_of, CodeField, Field, FormError, Loading};
use crate::error::AppError;
use crate::language::use_locale;
use crate::model::{CodePurpose, PendingCode, SignInMethod};

/// The code step of both registration and sign-in.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let locale = use_locale();
    // The way to answer is picked by `?with=`: a new pick renders the step afresh.
    let query = leptos_router::hooks::use_query_map();
    // Back from a resend: say the new code is on its way.
    let resent = query.read_untracked().get("resent").is_some();
    let pending = Resource::new(
        move || query.read().get("with"),
        |with| async move { code_status().await.map(|p| p.map(|p| (p, with))) },
    );
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match pending.await {
                    Ok(Some((code, with))) => view! { <CodeForm pending=code with resent /> }.into_any(),
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

/// Which answer the page asks for: `?with=` when the user picked one, else, when no SMS went,
/// the passkey or app the account used last (the server lists it first), else the SMS code.
fn method_of(pending: &PendingCode, with: Option<&str>) -> SignInMethod {
    let offered = |m| pending.others.contains(&m);
    let first_strong = pending
        .others
        .iter()
        .copied()
        .find(|m| matches!(m, SignInMethod::Passkey | SignInMethod::App));
    match (with, first_strong) {
        (Some("passkey"), _) if offered(SignInMethod::Passkey) => SignInMethod::Passkey,
        (Some("app"), _) if offered(SignInMethod::App) => SignInMethod::App,
        (Some("recovery"), _) if offered(SignInMethod::RecoveryCode) => SignInMethod::RecoveryCode,
        (Some("sms"), _) => SignInMethod::Sms,
        (_, Some(strong)) if !pending.sms_sent => strong,
        _ => SignInMethod::Sms,
    }
}

#[component]
fn CodeForm(pending: PendingCode, with: Option<String>, resent: bool) -> impl IntoView {
    let locale = use_locale();
    let method = method_of(&pending, with.as_deref());
    let others = pending.others.clone();
    let verify = ServerAction::<VerifyCode>::new();
    let resend = ServerAction::<ResendCode>::new();
    let (resend_in, expires_in) = (pending.resend_in_secs, pending.expires_in_secs);
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
    let resend_note = (resent && pending.sms_sent).then(|| td_string!(locale, verify.resent));
    // No SMS went yet (the account has an app): the SMS way starts with asking for one.
    let sms_waits = !pending.sms_sent;
    let masked = pending.masked_phone.clone();
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
            // The SMS and app codes are six digits that send themselves; a recovery code is not.
            {matches!(method, SignInMethod::Sms | SignInMethod::App).then(|| view! {
                <CodeStepInBrowser expires_in resend_in />
            })}
            {match method {
                SignInMethod::App => view! {
                    <p class="lead">{td_string!(locale, verify.app_lead)}</p>
                    <ActionForm action=verify>
                        <input type="hidden" name="method" value="app" />
                        <CodeField
                            error=code_error
                            label=Signal::derive(move || td_string!(locale, field.app_code).to_string())
                        />
                        <button type="submit">
                            {td_string!(locale, verify_button)}
                        </button>
                    </ActionForm>
                }
                    .into_any(),
                // WebAuthn needs script; the other ways below stay plain links.
                SignInMethod::Passkey => view! {
                    <p class="lead">{td_string!(locale, verify.passkey_lead)}</p>
                    <div class="passkey">
                        <button type="button" data-passkey="step">
                            {td_string!(locale, verify.use_passkey)}
                        </button>
                        <p class="hint" id="passkey-status" aria-live="polite" data-failed=move || td_string!(locale, passkey.failed)></p>
                        <leptos_meta::Script src="/passkey.js" defer="true" />
                    </div>
                }
                    .into_any(),
                SignInMethod::RecoveryCode => view! {
                    <p class="lead">{td_string!(locale, verify.recovery_lead)}</p>
                    <ActionForm action=verify>
                        <input type="hidden" name="method" value="recovery" />
                        <Field
                            label=move || td_string!(locale, field.recovery_code)
                            name="code"
                            autocomplete="off"
                            maxlength=20
                            error=code_error
                        />
                        <button type="submit">
                            {td_string!(locale, verify_button)}
                        </button>
                    </ActionForm>
                }
                    .into_any(),
                _ => view! {
                    <Show
                        when=move || !sms_waits
                        fallback=move || view! {
                            <p class="lead">{td_string!(locale, verify.will_text)} " " <strong>{masked.clone()}</strong></p>
                            <ActionForm action=resend>
                                <input type="hidden" name="first" value="1" />
                                <button type="submit">
                                    {td_string!(locale, verify.send_sms)}
                                </button>
                            </ActionForm>
                        }
                    >
                        <SmsCodeForm pending=pending.clone() verify expires_in code_error />
                    </Show>
                }
                    .into_any(),
            }}
            <Show when=move || expired.get()>
                <p class="form-error" role="alert">
                    {AppError::CodeExpired.message(locale)} " "
                    <a href="/login">{td_string!(locale, verify.sign_in_again)}</a>
                </p>
            </Show>
            <Show when=move || method == SignInMethod::Sms && !sms_waits>
            <div class="resend">
                <span class="hint">{td_string!(locale, verify.didnt_get)}</span>
                <ActionForm action=resend>
                    // Held until the server's wait is over; the island lets it go.
                    <button type="submit" class="link" id=RESEND_ID disabled=resend_in > 0>
                        {td_string!(locale, verify.resend)}
                    </button>
                </ActionForm>
                <span class="hint countdown" id=RESEND_IN_ID hidden=resend_in == 0>
                    {resend_in_text(locale, resend_in)}
                </span>
                <p class="hint" role="status">{resend_note}</p>
                <FormError error=resend_error />
            </div>
            </Show>
            <OtherWays method others=others.clone() />
            <p class="switch">
                {td_string!(locale, verify.wrong_number)} " " <a href=start_again>{td_string!(locale, start_again)}</a>
            </p>
        </section>
    }
}

/// The SMS code: where it went, the field, and how long it lasts.
#[component]
fn SmsCodeForm(
    pending: PendingCode,
    verify: ServerAction<VerifyCode>,
    expires_in: u64,
    code_error: Signal<Option<String>>,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <p class="lead">
            {td_string!(locale, verify.sent_to)} " "
            <strong data-testid="masked-phone">{pending.masked_phone.clone()}</strong>
        </p>
        <ActionForm action=verify>
            <CodeField error=code_error />
            <p class="hint" id=EXPIRES_ID data-testid="expires">
                {expires_text(locale, expires_in)}
            </p>
            <button type="submit">{td_string!(locale, verify_button)}</button>
        </ActionForm>
    }
}

/// In the browser: the code field sends its form once six digits are in, and the waits tick
/// (the server enforces both either way).
#[island]
fn CodeStepInBrowser(expires_in: u64, resend_in: u64) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        crate::browser::send_code_when_complete();
        crate::browser::tick_code_waits(use_locale(), expires_in, resend_in);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (expires_in, resend_in);
}

/// Links to the account's other ways of answering (plain links: they work without JavaScript).
#[component]
fn OtherWays(method: SignInMethod, others: Vec<SignInMethod>) -> impl IntoView {
    let locale = use_locale();
    let mut ways = vec![SignInMethod::Sms];
    ways.extend(others.iter().copied());
    let links: Vec<_> = ways
        .into_iter()
        .filter(|way| *way != method && !others.is_empty())
        .map(|way| {
            let (href, text) = match way {
                SignInMethod::Passkey => (
                    "/verify?with=passkey",
                    td_string!(locale, verify.use_passkey),
                ),
                SignInMethod::App => ("/verify?with=app", td_string!(locale, verify.use_app)),
                SignInMethod::RecoveryCode => (
                    "/verify?with=recovery",
                    td_string!(locale, verify.use_recovery),
                ),
                _ => ("/verify?with=sms", td_string!(locale, verify.use_sms)),
            };
            view! { <li><a href=href>{text}</a></li> }
        })
        .collect();
    (!links.is_empty()).then(|| view! { <ul class="other-ways">{links}</ul> })
}
