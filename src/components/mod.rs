//! Reusable pieces of the forms.

mod field;

pub use field::{field_error, form_error, CodeField, Field, FormError};
