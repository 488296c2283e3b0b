//! Which providers a message may try now: the breakers' state, read at most once a second, and
//! an open circuit's one trial once its cooldown is over.

use std::collections::HashMap;

use super::super::breaker::{circuit, Circuit, Health};
use super::SmsSender;
use crate::server::db::sms_breaker;

impl SmsSender {
    /// The breakers' state, read from the database unless the copy is fresh. Unreadable state
    /// must not stop codes going out: then every circuit counts as closed.
    pub(super) async fn health(&self, now: i64) -> HashMap<String, Health> {
        if let Some(health) = self.health.fresh(now) {
            return health;
        }
        match sms_breaker::all(&self.db).await {
            Ok(health) => {
                self.health.keep(now, health.clone());
                health
            }
            Err(e) => {
                tracing::error!("SMS circuit breakers: {e}");
                HashMap::new()
            }
        }
    }

    pub(super) async fn may_try(&self, name: &str, health: Health, now: i64) -> bool {
        match circuit(health, self.breaker, now) {
            Circuit::Closed => true,
            Circuit::Open => false,
            Circuit::HalfOpen => {
                self.health.forget();
                sms_breaker::claim_trial(
                    &self.db,
                    name,
                    self.breaker.failures,
                    self.breaker.cooldown_secs,
                    now,
                )
                .await
                .unwrap_or(true)
            }
        }
    }
}
