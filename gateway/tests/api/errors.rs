use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn malformed_oversized_and_unknown_bodies_write_nothing() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let send = |body: String, content_type: &'static str| {
        gw.http
            .post(gw.url("/api/v1/students"))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let r = send("{\"admission_no\": \"A-1\",".into(), "application/json")
        .await
        .unwrap();
    problem(r, 400, "malformed_body").await;

    let huge = json!({"admission_no": "A-1", "given_name": "x".repeat(64 * 1024)}).to_string();
    let r = send(huge, "application/json").await.unwrap();
    problem(r, 413, "payload_too_large").await;

    let mut unknown = new_student("A-1", "Ada");
    unknown["is_admin"] = json!(true);
    let r = send(unknown.to_string(), "application/json").await.unwrap();
    let body = problem(r, 400, "invalid_argument").await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("is_admin"));

    let mut wrong_type = new_student("A-1", "Ada");
    wrong_type["grade_level"] = json!("five");
    let r = send(wrong_type.to_string(), "application/json")
        .await
        .unwrap();
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["grade_level"]);

    let r = send(new_student("A-1", "Ada").to_string(), "text/plain")
        .await
        .unwrap();
    problem(r, 415, "unsupported_media_type").await;

    let mut bad_date = new_student("A-1", "Ada");
    bad_date["date_of_birth"] = json!("2015-02-30");
    let r = send(bad_date.to_string(), "application/json")
        .await
        .unwrap();
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["date_of_birth"]);

    // Domain rules come back from the service, field by field.
    let r = send(
        json!({"admission_no": "A 1'; DROP TABLE students; --", "given_name": "", "family_name": "Ng",
               "date_of_birth": "2014-01-01", "grade_level": 13, "status": "active"})
        .to_string(),
        "application/json",
    )
    .await
    .unwrap();
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(
        error_fields(&body),
        ["admission_no", "given_name", "grade_level"]
    );

    assert_eq!(gw.count("students").await, 0);
}

#[tokio::test]
async fn bad_ids_limits_and_queries() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    gw.create_student(&admin, "A-1", "Ada").await;

    let body = problem(
        gw.get("/api/v1/students/not-a-uuid", &admin).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["id"]);
    let r = gw
        .http
        .delete(gw.url("/api/v1/students/1%20OR%201=1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    problem(r, 400, "invalid_argument").await;

    for limit in ["0", "-1", "1000", "abc", "101"] {
        let r = gw
            .get(&format!("/api/v1/students?limit={limit}"), &admin)
            .await;
        let body = problem(r, 400, "invalid_argument").await;
        assert_eq!(error_fields(&body), ["limit"], "limit={limit}");
    }
    for (query, field) in [
        ("grade_level=13", "grade_level"),
        ("status=expelled", "status"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        (&*format!("q={}", "a".repeat(65)), "q"),
    ] {
        let r = gw.get(&format!("/api/v1/students?{query}"), &admin).await;
        let body = problem(r, 400, "invalid_argument").await;
        assert_eq!(error_fields(&body), [field], "{query}");
    }
    let r = gw.get("/api/v1/students?colour=red", &admin).await;
    problem(r, 400, "invalid_argument").await;

    for q in ["%25", "_", "'%20OR%20'1'='1", "%5C", "Ada';--"] {
        let r = gw.get(&format!("/api/v1/students?q={q}"), &admin).await;
        assert_eq!(r.status(), StatusCode::OK, "q={q}");
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["items"], json!([]), "q={q} must match literally");
    }
    let r = gw.get("/api/v1/students?q=ad", &admin).await;
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(gw.count("students").await, 1);
}

#[tokio::test]
async fn unknown_routes_and_internal_errors_do_not_leak() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    problem(gw.get("/api/v1/nope", &admin).await, 404, "not_found").await;

    // Break the schema under the service: the client sees an opaque 500.
    let c = platform::testing::connect(&gw.db.admin_url).await.unwrap();
    c.batch_execute("ALTER TABLE students.students RENAME TO students_gone")
        .await
        .unwrap();
    let r = gw.get("/api/v1/students", &admin).await;
    let body = problem(r, 500, "internal").await;
    let text = body.to_string();
    assert_eq!(body["detail"], "internal error");
    for leak in ["relation", "students_gone", "SELECT", "does not exist"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
}

#[tokio::test]
async fn a_missed_deadline_is_504() {
    // Set up through a gateway with the normal deadline (creating a school
    // hashes a password, which may take longer than 300 ms on a loaded
    // machine), then read through a second one with a short deadline.
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let s = gw.create_student(&admin, "A-1", "Ada").await;
    let mut quick = gw.config.clone();
    quick.grpc_request_timeout_ms = 300;
    let (quick_base, _quick) = spawn_gateway_with(quick);
    wait_ready(&quick_base).await;
    let mut locker = platform::testing::connect(&gw.db.admin_url).await.unwrap();
    let tx = locker.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE students.students IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let r = gw
        .http
        .get(format!(
            "{quick_base}/api/v1/students/{}",
            s["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let body = problem(r, 504, "deadline_exceeded").await;
    assert_eq!(body["detail"], "the request took too long; retry shortly");
    tx.rollback().await.unwrap();
}
