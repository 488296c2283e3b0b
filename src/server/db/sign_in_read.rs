//! What a password sign-in reads, in one query: the username's failure guard, the account, and
//! which other factors it holds. Each query is a trip through the store's executor and its
//! task; these were three.

use super::factors::{held_from, Held, HELD_BY};
use super::login_guard::{self, Guard, GET as GUARD};
use super::user::{UserRow, BY_USERNAME};
use super::{Db, DbError};

pub struct SignInRead {
    pub guard: Guard,
    pub user: Option<UserRow>,
    /// Read for an unknown username too (nothing matches), so both take the same trips.
    pub held: Held,
}

/// Statements before [`HELD_BY`]: the guard, the LET, the LET, the user's RETURN.
const HELD_FROM: usize = 4;

pub async fn sign_in_read(db: &Db, username: &str) -> Result<SignInRead, DbError> {
    let mut res = db
        .query(format!(
            "{GUARD}
             LET $user = ({BY_USERNAME})[0];
             LET $account = $user.id;
             RETURN $user;
             {HELD_BY}"
        ))
        .bind(("guard", login_guard::record(username)))
        .bind(("username", username.to_string()))
        .await?
        .check()?;
    let guards: Vec<Guard> = res.take(0)?;
    let user: Option<UserRow> = res.take(3)?;
    Ok(SignInRead {
        guard: guards.into_iter().next().unwrap_or_default(),
        user,
        held: held_from(&mut res, HELD_FROM)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::memory;

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
        let read = sign_in_read(&db, username).await.unwrap();
        assert_eq!(
            read.user.as_ref().map(|u| u.username.as_str()),
            Some(username)
        );
        assert_eq!(read.guard.failures, 2);
        assert_eq!(read.held, Held::default());

        let account = read.user.unwrap().id;
        db.query("CREATE totp SET account = $a, sealed = '', enabled = true, last_step = 0, created_at = 1")
            .bind(("a", account))
            .await
            .unwrap()
            .check()
            .unwrap();
        let read = sign_in_read(&db, username).await.unwrap();
        assert!(read.held.app && !read.held.passkey && !read.held.recovery_codes);

        let stranger = sign_in_read(&db, "nobody_here").await.unwrap();
        assert!(stranger.user.is_none());
        assert_eq!(stranger.guard, Guard::default());
        assert_eq!(stranger.held, Held::default());
    }
}
