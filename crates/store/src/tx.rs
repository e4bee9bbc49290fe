//! Transactions and the writer queue. SQLite allows one writer at a time;
//! writers that find the lock taken wait in SQLite's busy handler, which
//! sleeps in growing steps (up to 100 ms) and wakes in no particular order,
//! so under 16 concurrent writers a few waited over a second while the
//! median waited 13 ms. Instead, this process's writers take a turn from
//! a fair (first come, first served) queue before they begin, so the lock
//! is free when they reach it and waits grow with the queue, not with luck.
//! Other processes on the same file (the command line beside a server)
//! still meet the busy handler. PostgreSQL locks rows, not the database:
//! its writers take no turn.

use sqlx::{Any, AnyConnection, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a writer waits for its turn before giving up: as long as
/// SQLite's own busy timeout (`PRAGMA busy_timeout`), which it replaces.
const TURN_TIMEOUT: Duration = Duration::from_secs(10);

/// A transaction, holding the writer turn it was begun with (if any) until
/// it commits, rolls back or is dropped. It dereferences to the connection,
/// so queries run on `&mut *tx`.
pub struct Tx {
    tx: Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub(crate) fn new(tx: Transaction<'static, Any>, turn: Option<OwnedMutexGuard<()>>) -> Self {
        Tx { tx, _turn: turn }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// The queue of this process's writers (SQLite only; cheap to clone).
#[derive(Clone, Default)]
pub(crate) struct WriterQueue(Arc<Mutex<()>>);

impl WriterQueue {
    /// Waits for this writer's turn, in arrival order.
    pub(crate) async fn turn(&self) -> Result<OwnedMutexGuard<()>, crate::StoreError> {
        tokio::time::timeout(TURN_TIMEOUT, self.0.clone().lock_owned()).await.map_err(|_| {
            crate::StoreError::Unavailable(format!(
                "every write waited for over {} seconds; the database is overloaded, try again",
                TURN_TIMEOUT.as_secs()
            ))
        })
    }
}
