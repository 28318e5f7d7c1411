//! The app's background work, as small functions over futures and channels so that their
//! rules are tested without Tauri: forwarding the service's events (surviving a slow
//! window), keeping the queue runner alive (restarts with backoff, said to the UI), and
//! waiting for a locked or absent keychain.

use std::future::Future;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};

/// Forwards every event to `sink` until the sender is gone. A receiver that fell behind
/// (`Lagged`: the channel dropped its oldest events) carries on with the ones it still
/// has; only `Closed` ends the forwarding.
pub async fn forward_events<T: Clone>(
    mut events: broadcast::Receiver<T>,
    mut sink: impl FnMut(Forwarded<T>),
) {
    loop {
        match events.recv().await {
            Ok(event) => sink(Forwarded::Event(event)),
            Err(RecvError::Lagged(missed)) => sink(Forwarded::Missed(missed)),
            Err(RecvError::Closed) => return,
        }
    }
}

/// What [`forward_events`] hands on.
#[derive(Debug, Clone, PartialEq)]
pub enum Forwarded<T> {
    Event(T),
    /// This many events were dropped because the receiver fell behind.
    Missed(u64),
}

/// Exponential backoff: `first`, doubling, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The queue runner: 1 s doubling to 60 s.
    pub const QUEUE: Backoff = Backoff {
        first: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
    /// Reading the keychain again: 10 s, 20 s, then every 30 s.
    pub const KEYCHAIN: Backoff = Backoff {
        first: Duration::from_secs(10),
        max: Duration::from_secs(30),
    };

    /// The wait after the `failures`-th failure in a row (1-based).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// Why a supervised run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure<E> {
    Error(E),
    Panicked(String),
}

/// What the supervisor tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Report<E> {
    /// The run ended; it starts again after `retry_in`.
    Problem {
        failure: Failure<E>,
        retry_in: Duration,
    },
    /// After problems, a run has kept going for the healthy period (or finished).
    Recovered,
}

/// Aborts the task when dropped, so that aborting the supervisor stops its run too
/// (a run left behind would keep the queue's lock and the new runner would wait forever).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// Runs `make_run()`'s future as its own task and starts a new one whenever it fails or
/// panics, waiting `backoff` (growing with each failure in a row) in between; every
/// failure is reported, and so is the recovery once a new run has kept going for
/// `healthy_after`. Returns when a run finishes with `Ok`. `sleep` is the clock (tests
/// pass a fast one). Dropping the returned future aborts the run in progress.
pub async fn supervise<E, F, Fut, S, SF>(
    mut make_run: F,
    backoff: Backoff,
    healthy_after: Duration,
    mut sleep: S,
    mut report: impl FnMut(Report<E>),
) where
    E: Send + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    S: FnMut(Duration) -> SF,
    SF: Future<Output = ()>,
{
    let mut failures: u32 = 0;
    loop {
        let mut run = AbortOnDrop(tokio::spawn(make_run()));
        let ended = if failures == 0 {
            (&mut run.0).await
        } else {
            tokio::select! {
                ended = &mut run.0 => ended,
                _ = sleep(healthy_after) => {
                    failures = 0;
                    report(Report::Recovered);
                    (&mut run.0).await
                }
            }
        };
        let failure = match ended {
            Ok(Ok(())) => {
                if failures > 0 {
                    report(Report::Recovered);
                }
                return;
            }
            Ok(Err(e)) => Failure::Error(e),
            Err(join) if join.is_panic() => Failure::Panicked(panic_text(join.into_panic())),
            // Cancelled from outside: nothing to run any more.
            Err(_) => return,
        };
        failures = failures.saturating_add(1);
        let retry_in = backoff.delay(failures);
        report(Report::Problem { failure, retry_in });
        sleep(retry_in).await;
    }
}

