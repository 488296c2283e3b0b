//! Reusable pieces of the forms.

mod field;
mod phone;

pub use field::{error_message, field_error, form_error, CodeField, Field, FormError};
pub use phone::PhoneField;
