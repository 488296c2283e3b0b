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
        .query("SELECT * FROM $id; SELECT * FROM $id.account;")
        .bind(("id", otp_challenge::record(key)))
        .await?
        .check()?;
    let challenges: Vec<ChallengeRow> = res.take(0)?;
    let accounts: Vec<Option<UserRow>> = res.take(1)?;
    let account = accounts.into_iter().flatten().next();
    Ok(challenges.into_iter().next().map(|c| (c, account)))
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
