//! The SMS client against the fake provider: how answers are classified.

use std::time::Duration;

use notify_svc::sms::SendError;
use uuid::Uuid;

use crate::{
    job_helpers::{message, PHONE},
    provider::{FakeProvider, Reply},
};

#[tokio::test]
async fn answers_are_classified_permanent_or_transient() {
    let provider = FakeProvider::start().await;
    let client = provider.client(Duration::from_secs(5));
    let msg = message(PHONE, "hello");
    provider
        .then(Reply::Accept)
        .then(Reply::Status(400))
        .then(Reply::Status(401))
        .then(Reply::Status(422))
        .then(Reply::Status(500))
        .then(Reply::Status(408))
        .then(Reply::RetryAfter(429, 7))
        .then(Reply::RetryAfter(503, 999_999));
    assert_eq!(
        client.send(&msg, Uuid::new_v4()).await,
        Ok("msg_1".to_owned())
    );
    for expected in [
        SendError::Rejected(400),
        SendError::Rejected(401),
        SendError::Rejected(422),
        SendError::Unavailable {
            status: 500,
            retry_after: None,
        },
        SendError::Unavailable {
            status: 408,
            retry_after: None,
        },
        SendError::Unavailable {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        },
        // Capped: a provider cannot park a message for days.
        SendError::Unavailable {
            status: 503,
            retry_after: Some(Duration::from_secs(3600)),
        },
    ] {
        let got = client.send(&msg, Uuid::new_v4()).await.unwrap_err();
        assert_eq!(
            got.is_transient(),
            !matches!(expected, SendError::Rejected(_))
        );
        assert_eq!(got, expected);
    }
}

#[tokio::test]
async fn a_silent_provider_times_out_and_an_absent_one_is_a_connect_error() {
    let provider = FakeProvider::start().await;
    provider.always(Reply::Hang);
    let client = provider.client(Duration::from_millis(300));
    let err = client
        .send(&message(PHONE, "hi"), Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(err, SendError::Timeout);
    assert!(err.is_transient());

    // A port nothing listens on (bound, then released).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let absent = notify_svc::sms::SmsClient::new(
        &format!("http://127.0.0.1:{port}"),
        secrecy::SecretString::from("k".to_owned()),
        "Schoolhouse".into(),
        Duration::from_secs(2),
    )
    .unwrap();
    let err = absent
        .send(&message(PHONE, "hi"), Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(err, SendError::Connect);
    assert!(err.is_transient());
}

#[tokio::test]
async fn the_base_url_may_carry_a_path() {
    let provider = FakeProvider::start().await;
    // `{base}/v1/messages`, whether or not the base ends in a slash.
    let client = notify_svc::sms::SmsClient::new(
        &format!("{}/", provider.base_url),
        secrecy::SecretString::from("k".to_owned()),
        "Schoolhouse".into(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(client
        .send(&message(PHONE, "hi"), Uuid::new_v4())
        .await
        .is_ok());
    assert_eq!(provider.count(), 1);
}
