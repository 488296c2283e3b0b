//! The handle every table module queries through. An embedded store is opened here, in this
//! process, so its memory bounds reach SurrealKV: SurrealDB 3.3.5 reads a `surrealkv://`
//! URL's options as `datastore_*` keys, so through the SDK's `connect` the engine sized its
//! write buffer and cache from the machine (1 GiB and 11 GiB on 24 GiB). A SurrealDB server
//! is reached through the SDK's `connect` as before.

use std::borrow::Cow;
use std::future::IntoFuture;
use std::sync::Arc;

use surrealdb::engine::any::Any;
use surrealdb::engine::local::Db as Local;
use surrealdb::method::{IntoVariables, Query};
use surrealdb::Surreal;
use surrealdb_cnf::ConfigMap;
use surrealdb_core::kvs::Datastore;

use crate::server::config::StoreBounds;

pub enum Store {
    /// `surrealkv://` or `mem://`, owned by this process.
    Embedded(Surreal<Local>),
    /// A SurrealDB server (`ws://`, `wss://`, `http://`, `https://`), shared by instances.
    Server(Surreal<Any>),
}

/// A query on either kind of store; `bind` and `.await` as on the SDK's own `Query`.
pub enum StoreQuery<'a> {
    Embedded(Query<'a, Local>),
    Server(Query<'a, Any>),
}

impl Store {
    pub fn query<'a>(&'a self, sql: impl Into<Cow<'a, str>>) -> StoreQuery<'a> {
        match self {
            Store::Embedded(db) => StoreQuery::Embedded(db.query(sql)),
            Store::Server(db) => StoreQuery::Server(db.query(sql)),
        }
    }

    pub(super) async fn use_ns_db(&self, ns: &str, db: &str) -> Result<(), surrealdb::Error> {
        match self {
            Store::Embedded(s) => s.use_ns(ns).use_db(db).await.map(drop),
            Store::Server(s) => s.use_ns(ns).use_db(db).await.map(drop),
        }
    }
}

impl StoreQuery<'_> {
    pub fn bind(self, vars: impl IntoVariables) -> Self {
        match self {
            StoreQuery::Embedded(q) => StoreQuery::Embedded(q.bind(vars)),
            StoreQuery::Server(q) => StoreQuery::Server(q.bind(vars)),
        }
    }
}

impl<'a> IntoFuture for StoreQuery<'a> {
    type Output = <Query<'a, Any> as IntoFuture>::Output;
    type IntoFuture = <Query<'a, Any> as IntoFuture>::IntoFuture;

    fn into_future(self) -> Self::IntoFuture {
        match self {
            StoreQuery::Embedded(q) => q.into_future(),
            StoreQuery::Server(q) => q.into_future(),
        }
    }
}

/// Opens `surrealkv://PATH[?options]` or `mem://` in this process, the way the SDK's own
/// `connect` does (version check and migrations before the maintenance tasks write), with
/// the memory bounds given to SurrealKV.
///
/// The SDK marks `unstable_from_datastore` outside its semver promise; Cargo.toml pins the
/// exact SurrealDB version, and the test below fails if the bounds stop reaching SurrealKV.
pub(super) async fn open_embedded(
    url: &str,
    bounds: StoreBounds,
) -> Result<Surreal<Local>, surrealdb::Error> {
    let datastore = build_datastore(url, bounds, SyncMode::AsConfigured).await?;
    datastore.start_maintenance_tasks();
    Surreal::<Local>::unstable_from_datastore(Arc::clone(&datastore), None).await
}

/// When a commit reaches the disk.
pub(super) enum SyncMode {
    /// As the URL says; every commit by default.
    AsConfigured,
    /// When the store is closed, or the OS writes it: only for a store being made (`fresh_store`).
    Never,
}

/// The engine, checked and bootstrapped, without its maintenance tasks.
pub(super) async fn build_datastore(
    url: &str,
    bounds: StoreBounds,
    sync: SyncMode,
) -> Result<Arc<Datastore>, surrealdb::Error> {
    let path = if url.starts_with("mem://") {
        "memory"
    } else {
        url
    };
    let mut settings = ConfigMap::empty()
        .with_key_value(
            "surrealkv_max_memtable_size",
            bounds.write_buffer.to_string(),
        )
        .with_key_value(
            "surrealkv_block_cache_capacity",
            bounds.block_cache.to_string(),
        )
        // A read copies the whole block that holds its key: 4 KiB, not the default 64 KiB.
        .with_key_value("surrealkv_block_size", "4096");
    if let SyncMode::Never = sync {
        settings = settings.with_key_value("datastore_sync", "never");
    }
    let datastore = Datastore::builder()
        .with_config(settings)
        .without_maintenance_tasks()
        .build_with_path(path)
        .await
        .map_err(engine_error)?;
    datastore.check_version().await.map_err(engine_error)?;
    datastore.bootstrap().await.map_err(engine_error)?;
    Ok(datastore)
}

/// The engine reports its errors as text only.
pub(super) fn engine_error(e: impl std::fmt::Display) -> surrealdb::Error {
    surrealdb::Error::internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::MIB;
    use crate::server::db::{first_error, DbError};

    /// 8000 small records in one transaction: several MiB in the write buffer, more than 1 MiB.
    /// The error that failed it, if it failed (not the "not executed" of the statements).
    async fn write_8000_records_at_once(store: &Surreal<Local>) -> Result<(), DbError> {
        store.use_ns("t").use_db("t").await?;
        let mut res = store
            .query(
                "BEGIN TRANSACTION;
                 FOR $i IN 0..8000 {
                     CREATE filler CONTENT { i: $i, pad: string::repeat('x', 200) };
                 };
                 COMMIT TRANSACTION;",
            )
            .await?;
        let errors = res.take_errors();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(first_error(errors, "the filler"))
        }
    }

    /// The bound is observed in SurrealKV itself: a transaction larger than its write buffer
    /// is refused under a 1 MiB bound and goes through under 16 MiB. Through the SDK's
    /// `connect`, both would have had the machine's 1 GiB.
    #[tokio::test]
    async fn the_write_buffer_bound_reaches_surrealkv() {
        let dir = std::env::temp_dir().join(format!("dotp-bounds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let open = |name: &str, write_buffer: u64| {
            let url = format!("surrealkv://{}", dir.join(name).display());
            async move {
                let bounds = StoreBounds {
                    write_buffer,
                    block_cache: MIB,
                };
                open_embedded(&url, bounds).await.unwrap()
            }
        };
        let small = open("small", MIB).await;
        let refused = write_8000_records_at_once(&small).await.unwrap_err();
        assert!(
            refused.to_string().contains("Memtable arena is full"),
            "refused for another reason: {refused}"
        );
        let large = open("large", 16 * MIB).await;
        write_8000_records_at_once(&large).await.unwrap();
        drop((small, large));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
