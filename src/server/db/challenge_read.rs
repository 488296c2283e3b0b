//! A challenge and the account it belongs to, in one query: what answering a code reads before
//! its transaction. Two reads were two trips through the store's executor and its task.

use super::otp_challenge::{self, ChallengeRow};
use super::user::UserRow;
use super::{Db, DbError};

/// The challenge `key`, and its account when both exist.
pub async fn challenge_and_account(
    db: &Db,
    key: &str,
) -> Result<Option<(ChallengeRow, Option<UserRow>)>, DbError> {
    let mut res = db
        .query(
            "LET $c = (SELECT * FROM $id)[0];
             RETURN $c;
             RETURN IF $c THEN (SELECT * FROM $c.account)[0] ELSE NONE END;",
        )
        .bind(("id", otp_challenge::record(key)))
        .await?
        .check()?;
    let challenge: Option<ChallengeRow> = res.take(1)?;
    let account: Option<UserRow> = res.take(2)?;
    Ok(challenge.map(|c| (c, account)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::memory;

    #[tokio::test]
    async fn reads_the_challenge_with_its_account_or_nothing() {
        let db = memory().await;
        super::super::transactions::account_with_challenge(&db, "k", CodePurpose::SignIn, "mac", 1)
            .await;
        let (challenge, account) = challenge_and_account(&db, "k").await.unwrap().unwrap();
        assert_eq!(challenge.code_mac, "mac");
        assert_eq!(account.map(|a| a.id), Some(challenge.account.clone()));

        assert!(challenge_and_account(&db, "missing")
            .await
            .unwrap()
            .is_none());

        // The account gone (deleted since): the challenge alone.
        db.query("DELETE $a")
            .bind(("a", challenge.account))
            .await
            .unwrap()
            .check()
            .unwrap();
        let (_, account) = challenge_and_account(&db, "k").await.unwrap().unwrap();
        assert!(account.is_none());
    }
}
