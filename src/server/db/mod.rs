//! SurrealDB access: one connection path for embedded, in-memory and remote stores, the schema,
//! one module per table named after it, and the transactions that span
//! tables (`transactions`). Modules here know the database and plain values, nothing above.

pub mod audit_event;
pub mod challenge_read;
pub mod factors;
mod fresh_store;
pub mod login_guard;
pub mod oidc_client;
pub mod oidc_consent;
pub mod oidc_grant;
pub mod oidc_key;
pub mod oidc_refresh;
pub mod oidc_request;
pub mod otp_challenge;
pub mod passkey;
pub mod phone_wait;
pub mod rate_counter;
pub mod recovery_set;
pub mod session;
pub mod sign_in_read;
pub mod sms_breaker;
pub mod sms_message;
pub mod sms_outbox;
mod store;
pub mod totp;
pub mod transactions;
pub mod user;
pub mod webauthn_ceremony;

use std::collections::HashMap;

use surrealdb::opt::auth::Root;

use crate::server::config::DatabaseConfig;
pub use store::{Store, StoreQuery};

/// Shared, not cloned: each clone of a `Surreal` handle is a new database session, which on a
/// remote server signs in again (an argon2 check of the root password there). Cloning per
/// request made every statement over ws:// about 200 ms.
pub type Db = std::sync::Arc<Store>;

const SCHEMA: &str = include_str!("schema.surql");

/// A record's key as text: session, client and account keys are all strings.
pub fn key_text(id: &surrealdb::types::RecordId) -> String {
    match &id.key {
        surrealdb::types::RecordIdKey::String(key) => key.clone(),
        other => format!("{other:?}"),
    }
}

