//! The circuit breaker's rule, apart from where its state is kept (the database, so every
//! instance sees the same): after N failures in a row a provider is skipped until the cooldown
//! ends; then one trial send decides whether it closes again. Also each instance's copy of
//! that state, read at most once a second.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::settings::BreakerPolicy;

pub use crate::server::db::sms_breaker::Health;

/// How long a read of the breakers serves later sends. Another instance's failures reach this
/// one at most this late; this instance's own changes drop the copy at once.
const FRESH_MS: i64 = 1_000;

/// One instance's copy of every provider's breaker and when it was read (ms). Only a copy: the
/// state itself stays in the database, where every instance sees it.
#[derive(Default)]
pub struct HealthCopy(Mutex<Option<(i64, HashMap<String, Health>)>>);

impl HealthCopy {
    /// The copy, if read within the last `FRESH_MS` before `now`.
    pub fn fresh(&self, now: i64) -> Option<HashMap<String, Health>> {
        let copy = self.lock();
        let (read_at, health) = copy.as_ref()?;
        (*read_at..*read_at + FRESH_MS)
            .contains(&now)
            .then(|| health.clone())
    }

    pub fn keep(&self, now: i64, health: HashMap<String, Health>) {
        *self.lock() = Some((now, health));
    }

    pub fn forget(&self) {
        *self.lock() = None;
    }

    /// A panic while it was held left nothing half-written in it.
    fn lock(&self) -> MutexGuard<'_, Option<(i64, HashMap<String, Health>)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    /// Send as usual.
    Closed,
    /// Skip: too many failures, cooldown running.
    Open,
    /// Cooldown over: one caller may try.
    HalfOpen,
}

pub fn circuit(health: Health, policy: BreakerPolicy, now: i64) -> Circuit {
    if health.failures < policy.failures {
        Circuit::Closed
    } else if now < health.open_until {
        Circuit::Open
    } else {
        Circuit::HalfOpen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BreakerPolicy = BreakerPolicy {
        failures: 3,
        cooldown_secs: 60,
    };

    #[test]
    fn the_copy_serves_for_a_second_after_its_read_and_not_once_forgotten() {
        let copy = HealthCopy::default();
        assert_eq!(copy.fresh(1_000), None, "nothing read yet");
        let open = Health {
            failures: 3,
            open_until: 61_000,
        };
        copy.keep(1_000, HashMap::from([("webhook".to_string(), open)]));
        assert_eq!(copy.fresh(1_999).unwrap()["webhook"], open);
        assert_eq!(copy.fresh(2_000), None, "a second old");
        assert_eq!(copy.fresh(999), None, "read after the asker's now");
        copy.forget();
        assert_eq!(copy.fresh(1_500), None);
    }

    #[test]
    fn opens_at_the_threshold_and_half_opens_after_the_cooldown() {
        let at = |failures, open_until, now| {
            circuit(
                Health {
                    failures,
                    open_until,
                },
                POLICY,
                now,
            )
        };
        assert_eq!(at(0, 0, 1_000), Circuit::Closed);
        assert_eq!(at(2, 0, 1_000), Circuit::Closed);
        assert_eq!(at(3, 61_000, 1_000), Circuit::Open);
        assert_eq!(at(3, 61_000, 61_000), Circuit::HalfOpen);
    }
}
