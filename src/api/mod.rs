//! Server functions: the typed API the pages call. Each checks its input through the service and
//! handles only cookies and redirects.

pub mod account;
pub mod auth;
pub mod oidc;
pub mod passkeys;
pub mod reset;
pub mod security;

pub use account::*;
pub use auth::*;
pub use oidc::*;
pub use passkeys::*;
pub use reset::*;
pub use security::*;
