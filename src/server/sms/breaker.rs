//! The circuit breaker's rule, apart from where its state is kept (the database, so every
//! instance sees the same): after N failures in a row a provider is skipped until the cooldown
//! ends; then one trial send decides whether it closes again.

use super::settings::BreakerPolicy;

pub use crate::server::db::sms_breaker::Health;

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
