//! One file per route.

mod account;
mod apps;
mod consent;
mod home;
mod login;
mod phone;
mod register;
mod reset;
mod security;
mod verify;

pub use account::{PasswordPage, ProfilePage, SessionsPage};
pub use apps::ConnectedAppsPage;
pub use consent::ConsentPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use phone::{CancelPhoneChangePage, PhonePage};
pub use register::RegisterPage;
pub use reset::{ForgotPage, ResetPage};
pub use security::SecurityPage;
pub use verify::VerifyPage;
