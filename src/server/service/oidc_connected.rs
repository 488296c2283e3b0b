//! "Connected apps": the apps an account lets sign it in, and the owner's way to cut one off:
//! its remembered consent goes and every token it holds stops working at once.

use std::collections::BTreeMap;

use super::{AuthService, OrInternal, Who};
use crate::error::AppError;
use crate::model::ConnectedApp;
use crate::server::client::ClientInfo;
use crate::server::clock::format_in;
use crate::server::db::{audit_event, oidc_consent, oidc_grant};

impl AuthService {
    /// Apps the account allowed, and apps holding live tokens for it (a first-party app is
    /// never asked, but it is listed while it holds any).
    #[tracing::instrument(skip_all)]
    pub async fn connected_apps(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<Vec<ConnectedApp>, AppError> {
        let user = self.signed_in(session_token).await?;
        let zone = self.zone_for(&user, client);
        let allowed = oidc_consent::of_account(&self.db, &user.id)
            .await
            .or_internal("connected apps: consents")?;
        let holders = oidc_grant::live_of_account(&self.db, &user.id, self.clock.now_ms())
            .await
            .or_internal("connected apps: grants")?;
        // By app: the widest scopes and the latest time either list gives.
        let mut apps: BTreeMap<String, (Vec<String>, i64)> = BTreeMap::new();
        let pairs = allowed
            .into_iter()
            .map(|a| (a.client_id, a.scopes, a.at))
            .chain(
                holders
                    .into_iter()
                    .map(|h| (h.client_id, h.scopes, h.auth_time)),
            );
        for (client_id, scopes, at) in pairs {
            let entry = apps.entry(client_id).or_insert((Vec::new(), at));
            for scope in scopes {
                if !entry.0.contains(&scope) {
                    entry.0.push(scope);
                }
            }
            entry.1 = entry.1.max(at);
        }
        let mut out = Vec::new();
        for (client_id, (scopes, at)) in apps {
            // An app an operator removed has no name left and no working tokens.
            let Some(app) = self.oidc_client(&client_id).await? else {
                continue;
            };
            out.push((
                at,
                ConnectedApp {
                    client_id,
                    name: app.name,
                    scopes,
                    since: format_in(at, zone),
                },
            ));
        }
        out.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        Ok(out.into_iter().map(|(_, app)| app).collect())
    }

    /// Cuts an app off: it must ask consent again, and every token it holds stops working.
    #[tracing::instrument(skip_all)]
    pub async fn disconnect_app(
        &self,
        session_token: &str,
        client_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        if client_id.is_empty() || client_id.len() > 100 {
            return Ok(());
        }
        // Tokens first: if the second step fails, the app has lost its access already.
        oidc_grant::revoke_all(&self.db, &user.id, client_id)
            .await
            .or_internal("disconnect: grants")?;
        oidc_consent::remove(&self.db, &user.id, client_id)
            .await
            .or_internal("disconnect: consent")?;
        let detail = format!("{client_id}: disconnected by the owner");
        self.audit(
            audit_event::Kind::AppRevoked,
            Who::user(&user),
            &detail,
            client,
        )
        .await;
        crate::server::metrics::oidc("disconnect", "ok");
        Ok(())
    }
}
