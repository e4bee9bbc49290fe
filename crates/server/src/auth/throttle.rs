//! Sign-in throttling: after [`MAX_FAILURES`] failed sign-ins within
//! [`WINDOW_MS`] for one account, or from one client address, further
//! attempts for it are refused (429 with `Retry-After`) until the oldest
//! failure leaves the window.
//!
//! The failures live in memory, per process: a restart forgets them, and
//! several processes each allow their own ten. That is enough to turn an
//! online guessing attack from thousands of tries a minute into forty an
//! hour per account, and needs no table or cleanup job. Times are passed in
//! (Unix ms) rather than read here, so tests can move the clock.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

/// Failures allowed per account and per address within the window.
pub const MAX_FAILURES: usize = 10;
/// The window failures are counted in: 15 minutes.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Above this many tracked keys, expired ones are swept on the next failure,
/// so a spray of made-up e-mails cannot grow the map without bound.
const SWEEP_ABOVE: usize = 10_000;

/// What a failure counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// Recent failed sign-ins by account and by client address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, VecDeque<i64>>>,
}

/// The account key: e-mails are matched case-insensitively at sign-in, so
/// `Ada@x` and `ada@x` must share one count.
fn account(email: &str) -> Key {
    Key::Account(email.trim().to_lowercase())
}

impl LoginThrottle {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<i64>>> {
        // A panic while holding the lock leaves only timestamps behind,
        // which are valid in any state, so a poisoned lock is still usable.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a sign-in attempt: `Err(seconds)` when the account or the
    /// address has used up its failures (how long until the next attempt
    /// may be made); otherwise the attempt is counted as a failure at once,
    /// and [`LoginThrottle::succeeded`] takes it back. Counting before the
    /// password is checked means a burst of parallel guesses cannot all slip
    /// in before the first of them is recorded.
    pub fn attempt(&self, email: &str, ip: Option<IpAddr>, now: i64) -> Result<(), u64> {
        let mut map = self.lock();
        let keys: Vec<Key> = [Some(account(email)), ip.map(Key::Address)].into_iter().flatten().collect();
        let wait = keys
            .iter()
            .filter_map(|k| map.get(k))
            .filter_map(|times| {
                let recent: Vec<i64> = times.iter().copied().filter(|t| now - t < WINDOW_MS).collect();
                // Allowed again once enough recent failures have left the
                // window to bring the count below the limit.
                (recent.len() >= MAX_FAILURES).then(|| recent[recent.len() - MAX_FAILURES] + WINDOW_MS - now)
            })
            .max();
        if let Some(ms) = wait {
            // Round up, so a client that waits exactly this long is let in.
            return Err(u64::try_from(ms.max(1)).unwrap_or(1).div_ceil(1000));
        }
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, times| times.back().is_some_and(|t| now - t < WINDOW_MS));
        }
        for key in keys {
            let times = map.entry(key).or_default();
            times.retain(|t| now - t < WINDOW_MS);
            times.push_back(now);
        }
        Ok(())
    }

    /// The attempt started at `started` succeeded: the account's count is
    /// cleared, and the address loses only this attempt (it keeps its other
    /// failures, so one good account cannot launder guesses at others).
    pub fn succeeded(&self, email: &str, ip: Option<IpAddr>, started: i64) {
        let mut map = self.lock();
        map.remove(&account(email));
        if let Some(times) = ip.and_then(|ip| map.get_mut(&Key::Address(ip)))
            && let Some(at) = times.iter().rposition(|t| *t == started)
        {
            times.remove(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn eleventh_attempt_waits_until_the_window_passes() {
        let th = LoginThrottle::new();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..10 {
            assert_eq!(th.attempt("ada@example.com", Some(ip), i * MIN), Ok(()), "attempt {}", i + 1);
        }
        // The first failure was at 0: the window frees a slot at 15 minutes.
        let now = 10 * MIN;
        assert_eq!(th.attempt("ADA@example.com", None, now), Err(5 * 60));
        assert_eq!(th.attempt("other@example.com", Some(ip), now), Err(5 * 60), "the address is blocked too");
        assert_eq!(th.attempt("ada@example.com", Some(ip), WINDOW_MS - 1), Err(1));
        assert_eq!(th.attempt("other@example.com", Some("192.0.2.2".parse().unwrap()), now), Ok(()));
        assert_eq!(th.attempt("ada@example.com", Some(ip), WINDOW_MS), Ok(()), "the window expired");
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let th = LoginThrottle::new();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..9 {
            th.attempt("mallory@example.com", Some(ip), 0).unwrap();
        }
        th.attempt("ada@example.com", Some(ip), 1).unwrap();
        th.succeeded("ada@example.com", Some(ip), 1);
        assert_eq!(th.attempt("ada@example.com", None, 2), Ok(()));
        th.attempt("mallory@example.com", Some(ip), 2).unwrap();
        assert!(th.attempt("ada@example.com", Some(ip), 3).is_err(), "ten failures from the address");
    }

    #[test]
    fn expired_keys_are_swept() {
        let th = LoginThrottle::new();
        for i in 0..=SWEEP_ABOVE {
            th.attempt(&format!("u{i}@example.com"), None, 0).unwrap();
        }
        th.attempt("late@example.com", None, WINDOW_MS).unwrap();
        assert_eq!(th.lock().len(), 1);
    }
}
