//! Phone numbers and the API key never reach the logs. A binary of its own:
//! capturing needs the process-wide subscriber (a thread-local one misses
//! events whose callsites other tests' threads registered first).

#[path = "api/job_helpers.rs"]
#[allow(dead_code)]
mod job_helpers;
#[path = "api/provider.rs"]
#[allow(dead_code)]
mod provider;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use uuid::Uuid;

use crate::{
    job_helpers::*,
    provider::{FakeProvider, Reply},
};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_phone_number_or_api_key_in_the_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    provider
        .then(Reply::Status(503))
        .then(Reply::Accept)
        .then(Reply::Status(400));
    let running = start(
        &db,
        pool.clone(),
        settings(),
        Some(provider.client(Duration::from_secs(5))),
    );
    let school = Uuid::new_v4();
    let sent = enqueue(&pool, &sms_job(school, "a")).await;
    wait_status(&db, sent, "succeeded").await;
    let rejected = enqueue(&pool, &sms_job(school, "b")).await;
    wait_status(&db, rejected, "failed").await;
    running.stop().await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    // The logs did record the deliveries, with the number masked.
    assert!(logs.contains("sms accepted by the provider"), "{logs}");
    assert!(logs.contains("+44********23"), "{logs}");
    assert!(logs.contains("job failed, will retry"), "{logs}");
    assert!(logs.contains("job gave up"), "{logs}");
    assert!(!logs.contains("7700900"), "a phone number leaked:\n{logs}");
    assert!(!logs.contains(API_KEY), "the API key leaked:\n{logs}");
    assert!(
        !logs.contains("Ada was absent"),
        "a message text leaked:\n{logs}"
    );
}
