//! A new phone number: the password and the number, then the codes; or, for someone who lost
//! the current phone, the new number's code and a wait. And the page the wait's notice links
//! to, where the current number's holder cancels it.

use leptos::prelude::*;
use leptos_i18n::{td, td_string};
use leptos_router::hooks::use_query_map;

use super::account::not_loaded;
use crate::api::{
    phone_change_status, CancelPhoneChange, CancelPhoneChangeByLink, ChangePhone,
    ConfirmPhoneChange,
};
use crate::components::{
    error_message, failure_of, field_error, form_error, succeeded, CodeField, Field, FormError,
    Loading, PhoneField, StepUpLink,
};
use crate::error::AppError;
use crate::language::use_locale;
use crate::model::{PendingCode, PhoneChangeState, LOST_PHONE_WAIT_HOURS};

#[component]
pub fn PhonePage() -> impl IntoView {
    let locale = use_locale();
    let start = ServerAction::<ChangePhone>::new();
    let confirm = ServerAction::<ConfirmPhoneChange>::new();
    let cancel = ServerAction::<CancelPhoneChange>::new();
    let state = Resource::new(
        move || {
            (
                start.version().get(),
                confirm.version().get(),
                cancel.version().get(),
            )
        },
        |_| phone_change_status(),
    );
    let changed = succeeded(confirm, "changed");
    let cancelled = succeeded(cancel, "cancelled");
    let start_failure = failure_of(start);
    view! {
        <section class="card">
            <h1>{td_string!(locale, phone.title)}</h1>
            <Show when=move || changed.get()>
                <p class="notice" role="status">{td_string!(locale, phone.changed)}</p>
            </Show>
            <Show when=move || cancelled.get()>
                <p class="notice" role="status">{td_string!(locale, phone.cancelled)}</p>
            </Show>
            <Suspense fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(PhoneChangeState::Code { pending, asks_current }) => {
                            view! { <CodesStep pending asks_current confirm /> }.into_any()
                        }
                        Ok(PhoneChangeState::Waiting { masked_phone, moves_at }) => {
                            view! {
                                <p class="lead" data-testid="phone-waiting">
                                    {td!(locale,
                                        phone.waiting,
                                        phone = move || {
                                            let masked = masked_phone.clone();
                                            view! { <strong data-testid="masked-phone">{masked}</strong> }
                                        },
                                        when = move || view! { <strong>{moves_at.clone()}</strong> }
                                    )}
                                </p>
                                <ActionForm action=cancel>
                                    <button type="submit">
                                        {td_string!(locale, phone.cancel)}
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Ok(PhoneChangeState::Idle) => {
                            view! {
                                <p class="lead">{td_string!(locale, phone.lead)}</p>
                                <ActionForm action=start>
                                    <Field
                                        label=move || td_string!(locale, field.current_password)
                                        name="password"
                                        kind="password"
                                        autocomplete="current-password"
                                        error=field_error(start_failure, |f| f.current_password)
                                    />
                                    <PhoneField
                                        label=move || td_string!(locale, field.new_phone)
                                        error=field_error(start_failure, |f| f.phone)
                                    />
                                    <div class="field check">
                                        <input type="checkbox" id="field-lost_current" name="lost_current" aria-describedby="field-lost_current-hint" />
                                        <label for="field-lost_current">{td_string!(locale, phone.lost_current)}</label>
                                        <p class="hint" id="field-lost_current-hint">
                                            {td_string!(locale, phone.lost_hint, hours = LOST_PHONE_WAIT_HOURS)}
                                        </p>
                                    </div>
                                    <FormError error=form_error(start_failure, |_| false) />
                                    <StepUpLink failures=Signal::derive(move || vec![start_failure.get()]) page="/account/phone" />
                                    <button type="submit">
                                        {td_string!(locale, send_code)}
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Err(error) => not_loaded(error),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/">{td_string!(locale, back_to_account)}</a></p>
        </section>
    }
}

/// The codes of a change under way: the new number's, and the current number's when one was
/// sent there.
#[component]
fn CodesStep(
    pending: PendingCode,
    asks_current: bool,
    confirm: ServerAction<ConfirmPhoneChange>,
) -> impl IntoView {
    let locale = use_locale();
    let confirm_failure = failure_of(confirm);
    let code_error = error_message(Signal::derive(move || {
        confirm_failure
            .get()
            .filter(|e| !matches!(e, AppError::InvalidFields(_)))
    }));
    let masked = pending.masked_phone;
    let phone = move || {
        let masked = masked.clone();
        view! { <strong data-testid="masked-phone">{masked}</strong> }
    };
    view! {
        <p class="lead">
            {if asks_current {
                td!(locale, phone.sent_to, phone).into_any()
            } else {
                td!(locale, phone.sent_to_new, phone).into_any()
            }}
        </p>
        <ActionForm action=confirm>
            <CodeField
                error=code_error
                label=Signal::derive(move || td_string!(locale, field.new_number_code).to_string())
            />
            {asks_current.then(|| view! {
                <CodeField
                    error=Signal::derive(|| None::<String>)
                    name="current_code"
                    label=Signal::derive(move || {
                        td_string!(locale, field.current_number_code).to_string()
                    })
                />
            })}
            <FormError error=field_error(confirm_failure, |f| f.phone) />
            <button type="submit">
                {td_string!(locale, verify_button)}
            </button>
        </ActionForm>
    }
}

/// Where the waiting change's SMS links: one button cancels it, no sign-in needed, as only the
/// current number got the link. A GET alone changes nothing, so link previews cannot cancel.
#[component]
pub fn CancelPhoneChangePage() -> impl IntoView {
    let locale = use_locale();
    let cancel = ServerAction::<CancelPhoneChangeByLink>::new();
    let failure = failure_of(cancel);
    let done = succeeded(cancel, "done");
    let query = use_query_map();
    let link_token = move || query.read().get("t").unwrap_or_default();
    view! {
        <section class="card">
            <h1>{td_string!(locale, cancel_change.title)}</h1>
            <Show
                when=move || done.get()
                fallback=move || view! {
                    <p class="lead">{td_string!(locale, cancel_change.lead)}</p>
                    <ActionForm action=cancel>
                        <input type="hidden" name="t" value=link_token />
                        <FormError error=form_error(failure, |_| false) />
                        <button type="submit">
                            {td_string!(locale, cancel_change.submit)}
                        </button>
                    </ActionForm>
                }
            >
                <p class="notice" role="status" data-testid="change-cancelled">
                    {td_string!(locale, cancel_change.done)}
                </p>
                <p class="switch"><a href="/forgot">{td_string!(locale, forgot.title)}</a></p>
            </Show>
        </section>
    }
}
