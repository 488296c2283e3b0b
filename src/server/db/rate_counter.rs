//! Fixed-window counters for rate limits, one record per scope, key and window.

use surrealdb::types::RecordId;

use std::future::IntoFuture;

use super::{retry_conflicts, Db, DbError};

pub struct Hit {
    pub count: u32,
    pub window_ends_at: i64,
}

/// The record counting `key` in the fixed window that holds `now`, and when that window ends.
pub fn window(scope: &str, key: &str, window_secs: u64, now: i64) -> (RecordId, i64) {
    let (key, ends) = window_key(scope, key, window_secs, now);
    (RecordId::new("rate_counter", key), ends)
}

/// When the window that holds `now` began: a count kept elsewhere (the range's sign-ins, in the
/// audit log) is read over the same window as the counters it is weighed against.
pub fn window_start(window_secs: u64, now: i64) -> i64 {
    let window_ms = (window_secs.max(1) * 1000) as i64;
    now.div_euclid(window_ms) * window_ms
}

fn window_key(scope: &str, key: &str, window_secs: u64, now: i64) -> (String, i64) {
    let window_ms = (window_secs.max(1) * 1000) as i64;
    let index = now.div_euclid(window_ms);
    (format!("{scope}|{key}|{index}"), (index + 1) * window_ms)
}

/// Counts one event and returns the window's count so far. One UPSERT, so concurrent hits from
/// any number of instances are all counted. The on-disk store answers a hot counter's
/// concurrent writers with a retryable conflict; those are retried, not passed on as errors.
pub async fn hit(
    db: &Db,
    scope: &str,
    key: &str,
    window_secs: u64,
    now: i64,
) -> Result<Hit, DbError> {
    let (id, window_ends_at) = window(scope, key, window_secs, now);
    let mut res = retry_conflicts("counter update", 20, || {
        db.query(HIT)
            .bind(("counter", id.clone()))
            .bind(("ends", window_ends_at))
            .into_future()
    })
    .await?;
    Ok(Hit {
        count: count_from(&mut res, 0)?,
        window_ends_at,
    })
}

/// One event counted on `$counter`, its window ending at `$ends`; answers the count so far.
pub(super) const HIT: &str =
    "UPSERT $counter SET count = (count ?? 0) + 1, expires_at = $ends RETURN VALUE count;";

/// [`HIT`]'s answer, the statement at `index`.
pub(super) fn count_from(
    res: &mut surrealdb::IndexedResults,
    index: usize,
) -> Result<u32, DbError> {
    let counts: Vec<i64> = res.take(index)?;
    Ok(counts.first().copied().unwrap_or(1).max(0) as u32)
}

/// Takes back one `hit` of the same window: what a limit on failures does for an attempt that
/// turned out to succeed, having counted it first so that a burst cannot outrun the limit.
pub async fn unhit(
    db: &Db,
    scope: &str,
    key: &str,
    window_secs: u64,
    now: i64,
) -> Result<(), DbError> {
    let (id, _) = window(scope, key, window_secs, now);
    retry_conflicts("counter update", 20, || {
        db.query("UPDATE $id SET count = math::max([count - 1, 0])")
            .bind(("id", id.clone()))
            .into_future()
    })
    .await?;
    Ok(())
}

/// Counters every code sent to a number range adds to: one record would make unrelated sends
/// collide, so each adds to one of these and readers sum them. Only for counts that feed a
/// judgement (the pumping alarm), never for a limit that must hold exactly.
pub(crate) const SHARDS: u32 = 16;

/// The shard the next write takes. In turn rather than at random: writes in flight together in
/// one instance then take different shards (chosen at random, 6 at once share one about two
/// times in three, and the loser's whole transaction runs again). Each instance starts at a
/// random place, so instances seldom move in step.
static NEXT_SHARD: std::sync::LazyLock<std::sync::atomic::AtomicU32> =
    std::sync::LazyLock::new(|| std::sync::atomic::AtomicU32::new(rand::random::<u32>()));

/// One shard, the next in turn, of `key`'s sharded counter in the window that holds `now`.
pub(crate) fn shard_window(scope: &str, key: &str, window_secs: u64, now: i64) -> (RecordId, i64) {
    let shard = NEXT_SHARD.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SHARDS;
    shard_of(scope, key, window_secs, now, shard)
}

fn shard_of(scope: &str, key: &str, window_secs: u64, now: i64, shard: u32) -> (RecordId, i64) {
    let (key, ends) = window_key(scope, key, window_secs, now);
    (
        RecordId::new("rate_counter", format!("{key}|{shard}")),
        ends,
    )
}

/// Every shard of `key`'s sharded counter in the window that holds `now`.
pub(crate) fn shards(scope: &str, key: &str, window_secs: u64, now: i64) -> Vec<RecordId> {
    (0..SHARDS)
        .map(|shard| shard_of(scope, key, window_secs, now, shard).0)
        .collect()
}

/// The current window's count without counting.
pub async fn peek(
    db: &Db,
    scope: &str,
    key: &str,
    window_secs: u64,
    now: i64,
) -> Result<u32, DbError> {
    let (id, _) = window(scope, key, window_secs, now);
    let mut res = db
        .query("SELECT VALUE count FROM $id")
        .bind(("id", id))
        .await?
        .check()?;
    let counts: Vec<i64> = res.take(0)?;
    Ok(counts.first().copied().unwrap_or(0).max(0) as u32)
}

/// Until when `key` is blocked, if it is.
pub async fn blocked_until(db: &Db, key: &str, now: i64) -> Result<Option<i64>, DbError> {
    let mut res = db
        .query("SELECT VALUE expires_at FROM $id WHERE expires_at > $now")
        .bind(("id", RecordId::new("rate_counter", format!("block|{key}"))))
        .bind(("now", now))
        .await?
        .check()?;
    let until: Vec<i64> = res.take(0)?;
    Ok(until.first().copied())
}

/// Blocks `key` until `until`.
pub async fn block(db: &Db, key: &str, until: i64) -> Result<(), DbError> {
    db.query("UPSERT $id SET count = 1, expires_at = $until")
        .bind(("id", RecordId::new("rate_counter", format!("block|{key}"))))
        .bind(("until", until))
        .await?
        .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::memory;

    #[tokio::test]
    async fn counts_per_key_and_window_concurrently() {
        let db = memory().await;
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move { hit(&db, "phone", "+919876543210", 3600, 1_000).await })
            })
            .collect();
        let mut counts = Vec::new();
        for task in tasks {
            counts.push(task.await.unwrap().unwrap().count);
        }
        counts.sort();
        assert_eq!(
            counts,
            (1..=20).collect::<Vec<u32>>(),
            "every hit counted once"
        );
        let other = hit(&db, "phone", "+918765432109", 3600, 1_000)
            .await
            .unwrap();
        assert_eq!(other.count, 1, "keys are separate");
        let next = hit(&db, "phone", "+919876543210", 3600, 3_600_000)
            .await
            .unwrap();
        assert_eq!(
            (next.count, next.window_ends_at),
            (1, 7_200_000),
            "a new window starts at zero"
        );
        let again = hit(&db, "phone", "+918765432109", 3600, 3_600_500)
            .await
            .unwrap();
        assert_eq!(
            again.count, 1,
            "the other key's new window starts at zero too"
        );
    }
}
