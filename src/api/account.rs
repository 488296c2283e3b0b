//! The signed-in account's pages: sessions, password, phone and profile.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SessionInfo;

#[cfg(feature = "ssr")]
fn session_token() -> String {
    crate::server::cookies::read(crate::server::cookies::SESSION).unwrap_or_default()
}

/// The account's signed-in devices.
#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.sessions(&session_token(), &client).await
}

/// Signs out one device of this account.
#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.end_session(&session_token(), &id, &client).await?;
    leptos_axum::redirect("/account/sessions");
    Ok(())
}

/// Signs out every device of this account but this one.
#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.end_other_sessions(&session_token(), &client).await?;
    leptos_axum::redirect("/account/sessions");
    Ok(())
}

/// A new password, given the current one; other devices are signed out.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.change_password(&session_token(), current_password, new_password, &client)
        .await?;
    leptos_axum::redirect("/account/password?changed=1");
    Ok(())
}

/// Step one of a new phone number: the password and the number; a code goes to that number
/// and one to the current number, unless the form says that phone is lost (`lost_current`, a
/// checkbox: present when ticked).
#[server(endpoint = "change_phone")]
pub async fn change_phone(
    password: String,
    phone: String,
    country: Option<String>,
    lost_current: Option<String>,
) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    let sent = auth
        .start_phone_change(
            &session_token(),
            password,
            &phone,
            country.as_deref(),
            lost_current.is_some(),
            &client,
        )
        .await?;
    super::auth::ssr::hand_challenge(&auth, &sent.challenge_key, "/account/phone");
    Ok(())
}

/// Where this account's phone change stands: codes out, waiting out its time, or none.
#[server(endpoint = "phone_change_status")]
pub async fn phone_change_status() -> Result<crate::model::PhoneChangeState, AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.phone_change_state(&session_token(), &super::auth::ssr::challenge(), &client)
        .await
}

/// The owner calls off a waiting phone change.
#[server(endpoint = "cancel_phone_change")]
pub async fn cancel_phone_change() -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.cancel_phone_wait(&session_token(), &client).await?;
    leptos_axum::redirect("/account/phone?cancelled=1");
    Ok(())
}

/// Whoever holds the current number calls off a waiting change with the link texted to it.
#[server(endpoint = "cancel_phone_change_by_link")]
pub async fn cancel_phone_change_by_link(t: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.cancel_phone_wait_by_link(&t, &client).await?;
    leptos_axum::redirect(&format!("{}?done=1", crate::model::PHONE_CANCEL_PAGE));
    Ok(())
}

/// Step two: the code sent to the new number and the one sent to the current number.
#[server(endpoint = "confirm_phone_change")]
pub async fn confirm_phone_change(
    code: String,
    #[server(default)] current_code: String,
) -> Result<(), AppError> {
    use crate::server::cookies;
    use crate::server::service::PhoneChangeEnd;
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    let challenge = super::auth::ssr::challenge();
    let end = auth
        .finish_phone_change(&session_token(), &challenge, &code, &current_code, &client)
        .await?;
    cookies::clear(cookies::CHALLENGE, auth.config.cookie_secure);
    // A waiting change shows itself on the page; a done one says so.
    leptos_axum::redirect(match end {
        PhoneChangeEnd::Waiting => "/account/phone",
        PhoneChangeEnd::Changed => "/account/phone?changed=1",
    });
    Ok(())
}

/// New name and email for the signed-in account.
#[server(endpoint = "update_profile")]
pub async fn update_profile(full_name: String, email: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.update_profile(&session_token(), &full_name, &email, &client)
        .await?;
    leptos_axum::redirect("/account/profile?saved=1");
    Ok(())
}
