//! The e-mail channel against a real SMTP server (platform's test server on
//! a real socket): jobs of kind `email` are delivered with the exact
//! subject, recipient and body, once each, through a `421` answer and a
//! dropped connection (retried with the queue's backoff).

use std::time::Duration;

use deadpool_postgres::Pool;
use notify_svc::{
    email::{EmailAddress, EmailClient, EmailMessage, SmtpSecurity, SmtpSettings},
    jobs::{DedupeKey, JobPayload, NewJob, WorkerSettings, Workers, NO_EMAIL_PROVIDER},
};
use platform::{
    db::PoolSettings,
    testing::{
        smtp::{Fault, SmtpServer},
        TestDatabase,
    },
};
use uuid::Uuid;

use crate::job_helpers::{count_status, enqueue, settings, setup, wait_status};

pub fn client(server: &SmtpServer) -> EmailClient {
    EmailClient::new(SmtpSettings {
        host: "127.0.0.1".into(),
        port: Some(server.addr().port()),
        security: SmtpSecurity::None,
        credentials: None,
        from: "Schoolhouse <no-reply@school.test>".into(),
        timeout: Duration::from_secs(5),
        pool_size: 2,
    })
    .unwrap()
}

fn mail_job(school: Uuid, key: &str, to: &str, subject: &str, text: &str) -> NewJob {
    NewJob::new(
        school,
        DedupeKey::parse(key).unwrap(),
        JobPayload::Email(
            EmailMessage::new(EmailAddress::parse(to).unwrap(), subject, text).unwrap(),
        ),
    )
}

struct Running {
    workers: Workers,
    stop: tokio::sync::oneshot::Sender<()>,
}

fn start(db: &TestDatabase, pool: Pool, s: WorkerSettings, email: Option<EmailClient>) -> Running {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listen = platform::db::pg_config(&db.notify_url, &PoolSettings::default()).unwrap();
    let workers = Workers::start(
        pool,
        Some(listen),
        s,
        notify_svc::jobs::Deliverers {
            email,
            ..Default::default()
        },
        async {
            let _ = stopped.await;
        },
    );
    Running { workers, stop }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(15), self.workers.join())
            .await
            .expect("workers stop in time");
    }
}

#[tokio::test]
async fn mails_arrive_exactly_once_through_a_421_and_a_dropped_connection() {
    let (db, pool) = setup().await;
    let server = SmtpServer::start().await.unwrap();
    // The first two transactions fail: one answered 421, one cut off.
    server.inject(Fault::Reply421);
    server.inject(Fault::Drop);
    let school = Uuid::now_v7();
    let mut ids = Vec::new();
    for n in 0..3 {
        let job = mail_job(
            school,
            &format!("email:{n}"),
            &format!("parent{n}@home.test"),
            &format!("Receipt {n}"),
            &format!("Dear parent,\n\nWe received payment {n}.\n\nSpringfield"),
        );
        ids.push(enqueue(&pool, &job).await);
    }
    let running = start(&db, pool.clone(), settings(), Some(client(&server)));
    for id in &ids {
        wait_status(&db, *id, "succeeded").await;
    }
    running.stop().await;

    let mut mails = server.mails();
    assert_eq!(mails.len(), 3, "each mail delivered once: {mails:?}");
    mails.sort_by_key(|m| m.to.clone());
    for (n, m) in mails.iter().enumerate() {
        assert_eq!(m.to, vec![format!("parent{n}@home.test")]);
        assert_eq!(m.from, "no-reply@school.test");
        assert_eq!(m.header("Subject").unwrap(), format!("Receipt {n}"));
        assert_eq!(m.header("To").unwrap(), format!("parent{n}@home.test"));
        assert_eq!(
            m.body(),
            format!("Dear parent,\n\nWe received payment {n}.\n\nSpringfield")
        );
        // The job id is the Message-ID: a resend would carry the same one.
        assert!(m.header("Message-ID").unwrap().ends_with("@school.test>"));
    }
    // The two faults cost at least one extra attempt each.
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let attempts: i64 = c
        .query_one("SELECT sum(attempts)::int8 FROM notify.jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        attempts >= 5,
        "retried after the faults: {attempts} attempts"
    );
    assert!(server.connections() >= 3);
}

/// One mail, three failed transactions in a row: a `421`, a connection cut
/// before the transaction, one cut after the whole message was sent but
/// before the relay answered. The fourth attempt delivers it, once, exactly
/// as written.
#[tokio::test]
async fn one_mail_survives_a_421_and_dropped_connections_and_arrives_once() {
    let (db, pool) = setup().await;
    let server = SmtpServer::start().await.unwrap();
    server.inject(Fault::Reply421);
    server.inject(Fault::Drop);
    server.inject(Fault::DropAfterData);
    let school = Uuid::now_v7();
    let subject = "Receipt: 100.00 EUR received for Lisa Simpson";
    let body = "Dear Marge Simpson,\n\nWe received 100.00 EUR by card (reference R-1042) \
                for Lisa Simpson. Balance left: 50.00 EUR.\n\nSpringfield Elementary";
    let id = enqueue(
        &pool,
        &mail_job(school, "email:receipt", "marge@home.test", subject, body),
    )
    .await;
    let running = start(&db, pool.clone(), settings(), Some(client(&server)));
    wait_status(&db, id, "succeeded").await;
    running.stop().await;

    let mails = server.mails();
    assert_eq!(mails.len(), 1, "delivered once: {mails:?}");
    let m = &mails[0];
    assert_eq!(m.to, ["marge@home.test"]);
    assert_eq!(m.header("To").unwrap(), "marge@home.test");
    assert_eq!(m.header("Subject").unwrap(), subject);
    assert_eq!(m.body(), body);
    assert_eq!(
        m.header("Message-ID").unwrap(),
        format!("<{id}@school.test>")
    );
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let row = c
        .query_one("SELECT attempts FROM notify.jobs WHERE id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, i32>(0),
        4,
        "three failed attempts, then the delivery"
    );
    assert!(
        server.connections() >= 4,
        "each fault closed its connection"
    );
    assert!(server.duplicate_message_ids().is_empty());
}

#[tokio::test]
async fn without_a_relay_email_jobs_end_dead_and_name_the_cause() {
    let (db, pool) = setup().await;
    let id = enqueue(
        &pool,
        &mail_job(Uuid::now_v7(), "email:x", "a@home.test", "Hi", "Body"),
    )
    .await;
    let running = start(&db, pool.clone(), settings(), None);
    let row = wait_status(&db, id, "dead").await;
    running.stop().await;
    assert_eq!(row.last_error.as_deref(), Some(NO_EMAIL_PROVIDER));
    assert_eq!(count_status(&db, "succeeded").await, 0);
}

#[tokio::test]
async fn an_unreachable_relay_is_retried_until_the_job_is_dead() {
    let (db, pool) = setup().await;
    // A port nobody listens on: every attempt is a connection failure.
    let server = SmtpServer::start().await.unwrap();
    let dead_client = client(&server);
    drop(server);
    let job = mail_job(Uuid::now_v7(), "email:y", "a@home.test", "Hi", "Body")
        .with_max_attempts(2)
        .unwrap();
    let id = enqueue(&pool, &job).await;
    let running = start(&db, pool.clone(), settings(), Some(dead_client));
    let row = wait_status(&db, id, "dead").await;
    running.stop().await;
    assert_eq!(row.attempts, 2);
    let error = row.last_error.unwrap();
    assert!(error.starts_with("relay"), "{error}");
    assert!(
        !error.contains("a@home.test"),
        "no address in errors: {error}"
    );
}
