//! Which second factors an account holds, read across the factor tables (`passkey`, `totp`,
//! `recovery_set`) in one round trip: the sign-in step and every signed-in page ask.

use std::future::IntoFuture;
use std::sync::LazyLock;

use surrealdb::types::RecordId;

use super::{retry_conflicts, Db, DbError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub passkey: bool,
    /// A confirmed authenticator app (one waiting for its first code does not count).
    pub app: bool,
    /// Recovery codes, while any is unused.
    pub recovery_codes: bool,
}

/// The three reads behind [`Held`], for `$account`, in its fields' order.
const READS: [&str; 3] = [
    "SELECT VALUE id FROM passkey WHERE account = $account LIMIT 1",
    "SELECT VALUE id FROM totp WHERE account = $account AND enabled = true LIMIT 1",
    "SELECT VALUE id FROM recovery_set WHERE account = $account AND array::len(unused) > 0 LIMIT 1",
];

/// Written with every factor added (`passkey::add`, `totp::start`, `recovery_set::replace`), in
/// the same transaction: from then on the account may hold factors, whatever is removed later.
pub(super) const ENROLLED: &str =
    "UPDATE $account SET factors_enrolled = true WHERE factors_enrolled != true;\n";

/// The sign-in read's [`READS`] as one statement, for `$user` (a row or NONE) and `$account`;
/// [`held_of`] takes its value. The reads are skipped for an unknown username and for an account
/// that never added a factor, most accounts: three tables read fewer per sign-in.
pub(super) static HELD_IF_ENROLLED: LazyLock<String> = LazyLock::new(|| {
    let [passkey, app, recovery] = READS;
    format!(
        "RETURN IF $user = NONE OR $user.factors_enrolled = false {{ [[], [], []] }} \
             ELSE {{ [({passkey}), ({app}), ({recovery})] }};"
    )
});

/// Marks an account from before [`ENROLLED`] was kept, whose reads just found no factor, as
/// never having added one, so its next sign-in skips them. A factor added since those reads
/// wrote `true`, which the condition leaves alone; the write is the same however often it runs.
pub(super) async fn mark_none_added(db: &Db, account: &RecordId) -> Result<(), DbError> {
    retry_conflicts("factor mark", 20, || {
        db.query("UPDATE $account SET factors_enrolled = false WHERE factors_enrolled = NONE")
            .bind(("account", account.clone()))
            .into_future()
    })
    .await?;
    Ok(())
}

pub async fn held_by(db: &Db, account: &RecordId) -> Result<Held, DbError> {
    let mut res = db
        .query(READS.join(";\n"))
        .bind(("account", account.clone()))
        .await?
        .check()?;
    held_from(&mut res, 0)
}

/// [`READS`]' answers, one statement each, the first at `first`.
fn held_from(res: &mut surrealdb::IndexedResults, first: usize) -> Result<Held, DbError> {
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

/// [`HELD_IF_ENROLLED`]'s answer, the statement at `index`.
pub(super) fn held_of(res: &mut surrealdb::IndexedResults, index: usize) -> Result<Held, DbError> {
    let held: Vec<Vec<RecordId>> = res.take(index)?;
    let any = |i: usize| held.get(i).is_some_and(|ids| !ids.is_empty());
    Ok(Held {
        passkey: any(0),
        app: any(1),
        recovery_codes: any(2),
    })
}
