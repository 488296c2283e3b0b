//! The passkey relying party: our identity as WebAuthn sees it, from `public_url`. The RP id is
//! its host; browsers refuse an IP address there, so a site addressed by IP (the development
//! default, http://127.0.0.1:3000) is its loopback name, localhost, on the same port.

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// The relying party for `public_url`, or why there is none.
pub fn relying_party(public_url: &str) -> Result<Webauthn, String> {
    let mut origin =
        Url::parse(public_url).map_err(|e| format!("public_url `{public_url}`: {e}"))?;
    let ip_host = origin.host_str().is_some_and(|host| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok()
    });
    if ip_host {
        origin
            .set_host(Some("localhost"))
            .map_err(|e| format!("public_url `{public_url}`: {e}"))?;
    }
    let rp_id = origin
        .host_str()
        .ok_or_else(|| format!("public_url `{public_url}` has no host"))?
        .to_string();
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|builder| builder.rp_name("Dynamic OTP").build())
        .map_err(|e| format!("passkeys for `{public_url}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rp_id_is_the_public_host_and_localhost_stands_for_an_ip() {
        assert!(relying_party("https://otp.example.in").is_ok());
        assert!(relying_party("http://127.0.0.1:3000").is_ok());
        assert!(relying_party("not a url").is_err());
    }
}
