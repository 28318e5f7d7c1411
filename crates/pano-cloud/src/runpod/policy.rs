//! Timing rules: how often to poll and how long to back off.

use std::time::Duration;

/// The pause before the next `/status` poll, `elapsed` after submission: quick at first,
/// then a twelfth of the time waited so far, at most 5 s. A job finishing after T seconds
/// is noticed within max(0.2 s, T / 12) plus one request: inside max(0.5 s, 0.1 T).
pub fn poll_interval(elapsed: Duration) -> Duration {
    (elapsed / 12).clamp(Duration::from_millis(200), Duration::from_secs(5))
}

/// Full-jitter exponential backoff before retry number `attempt` (0-based): a random pause
/// up to `base * 2^attempt`, capped, so that many clients do not retry in step.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    ceiling
        .mul_f64(fastrand::f64())
        .max(Duration::from_millis(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_is_noticed_within_the_promised_delay() {
        for t_ms in [100u64, 500, 2_000, 6_000, 20_000, 45_000, 120_000, 600_000] {
            let t = Duration::from_millis(t_ms);
            let bound = Duration::from_millis(500).max(t / 10);
            // Worst case: the job ends just after a poll made at time t.
            assert!(
                poll_interval(t) + Duration::from_millis(50) <= bound,
                "T = {t:?}: interval {:?} vs bound {bound:?}",
                poll_interval(t)
            );
        }
        assert_eq!(poll_interval(Duration::ZERO), Duration::from_millis(200));
        assert_eq!(
            poll_interval(Duration::from_secs(3600)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        let samples: Vec<Duration> = (0..200).map(|_| backoff(3, base, cap)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(800)));
        assert!(samples.iter().any(|d| *d != samples[0]), "jittered");
        assert!((0..200).all(|_| backoff(30, base, cap) <= cap));
    }
}
