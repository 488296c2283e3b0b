//! What a password sign-in counts and reads, in one query: the client address's attempt, the
//! username's failure guard, the account, and which other factors it holds. Each query is a
//! trip through the store's executor and its task; these were four.

use std::future::IntoFuture;
use std::sync::LazyLock;

use surrealdb::types::RecordId;

use super::factors::{held_of, mark_none_added, Held, HELD_IF_ENROLLED};
use super::login_guard::{self, Guard, GET as GUARD};
use super::rate_counter::{count_from, HIT};
use super::user::{UserRow, BY_USERNAME};
use super::{retry_conflicts, Db, DbError};

pub struct SignInRead {
    /// The address's attempts in its window, this one counted (committed before anything else
    /// is read, so a burst cannot read past the limit).
    pub attempts: u32,
    pub guard: Guard,
    pub user: Option<UserRow>,
    /// Not read for an unknown username, nor for an account that never added a factor (most
    /// of them), so those two take the same work.
    pub held: Held,
}

/// Statements before the user's RETURN: the count, the guard, the LET, the LET.
const USER: usize = 4;

/// The count, the guard, the user and its factors: the query for a name an account can have.
static READ_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{HIT}
         {GUARD}
         LET $user = ({BY_USERNAME})[0];
         LET $account = $user.id;
         RETURN $user;
         {}",
        *HELD_IF_ENROLLED
    )
});

/// The count and the guard: the query for a name no account can have.
static READ_GUARD: LazyLock<String> = LazyLock::new(|| format!("{HIT} {GUARD}"));

