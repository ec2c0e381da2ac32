//! DeliveryAdminService over gRPC on a real database: a school's admins
//! list its dead and failed deliveries (recipients masked, keyset pages,
//! filtered by channel), requeue one or all; other roles are refused and
//! another school's delivery is NOT_FOUND.

use platform::{
    caller::{Caller, Role},
    testing::AssertCode,
};
use proto::notify::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::TestApp;

type Client = pb::delivery_admin_service_client::DeliveryAdminServiceClient<crate::helpers::Svc>;

fn with_caller<T>(caller: &Caller, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    caller.write(req.metadata_mut());
    req
}

fn caller(school: Uuid, role: Role) -> Caller {
    Caller {
        school_id: school,
        user_id: Uuid::now_v7(),
        role,
        student_id: None,
    }
}

/// Inserts a finished delivery job directly (as the workers leave them).
async fn job(app: &TestApp, school: Uuid, kind: &str, status: &str, to: &str) -> Uuid {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let id = Uuid::now_v7();
    let payload = match kind {
        "sms" => serde_json::json!({"to": to, "text": "Ada was absent."}),
        "email" => serde_json::json!({"to": to, "subject": "Hi", "text": "Body"}),
        _ => serde_json::json!({"user_id": to, "kind": "notification.created", "payload": {}}),
    };
    c.execute(
        "INSERT INTO notify.jobs (id, school_id, kind, payload, dedupe_key, status, attempts, \
           max_attempts, last_error) VALUES ($1, $2, $3, $4, $5, $6, 8, 8, 'relay unavailable')",
        &[&id, &school, &kind, &payload, &format!("k:{id}"), &status],
    )
    .await
    .unwrap();
    id
}

fn list(status: &str, channel: &str, limit: u32, cursor: &str) -> pb::ListDeliveriesRequest {
    pb::ListDeliveriesRequest {
        page: Some(proto::common::v1::PageRequest {
            limit,
            cursor: cursor.into(),
        }),
        status: status.into(),
        channel: channel.into(),
    }
}

#[tokio::test]
async fn admins_list_and_retry_their_schools_failed_deliveries_only() {
    let db = platform::testing::fresh_database().await.unwrap();
    let mut config = notify_svc::config::Config::for_database(&db.notify_url);
    // No workers: requeued jobs stay queued for the assertions.
    config.jobs.jobs_workers = 0;
    let app = TestApp::spawn(db.clone(), &config).await;
    let mut client = Client::new(crate::helpers::signed(app.addr));
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    let admin = caller(school, Role::Admin);
    let sms = job(&app, school, "sms", "dead", "+447700900123").await;
    let mail = job(&app, school, "email", "dead", "marge@home.test").await;
    let refused = job(&app, school, "email", "failed", "bad@home.test").await;
    let _sent = job(&app, school, "sms", "succeeded", "+447700900124").await;
    let theirs = job(&app, other, "email", "dead", "edna@home.test").await;

    // Newest first, one per page here, recipients masked.
    let p1 = client
        .list_deliveries(with_caller(&admin, list("dead", "", 1, "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p1.deliveries.len(), 1);
    assert_eq!(p1.deliveries[0].id, mail.to_string());
    assert_eq!(p1.deliveries[0].recipient, "m***@home.test");
    assert_eq!(p1.deliveries[0].last_error, "relay unavailable");
    let cursor = p1.page.unwrap().next_cursor;
    let p2 = client
        .list_deliveries(with_caller(&admin, list("dead", "", 1, &cursor)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p2.deliveries[0].id, sms.to_string());
    assert_eq!(p2.deliveries[0].recipient, "+44********23");
    assert!(p2.page.unwrap().next_cursor.is_empty());
    let failed_mail = client
        .list_deliveries(with_caller(&admin, list("failed", "email", 10, "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failed_mail.deliveries.len(), 1);
    assert_eq!(failed_mail.deliveries[0].id, refused.to_string());
    client
        .list_deliveries(with_caller(&admin, list("queued", "", 10, "")))
        .await
        .assert_code(Code::InvalidArgument);

    for role in [Role::Teacher, Role::Guardian, Role::Student] {
        client
            .list_deliveries(with_caller(&caller(school, role), list("dead", "", 10, "")))
            .await
            .assert_code(Code::PermissionDenied);
        client
            .retry_delivery(with_caller(
                &caller(school, role),
                pb::RetryDeliveryRequest {
                    id: sms.to_string(),
                },
            ))
            .await
            .assert_code(Code::PermissionDenied);
    }
    // Another school's delivery is not found, and stays dead.
    client
        .retry_delivery(with_caller(
            &admin,
            pb::RetryDeliveryRequest {
                id: theirs.to_string(),
            },
        ))
        .await
        .assert_code(Code::NotFound);

    let retried = client
        .retry_delivery(with_caller(
            &admin,
            pb::RetryDeliveryRequest {
                id: sms.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((retried.status.as_str(), retried.attempts), ("queued", 0));
    // Retrying it again: it is no longer dead.
    client
        .retry_delivery(with_caller(
            &admin,
            pb::RetryDeliveryRequest {
                id: sms.to_string(),
            },
        ))
        .await
        .assert_code(Code::NotFound);

    let all = client
        .retry_all_deliveries(with_caller(
            &admin,
            pb::RetryAllDeliveriesRequest {
                channel: "email".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.requeued, 2, "the dead and the failed e-mail");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.jobs WHERE status = 'queued' AND school_id = '{school}'"
        ))
        .await,
        3
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.jobs WHERE status = 'dead' AND id = '{theirs}'"
        ))
        .await,
        1,
        "the other school's delivery untouched"
    );
    app.stop().await;
}
