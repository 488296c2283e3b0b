//! Reusable pieces of the forms.

mod action;
mod field;
mod loading;
mod phone;

pub use action::{failure_of, succeeded, StepUpLink};
pub use field::{error_message, field_error, form_error, CodeField, Field, FormError};
pub use loading::Loading;
pub use phone::PhoneField;
