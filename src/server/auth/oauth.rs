//! OAuth 2.0 / OpenID Connect rules without I/O: PKCE, scopes, what a redirect back to an app
//! carries, and which claims a token holds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Scopes we grant; anything else asked for is dropped, as RFC 6749 allows.
pub const SCOPES: [&str; 4] = ["openid", "profile", "phone", "email"];

/// How long an authorization code lives (the 60 s; RFC 6749 says at most 10 minutes).
pub const CODE_MS: i64 = 60 * 1000;
/// Access and ID tokens.
pub const TOKEN_SECS: i64 = 10 * 60;
/// A refresh token unused this long ends (and with it the app's access).
pub const REFRESH_IDLE_SECS: i64 = 30 * 24 * 3600;
/// However often it is used, the app must sign the user in again after this.
pub const REFRESH_MAX_SECS: i64 = 90 * 24 * 3600;

/// The issuer: our public URL without a trailing slash (`iss` must match it exactly).
pub fn issuer(public_url: &str) -> String {
    public_url.trim_end_matches('/').to_string()
}

/// RFC 7636: a code challenge is base64url of a SHA-256 (43 characters).
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 4.1 and 4.6: 43 to 128 unreserved characters whose S256 is the challenge.
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = B64.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

/// The scopes granted for what was asked: ours only, in our order, `openid` required.
pub fn granted_scopes(asked: &str) -> Option<Vec<String>> {
    let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
    if !asked.contains(&"openid") {
        return None;
    }
    Some(
        SCOPES
            .iter()
            .filter(|s| asked.contains(s))
            .map(|s| s.to_string())
            .collect(),
    )
}

/// `redirect_uri` with `params` added to its query (it may have one already), as RFC 6749
/// 4.1.2 sends a code or an error back.
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(params).expect("pairs of strings encode");
    let joiner = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{joiner}{query}")
}

/// RFC 8176 method names for the `amr` claim, from how the session was made, and `acr`: 2 when
/// two factors (or a passkey, which is one phishing-resistant, user-verified factor) were shown.
pub fn amr_and_acr(methods: &[String]) -> (Vec<String>, String) {
    let mut amr: Vec<String> = methods
        .iter()
        .map(|m| match m.as_str() {
            // A recovery code is a single-use secret the user kept: a one-time password.
            "recovery" => "otp".to_string(),
            other => other.to_string(),
        })
        .collect();
    amr.dedup();
    let strong = methods.len() >= 2 || methods.iter().any(|m| m == "hwk");
    if methods.len() >= 2 {
        amr.push("mfa".into());
    }
    let acr = if strong { "2" } else { "1" };
    (amr, acr.to_string())
}

/// A redirect URI the way OAuth 2.1 wants it: absolute, no fragment, and https unless it goes
/// back to this machine (loopback, for apps in development and native apps).
pub fn check_redirect(uri: &str) -> Result<(), String> {
    let parsed: http::Uri = uri.parse().map_err(|_| format!("`{uri}` is not a URI"))?;
    let host = parsed.host().unwrap_or_default();
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match parsed.scheme_str() {
        _ if uri.contains('#') => Err(format!("`{uri}`: a redirect URI has no #fragment")),
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if loopback => Ok(()),
        _ => Err(format!(
            "`{uri}`: use https (http only for localhost or 127.0.0.1)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_without_a_fragment() {
        assert!(check_redirect("https://shop.example.in/callback").is_ok());
        assert!(check_redirect("http://127.0.0.1:8080/cb").is_ok());
        assert!(check_redirect("http://localhost/cb").is_ok());
        assert!(check_redirect("http://shop.example.in/callback").is_err());
        assert!(check_redirect("https://shop.example.in/cb#x").is_err());
        assert!(check_redirect("/callback").is_err());
        assert!(check_redirect("javascript:alert(1)").is_err());
    }

    #[test]
    fn pkce_follows_rfc_7636() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_challenge(challenge));
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            challenge
        ));
        assert!(!verifier_matches(
            "short",
            &B64.encode(Sha256::digest(b"short"))
        ));
        assert!(!valid_challenge("plain-text-challenge"));
    }

    #[test]
    fn openid_is_required_and_unknown_scopes_are_dropped() {
        assert_eq!(granted_scopes("profile email"), None);
        assert_eq!(
            granted_scopes("email  openid offline_access phone"),
            Some(vec!["openid".into(), "phone".into(), "email".into()])
        );
    }

    #[test]
    fn redirects_keep_the_apps_own_query() {
        assert_eq!(
            redirect_with("https://a.in/cb?x=1", &[("code", "c d"), ("state", "s&t")]),
            "https://a.in/cb?x=1&code=c+d&state=s%26t"
        );
        assert_eq!(
            redirect_with("https://a.in/cb", &[("error", "access_denied")]),
            "https://a.in/cb?error=access_denied"
        );
    }

    #[test]
    fn amr_says_how_the_session_was_made() {
        let methods = |list: &[&str]| list.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        assert_eq!(
            amr_and_acr(&methods(&["pwd", "sms"])),
            (methods(&["pwd", "sms", "mfa"]), "2".into())
        );
        assert_eq!(
            amr_and_acr(&methods(&["hwk"])),
            (methods(&["hwk"]), "2".into())
        );
        assert_eq!(
            amr_and_acr(&methods(&["pwd", "recovery"])).0,
            methods(&["pwd", "otp", "mfa"])
        );
        assert_eq!(amr_and_acr(&methods(&["pwd"])).1, "1");
    }
}
