//! One file per route.

mod home;
mod login;
mod register;
mod verify;

pub use home::HomePage;
pub use login::LoginPage;
pub use register::RegisterPage;
pub use verify::VerifyPage;
