//! Rate-limit rules. The counting itself happens in the database (db::counters) so every app
//! instance enforces the same limit.

/// At most `max` events per `secs`-long fixed window, counted per `scope` and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub scope: &'static str,
    pub max: u32,
    pub secs: u64,
}

pub const HOUR: u64 = 3600;
pub const DAY: u64 = 24 * HOUR;
pub const TEN_MINUTES: u64 = 600;

/// The wait after the `sends`-th code of one sign-in: `base`, then doubling, capped at `cap`.
/// From the second wait on, `jitter` (0..1) adds up to 10% so retries from many clients spread.
pub fn resend_wait_secs(sends: u32, base: u64, cap: u64, jitter: f64) -> u64 {
    let doublings = sends.saturating_sub(1).min(20);
    let wait = base.saturating_mul(1u64 << doublings).min(cap);
    if sends <= 1 {
        return wait;
    }
    let extra = (wait as f64 * 0.1 * jitter.clamp(0.0, 1.0)) as u64;
    (wait + extra).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resend_waits_double_up_to_the_cap() {
        let waits: Vec<u64> = (1..=8)
            .map(|n| resend_wait_secs(n, 30, 1800, 0.0))
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(
            resend_wait_secs(1, 30, 1800, 0.99),
            30,
            "the first wait is exact"
        );
        let jittered = resend_wait_secs(3, 30, 1800, 0.99);
        assert!((120..=132).contains(&jittered), "{jittered}");
        assert_eq!(resend_wait_secs(40, 30, 1800, 0.5), 1800, "no overflow");
    }
}
