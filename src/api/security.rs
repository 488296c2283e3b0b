//! The signed-in account's factors beyond SMS: the authenticator app and recovery codes.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SecurityView;

#[cfg(feature = "ssr")]
fn session_token() -> String {
    crate::server::cookies::read(crate::server::cookies::SESSION).unwrap_or_default()
}

/// Where each factor stands, and recovery codes not yet saved.
#[server(endpoint = "security_status")]
pub async fn security_status() -> Result<SecurityView, AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.security(&session_token(), &client).await
}

/// "Not now" to the home page's suggestion of an authenticator app.
#[server(endpoint = "dismiss_stronger")]
pub async fn dismiss_stronger() -> Result<(), AppError> {
    super::auth::ssr::auth()?
        .dismiss_stronger(&session_token())
        .await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// A new authenticator-app key, shown until its first code confirms it.
#[server(endpoint = "start_app")]
pub async fn start_app() -> Result<(), AppError> {
    super::auth::ssr::auth()?
        .start_app(&session_token())
        .await?;
    leptos_axum::redirect("/account/security");
    Ok(())
}

/// The app's first code turns it on.
#[server(endpoint = "confirm_app")]
pub async fn confirm_app(code: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.confirm_app(&session_token(), &code, &client).await?;
    leptos_axum::redirect("/account/security");
    Ok(())
}

/// Removes the app and its recovery codes, given the password.
#[server(endpoint = "remove_app")]
pub async fn remove_app(password: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.remove_app(&session_token(), password, &client).await?;
    leptos_axum::redirect("/account/security");
    Ok(())
}

/// Ten new recovery codes; the old ones stop working.
#[server(endpoint = "renew_recovery_codes")]
pub async fn renew_recovery_codes() -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.renew_recovery_codes(&session_token(), &client).await?;
    leptos_axum::redirect("/account/security");
    Ok(())
}

/// The owner saved the new codes; the page stops showing them.
#[server(endpoint = "recovery_codes_saved")]
pub async fn recovery_codes_saved() -> Result<(), AppError> {
    super::auth::ssr::auth()?
        .recovery_codes_saved(&session_token())
        .await?;
    leptos_axum::redirect("/account/security");
    Ok(())
}
