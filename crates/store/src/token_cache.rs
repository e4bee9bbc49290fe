//! A short-lived cache of the API tokens that resolved to an active user,
//! so a request with a known token skips the token lookup (one statement,
//! as much as a single-deal read costs).
//!
//! Staleness is bounded two ways. In this process every change that can
//! end or alter a token's user (a revoke, a user's update, deactivation or
//! password change) clears the cache once its transaction has committed,
//! and a lookup that began before a clear does not store what it read
//! (the generation check). Another process (a second `serve` on the same
//! PostgreSQL database, or `dealflow token revoke` beside a running
//! server) cannot clear it: there an entry lives at most [`TTL`].

use crate::AuthUser;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an entry answers before the token is read again.
pub const TTL: Duration = Duration::from_secs(3);
/// Entries kept at most; a full cache starts over (the next requests each
/// read their token once more).
const MAX: usize = 4_096;

struct Entry {
    user: AuthUser,
    /// When the token was last recorded as used (Unix ms), as stored.
    last_used: Option<i64>,
    read_at: Instant,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    generation: u64,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only cache entries behind,
        // which are as good as before it: keep using them.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The user and last use of a fresh entry for this digest.
    pub fn get(&self, digest: &str) -> Option<(AuthUser, Option<i64>)> {
        let inner = self.lock();
        let e = inner.entries.get(digest)?;
        (e.read_at.elapsed() < TTL).then(|| (e.user.clone(), e.last_used))
    }

    /// The generation to hand back to [`TokenCache::put`]: taken before the
    /// token is read, so a clear in between voids what was read.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    pub fn put(&self, digest: &str, user: AuthUser, last_used: Option<i64>, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX {
            inner.entries.clear();
        }
        inner.entries.insert(digest.to_string(), Entry { user, last_used, read_at: Instant::now() });
    }

    /// Notes a recorded use, so the next minute's requests do not record it again.
    pub fn used(&self, digest: &str, at: i64) {
        if let Some(e) = self.lock().entries.get_mut(digest) {
            e.last_used = Some(at);
        }
    }

    /// Forgets every entry; called after a commit that changed a token or a user.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.generation += 1;
    }
}
