//! notify-svc as a real process, killed with SIGKILL in the middle of 500
//! queued deliveries (250 e-mails to a real SMTP server, 250 SMS to a fake
//! provider over HTTP), then started again: every job ends `succeeded` or
//! `dead`, none stays queued or running (the dead process's leases expire
//! and the queue takes its jobs back), and every message reached its sink.
//!
//! What no sender can promise across a kill -9 is exactly-once at the sink:
//! a job whose message was accepted but whose `succeeded` was never
//! committed is sent again after its lease expires. The test proves the
//! strongest true statement: each resend carries its job's id (the e-mail's
//! `Message-ID`, the SMS's `Idempotency-Key`), so the provider drops it and
//! a mail client sees one message; counted by those ids, every job arrived
//! exactly once; and raw resends are bounded by the jobs in flight at the
//! kill (at most one per worker).

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::Duration,
};

use notify_svc::{
    email::{EmailAddress, EmailMessage},
    jobs::{DedupeKey, JobPayload, NewJob},
};
use platform::testing::{eventually, redis::standalone_url, smtp::SmtpServer};
use uuid::Uuid;

use crate::job_helpers::{enqueue, message, setup, API_KEY};
use crate::provider::{FakeProvider, Reply};

const JOBS: usize = 500;
const WORKERS: usize = 4;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(db_url: &str, smtp: &SmtpServer, sms: &FakeProvider) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_notify-svc"));
    cmd.env("LOG_FORMAT", "json")
        .env("SERVICE_AUTH_KEY", platform::trust::TEST_KEY)
        .env("RUST_LOG", "warn")
        .env("NOTIFY_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("NOTIFY_ADMIN_LISTEN", "127.0.0.1:0")
        .env("NOTIFY_DATABASE_URL", db_url)
        .env("REDIS_URL", standalone_url())
        .env("NOTIFY_CONSUMER_ENABLED", "false")
        .env("NOTIFY_JOBS_WORKERS", WORKERS.to_string())
        .env("NOTIFY_JOBS_POLL_MS", "50")
        .env("NOTIFY_JOBS_BACKOFF_BASE_MS", "10")
        .env("NOTIFY_JOBS_BACKOFF_MAX_MS", "200")
        .env("NOTIFY_JOBS_HOUSEKEEPING_MS", "200")
        // Short leases: the killed process's jobs come back in seconds.
        .env("NOTIFY_JOBS_LEASE_MS", "6500")
        .env("NOTIFY_SMS_TIMEOUT_MS", "1000")
        .env("NOTIFY_SMTP_TIMEOUT_MS", "1000")
        .env("NOTIFY_SMTP_HOST", "127.0.0.1")
        .env("NOTIFY_SMTP_PORT", smtp.addr().port().to_string())
        .env("NOTIFY_SMTP_SECURITY", "none")
        .env("NOTIFY_SMTP_FROM", "Schoolhouse <no-reply@school.test>")
        .env("NOTIFY_SMS_BASE_URL", &sms.base_url)
        .env("NOTIFY_SMS_API_KEY", API_KEY)
        .env("NOTIFY_SMS_FROM", "Schoolhouse");
    if std::env::var("TEST_LOG").is_ok() {
        cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    Proc(cmd.spawn().expect("start notify-svc"))
}

fn mail_job(school: Uuid, n: usize) -> NewJob {
    NewJob::new(
        school,
        DedupeKey::parse(&format!("email:kill9:{n}")).unwrap(),
        JobPayload::Email(
            EmailMessage::new(
                EmailAddress::parse(&format!("parent{n}@home.test")).unwrap(),
                &format!("Notice {n}"),
                &format!("Dear parent,\n\nNotice number {n}.\n\nSpringfield"),
            )
            .unwrap(),
        ),
    )
}

fn sms_job(school: Uuid, n: usize) -> NewJob {
    NewJob::sms(
        school,
        DedupeKey::parse(&format!("sms:kill9:{n}")).unwrap(),
        message("+447700900123", &format!("Notice number {n}.")),
    )
}

/// Deliveries per id (Message-ID or Idempotency-Key).
fn per_id(ids: impl Iterator<Item = String>) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for id in ids {
        *out.entry(id).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn kill_9_mid_queue_then_restart_ends_every_job_and_resends_only_under_the_same_id() {
    let (db, pool) = setup().await;
    let smtp = SmtpServer::start().await.unwrap();
    let sms = FakeProvider::start().await;
    // A provider under some load, so the kill lands mid-way.
    sms.always(Reply::Slow(Duration::from_millis(20)));
    let school = Uuid::now_v7();
    let mut ids = Vec::with_capacity(JOBS);
    for n in 0..JOBS / 2 {
        ids.push(enqueue(&pool, &mail_job(school, n)).await);
        ids.push(enqueue(&pool, &sms_job(school, n)).await);
    }
    let arrived = || smtp.mails().len() + sms.count();

    let mut first = spawn(&db.notify_url, &smtp, &sms);
    eventually("deliveries under way", Duration::from_secs(60), || async {
        arrived() >= 60
    })
    .await;
    // SIGKILL: no drain, no lease released.
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let at_kill = arrived();
    assert!(at_kill < JOBS, "killed mid-way: {at_kill} had arrived");
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let unfinished: i64 = c
        .query_one(
            "SELECT count(*) FROM notify.jobs WHERE status IN ('queued', 'running')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(unfinished > 0, "jobs left for the restart");

    let _second = spawn(&db.notify_url, &smtp, &sms);
    eventually(
        "every job ended after the restart",
        Duration::from_secs(90),
        || async {
            c.query_one(
                "SELECT count(*) FROM notify.jobs WHERE status IN ('queued', 'running')",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
                == 0
        },
    )
    .await;

    let rows = c
        .query(
            "SELECT status, count(*) FROM notify.jobs GROUP BY status ORDER BY status",
            &[],
        )
        .await
        .unwrap();
    let statuses: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        statuses,
        [("succeeded".to_owned(), JOBS as i64)],
        "every job ended, none stuck or dead (both sinks accept)"
    );

    // Counted by the ids a provider dedupes on: each job exactly once.
    let mails = per_id(smtp.mails().iter().map(|m| m.header("Message-ID").unwrap()));
    let texts = per_id(
        sms.received()
            .into_iter()
            .map(|r| r.idempotency_key.expect("an Idempotency-Key")),
    );
    let mut expected: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    expected.sort();
    let mut seen: Vec<String> = mails
        .keys()
        .map(|m| {
            m.trim_start_matches('<')
                .split('@')
                .next()
                .unwrap()
                .to_owned()
        })
        .chain(texts.keys().cloned())
        .collect();
    seen.sort();
    assert_eq!(seen, expected, "every job's message arrived, under its id");
    // Raw resends: only jobs in flight at the kill, at most one per worker.
    let resent: usize = mails.values().chain(texts.values()).map(|n| n - 1).sum();
    assert!(
        resent <= WORKERS,
        "{resent} resends; at most the {WORKERS} in flight at the kill"
    );
    // Each mail's content is its own job's.
    for m in smtp.mails() {
        let n = m.to[0]
            .trim_start_matches("parent")
            .trim_end_matches("@home.test")
            .to_owned();
        assert_eq!(m.header("Subject").unwrap(), format!("Notice {n}"));
        assert_eq!(
            m.body(),
            format!("Dear parent,\n\nNotice number {n}.\n\nSpringfield")
        );
    }
}
