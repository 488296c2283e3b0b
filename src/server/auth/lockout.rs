//! Per-account brute-force protection as a small state machine (NIST 800-63B 5.2.2):
//! below `delay_after` consecutive failures nothing happens; from there each failure makes the
//! next attempt wait twice as long (capped); at `lock_after` the account locks until a password
//! reset or an admin lifts it. A success resets the count.

use crate::server::config::{ConfigError, Sources};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub delay_after: u32,
    pub lock_after: u32,
    pub max_delay_secs: u64,
}

impl LockoutPolicy {
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
    ) -> Result<LockoutPolicy, ConfigError> {
        Ok(LockoutPolicy {
            delay_after: sources.parse("lockout_delay_after")?,
            lock_after: sources.parse("lockout_lock_after")?,
            max_delay_secs: sources.parse("lockout_max_delay_secs")?,
        })
    }
}

/// What a run of `failures` consecutive failures leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consequence {
    pub wait_secs: u64,
    pub locked: bool,
}

pub fn after_failures(policy: &LockoutPolicy, failures: u32) -> Consequence {
    let wait_secs = if failures < policy.delay_after {
        0
    } else {
        let doublings = (failures - policy.delay_after).min(30);
        (1u64 << doublings).min(policy.max_delay_secs)
    };
    Consequence {
        wait_secs,
        locked: failures >= policy.lock_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_the_account_locks() {
        let policy = LockoutPolicy {
            delay_after: 10,
            lock_after: 100,
            max_delay_secs: 900,
        };
        let free = after_failures(&policy, 9);
        assert_eq!(
            free,
            Consequence {
                wait_secs: 0,
                locked: false
            }
        );
        let waits: Vec<u64> = (10..=14)
            .map(|n| after_failures(&policy, n).wait_secs)
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16]);
        assert_eq!(after_failures(&policy, 40).wait_secs, 900, "capped");
        assert!(!after_failures(&policy, 99).locked);
        assert!(after_failures(&policy, 100).locked);
    }
}
