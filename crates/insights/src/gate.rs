//! A bound on concurrent heavy reads. A forecast or backtest loads every
//! deal and the whole field history into memory; without a bound, a few
//! concurrent requests on a large workspace exhaust the machine's memory.
//! Callers take a permit after validating their parameters and before
//! loading anything; when none frees up within a short wait, the answer is
//! "busy, retry later" instead of an ever-growing queue.

use crate::error::InsightsError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits the server gives heavy reads unless configured otherwise.
pub const DEFAULT_HEAVY_READS: usize = 2;
/// How long a heavy read waits for a permit before it is refused.
pub const DEFAULT_HEAVY_WAIT: Duration = Duration::from_secs(3);
/// What a refused caller is told to wait before retrying.
const RETRY_AFTER_SECS: u64 = 5;

/// The shared bound; cloning shares the same permits.
#[derive(Debug, Clone)]
pub struct HeavyReads {
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// Held while a heavy read runs; dropping it frees the permit.
#[derive(Debug)]
pub struct HeavyPermit {
    _permit: OwnedSemaphorePermit,
}

impl HeavyReads {
    /// `permits` concurrent heavy reads (0 refuses every one, which tests
    /// use), each waiting at most `wait` for its turn.
    pub fn new(permits: usize, wait: Duration) -> Self {
        HeavyReads { permits: Arc::new(Semaphore::new(permits)), wait }
    }

    /// Waits up to the configured time for a permit; `Busy` when none came.
    pub async fn acquire(&self) -> Result<HeavyPermit, InsightsError> {
        let busy = InsightsError::Busy { retry_after_secs: RETRY_AFTER_SECS };
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HeavyPermit { _permit: permit }),
            // A timeout, or a closed semaphore (never closed here): both mean "not now".
            Ok(Err(_)) | Err(_) => Err(busy),
        }
    }
}

impl Default for HeavyReads {
    fn default() -> Self {
        HeavyReads::new(DEFAULT_HEAVY_READS, DEFAULT_HEAVY_WAIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_answers_busy_and_a_freed_permit_serves_again() {
        let gate = HeavyReads::new(1, Duration::from_millis(20));
        let held = gate.acquire().await.expect("the first permit is free");
        assert!(matches!(gate.acquire().await, Err(InsightsError::Busy { retry_after_secs: 5 })));
        drop(held);
        assert!(gate.acquire().await.is_ok(), "a dropped permit is free again");
    }
}
