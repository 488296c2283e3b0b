//! Reusable pieces of the forms.

mod field;

pub use field::{Field, FormError};
