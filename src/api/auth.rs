use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Activity, PendingCode, PhoneCountry, SignedInUser};

#[cfg(feature = "ssr")]
pub(super) mod ssr {
    use leptos::prelude::use_context;

    use crate::error::AppError;
    use crate::server::cookies;
    use crate::server::service::{AuthService, CodeSent};
    use crate::server::state::AppState;

    pub fn auth() -> Result<AuthService, AppError> {
        use_context::<AppState>().map(|s| s.auth).ok_or_else(|| {
            tracing::error!("AppState missing from server function context");
            AppError::Internal
        })
    }

    /// Hands the browser its challenge and moves it to the code step.
    pub fn go_to_code_step(auth: &AuthService, sent: &CodeSent) {
        hand_challenge(auth, &sent.challenge_key, "/verify");
    }

    /// Hands the browser the key of its code challenge, then sends it to `next`.
    pub fn hand_challenge(auth: &AuthService, key: &str, next: &str) {
        cookies::set(
            cookies::CHALLENGE,
            key,
            auth.config.otp.challenge_max_age_secs,
            auth.config.cookie_secure,
        );
        leptos_axum::redirect(next);
    }

    /// Replaces any earlier session of this browser with the new one and hands over the
    /// cookies (session, device).
    pub async fn start_session(
        auth: &AuthService,
        client: &crate::server::client::ClientInfo,
        signed_in: &crate::server::service::SignedInTokens,
    ) -> Result<(), AppError> {
        if let Some(old) = cookies::read(cookies::SESSION) {
            auth.sign_out(&old, client).await?;
        }
        let secure = auth.config.cookie_secure;
        cookies::set(
            cookies::SESSION,
            &signed_in.session,
            auth.config.session_ttl_secs,
            secure,
        );
        if let Some(device) = &signed_in.device {
            cookies::set(
                cookies::DEVICE,
                device,
                cookies::DEVICE_MAX_AGE_SECS,
                secure,
            );
        }
        Ok(())
    }

    /// Where a new session goes on to: `next`, or home. An app's waiting request is taken up
    /// here, since the browser's router knows no /oauth2 route: straight to the app (with its
    /// code) or to the consent page.
    pub async fn after_sign_in(auth: &AuthService, next: Option<String>, session: &str) -> String {
        use crate::server::service::Authorized;
        let Some(next) = next else { return "/".into() };
        let Some(key) = next.strip_prefix(crate::model::OIDC_CONTINUE) else {
            return next;
        };
        match auth.resume_authorization(key, session, false).await {
            Ok(Authorized::ToApp(url)) => url,
            Ok(Authorized::Consent(key)) => format!("{}?r={key}", crate::model::CONSENT_PAGE),
            // Gone meanwhile (or the sign-in was not new enough): home, signed in.
            _ => "/".into(),
        }
    }

    pub fn challenge() -> String {
        cookies::read(cookies::CHALLENGE).unwrap_or_default()
    }

    pub fn client(auth: &AuthService) -> crate::server::client::ClientInfo {
        use_context::<http::request::Parts>()
            .map(|parts| {
                crate::server::client::ClientInfo::from_parts(&parts, &auth.config.trusted_proxies)
            })
            .unwrap_or_default()
    }
}

/// Creates an unverified account and sends a code to its phone.
#[server(endpoint = "register")]
pub async fn register(
    username: String,
    full_name: String,
    phone: String,
    email: String,
    password: String,
    /// The region picked beside the number; absent when the form has no picker.
    country: Option<String>,
) -> Result<(), AppError> {
    use crate::server::service::Registration;
    let auth = ssr::auth()?;
    let client = ssr::client(&auth);
    let registration = Registration {
        username,
        full_name,
        phone,
        email,
        password,
        country,
    };
    let sent = auth.register(registration, &client).await?;
    ssr::go_to_code_step(&auth, &sent);
    Ok(())
}

