//! The transactions that span tables. Each table's own statements live in its module; these
//! change several tables at once, so that a step either happens whole or not at all.

mod code_check;
mod redeem;
mod registration;
mod send_counts;
mod signed_in;

pub use code_check::{check_code, Checked, CodeCheck};
pub use redeem::{redeem, redeem_phone_change, redeem_reset, PhoneChange, Redemption};
pub use registration::{create_with_challenge, CreateError};
pub use send_counts::{count_send, Limit, SendCounts};
pub use signed_in::{signed_in, SignedIn};
