//! Authentication domain logic, free of the web layer.

mod argon2_memory;
mod common_passwords;
pub mod jws;
pub mod limits;
pub mod lockout;
pub mod oauth;
pub mod otp;
pub mod passkey;
pub mod password;
pub mod phone;
pub mod pumping;
pub mod qr;
pub mod reach;
pub mod recovery;
pub mod seal;
pub mod test_numbers;
pub mod token;
pub mod totp;
pub mod validate;
