//! Where a page's forms may lead. Forms post to us, and our answer may send the browser on to a
//! registered app (its redirect address, after sign-in or consent); browsers hold every redirect
//! of a form's submission to the page's `form-action`. So pages allow our own origin and the
//! origins of the apps' redirect addresses, as the store lists them now.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::server::db::{oidc_client, Db};

/// How long this instance keeps the policy it read: every page needs it, and it changes only
/// when an operator registers or edits an app (then every instance has it within a second).
const FRESH: Duration = Duration::from_secs(1);

/// The store, and this instance's last reading of the policy from it.
#[derive(Clone)]
pub struct FormTargets {
    db: Db,
    copy: Arc<Mutex<Option<(Instant, HeaderValue)>>>,
}

impl FormTargets {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            copy: Arc::default(),
        }
    }

    async fn policy(&self) -> Option<HeaderValue> {
        let fresh = |(read_at, policy): &(Instant, HeaderValue)| {
            (read_at.elapsed() < FRESH).then(|| policy.clone())
        };
        if let Some(policy) = self.lock().as_ref().and_then(fresh) {
            return Some(policy);
        }
        // Unreadable list: our own origin only (an app's sign-in then stops at our page).
        let apps = oidc_client::all(&self.db).await.unwrap_or_default();
        let mut origins: Vec<&str> = apps
            .iter()
            .flat_map(|app| app.redirect_uris.iter())
            .filter_map(|uri| origin(uri))
            .collect();
        origins.sort_unstable();
        origins.dedup();
        let policy = format!("form-action 'self' {}", origins.join(" "));
        let policy = HeaderValue::from_str(policy.trim_end()).ok()?;
        *self.lock() = Some((Instant::now(), policy.clone()));
        Some(policy)
    }

    /// A panic while it was held left nothing half-written in it.
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, HeaderValue)>> {
        self.copy.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub async fn policy(State(targets): State<FormTargets>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if !super::middleware::is_page(&response) {
        return response;
    }
    if let Some(policy) = targets.policy().await {
        // A second policy: browsers enforce each, so the fixed one's directives still hold.
        response
            .headers_mut()
            .append(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// `scheme://host[:port]` of an address, if it is nothing else a policy could misread.
fn origin(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &uri[..scheme.len() + 3 + end];
    let plain = |c: char| c.is_ascii_alphanumeric() || ":/.-[]".contains(c);
    (end > 0 && origin.chars().all(plain)).then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port_only() {
        assert_eq!(
            origin("https://shop.example.in/cb?x=1"),
            Some("https://shop.example.in")
        );
        assert_eq!(
            origin("http://127.0.0.1:3108/callback"),
            Some("http://127.0.0.1:3108")
        );
        assert_eq!(origin("http://[::1]:8080"), Some("http://[::1]:8080"));
        assert_eq!(origin("https://a.example;script-src *"), None);
        assert_eq!(origin("https:///path"), None);
        assert_eq!(origin("no-scheme"), None);
    }
}
