//! `GET`/`PUT /api/v1/notification-templates/{kind}/{lang}` through the
//! gateway to a real notify-svc: admins only (teacher and guardian 403),
//! validated on save (a template that does not render is a 400 naming the
//! error, nothing saved), one school's override invisible to another; and
//! the failed-deliveries admin routes (`/api/v1/admin/deliveries`).

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

use platform::testing::redis::redis_url;

use crate::helpers::*;

const PATH: &str = "/api/v1/notification-templates/payment_receipt/en";

/// notify-svc on the test's database (no consumer: templates only).
async fn spawn_notify(notify_url: &str) -> (String, oneshot::Sender<()>) {
    let c = notify_svc::config::Config::for_database(notify_url);
    let app = notify_svc::Application::build(&c)
        .await
        .expect("build notify-svc");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
}

#[tokio::test]
async fn templates_are_admin_only_validated_on_save_and_per_school() {
    init_logs();
    let db = platform::testing::fresh_database().await.unwrap();
    let (students_url, stop_students) = spawn_students(&db).await;
    let (notify_url, _stop_notify) = spawn_notify(&db.notify_url).await;
    let mut config = gateway::config::Config::for_tests(students_url, redis_url());
    config.notify_url = notify_url;
    let gw = gateway_for(db, config, stop_students).await;
    let slug = format!("t{}", &Uuid::new_v4().simple().to_string()[..8]);
    let other = format!("o{}", &Uuid::new_v4().simple().to_string()[..8]);
    let admin = gw.admin(&slug).await;
    let other_admin = gw.admin(&other).await;
    let teacher = gw.teacher(&slug, &admin).await;
    let r = gw
        .post(
            "/api/v1/guardians",
            &admin,
            json!({"given_name": "Mary", "family_name": "Ng", "relationship": "mother",
                   "email": format!("mary@{slug}.test"),
                   "login": {"email": format!("mary@{slug}.test"), "password": PASSWORD}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let guardian = gw.login(&slug, &format!("mary@{slug}.test")).await;

    // The built-in template, with its variables and a sample.
    let r = gw.get(PATH, &admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    let builtin: Value = r.json().await.unwrap();
    assert_eq!(builtin["custom"], false);
    assert!(builtin["variables"]
        .as_array()
        .unwrap()
        .contains(&json!("balance")));
    assert!(builtin["sample"]["subject"]
        .as_str()
        .unwrap()
        .starts_with("Receipt: 100.00 EUR"));

    // Teachers and guardians may neither read nor write.
    for token in [&teacher, &guardian] {
        problem(gw.get(PATH, token).await, 403, "permission_denied").await;
        let r = gw
            .put(PATH, token, json!({"subject": "x", "body": "y"}))
            .await;
        problem(r, 403, "permission_denied").await;
    }

    // A template naming an unknown variable, or broken, is a 400 naming the
    // error; so are an unknown kind and a bad language.
    let r = gw
        .put(
            PATH,
            &admin,
            json!({"subject": "Paid", "body": "{{ secret }}"}),
        )
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["body"]);
    assert!(body.to_string().contains("undefined value"), "{body}");
    let r = gw
        .put(PATH, &admin, json!({"subject": "{% if %}", "body": "ok"}))
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["subject"]);
    let r = gw
        .put(
            "/api/v1/notification-templates/absence/english",
            &admin,
            json!({"subject": "a", "body": "b"}),
        )
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["kind", "lang"]);
    let r = gw
        .put(
            PATH,
            &admin,
            json!({"subject": "a", "body": "b", "extra": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(gw.db.count("notify.notification_templates").await, 0);

    // Saved, then read back; the other school still sees the built-in one.
    let r = gw
        .put(
            PATH,
            &admin,
            json!({"subject": "Paid {{ amount }} {{ currency }}", "body": "Left: {{ balance }}"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["custom"], true);
    assert_eq!(saved["sample"]["subject"], "Paid 100.00 EUR");
    let read: Value = gw.get(PATH, &admin).await.json().await.unwrap();
    assert_eq!(read["subject"], "Paid {{ amount }} {{ currency }}");
    let theirs: Value = gw.get(PATH, &other_admin).await.json().await.unwrap();
    assert_eq!(theirs["custom"], false);
    assert_eq!(theirs["subject"], builtin["subject"]);
}

#[tokio::test]
async fn the_template_routes_are_in_the_openapi_document() {
    let gw = spawn().await;
    let doc: Value = gw
        .http
        .get(gw.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = &doc["paths"]["/api/v1/notification-templates/{kind}/{lang}"];
    assert!(path["get"].is_object() && path["put"].is_object(), "{path}");
    for (p, method) in [
        ("/api/v1/admin/deliveries", "get"),
        ("/api/v1/admin/deliveries/{id}/retry", "post"),
        ("/api/v1/admin/deliveries/retry-all", "post"),
    ] {
        assert!(doc["paths"][p][method].is_object(), "{p} {method}");
    }
}

/// A dead e-mail delivery of the school, as the workers leave one.
async fn dead_delivery(db: &platform::testing::TestDatabase, school: &str, to: &str) -> Uuid {
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let id = Uuid::now_v7();
    let school: Uuid = school.parse().unwrap();
    c.execute(
        "INSERT INTO notify.jobs (id, school_id, kind, payload, dedupe_key, status, attempts, \
           max_attempts, last_error) VALUES ($1, $2, 'email', $3, $4, 'dead', 8, 8, \
           'relay unavailable (SMTP 421)')",
        &[
            &id,
            &school,
            &json!({"to": to, "subject": "Receipt", "text": "Thanks"}),
            &format!("email:{id}"),
        ],
    )
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn failed_deliveries_are_listed_masked_and_retried_by_their_schools_admins() {
    init_logs();
    let db = platform::testing::fresh_database().await.unwrap();
    let (students_url, stop_students) = spawn_students(&db).await;
    // Workers off: a retried delivery stays queued for the assertions.
    let mut c = notify_svc::config::Config::for_database(&db.notify_url);
    c.jobs.jobs_workers = 0;
    let app = notify_svc::Application::build(&c).await.unwrap();
    let notify_url = format!("http://{}", app.local_addr());
    let (_stop_notify, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let mut config = gateway::config::Config::for_tests(students_url, redis_url());
    config.notify_url = notify_url;
    let gw = gateway_for(db, config, stop_students).await;
    let slug = format!("d{}", &Uuid::new_v4().simple().to_string()[..8]);
    let other = format!("e{}", &Uuid::new_v4().simple().to_string()[..8]);
    let school = gw.create_school(&slug).await;
    let theirs = gw.create_school(&other).await;
    let admin = gw.login(&slug, &format!("admin@{slug}.test")).await;
    let other_admin = gw.login(&other, &format!("admin@{other}.test")).await;
    let teacher = gw.teacher(&slug, &admin).await;
    let mine = dead_delivery(
        &gw.db,
        school["school"]["id"].as_str().unwrap(),
        "marge@home.test",
    )
    .await;
    let their = dead_delivery(
        &gw.db,
        theirs["school"]["id"].as_str().unwrap(),
        "edna@home.test",
    )
    .await;

    let r = gw
        .get("/api/v1/admin/deliveries?status=dead&channel=email", &admin)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["id"], mine.to_string());
    assert_eq!(page["items"][0]["recipient"], "m***@home.test");
    assert!(!page.to_string().contains("marge@"), "addresses masked");
    let body = problem(
        gw.get("/api/v1/admin/deliveries?status=queued&channel=fax", &admin)
            .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["channel", "status"]);

    problem(
        gw.get("/api/v1/admin/deliveries?status=dead", &teacher)
            .await,
        403,
        "permission_denied",
    )
    .await;
    let r = gw
        .post(
            &format!("/api/v1/admin/deliveries/{mine}/retry"),
            &teacher,
            json!({}),
        )
        .await;
    problem(r, 403, "permission_denied").await;
    // Another school's delivery: 404, and it stays dead.
    let r = gw
        .post(
            &format!("/api/v1/admin/deliveries/{their}/retry"),
            &admin,
            json!({}),
        )
        .await;
    problem(r, 404, "not_found").await;

    let r = gw
        .post(
            &format!("/api/v1/admin/deliveries/{mine}/retry"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let retried: Value = r.json().await.unwrap();
    assert_eq!(retried["status"], "queued");
    let r = gw
        .post(
            "/api/v1/admin/deliveries/retry-all?channel=email",
            &other_admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["requeued"], 1);
    assert_eq!(gw.db.count("notify.jobs WHERE status = 'dead'").await, 0);
}
