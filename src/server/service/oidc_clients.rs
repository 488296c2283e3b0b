//! Apps listed in the clients file (`oidc_clients_file`), registered or updated at start-up:
//! configuration kept beside the deployment, as Dex's static clients are. A file that cannot
//! be read or names a bad redirect URI stops the start, with the reason.

use serde::Deserialize;

use super::AuthService;
use crate::server::auth::{oauth, token};
use crate::server::db::oidc_client::{self, NewClient};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    #[serde(default)]
    client: Vec<ListedClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListedClient {
    id: String,
    name: String,
    /// None: a public app (PKCE alone).
    secret: Option<String>,
    redirect: Vec<String>,
    #[serde(default)]
    logout_redirect: Vec<String>,
    #[serde(default)]
    first_party: bool,
}

/// A listed secret must be as hard to guess as one we would make.
const MIN_SECRET_LEN: usize = 32;

impl AuthService {
    /// How many apps the file listed.
    pub async fn register_listed_clients(&self) -> Result<usize, String> {
        let Some(path) = &self.config.oidc_clients_file else {
            return Ok(0);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("oidc_clients_file {}: {e}", path.display()))?;
        let file: ClientsFile = toml::from_str(&text)
            .map_err(|e| format!("oidc_clients_file {}: {e}", path.display()))?;
        let now = self.clock.now_ms();
        for listed in &file.client {
            let problem =
                |what: String| format!("oidc_clients_file, client `{}`: {what}", listed.id);
            let id_ok = !listed.id.is_empty()
                && listed.id.len() <= 100
                && listed
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !id_ok {
                return Err(problem("an id is 1-100 of a-z A-Z 0-9 - _ .".into()));
            }
            if listed.redirect.is_empty() {
                return Err(problem("needs at least one redirect URI".into()));
            }
            for uri in listed.redirect.iter().chain(&listed.logout_redirect) {
                oauth::check_redirect(uri).map_err(problem)?;
            }
            if listed
                .secret
                .as_ref()
                .is_some_and(|s| s.len() < MIN_SECRET_LEN)
            {
                return Err(problem(format!(
                    "a secret has at least {MIN_SECRET_LEN} characters"
                )));
            }
            let client = NewClient {
                name: listed.name.clone(),
                secret_hash: listed.secret.as_deref().map(token::storage_key),
                redirect_uris: listed.redirect.clone(),
                post_logout_uris: listed.logout_redirect.clone(),
                first_party: listed.first_party,
                created_at: now,
            };
            oidc_client::put(&self.db, &listed.id, client)
                .await
                .map_err(|e| problem(e.to_string()))?;
        }
        tracing::info!("oidc: {} app(s) from the clients file", file.client.len());
        Ok(file.client.len())
    }
}
