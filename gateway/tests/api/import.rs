//! `POST /students/import` over real HTTP: the CSV is streamed through the
//! gateway to students-svc; reports, 422 with nothing written, size and
//! content-type limits, roles, and the list cache seeing the new students.

use reqwest::{Body, Response, StatusCode};
use serde_json::Value;

use crate::helpers::*;

const HEADER: &str = "admission_no,given_name,family_name,date_of_birth,grade_level\n";

impl TestGateway {
    async fn import(&self, token: &str, mode: &str, body: impl Into<Body>) -> Response {
        self.http
            .post(self.url(&format!("/api/v1/students/import?mode={mode}")))
            .bearer_auth(token)
            .header("content-type", "text/csv; charset=utf-8")
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_valid_file_is_imported_and_lists_show_it_at_once() {
    let gw = spawn().await;
    let admin = gw.admin("imp-north").await;
    // A cached list page, to prove the import invalidates it.
    let before = gw.get("/api/v1/students", &admin).await;
    assert_eq!(before.headers()["x-cache"], "MISS");
    let again = gw.get("/api/v1/students", &admin).await;
    assert_eq!(again.headers()["x-cache"], "HIT");

    let file = format!("{HEADER}N-1,Ann,Ok,2015-01-01,3\nN-2,Ben,Ok,2015-02-02,3\n");
    let r = gw.import(&admin, "all", file).await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["rows"], 2);
    assert_eq!(report["imported"], 2);
    assert_eq!(report["committed"], true);
    assert_eq!(report["row_errors"], serde_json::json!([]));

    let after = gw.get("/api/v1/students", &admin).await;
    assert_eq!(
        after.headers()["x-cache"],
        "MISS",
        "the import invalidated the list"
    );
    let page: Value = after.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_file_with_errors_is_a_422_report_and_writes_nothing() {
    let gw = spawn().await;
    let admin = gw.admin("imp-bad").await;
    let file = format!("{HEADER}N-1,Ann,Ok,2015-01-01,3\nN-2,,Ok,2015-02-02,14\n");
    let r = gw.import(&admin, "all", file.clone()).await;
    let body = problem(r, 422, "import_rejected").await;
    assert_eq!(body["committed"], false);
    assert_eq!(body["imported"], 0);
    let errors: Vec<(u64, &str)> = body["row_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(3, "given_name"), (3, "grade_level")]);
    assert_eq!(gw.count("students").await, 0);

    let partial = gw.import(&admin, "partial", file).await;
    assert_eq!(partial.status(), StatusCode::OK);
    let report: Value = partial.json().await.unwrap();
    assert_eq!(
        (report["imported"].as_u64(), report["committed"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(gw.count("students").await, 1);
}

#[tokio::test]
async fn limits_types_roles_and_bad_files_are_refused() {
    let gw = spawn_configured(|c| c.import_limit_bytes = 4096).await;
    let admin = gw.admin("imp-lim").await;
    let teacher = gw.teacher("imp-lim", &admin).await;
    let ok_file = format!("{HEADER}N-1,Ann,Ok,2015-01-01,3\n");

    problem(
        gw.import(&teacher, "all", ok_file.clone()).await,
        403,
        "permission_denied",
    )
    .await;
    let wrong_mode = problem(
        gw.import(&admin, "maybe", ok_file.clone()).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&wrong_mode), ["query"]);
    let json = gw
        .http
        .post(gw.url("/api/v1/students/import"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"rows": []}))
        .send()
        .await
        .unwrap();
    problem(json, 415, "unsupported_media_type").await;
    let header_only = problem(
        gw.import(&admin, "all", "nonsense\n").await,
        400,
        "invalid_argument",
    )
    .await;
    // Which columns are known, then each problem: one unknown column and
    // the five required ones missing.
    assert_eq!(error_fields(&header_only), ["header"; 7]);
    assert_eq!(header_only["error_count"], 7);
    assert!(header_only["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("columns must be among: admission_no, given_name"));
    assert_eq!(
        header_only["errors"][1]["message"],
        "unknown column \"nonsense\""
    );

    // Over the limit: 413, and the truncated upload is never taken for a
    // whole file (the rows that did arrive are valid on their own).
    let mut big = String::from(HEADER);
    for i in 0..200 {
        big.push_str(&format!("L-{i:04},Ann,Ok,2015-01-01,3\n"));
    }
    let r = gw.import(&admin, "partial", big).await;
    problem(r, 413, "payload_too_large").await;
    assert_eq!(gw.count("students").await, 0, "nothing written");
}
