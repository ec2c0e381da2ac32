//! What probing the running system found, as regressions: bulk requests with
//! very many bad entries, invented methods, missing fields, lax inputs and
//! oversized headers. Each answer is a precise, bounded problem+json.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// A gateway that accepts bodies large enough for 1,000 entries.
async fn roomy() -> TestGateway {
    spawn_configured(|c| c.body_limit_bytes = 1 << 20).await
}

/// A 400 whose `errors` list is cut at 20 while `error_count` says how many
/// were found; no transport text anywhere.
async fn bounded(r: reqwest::Response, at_least: usize) -> Value {
    assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = problem(r, 400, "invalid_argument").await;
    let errors = body["errors"].as_array().expect("errors listed");
    assert_eq!(errors.len(), 20, "{body}");
    let count = body["error_count"].as_u64().expect("error_count") as usize;
    assert!(count >= at_least, "{count} < {at_least}: {body}");
    let text = body.to_string();
    for leak in ["h2", "protocol", "transport", "trailer"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    body
}

async fn teacher_course(gw: &TestGateway, admin: &str) -> (String, String) {
    let r = gw
        .post(
            "/api/v1/users",
            admin,
            json!({"email": "tess@p.test", "password": PASSWORD, "full_name": "Tess", "role": "teacher"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let tess: Value = r.json().await.unwrap();
    let r = gw
        .post(
            "/api/v1/courses",
            admin,
            json!({"code": "M-1", "name": "Maths", "term": "2026-T1",
                   "teacher_id": tess["id"], "capacity": 30}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let course: Value = r.json().await.unwrap();
    (
        course["id"].as_str().unwrap().to_owned(),
        gw.login("probe", "tess@p.test").await,
    )
}

#[tokio::test]
async fn bulk_requests_with_a_thousand_bad_entries_get_a_bounded_400() {
    let gw = roomy().await;
    let admin = gw.admin("probe").await;
    let (course, tess) = teacher_course(&gw, &admin).await;
    // Today: marks and due dates read no clock rule, but need none to hold.
    let today = chrono::Utc::now().date_naive();
    let day = today.to_string();

    // Well-formed ids of students who are not enrolled: the service's check
    // finds all 400 (the per-request maximum is 500).
    let strangers: Vec<Value> = (0..400)
        .map(|_| json!({"student_id": Uuid::now_v7(), "status": "present"}))
        .collect();
    let marks = format!("/api/v1/courses/{course}/attendance/{day}");
    let body = bounded(
        gw.put(&marks, &tess, json!({"entries": strangers})).await,
        400,
    )
    .await;
    assert_eq!(body["error_count"], 400);
    assert_eq!(body["errors"][0]["field"], "entries[0].student_id");
    assert_eq!(body["errors"][19]["field"], "entries[19].student_id");

    // Ids that are not ids, and more of them than allowed.
    let junk: Vec<Value> = (0..1000)
        .map(|i| json!({"student_id": format!("x{i}"), "status": "present"}))
        .collect();
    bounded(gw.put(&marks, &tess, json!({"entries": junk})).await, 1000).await;
    let overrides: Vec<Value> = (0..1000)
        .map(|i| json!({"student_id": format!("x{i}"), "status": "excused", "reason": "r"}))
        .collect();
    bounded(
        gw.post(
            &format!("{marks}/overrides"),
            &admin,
            json!({"overrides": overrides}),
        )
        .await,
        1000,
    )
    .await;

    // Grades for 400 students not enrolled.
    let r = gw
        .post(
            &format!("/api/v1/courses/{course}/assessments"),
            &tess,
            json!({"title": "Quiz", "max_score": 10, "weight": 10, "due_date": day}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let assessment: Value = r.json().await.unwrap();
    let grades: Vec<Value> = (0..400)
        .map(|_| json!({"student_id": Uuid::now_v7(), "score": 5}))
        .collect();
    bounded(
        gw.put(
            &format!(
                "/api/v1/assessments/{}/grades",
                assessment["id"].as_str().unwrap()
            ),
            &tess,
            json!({"entries": grades}),
        )
        .await,
        400,
    )
    .await;

    // An invoice of 100 lines, each wrong twice.
    let student = gw.create_student(&admin, "A-1", "Ann").await;
    let lines: Vec<Value> = (0..100)
        .map(|_| json!({"description": "", "quantity": 0, "unit_amount": 100}))
        .collect();
    bounded(
        gw.post(
            "/api/v1/invoices",
            &admin,
            json!({"student_id": student["id"], "currency": "USD", "lines": lines,
                   "issued_on": today.to_string(),
                   "due_on": (today + chrono::Days::new(30)).to_string()}),
        )
        .await,
        200,
    )
    .await;

    // A CSV header of 10,000 unknown columns: the first problem listed is
    // which columns are known.
    let mut header = String::from("admission_no,given_name,family_name,date_of_birth,grade_level");
    for i in 0..10_000 {
        header.push_str(&format!(",extra{i}"));
    }
    header.push('\n');
    let r = gw
        .http
        .post(gw.url("/api/v1/students/import?mode=all"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(header)
        .send()
        .await
        .unwrap();
    let body = bounded(r, 10_000).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("admission_no, given_name"),
        "{body}"
    );

    assert_eq!(gw.count("attendance").await, 0);
    assert_eq!(gw.count("grades").await, 0);
    assert_eq!(gw.count("invoices").await, 0);
    assert_eq!(gw.count("students").await, 1);
}

/// The `http_server_*` series of requests to `/healthz` by any method but
/// GET: only this test sends those (the recorder is shared by every gateway
/// of the test process, and other tests run beside this one).
async fn http_series(gw: &TestGateway) -> Vec<String> {
    let text = reqwest::get(format!("{}/metrics", gw.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("http_server_")
                && l.contains("route=\"/healthz\"")
                && !l.contains("method=\"GET\"")
        })
        .map(|l| {
            l.rsplit_once(' ')
                .map_or(l, |(series, _)| series)
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics() {
    let gw = spawn().await;
    let send = |method: &str| {
        gw.http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                gw.url("/healthz"),
            )
            .send()
    };
    // One unknown method first: its series ("other") exists from then on.
    assert_eq!(
        send("XWARM").await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let before = http_series(&gw).await;
    for i in 0..1000 {
        let r = send(&format!("X{i}Y")).await.unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let after = http_series(&gw).await;
    assert_eq!(before.len(), after.len(), "{after:#?}");
    assert!(after.iter().any(|s| s.contains("method=\"other\"")));
    assert!(!after.iter().any(|s| s.contains("X1Y")));
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow_and_problem_json() {
    let gw = spawn().await;
    for path in ["/healthz", "/readyz"] {
        let r = gw
            .http
            .request(Method::TRACE, gw.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["allow"], "GET", "{path}");
        problem(r, 405, "method_not_allowed").await;
    }
    let admin = gw.admin("probe").await;
    let r = gw
        .http
        .put(gw.url("/api/v1/students"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, POST");
    problem(r, 405, "method_not_allowed").await;
    // A path that exists under no method stays a 404.
    problem(gw.get("/api/v1/nope", &admin).await, 404, "not_found").await;
}

#[tokio::test]
async fn missing_and_repeated_fields_are_named() {
    let gw = spawn().await;
    let admin = gw.admin("probe").await;
    let mut no_admission = new_student("A-1", "Ann");
    no_admission.as_object_mut().unwrap().remove("admission_no");
    let body = problem(
        gw.post("/api/v1/students", &admin, no_admission).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["admission_no"]);

    let s = gw.create_student(&admin, "A-1", "Ann").await;
    let path = format!("/api/v1/students/{}", s["id"].as_str().unwrap());
    let body = problem(
        gw.patch(&path, &admin, json!({"given_name": "Ada"})).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["version"]);

    let r = gw
        .http
        .patch(gw.url(&path))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(r#"{"version": 1, "given_name": "Ada", "given_name": "Eve"}"#)
        .send()
        .await
        .unwrap();
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["given_name"]);
    assert_eq!(body["error_count"], 1);
}

#[tokio::test]
async fn lax_inputs_are_refused() {
    let gw = spawn().await;
    let admin = gw.admin("probe").await;
    let refused = |r: reqwest::Response, field: &'static str| async move {
        let body = problem(r, 400, "invalid_argument").await;
        assert_eq!(error_fields(&body), [field], "{body}");
    };

    // Names with nothing visible, or with bidirectional controls.
    for name in [
        "\u{200D}\u{200D}",
        " \u{200B} ",
        "Ann\u{202E}lla",
        "\u{2067}Bo",
    ] {
        let mut s = new_student("A-1", "Ann");
        s["given_name"] = json!(name);
        refused(gw.post("/api/v1/students", &admin, s).await, "given_name").await;
    }
    // Dates with every digit only; ids in their canonical form only.
    let mut s = new_student("A-1", "Ann");
    s["date_of_birth"] = json!("2012-1-5");
    refused(
        gw.post("/api/v1/students", &admin, s).await,
        "date_of_birth",
    )
    .await;
    let ann = gw.create_student(&admin, "A-1", "Ann").await;
    let id = ann["id"].as_str().unwrap();
    refused(
        gw.get(&format!("/api/v1/students/{{{id}}}"), &admin).await,
        "id",
    )
    .await;
    refused(
        gw.get(&format!("/api/v1/students/{}", id.replace('-', "")), &admin)
            .await,
        "id",
    )
    .await;

    // Admission numbers are one pupil's whatever their case.
    problem(
        gw.post("/api/v1/students", &admin, new_student("a-1", "Other"))
            .await,
        409,
        "already_exists",
    )
    .await;

    // Currencies are real ISO 4217 codes.
    let today = chrono::Utc::now().date_naive();
    let invoice = |currency: &str| {
        json!({"student_id": id, "currency": currency,
               "lines": [{"description": "Tuition", "quantity": 1, "unit_amount": 100}],
               "issued_on": today.to_string(),
               "due_on": (today + chrono::Days::new(30)).to_string()})
    };
    for bad in ["ZZZ", "XTS"] {
        refused(
            gw.post("/api/v1/invoices", &admin, invoice(bad)).await,
            "currency",
        )
        .await;
    }
    let r = gw.post("/api/v1/invoices", &admin, invoice("KES")).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // A cursor of the students list is not a cursor of the guardians list.
    gw.create_student(&admin, "A-2", "Bo").await;
    let page: Value = gw
        .get("/api/v1/students?limit=1", &admin)
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().expect("a next page");
    refused(
        gw.get(&format!("/api/v1/guardians?cursor={cursor}"), &admin)
            .await,
        "cursor",
    )
    .await;
    let r = gw
        .get(&format!("/api/v1/students?limit=1&cursor={cursor}"), &admin)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_credentials_get_a_problem_not_a_dropped_connection() {
    let gw = spawn().await;
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = |payload_bytes: usize| {
        format!(
            "{}.{}.{}",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(&format!(r#"{{"sub":"{}"}}"#, "a".repeat(payload_bytes))),
            b64("signature")
        )
    };
    // A well-formed JWT with a large payload is refused as a token...
    problem(
        gw.get("/api/v1/students", &token(10_000)).await,
        401,
        "unauthenticated",
    )
    .await;
    // ...and past the header limit, before it is read at all; up to what the
    // HTTP layer buffers (128 KiB), the answer is a problem too.
    for size in [20_000, 40 * 1024, 100 * 1024] {
        let r = gw.get("/api/v1/students", &token(size)).await;
        let body = problem(r, 431, "headers_too_large").await;
        assert_eq!(
            body["detail"],
            "the request headers are larger than 16384 bytes"
        );
    }
}
