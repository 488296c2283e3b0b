//! A store made on this start gets its schema without an fsync per commit, is closed (which
//! syncs it) and is then opened as usual. SurrealDB 3.3.5's index builder commits each index's
//! build state on its own, even on an empty table: ~530 fsyncs for the schema, most of an empty
//! store's start-up on a disk slow to sync (247–1112 ms against 157–297 ms on a quick one).
//!
//! Only the schema is ever written this way. A marker beside the store, synced before the store
//! is begun and removed (and synced) only after it is closed, tells a later start that this one
//! was cut short: that start begins the store again rather than trusting unsynced writes.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use surrealdb_core::dbs::Session;
use surrealdb_core::kvs::Datastore;

use super::store::{build_datastore, engine_error, SyncMode};
use super::DbError;
use crate::server::config::StoreBounds;

/// Whether the store at `path` is to be made now: nothing there yet, an empty directory (a
/// mounted volume), or a store whose making was cut short.
pub(super) fn needs_making(path: &Path) -> bool {
    marker(path).exists() || is_missing_or_empty(path)
}

/// Makes the store at `path` with `schema` applied in namespace `ns`, database `db`, and closes
/// it, durably. Anything a start cut short left there is removed first. Where the marker cannot
/// be written, nothing is made here and the usual open makes the store.
pub(super) async fn make(
    path: &Path,
    bounds: StoreBounds,
    (ns, db): (&str, &str),
    schema: &str,
) -> Result<(), DbError> {
    let marker = marker(path);
    let dir_error = |source| DbError::Dir {
        path: path.display().to_string(),
        source,
    };
    let cut_short = marker.exists();
    // Held until the marker is removed: a second process started on the same new store must
    // not empty it while this one makes it.
    let held = match std::fs::File::create(&marker) {
        Ok(file) => file,
        // Beside a store at a mount point there may be no room to write: it is then made as
        // any other store, each commit synced.
        Err(e) => {
            tracing::warn!(
                "store made with a sync per commit: {}: {e}",
                marker.display()
            );
            return Ok(());
        }
    };
    if let Err(std::fs::TryLockError::WouldBlock) = held.try_lock() {
        let busy = std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "another process is making the store here",
        );
        return Err(dir_error(busy));
    }
    if cut_short {
        empty_directory(path).map_err(dir_error)?;
    } else {
        sync_parent(path).map_err(dir_error)?;
    }
    let url = format!("surrealkv://{}", path.display());
    let datastore = build_datastore(&url, bounds, SyncMode::Never).await?;
    // `USE` makes the namespace and database, as the SDK's `use_ns` does.
    let text = format!("USE NS {} DB {};\n{schema}", quoted(ns), quoted(db));
    let applied = apply(&datastore, &text).await;
    // Closed whatever the schema did: the close releases the store's lock for the next open.
    let closed = datastore.shutdown().await;
    drop(datastore);
    applied.map_err(surrealdb::Error::internal)?;
    closed.map_err(engine_error)?;
    std::fs::remove_file(&marker).map_err(dir_error)?;
    sync_parent(path).map_err(dir_error)?;
    drop(held);
    Ok(())
}

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

/// SurrealDB's executor nests deeper than a crate's default limit allows. Boxed as a plain future
/// in a function no other crate may inline, it is laid out only here, where the limit is raised.
/// The first statement that failed, as text.
#[inline(never)]
fn apply<'a>(
    datastore: &'a Datastore,
    text: &'a str,
) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
    Box::pin(async move {
        let results = datastore
            .execute(text, &Session::owner(), None)
            .await
            .map_err(|e| e.to_string())?;
        match results.into_iter().find_map(|r| r.result.err()) {
            Some(failed) => Err(format!("schema: {failed}")),
            None => Ok(()),
        }
    })
}

fn marker(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".making");
    path.with_file_name(name)
}

