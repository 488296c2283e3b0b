//! The signed-in account's pages: sessions and password.

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
    super::auth::ssr::auth()?.sessions(&session_token()).await
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

/// Step one of a new phone number: the password and the number; a code goes to that number.
#[server(endpoint = "change_phone")]
pub async fn change_phone(
    password: String,
    phone: String,
    country: Option<String>,
) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    let sent = auth
        .start_phone_change(
            &session_token(),
            password,
            &phone,
            country.as_deref(),
            &client,
        )
        .await?;
    super::auth::ssr::hand_challenge(&auth, &sent.challenge_key, "/account/phone");
    Ok(())
}

/// Where the code of a phone change in progress went, if there is one.
#[server(endpoint = "phone_change_status")]
pub async fn phone_change_status() -> Result<Option<crate::model::PendingCode>, AppError> {
    let auth = super::auth::ssr::auth()?;
    auth.pending_phone_change(&session_token(), &super::auth::ssr::challenge())
        .await
}

/// Step two: the code sent to the new number and the one sent to the current number.
#[server(endpoint = "confirm_phone_change")]
pub async fn confirm_phone_change(
    code: String,
    #[server(default)] current_code: String,
) -> Result<(), AppError> {
    use crate::server::cookies;
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    let challenge = super::auth::ssr::challenge();
    auth.finish_phone_change(&session_token(), &challenge, &code, &current_code, &client)
        .await?;
    cookies::clear(cookies::CHALLENGE, auth.config.cookie_secure);
    leptos_axum::redirect("/account/phone?changed=1");
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