/// Counts the attempt on `counter` (the record, and when its window ends) and reads what the
/// sign-in needs. A `username` no account can have (`possible` false) reads only its guard.
pub async fn sign_in_read(
    db: &Db,
    username: &str,
    possible: bool,
    counter: (RecordId, i64),
) -> Result<SignInRead, DbError> {
    let query = if possible { &READ_ACCOUNT } else { &READ_GUARD };
    // A conflict can only be the counter's (the rest reads): the whole query runs again.
    let mut res = retry_conflicts("sign-in read", 20, || {
        db.query(query.as_str())
            .bind(("counter", counter.0.clone()))
            .bind(("ends", counter.1))
            .bind(("guard", login_guard::record(username)))
            .bind(("username", username.to_string()))
            .into_future()
    })
    .await?;
    let attempts = count_from(&mut res, 0)?;
    let guards: Vec<Guard> = res.take(1)?;
    let guard = guards.into_iter().next().unwrap_or_default();
    if !possible {
        return Ok(SignInRead {
            attempts,
            guard,
            user: None,
            held: Held::default(),
        });
    }
    let user: Option<UserRow> = res.take(USER)?;
    let held = held_of(&mut res, USER + 1)?;
    if let Some(user) = user.as_ref().filter(|u| u.factors_enrolled.is_none()) {
        if held == Held::default() {
            mark_none_added(db, &user.id).await?;
        }
    }
    Ok(SignInRead {
        attempts,
        guard,
        user,
        held,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::{memory, rate_counter};

    fn counter(ip: &str) -> (RecordId, i64) {
        rate_counter::window("signin_ip", ip, 600, 1_000)
    }

    #[tokio::test]
    async fn reads_the_guard_the_account_and_its_factors_or_nothing_for_a_stranger() {
        let db = memory().await;
        super::super::transactions::account_with_challenge(&db, "k", CodePurpose::SignIn, "mac", 1)
            .await;
        let username = "user_k";
        db.query("UPSERT $g SET failures = 2, retry_at = 9, locked = false")
            .bind(("g", login_guard::record(username)))
            .await
            .unwrap()
            .check()
            .unwrap();
        let read = sign_in_read(&db, username, true, counter("a"))
            .await
            .unwrap();
        assert_eq!(read.attempts, 1);
        assert_eq!(
            read.user.as_ref().map(|u| u.username.as_str()),
            Some(username)
        );
        assert_eq!(read.guard.failures, 2);
        assert_eq!(read.held, Held::default());

        let account = read.user.unwrap().id;
        assert!(super::super::totp::start(&db, &account, "sealed", 1)
            .await
            .unwrap());
        assert!(super::super::totp::use_step(&db, &account, 1, true, 1)
            .await
            .unwrap());
        let read = sign_in_read(&db, username, true, counter("a"))
            .await
            .unwrap();
        assert_eq!(read.attempts, 2);
        assert!(read.held.app && !read.held.passkey && !read.held.recovery_codes);

        let stranger = sign_in_read(&db, "nobody_here", true, counter("b"))
            .await
            .unwrap();
        assert_eq!(stranger.attempts, 1);
        assert!(stranger.user.is_none());
        assert_eq!(stranger.guard, Guard::default());
        assert_eq!(stranger.held, Held::default());

        // A name no account can have: counted, and only its guard read.
        let impossible = sign_in_read(&db, username, false, counter("b"))
            .await
            .unwrap();
        assert_eq!((impossible.attempts, impossible.guard.failures), (2, 2));
        assert!(impossible.user.is_none());
    }

    /// Writes as an older build did, or behind the mark's back: `sql` about account `$a`.
    async fn write_raw(db: &Db, sql: &str, account: &RecordId) {
        db.query(sql)
            .bind(("a", account.clone()))
            .await
            .unwrap()
            .check()
            .unwrap();
    }

    async fn enrolled(db: &Db, account: &RecordId) -> Option<bool> {
        let mut res = db
            .query("RETURN $a.factors_enrolled")
            .bind(("a", account.clone()))
            .await
            .unwrap();
        res.take(0).unwrap()
    }

    /// Accounts made before the mark was kept have none: their factors are read in full, and
    /// one that holds nothing is marked so that its next sign-in skips the reads.
    #[tokio::test]
    async fn an_account_from_before_the_mark_is_read_in_full_then_marked_if_it_holds_nothing() {
        let db = memory().await;
        let mut old = Vec::new();
        for key in ["a", "b"] {
            let account = super::super::transactions::account_with_challenge(
                &db,
                key,
                CodePurpose::SignIn,
                "mac",
                1,
            )
            .await;
            assert_eq!(enrolled(&db, &account).await, Some(false), "new accounts");
            write_raw(&db, "UPDATE $a SET factors_enrolled = NONE", &account).await;
            old.push(account);
        }
        // An old account's factor, written as an older build did (no mark).
        write_raw(
            &db,
            "CREATE recovery_set SET account = $a, unused = ['m'], created_at = 1",
            &old[1],
        )
        .await;

        let plain = sign_in_read(&db, "user_a", true, counter("a"))
            .await
            .unwrap();
        assert_eq!(plain.held, Held::default());
        assert_eq!(enrolled(&db, &old[0]).await, Some(false), "marked");
        let holding = sign_in_read(&db, "user_b", true, counter("b"))
            .await
            .unwrap();
        assert!(holding.held.recovery_codes, "read in full");
        assert_eq!(enrolled(&db, &old[1]).await, None, "left unmarked");

        // Marked, the account's factor tables are not read at all: a row written behind the
        // mark's back (no factor is added that way) goes unseen.
        write_raw(
            &db,
            "CREATE totp SET account = $a, sealed = '', enabled = true, last_step = 0, created_at = 1",
            &old[0],
        )
        .await;
        let skipped = sign_in_read(&db, "user_a", true, counter("c"))
            .await
            .unwrap();
        assert_eq!(skipped.held, Held::default(), "not read");

        // Adding a factor marks the account for good, and the reads come back.
        assert!(super::super::passkey::add(
            &db,
            &old[0],
            super::super::passkey::NewPasskey {
                cred_id: "cred".into(),
                data: "{}".into(),
                name: "phone".into(),
                synced: true,
            },
            2,
        )
        .await
        .unwrap());
        assert_eq!(enrolled(&db, &old[0]).await, Some(true));
        // A mark that comes after a factor was added (its reads were older) leaves it alone.
        super::super::factors::mark_none_added(&db, &old[0])
            .await
            .unwrap();
        assert_eq!(enrolled(&db, &old[0]).await, Some(true));
        let read = sign_in_read(&db, "user_a", true, counter("c"))
            .await
            .unwrap();
        assert!(read.held.passkey);
    }

    #[tokio::test]
    async fn a_burst_from_one_address_is_counted_one_by_one() {
        let db = memory().await;
        let reads: Vec<_> = (0..200)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    sign_in_read(&db, "someone", true, counter("c"))
                        .await
                        .unwrap()
                        .attempts
                })
            })
            .collect();
        let mut seen = Vec::new();
        for read in reads {
            seen.push(read.await.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(
            seen,
            (1..=200).collect::<Vec<u32>>(),
            "every attempt its own count"
        );
    }
}