fn is_missing_or_empty(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Removes what is inside, not the directory itself, which may be a mount point.
fn empty_directory(path: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// A file's creation or removal is durable once its directory is synced.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::{connect, Db};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dotp-fresh-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Opens the store, waiting out the lock a store dropped just before still holds while its
    /// close finishes in the background.
    async fn open(path: &Path) -> Db {
        let config = crate::server::db::test_config(&format!("surrealkv://{}", path.display()));
        for _ in 0..100 {
            match connect(&config).await {
                Ok(db) => return db,
                Err(e) if e.to_string().contains("lock") => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await
                }
                Err(e) => panic!("the store opens: {e}"),
            }
        }
        panic!("the store's lock was never released")
    }

    /// Every table is there, and the unique index on names is live: it refuses a second priya.
    async fn assert_schema_live(db: &Db) {
        let mut res = db
            .query("RETURN array::len(object::keys((INFO FOR DB).tables))")
            .await
            .unwrap();
        let tables: Option<usize> = res.take(0).unwrap();
        assert_eq!(tables, Some(crate::server::db::TABLES.len()));
        let account = "CREATE user CONTENT { username: 'priya', full_name: 'प्रिया',
                 phone: $phone, email: 'p@example.in', password_hash: 'x',
                 phone_verified: true, created_at: 0, language: 'en' }";
        let first = db.query(account).bind(("phone", "+919800001111")).await;
        first
            .unwrap()
            .check()
            .expect("the first account is written");
        let second = db.query(account).bind(("phone", "+919800002222")).await;
        assert!(
            second.unwrap().check().is_err(),
            "the username index refuses a second priya"
        );
    }

    /// A store made on this start has every table and live indexes, leaves no marker, and what
    /// is written to it afterwards is there when it is opened again.
    #[tokio::test]
    async fn a_store_made_now_has_its_schema_and_keeps_what_is_written() {
        let dir = temp_dir("made");
        let path = dir.join("app.db");
        assert!(needs_making(&path));
        let db = open(&path).await;
        assert!(!marker(&path).exists(), "the marker is removed once made");
        assert!(!needs_making(&path));
        assert_schema_live(&db).await;
        drop(db);
        let again = open(&path).await;
        let mut res = again
            .query("RETURN count(SELECT * FROM user)")
            .await
            .unwrap();
        let accounts: Option<usize> = res.take(0).unwrap();
        assert_eq!(
            accounts,
            Some(1),
            "the account written after making it is kept"
        );
        drop(again);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A start cut short while it made the store left its marker: the next start removes what
    /// that start left (here, a file that is not part of any store) and makes the store again.
    #[tokio::test]
    async fn a_start_cut_short_while_making_the_store_begins_it_again() {
        let dir = temp_dir("cut");
        let path = dir.join("app.db");
        std::fs::create_dir_all(path.join("wal")).unwrap();
        std::fs::write(path.join("wal").join("left-over"), b"torn").unwrap();
        std::fs::write(marker(&path), b"").unwrap();
        assert!(needs_making(&path));
        let db = open(&path).await;
        assert!(!path.join("wal").join("left-over").exists());
        assert!(!marker(&path).exists());
        assert_schema_live(&db).await;
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// While one process makes a store, another started on the same path stops with an error
    /// and leaves what the first has written alone.
    #[tokio::test]
    async fn a_second_process_never_empties_a_store_being_made() {
        let dir = temp_dir("busy");
        let path = dir.join("app.db");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("being-made"), b"data").unwrap();
        let making = std::fs::File::create(marker(&path)).unwrap();
        making.try_lock().expect("this test holds the marker");
        let names = ("test", "test");
        let refused = make(&path, Default::default(), names, "")
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("another process"), "{refused}");
        assert!(path.join("being-made").exists(), "nothing was removed");
        assert!(marker(&path).exists());
        drop(making);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Where the marker cannot be written (here a directory is in its place; in production, a
    /// read-only directory above a mounted volume), the store is made as before, each commit
    /// synced, and the start goes on.
    #[tokio::test]
    async fn without_room_for_the_marker_the_store_is_made_as_before() {
        let dir = temp_dir("nomarker");
        let path = dir.join("app.db");
        std::fs::create_dir_all(marker(&path)).unwrap();
        let db = open(&path).await;
        assert_schema_live(&db).await;
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Without the marker, a directory with anything in it is taken as a store: never emptied.
    #[test]
    fn a_directory_with_anything_in_it_is_not_made_again() {
        let dir = temp_dir("kept");
        let path = dir.join("app.db");
        std::fs::create_dir_all(&path).unwrap();
        assert!(
            needs_making(&path),
            "an empty directory, as a mounted volume, is made"
        );
        std::fs::write(path.join("anything"), b"data").unwrap();
        assert!(!needs_making(&path));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
