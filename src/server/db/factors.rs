//! Which second factors an account holds, read across the factor tables (`passkey`, `totp`,
//! `recovery_set`) in one round trip: the sign-in step and every signed-in page ask.

use surrealdb::types::RecordId;

use super::{Db, DbError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub passkey: bool,
    /// A confirmed authenticator app (one waiting for its first code does not count).
    pub app: bool,
    /// Recovery codes, while any is unused.
    pub recovery_codes: bool,
}

/// The three reads behind [`Held`], for `$account`; [`held_from`] takes their results.
pub(super) const HELD_BY: &str = "SELECT VALUE id FROM passkey WHERE account = $account LIMIT 1;
     SELECT VALUE id FROM totp WHERE account = $account AND enabled = true LIMIT 1;
     SELECT VALUE id FROM recovery_set
        WHERE account = $account AND array::len(unused) > 0 LIMIT 1;";

pub async fn held_by(db: &Db, account: &RecordId) -> Result<Held, DbError> {
    let mut res = db
        .query(HELD_BY)
        .bind(("account", account.clone()))
        .await?
        .check()?;
    held_from(&mut res, 0)
}

/// [`HELD_BY`]'s answer, its first statement at `first`.
pub(super) fn held_from(
    res: &mut surrealdb::IndexedResults,
    first: usize,
) -> Result<Held, DbError> {
    let mut any = |statement| -> Result<bool, DbError> {
        let ids: Vec<RecordId> = res.take(first + statement)?;
        Ok(!ids.is_empty())
    };
    Ok(Held {
        passkey: any(0)?,
        app: any(1)?,
        recovery_codes: any(2)?,
    })
}