/// Every table `schema.surql` defines; readiness checks they are all there.
pub const TABLES: &[&str] = &[
    "user",
    "otp_challenge",
    "session",
    "sms_outbox",
    "rate_counter",
    "login_guard",
    "audit_event",
    "sms_message",
    "sms_breaker",
    "phone_wait",
    "totp",
    "recovery_set",
    "passkey",
    "webauthn_ceremony",
    "oidc_key",
    "oidc_client",
    "oidc_request",
    "oidc_grant",
    "oidc_refresh",
    "oidc_consent",
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Surreal(surrealdb::Error),
    #[error("database: cannot create {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

impl DbError {
    /// A write that kept colliding with concurrent writers of the same record.
    pub fn is_conflict(&self) -> bool {
        matches!(self, DbError::Surreal(e) if retryable(e))
    }
}

/// Every failed database call passes through here, which makes it the one place to count them.
impl From<surrealdb::Error> for DbError {
    fn from(e: surrealdb::Error) -> Self {
        crate::server::metrics::database_error();
        DbError::Surreal(e)
    }
}

/// Connects by URL (`surrealkv://`, `mem://`, `ws://`), signs in if credentials are given, and
/// applies the schema.
pub async fn connect(config: &DatabaseConfig) -> Result<Db, DbError> {
    if let Some(path) = config.disk_path() {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| DbError::Dir {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
    }
    // An embedded store's schema goes in as one commit rather than ~190 (each an fsync), about
    // 300 ms of a fresh start; a store that does not exist yet gets it unsynced (`fresh_store`).
    let schema_in_one = format!("BEGIN TRANSACTION;\n{SCHEMA}\nCOMMIT TRANSACTION;");
    if let Some(path) = config.disk_path().map(std::path::Path::new) {
        if fresh_store::needs_making(path) {
            let names = (config.namespace.as_str(), config.database.as_str());
            fresh_store::make(path, config.store_bounds, names, &schema_in_one).await?;
        }
    }
    let db = if config.is_embedded() {
        Store::Embedded(store::open_embedded(&config.url, config.store_bounds).await?)
    } else {
        let db = surrealdb::engine::any::connect(config.url.as_str()).await?;
        if let Some(user) = &config.user {
            db.signin(Root {
                username: user.clone(),
                password: config.pass.expose().to_string(),
            })
            .await?;
        }
        Store::Server(db)
    };
    db.use_ns_db(config.namespace.as_str(), config.database.as_str())
        .await?;
    // An embedded store belongs to this one process (so, one commit). On a server, instances
    // started together apply the same (idempotent) schema at once, statement by statement;
    // the loser of a collision runs it again rather than failing its start.
    let schema = if config.is_embedded() {
        schema_in_one
    } else {
        SCHEMA.to_string()
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let applied = match db.query(schema.as_str()).await {
            Ok(res) => res.check().map(|_| ()),
            Err(e) => Err(e),
        };
        match applied {
            Ok(()) => break,
            Err(e) if retryable(&e) && attempt < 50 => {
                let jitter = u64::from(rand::random::<u8>() % 20);
                tokio::time::sleep(std::time::Duration::from_millis(10 + jitter)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(std::sync::Arc::new(db))
}

/// Optimistic transactions that collide fail with a retryable conflict rather than waiting.
pub(crate) fn is_conflict(errors: &HashMap<usize, surrealdb::Error>) -> bool {
    errors.values().any(retryable)
}

/// SurrealDB's word for a write that lost to a concurrent one and may simply run again.
fn retryable(e: &surrealdb::Error) -> bool {
    e.message().contains("can be retried")
}

/// Whether any statement error of a response mentions `needle` (an index name, a THROW text).
pub(crate) fn errors_mention(errors: &HashMap<usize, surrealdb::Error>, needle: &str) -> bool {
    errors.values().any(|e| e.message().contains(needle))
}

/// The error that made a multi-statement query fail: the statements after it only report
/// "not executed", which says nothing.
pub(crate) fn first_error(errors: HashMap<usize, surrealdb::Error>, what: &str) -> DbError {
    let mut errors: Vec<(usize, surrealdb::Error)> = errors.into_iter().collect();
    errors.sort_by_key(|(index, _)| *index);
    let cause = errors
        .into_iter()
        .map(|(_, e)| e)
        .find(|e| !e.message().contains("not executed"));
    DbError::from(cause.unwrap_or_else(|| surrealdb::Error::internal(format!("{what} failed"))))
}

/// Runs a query until it stops colliding with concurrent writers of the same records, at most
/// `attempts` times, backing off a little longer each time with jitter. The on-disk store
/// answers such collisions with a retryable conflict rather than waiting.
pub(crate) async fn retry_conflicts<F, Fut>(
    what: &str,
    attempts: u32,
    run: F,
) -> Result<surrealdb::IndexedResults, DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<surrealdb::IndexedResults, surrealdb::Error>>,
{
    let (res, errors) = until_settled(attempts, run).await?;
    if errors.is_empty() {
        Ok(res)
    } else {
        Err(first_error(errors, what))
    }
}

/// The retry loop of `retry_conflicts`, for callers that read the statement errors themselves
/// (a transaction's own THROW): the last response and its errors, none when it went through.
pub(crate) async fn until_settled<F, Fut>(
    attempts: u32,
    mut run: F,
) -> Result<(surrealdb::IndexedResults, HashMap<usize, surrealdb::Error>), DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<surrealdb::IndexedResults, surrealdb::Error>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut res = run().await?;
        let errors = res.take_errors();
        if errors.is_empty() || !is_conflict(&errors) || attempt >= attempts {
            return Ok((res, errors));
        }
        crate::server::metrics::conflict_retried();
        let jitter = u64::from(rand::random::<u8>() % 4);
        tokio::time::sleep(std::time::Duration::from_millis(
            u64::from(attempt) + jitter,
        ))
        .await;
    }
}

#[cfg(test)]
pub(crate) async fn memory() -> Db {
    connect(&test_config("mem://"))
        .await
        .expect("in-memory database")
}

/// A store at `url` in namespace and database `test`, with no credentials.
#[cfg(test)]
pub(crate) fn test_config(url: &str) -> DatabaseConfig {
    DatabaseConfig {
        url: url.into(),
        namespace: "test".into(),
        database: "test".into(),
        user: None,
        pass: Default::default(),
        store_bounds: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_lists_every_table_the_schema_defines() {
        let defined: Vec<&str> = super::SCHEMA
            .lines()
            .filter_map(|l| l.strip_prefix("DEFINE TABLE IF NOT EXISTS "))
            .filter_map(|rest| rest.split_whitespace().next())
            .collect();
        assert_eq!(defined, super::TABLES);
    }
}
