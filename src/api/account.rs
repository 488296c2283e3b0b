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
