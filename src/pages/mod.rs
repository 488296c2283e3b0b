//! One file per route.

mod account;
mod home;
mod login;
mod register;
mod reset;
mod verify;

pub use account::{PasswordPage, PhonePage, ProfilePage, SessionsPage};
pub use home::HomePage;
pub use login::LoginPage;
pub use register::RegisterPage;
pub use reset::{ForgotPage, ResetPage};
pub use verify::VerifyPage;