/// Checks username and password; on success sends a code to that user's own phone.
#[server(endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    /// Where to go on after the code step: a step-up page or an app's waiting request.
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::server::cookies;
    let auth = ssr::auth()?;
    let client = ssr::client(&auth);
    let secure = auth.config.cookie_secure;
    let sent = auth.sign_in(&username, password, &client).await?;
    match next.as_deref().and_then(crate::model::return_page) {
        Some(page) => cookies::set(cookies::NEXT, &page, 600, secure),
        None => cookies::clear(cookies::NEXT, secure),
    }
    ssr::go_to_code_step(&auth, &sent);
    Ok(())
}

/// What was typed into `name` before the refusal this page comes back from (no secrets: see
/// server::http::typed_fields), to put back in its field.
#[cfg(feature = "ssr")]
pub fn typed_value(name: &str) -> Option<String> {
    use crate::server::cookies;
    cookies::form_field(&cookies::read(cookies::TYPED)?, name)
}

/// Where the pending code went and how long it lasts; None if there is no code step.
#[server(endpoint = "code_status")]
pub async fn code_status() -> Result<Option<PendingCode>, AppError> {
    ssr::auth()?.pending(&ssr::challenge()).await
}

/// Checks the code (by `method`: `app` for an authenticator app, `recovery` for a recovery
/// code, `passkey` for a passkey's answer from /passkey.js, else the SMS code); on success
/// starts a new session (replacing any earlier one).
#[server(endpoint = "verify_code")]
pub async fn verify_code(code: String, method: Option<String>) -> Result<(), AppError> {
    use crate::model::SignInMethod;
    use crate::server::cookies;
    let auth = ssr::auth()?;
    let client = ssr::client(&auth);
    let method = match method.as_deref() {
        Some("app") => SignInMethod::App,
        Some("recovery") => SignInMethod::RecoveryCode,
        Some("passkey") => SignInMethod::Passkey,
        _ => SignInMethod::Sms,
    };
    let signed_in = auth
        .verify(&ssr::challenge(), &code, method, &client)
        .await?;
    ssr::start_session(&auth, &client, &signed_in).await?;
    let secure = auth.config.cookie_secure;
    cookies::clear(cookies::CHALLENGE, secure);
    let next = cookies::read(cookies::NEXT)
        .as_deref()
        .and_then(crate::model::return_page);
    cookies::clear(cookies::NEXT, secure);
    // Where the user was going wins; else home, which says how many recovery codes are left.
    match (next, signed_in.recovery_left) {
        (None, Some(left)) => leptos_axum::redirect(&format!("/?recovery_left={left}")),
        (next, _) => {
            leptos_axum::redirect(&ssr::after_sign_in(&auth, next, &signed_in.session).await)
        }
    }
    Ok(())
}

/// Sends a new code for the pending step. `first` is set by the form that asks for the first
/// SMS (the account had offered its app first): there is no earlier code to speak of then.
#[server(endpoint = "resend_code")]
pub async fn resend_code(first: Option<String>) -> Result<PendingCode, AppError> {
    let auth = ssr::auth()?;
    let pending = auth.resend(&ssr::challenge(), &ssr::client(&auth)).await?;
    leptos_axum::redirect(if first.is_some() {
        "/verify"
    } else {
        "/verify?resent=1"
    });
    Ok(pending)
}

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    use crate::server::cookies;
    let token = cookies::read(cookies::SESSION).unwrap_or_default();
    ssr::auth()?.current_user(&token).await
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::cookies;
    let auth = ssr::auth()?;
    if let Some(token) = cookies::read(cookies::SESSION) {
        auth.sign_out(&token, &ssr::client(&auth)).await?;
    }
    cookies::clear(cookies::SESSION, auth.config.cookie_secure);
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user's recent security events.
#[server(endpoint = "recent_activity")]
pub async fn recent_activity() -> Result<Vec<Activity>, AppError> {
    use crate::server::cookies;
    let token = cookies::read(cookies::SESSION).unwrap_or_default();
    let auth = ssr::auth()?;
    auth.recent_activity(&token, &ssr::client(&auth)).await
}

/// The countries the phone field offers (those we send SMS to), the default first.
#[server(endpoint = "phone_countries")]
pub async fn phone_countries() -> Result<Vec<PhoneCountry>, AppError> {
    Ok(ssr::auth()?.phone_countries())
}
