//! A transaction whose BEGIN travels with its first statements and whose
//! COMMIT travels with its last one: a check-write-record transaction in two
//! round trips instead of four. On the attendance path a third of
//! students-svc's CPU was send/recv and the wake-ups around them.

use std::{
    future::Future,
    pin::pin,
    sync::atomic::{AtomicBool, Ordering},
    task::Poll,
};

use deadpool_postgres::Object;

/// See the module documentation.
///
/// Never leaves a pooled connection inside a transaction: dropped before
/// [`commit`](Self::commit) or [`rollback`](Self::rollback) finished (an
/// error path, a cancelled request), it detaches its connection from the
/// pool and closes it, and Postgres rolls the transaction back.
///
/// Every method takes `&self`, so the futures given to `begin` and `commit`
/// can borrow [`client`](Self::client).
pub struct Pipelined {
    conn: Option<Object>,
    /// COMMIT or ROLLBACK went through: the connection may go back.
    ended: AtomicBool,
}

impl Pipelined {
    pub fn new(conn: Object) -> Self {
        Self {
            conn: Some(conn),
            ended: AtomicBool::new(false),
        }
    }

    /// The connection, for preparing statements and building the futures
    /// given to [`begin`](Self::begin) and [`commit`](Self::commit).
    pub fn client(&self) -> &Object {
        self.conn
            .as_ref()
            .expect("the connection stays until the transaction ends")
    }

    /// Sends BEGIN, then polls `first` (its statements queue behind the
    /// BEGIN on the connection, so they run inside the transaction whenever
    /// they are sent).
    pub async fn begin<F: Future>(&self, first: F) -> Result<F::Output, tokio_postgres::Error> {
        let (begun, out) = tokio::join!(self.client().batch_execute("BEGIN"), first);
        begun.map(|()| out)
    }

    /// Runs `last`, then COMMIT, in one flight.
    ///
    /// `last` must send its statement when first polled, i.e. be a query
    /// on an already prepared statement (`prepare_cached` beforehand): a
    /// statement sent later would run after the COMMIT, outside the
    /// transaction. A `last` that fails before waiting for the server (it
    /// may not have sent anything) is never followed by a COMMIT: the
    /// transaction is rolled back instead. When `last` fails at the server
    /// the transaction is aborted and the COMMIT ends it as a rollback.
    pub async fn commit<T, E>(&self, last: impl Future<Output = Result<T, E>>) -> Result<T, E>
    where
        E: From<tokio_postgres::Error>,
    {
        let mut last = pin!(last);
        if let Poll::Ready(early) = futures::poll!(last.as_mut()) {
            return match early {
                Ok(v) => {
                    self.client().batch_execute("COMMIT").await?;
                    self.end();
                    Ok(v)
                }
                Err(e) => {
                    // The rollback's own failure detaches the connection
                    // (Drop); the caller wants `last`'s error.
                    let _ = self.rollback().await;
                    Err(e)
                }
            };
        }
        let (out, committed) = tokio::join!(last, self.client().batch_execute("COMMIT"));
        // A failed COMMIT ends the transaction too (or the connection is
        // gone, which the pool's recycling check sees): either way it may go
        // back to the pool.
        self.end();
        let v = out?;
        committed?;
        Ok(v)
    }

    pub async fn rollback(&self) -> Result<(), tokio_postgres::Error> {
        self.client().batch_execute("ROLLBACK").await?;
        self.end();
        Ok(())
    }

    /// The transaction is over: on drop the connection goes back to the pool.
    fn end(&self) {
        self.ended.store(true, Ordering::Release);
    }
}

impl Drop for Pipelined {
    fn drop(&mut self) {
        if self.ended.load(Ordering::Acquire) {
            return;
        }
        if let Some(conn) = self.conn.take() {
            // Maybe mid-transaction: closing the connection rolls it back;
            // returning it would hand the next user an open transaction.
            drop(Object::take(conn));
        }
    }
}
