//! What every request handler shares: the Leptos options, the sign-in service (database,
//! hasher, code key, SMS sender, settings) and the draining flag; built once at start.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;

use crate::server::auth::password::PasswordHasher;
use crate::server::clock::Clock;
use crate::server::code_key::load_code_key;
use crate::server::db;
use crate::server::service::AuthService;
use crate::server::settings::Config;
use crate::server::sms::SmsSender;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub auth: AuthService,
    /// Set on SIGTERM: /readyz answers 503 while requests still get served.
    pub draining: Arc<AtomicBool>,
}

/// Connects the database, loads the code key, builds the hasher and the SMS sender.
pub async fn build_state(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<AppState, String> {
    // Opening the store waits mostly on the disk, on the runtime's workers; this thread loads
    // the phone metadata (CPU) meanwhile. On a thread of its own, the load's scratch memory
    // stayed in an allocator arena nothing else reused: +3-6 MiB after start-up (benchmarks.md).
    let database = config.database.clone();
    let opening = tokio::spawn(async move { db::connect(&database).await });
    crate::server::auth::phone::load_metadata();
    let db = opening
        .await
        .map_err(|e| format!("opening the store: {e}"))?
        .map_err(|e| e.to_string())?;
    let code_key = load_code_key(&config, crate::server::clock::now_ms() / 1000)?;
    let hasher = PasswordHasher::new(&config.argon2).map_err(|e| e.to_string())?;
    let sms = SmsSender::new(
        &config.sms,
        &config.public_url,
        config.otp.ttl_secs,
        db.clone(),
    )?;
    tracing::info!("SMS providers: {}", sms.describe());
    crate::server::metrics::install();
    Ok(AppState {
        leptos_options,
        auth: AuthService {
            db,
            hasher,
            code_key,
            sms,
            webauthn: Arc::new(crate::server::auth::passkey::relying_party(
                &config.public_url,
            )?),
            config: Arc::new(config),
            clock: Clock::default(),
        },
        draining: Arc::default(),
    })
}
