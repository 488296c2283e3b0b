//! The transactions that span tables. Each table's own statements live in its module; these
//! change several tables at once, so that a step either happens whole or not at all.

mod redeem;
mod registration;
mod signed_in;

pub use redeem::{redeem, redeem_phone_change, redeem_reset, PhoneChange, Redemption};
pub use registration::{create_with_challenge, CreateError};
pub use signed_in::{signed_in, SignedIn};
