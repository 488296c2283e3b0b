//! `dynamic_otp admin client …` and `admin rotate-signing-key`: the apps that sign their users
//! in through us, and the keys their ID tokens are signed with.

use crate::server::auth::oauth::check_redirect;
use crate::server::auth::seal::Sealer;
use crate::server::auth::token;
use crate::server::db::oidc_client::{self, NewClient};
use crate::server::db::Db;
use crate::server::service::SigningKeys;

pub const USAGE: &str =
    "  client add <name> --redirect <uri> [--redirect <uri>…] [--logout-redirect <uri>…]
             [--public] [--first-party]
                          register an app; prints its client_id and (once) its secret
  client list             the registered apps
  client remove <id>      the app can no longer sign anyone in
  client rotate-secret <id>
                          a new secret for the app; the old one stops working at once
  rotate-signing-key      a new ID-token signing key; the old one stays published a day
";

/// Runs a `client …` command; its output, or what was wrong with it.
pub async fn client(db: &Db, args: &[String], now: i64) -> Result<String, String> {
    let db_error = |e: crate::server::db::DbError| e.to_string();
    match args.first().map(String::as_str) {
        Some("add") => {
            let new = parse_add(&args[1..], now)?;
            let client_id = format!("app_{}", token::new_link_token());
            let secret = (new.secret_hash.is_some()).then(token::new_token);
            let client = NewClient {
                secret_hash: secret.as_deref().map(token::storage_key),
                ..new
            };
            let name = client.name.clone();
            oidc_client::add(db, &client_id, client)
                .await
                .map_err(db_error)?;
            Ok(match secret {
                Some(secret) => format!(
                    "{name} registered\nclient_id:     {client_id}\nclient_secret: {secret}\n\
                     (shown this once: we keep only its hash)\n"
                ),
                None => {
                    format!("{name} registered (public: PKCE, no secret)\nclient_id: {client_id}\n")
                }
            })
        }
        Some("list") => {
            let clients = oidc_client::all(db).await.map_err(db_error)?;
            let mut out = format!(
                "{:<38} {:<24} {:<13} {}\n",
                "client_id", "name", "kind", "redirects"
            );
            for c in clients {
                let kind = match (c.secret_hash.is_some(), c.first_party) {
                    (true, true) => "confidential*",
                    (true, false) => "confidential",
                    (false, true) => "public*",
                    (false, false) => "public",
                };
                out.push_str(&format!(
                    "{:<38} {:<24} {:<13} {}\n",
                    c.client_id(),
                    c.name,
                    kind,
                    c.redirect_uris.join(" ")
                ));
            }
            out.push_str("(* first-party: no consent screen)\n");
            Ok(out)
        }
        Some("remove") => {
            let id = args.get(1).ok_or(USAGE)?;
            if oidc_client::remove(db, id).await.map_err(db_error)? {
                Ok(format!("{id} removed\n"))
            } else {
                Err(format!("no client `{id}`"))
            }
        }
        Some("rotate-secret") => {
            let id = args.get(1).ok_or(USAGE)?;
            let secret = token::new_token();
            if oidc_client::set_secret(db, id, &token::storage_key(&secret))
                .await
                .map_err(db_error)?
            {
                Ok(format!(
                    "client_secret: {secret}\n(shown this once; the old secret no longer works)\n"
                ))
            } else {
                Err(format!("no confidential client `{id}`"))
            }
        }
        _ => Err(USAGE.to_string()),
    }
}

/// `admin rotate-signing-key`: the new key's kid.
pub async fn rotate_signing_key(db: &Db, sealer: Sealer, now: i64) -> Result<String, String> {
    let keys = SigningKeys { db, sealer, now };
    let kid = keys.rotate().await.map_err(|e| format!("{e:?}"))?;
    Ok(format!(
        "new signing key {kid}; the old ones stay in the JWKS for a day\n"
    ))
}

/// `add`'s arguments: a name, then flags. Secret or not is said by `secret_hash` being Some.
fn parse_add(args: &[String], now: i64) -> Result<NewClient, String> {
    let name = args.first().filter(|n| !n.starts_with("--")).ok_or(USAGE)?;
    let mut client = NewClient {
        name: name.trim().chars().take(80).collect(),
        secret_hash: Some(String::new()),
        redirect_uris: Vec::new(),
        post_logout_uris: Vec::new(),
        first_party: false,
        created_at: now,
    };
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--redirect" | "--logout-redirect" => {
                let uri = rest.next().ok_or_else(|| format!("{flag} needs a URI"))?;
                check_redirect(uri)?;
                if flag == "--redirect" {
                    client.redirect_uris.push(uri.clone());
                } else {
                    client.post_logout_uris.push(uri.clone());
                }
            }
            "--public" => client.secret_hash = None,
            "--first-party" => client.first_party = true,
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
        }
    }
    if client.redirect_uris.is_empty() {
        return Err("an app needs at least one --redirect URI".into());
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[tokio::test]
    async fn clients_are_added_listed_given_new_secrets_and_removed() {
        let db = crate::server::db::memory().await;
        let out = client(
            &db,
            &args("add Shop --redirect https://shop.example.in/cb --first-party"),
            1,
        )
        .await
        .unwrap();
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("client_id:"))
            .unwrap()
            .trim();
        let secret = out
            .lines()
            .find_map(|l| l.strip_prefix("client_secret:"))
            .unwrap()
            .trim();
        let row = oidc_client::find(&db, id).await.unwrap().unwrap();
        assert_eq!(
            row.secret_hash,
            Some(token::storage_key(secret)),
            "only the hash is kept"
        );
        assert!(row.first_party);
        assert_eq!(row.redirect_uris, ["https://shop.example.in/cb"]);

        let public = client(
            &db,
            &args("add App --redirect http://127.0.0.1/cb --public"),
            2,
        )
        .await
        .unwrap();
        assert!(!public.contains("client_secret"));
        let listed = client(&db, &args("list"), 3).await.unwrap();
        assert!(
            listed.contains("confidential*") && listed.contains("public "),
            "{listed}"
        );

        let rotated = client(&db, &args(&format!("rotate-secret {id}")), 4)
            .await
            .unwrap();
        let fresh = rotated
            .lines()
            .find_map(|l| l.strip_prefix("client_secret:"))
            .unwrap()
            .trim();
        let row = oidc_client::find(&db, id).await.unwrap().unwrap();
        assert_eq!(row.secret_hash, Some(token::storage_key(fresh)));
        assert_ne!(fresh, secret);

        assert!(
            client(&db, &args("add Bad --redirect http://evil.example/cb"), 5)
                .await
                .is_err()
        );
        assert!(client(&db, &args("add NoRedirect"), 5).await.is_err());
        assert!(client(&db, &args(&format!("remove {id}")), 6).await.is_ok());
        assert!(client(&db, &args(&format!("remove {id}")), 7)
            .await
            .is_err());
        assert!(oidc_client::find(&db, id).await.unwrap().is_none());
    }
}