/// Loads the keys again while the keychain is only temporarily out of reach (locked, no
/// Secret Service yet), waiting `backoff` between tries. Returns the keys, or the first
/// error that waiting will not fix.
pub async fn wait_for_keys<T, F, Fut, S, SF>(
    mut load: F,
    backoff: Backoff,
    mut sleep: S,
) -> Result<T, pano_keychain::KeychainError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, pano_keychain::KeychainError>>,
    S: FnMut(Duration) -> SF,
    SF: Future<Output = ()>,
{
    let mut failures = 0;
    loop {
        failures += 1;
        sleep(backoff.delay(failures)).await;
        match load().await {
            Err(e) if e.is_temporary() => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pano_keychain::KeychainError;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn the_forwarder_carries_on_after_falling_behind_and_stops_when_the_sender_is_gone() {
        let (tx, rx) = broadcast::channel(2);
        // Five events into a channel of two: the receiver has lagged before it starts.
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        runtime().block_on(async move {
            let forwarder = tokio::spawn(forward_events(rx, move |f| sink.lock().unwrap().push(f)));
            tokio::task::yield_now().await;
            tx.send(5).unwrap();
            drop(tx);
            tokio::time::timeout(Duration::from_secs(5), forwarder)
                .await
                .expect("the forwarder ends when the sender is gone")
                .unwrap();
        });
        assert_eq!(
            *got.lock().unwrap(),
            vec![
                Forwarded::Missed(3),
                Forwarded::Event(3),
                Forwarded::Event(4),
                Forwarded::Event(5)
            ]
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_limit() {
        let b = Backoff::QUEUE;
        let secs: Vec<u64> = (1..=9).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(60));
        let k: Vec<u64> = (1..=4)
            .map(|n| Backoff::KEYCHAIN.delay(n).as_secs())
            .collect();
        assert_eq!(k, [10, 20, 30, 30]);
    }

    /// A clock that records what was asked and waits a thousandth of it.
    fn fast_clock(log: Arc<Mutex<Vec<Duration>>>) -> impl FnMut(Duration) -> tokio::time::Sleep {
        move |d| {
            log.lock().unwrap().push(d);
            tokio::time::sleep(d / 1000)
        }
    }

    const HEALTHY: Duration = Duration::from_secs(5);

    /// The supervisor's clock in its tests: backoff waits are recorded and pass at once;
    /// the healthy period passes only when `healthy` is notified (no race with a run).
    fn test_clock(
        log: Arc<Mutex<Vec<Duration>>>,
        healthy: Arc<tokio::sync::Notify>,
    ) -> impl FnMut(Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        move |d| {
            if d == HEALTHY {
                let healthy = healthy.clone();
                Box::pin(async move { healthy.notified().await })
            } else {
                log.lock().unwrap().push(d);
                Box::pin(std::future::ready(()))
            }
        }
    }

    #[test]
    fn the_supervisor_restarts_a_failing_or_panicking_run_with_backoff_and_says_so() {
        let runs = Arc::new(AtomicU32::new(0));
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sleeps = Arc::new(Mutex::new(Vec::new()));
        let (r, log) = (runs.clone(), reports.clone());
        runtime().block_on(async {
            tokio::time::timeout(
                Duration::from_secs(10),
                supervise(
                    move || {
                        let n = r.fetch_add(1, Ordering::SeqCst);
                        async move {
                            match n {
                                0 => Err("database is locked"),
                                1 => panic!("the runner fell over"),
                                2 => Err("still locked"),
                                _ => Ok(()),
                            }
                        }
                    },
                    Backoff::QUEUE,
                    HEALTHY,
                    // No run stays up for the healthy period here.
                    test_clock(sleeps.clone(), Default::default()),
                    move |report| log.lock().unwrap().push(report),
                ),
            )
            .await
            .expect("the supervisor returns once a run succeeds")
        });
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        let reports = reports.lock().unwrap();
        assert_eq!(
            *reports,
            vec![
                Report::Problem {
                    failure: Failure::Error("database is locked"),
                    retry_in: Duration::from_secs(1)
                },
                Report::Problem {
                    failure: Failure::Panicked("the runner fell over".into()),
                    retry_in: Duration::from_secs(2)
                },
                Report::Problem {
                    failure: Failure::Error("still locked"),
                    retry_in: Duration::from_secs(4)
                },
                Report::Recovered,
            ]
        );
        assert_eq!(
            *sleeps.lock().unwrap(),
            [1, 2, 4].map(Duration::from_secs).to_vec()
        );
    }

    #[test]
    fn a_run_that_keeps_going_after_problems_is_reported_recovered_and_backoff_starts_over() {
        let runs = Arc::new(AtomicU32::new(0));
        let reports = Arc::new(Mutex::new(Vec::new()));
        let healthy = Arc::new(tokio::sync::Notify::new());
        let fail_now = Arc::new(tokio::sync::Notify::new());
        let (r, h, f) = (runs.clone(), healthy.clone(), fail_now.clone());
        let (log, fail) = (reports.clone(), fail_now.clone());
        runtime().block_on(async {
            tokio::time::timeout(
                Duration::from_secs(10),
                supervise(
                    move || {
                        let n = r.fetch_add(1, Ordering::SeqCst);
                        let (healthy, fail_now) = (h.clone(), f.clone());
                        async move {
                            match n {
                                // Fails; then keeps going for the healthy period and fails
                                // only after that was reported; then fails at once again:
                                // that failure waits 1 s again, not 2 s.
                                0 | 2 => Err("broken"),
                                1 => {
                                    healthy.notify_one();
                                    fail_now.notified().await;
                                    Err("broken later")
                                }
                                _ => Ok(()),
                            }
                        }
                    },
                    Backoff::QUEUE,
                    HEALTHY,
                    test_clock(Default::default(), healthy),
                    move |report| {
                        if report == Report::Recovered {
                            fail.notify_one();
                        }
                        log.lock().unwrap().push(report)
                    },
                ),
            )
            .await
            .unwrap()
        });
        let retry_ins: Vec<Option<u64>> = reports
            .lock()
            .unwrap()
            .iter()
            .map(|r| match r {
                Report::Problem { retry_in, .. } => Some(retry_in.as_secs()),
                Report::Recovered => None,
            })
            .collect();
        assert_eq!(
            retry_ins,
            [Some(1), None, Some(1), Some(2), None],
            "{:?}",
            reports.lock().unwrap()
        );
        assert_eq!(runs.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn dropping_the_supervisor_stops_its_run() {
        struct Flag(Arc<Mutex<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = true;
            }
        }
        let dropped = Arc::new(Mutex::new(false));
        let d = dropped.clone();
        runtime().block_on(async {
            let supervisor = tokio::spawn(supervise(
                move || {
                    let flag = Flag(d.clone());
                    async move {
                        let _flag = flag;
                        std::future::pending::<Result<(), ()>>().await
                    }
                },
                Backoff::QUEUE,
                Duration::from_secs(5),
                tokio::time::sleep,
                |_| {},
            ));
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!*dropped.lock().unwrap(), "the run is running");
            supervisor.abort();
            let _ = supervisor.await;
            for _ in 0..100 {
                if *dropped.lock().unwrap() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(*dropped.lock().unwrap(), "the run outlived its supervisor");
    }

    #[test]
    fn keys_are_read_again_while_the_keychain_is_locked_or_absent_and_not_otherwise() {
        let tries = Arc::new(Mutex::new(vec![
            Err(KeychainError::Locked),
            Err(KeychainError::Unavailable("no Secret Service".into())),
            Err(KeychainError::Locked),
            Ok("keys"),
        ]));
        let sleeps = Arc::new(Mutex::new(Vec::new()));
        let t = tries.clone();
        let got = runtime().block_on(wait_for_keys(
            move || {
                let next = t.lock().unwrap().remove(0);
                async move { next }
            },
            Backoff::KEYCHAIN,
            fast_clock(sleeps.clone()),
        ));
        assert_eq!(got, Ok("keys"));
        assert_eq!(
            *sleeps.lock().unwrap(),
            [10, 20, 30, 30].map(Duration::from_secs).to_vec()
        );

        // A failure that waiting does not fix ends the waiting at once.
        let tries = Arc::new(Mutex::new(vec![
            Err(KeychainError::Locked),
            Err(KeychainError::Other("access denied by policy".into())),
            Ok("never"),
        ]));
        let t = tries.clone();
        let got = runtime().block_on(wait_for_keys(
            move || {
                let next = t.lock().unwrap().remove(0);
                async move { next }
            },
            Backoff::KEYCHAIN,
            fast_clock(Default::default()),
        ));
        assert_eq!(
            got,
            Err(KeychainError::Other("access denied by policy".into()))
        );
        assert_eq!(tries.lock().unwrap().len(), 1);
    }
}
