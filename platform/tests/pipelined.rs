//! `Pipelined` against a real Postgres: what commits, what does not, and
//! that no pooled connection is ever left inside a transaction.

use deadpool_postgres::Pool;
use platform::db::{self, Pipelined, PoolSettings};

/// A pool of one connection (so "the same connection came back" is
/// observable) on a fresh database with an empty table `t`.
async fn setup() -> (Pool, tokio_postgres::Client) {
    let test = platform::testing::fresh_database().await.unwrap();
    let pool = db::pool(
        &test.students_url,
        &PoolSettings {
            max_size: 1,
            ..PoolSettings::default()
        },
    )
    .unwrap();
    let other = platform::testing::connect(&test.students_url)
        .await
        .unwrap();
    other
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    (pool, other)
}

async fn ids(c: &tokio_postgres::Client) -> Vec<i32> {
    c.query("SELECT id FROM t ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The pool's next connection commits on its own: it is not inside a
/// transaction left open by the last user.
async fn next_connection_autocommits(pool: &Pool, other: &tokio_postgres::Client, id: i32) {
    let c = pool.get().await.unwrap();
    c.execute("INSERT INTO t VALUES ($1)", &[&id])
        .await
        .unwrap();
    drop(c);
    assert!(ids(other).await.contains(&id), "insert {id} not visible");
}

async fn insert_stmt(tx: &Pipelined) -> tokio_postgres::Statement {
    tx.client()
        .prepare_cached("INSERT INTO t VALUES ($1)")
        .await
        .unwrap()
}

#[tokio::test]
async fn begin_and_commit_travel_with_the_statements_and_commit_them_all() {
    let (pool, other) = setup().await;
    let tx = Pipelined::new(pool.get().await.unwrap());
    let ins = insert_stmt(&tx).await;
    let c = tx.client();
    let (a, b) = tx
        .begin(async { tokio::join!(c.execute(&ins, &[&1]), c.execute(&ins, &[&2])) })
        .await
        .unwrap();
    assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
    // Inside the transaction: not visible to anybody else yet.
    assert!(ids(&other).await.is_empty());
    let n = tx
        .commit(async { c.execute(&ins, &[&3]).await })
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop(tx);
    assert_eq!(ids(&other).await, [1, 2, 3]);
    assert_eq!(pool.status().size, 1, "the connection went back");
    next_connection_autocommits(&pool, &other, 10).await;
}

#[tokio::test]
async fn a_last_statement_failing_at_the_server_commits_nothing() {
    let (pool, other) = setup().await;
    let tx = Pipelined::new(pool.get().await.unwrap());
    let ins = insert_stmt(&tx).await;
    let c = tx.client();
    tx.begin(c.execute(&ins, &[&1])).await.unwrap().unwrap();
    // A duplicate key: the transaction aborts, the COMMIT behind it rolls back.
    let err = tx
        .commit(async { c.execute(&ins, &[&1]).await })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    );
    drop(tx);
    assert!(ids(&other).await.is_empty());
    assert_eq!(pool.status().size, 1);
    next_connection_autocommits(&pool, &other, 10).await;
}

#[tokio::test]
async fn a_last_statement_that_never_reached_the_server_is_not_followed_by_commit() {
    let (pool, other) = setup().await;
    let tx = Pipelined::new(pool.get().await.unwrap());
    let ins = insert_stmt(&tx).await;
    let c = tx.client();
    tx.begin(c.execute(&ins, &[&1])).await.unwrap().unwrap();
    // Too few parameters: tokio-postgres refuses it before sending anything.
    // A COMMIT sent anyway would keep the first insert without this one.
    let err = tx
        .commit(async { c.execute(&ins, &[]).await })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("parameters"), "{err}");
    drop(tx);
    assert!(ids(&other).await.is_empty());
    next_connection_autocommits(&pool, &other, 10).await;
}

#[tokio::test]
async fn rollback_writes_nothing_and_returns_the_connection() {
    let (pool, other) = setup().await;
    let tx = Pipelined::new(pool.get().await.unwrap());
    let ins = insert_stmt(&tx).await;
    tx.begin(tx.client().execute(&ins, &[&1]))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    drop(tx);
    assert!(ids(&other).await.is_empty());
    assert_eq!(pool.status().size, 1);
    next_connection_autocommits(&pool, &other, 10).await;
}

/// A request cancelled mid-transaction (or an error path that did not roll
/// back): the connection is closed, never handed to the next user.
#[tokio::test]
async fn dropped_unfinished_it_closes_its_connection_instead_of_returning_it() {
    let (pool, other) = setup().await;
    let tx = Pipelined::new(pool.get().await.unwrap());
    let ins = insert_stmt(&tx).await;
    tx.begin(tx.client().execute(&ins, &[&1]))
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    assert_eq!(pool.status().size, 0, "the connection left the pool");
    next_connection_autocommits(&pool, &other, 10).await;
    // Its transaction died with it.
    assert_eq!(ids(&other).await, [10]);
}
