use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.unwrap()
}

impl TestGateway {
    /// A student with a portal login: (token, student id).
    async fn student_login(
        &self,
        slug: &str,
        admin: &str,
        no: &str,
        given: &str,
    ) -> (String, String) {
        let email = format!("{}@{slug}.test", given.to_lowercase());
        let mut body = new_student(no, given);
        body["login"] = json!({"email": email, "password": PASSWORD});
        let s = json_of(
            self.post("/api/v1/students", admin, body).await,
            StatusCode::CREATED,
        )
        .await;
        let token = self.login(slug, &email).await;
        (token, s["id"].as_str().unwrap().to_owned())
    }
}

#[tokio::test]
async fn assessments_grades_and_publishing_over_http() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let (tess, tess_id) = gw.named_teacher("north", &admin, "tess@north.test").await;
    let (theo, _) = gw.named_teacher("north", &admin, "theo@north.test").await;
    let c = gw.course(&admin, "MATH-1", &tess_id, 30).await;
    let course = c["id"].as_str().unwrap().to_owned();
    let (ann, ann_id) = gw.student_login("north", &admin, "A-1", "Ann").await;
    let (ben, ben_id) = gw.student_login("north", &admin, "A-2", "Ben").await;
    let outsider = gw.create_student(&admin, "A-3", "Out").await;
    let outsider_id = outsider["id"].as_str().unwrap();
    for s in [&ann_id, &ben_id] {
        let r = gw
            .post(
                &format!("/api/v1/courses/{course}/enrolments"),
                &admin,
                json!({"student_id": s}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let assessments = format!("/api/v1/courses/{course}/assessments");

    // The course's teacher creates; points and weights are decimals.
    let a = json_of(
        gw.post(
            &assessments,
            &tess,
            json!({"title": "Quiz 1", "description": "Chapters 1-3", "max_score": 50,
                   "weight": 12.5, "due_date": "2026-12-01"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (
            a["title"].as_str(),
            a["max_score"].as_f64(),
            a["weight"].as_f64(),
            a["due_date"].as_str(),
            a["published"].as_bool(),
            a["version"].as_i64()
        ),
        (
            Some("Quiz 1"),
            Some(50.0),
            Some(12.5),
            Some("2026-12-01"),
            Some(false),
            Some(1)
        )
    );
    let id = a["id"].as_str().unwrap().to_owned();

    // Another teacher, a student: 403. Bad fields: 400 naming them.
    let body = json!({"title": "X", "max_score": 10, "weight": 10, "due_date": "2026-12-01"});
    problem(
        gw.post(&assessments, &theo, body.clone()).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        gw.post(&assessments, &ann, body).await,
        403,
        "permission_denied",
    )
    .await;
    let bad = gw
        .post(
            &assessments,
            &tess,
            json!({"title": "", "max_score": 50.555, "weight": 0, "due_date": "2026-13-01"}),
        )
        .await;
    let b = problem(bad, 400, "invalid_argument").await;
    assert_eq!(error_fields(&b), ["due_date", "max_score"]);
    let bad = gw
        .post(
            &assessments,
            &tess,
            json!({"title": "", "max_score": 0, "weight": 100.01, "due_date": "2026-12-01"}),
        )
        .await;
    let b = problem(bad, 400, "invalid_argument").await;
    assert_eq!(error_fields(&b), ["max_score", "title", "weight"]);
    let bad = gw
        .post(
            &assessments,
            &tess,
            json!({"title": "X", "max_score": "10", "weight": 10,
            "due_date": "2026-12-01", "colour": "red"}),
        )
        .await;
    problem(bad, 400, "invalid_argument").await;
    assert_eq!(gw.count("assessments").await, 1);

    let list = json_of(gw.get(&assessments, &tess).await, StatusCode::OK).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_null());
    problem(gw.get(&assessments, &theo).await, 403, "permission_denied").await;
    let one = format!("/api/v1/assessments/{id}");
    problem(gw.get(&one, &theo).await, 403, "permission_denied").await;
    problem(
        gw.get("/api/v1/assessments/nope", &tess).await,
        400,
        "invalid_argument",
    )
    .await;
    problem(
        gw.get(
            &format!("/api/v1/assessments/{}", uuid::Uuid::now_v7()),
            &tess,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Optimistic updates.
    let v2 = json_of(
        gw.patch(&one, &tess, json!({"version": 1, "title": "Quiz one"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v2["version"], 2);
    problem(
        gw.patch(&one, &tess, json!({"version": 1, "title": "Lost"}))
            .await,
        409,
        "version_conflict",
    )
    .await;

    // Bulk grades: one request for the class, idempotent.
    let grades = format!("/api/v1/assessments/{id}/grades");
    let entries = json!({"entries": [
        {"student_id": ann_id, "score": 45.5},
        {"student_id": ben_id, "score": 30}
    ]});
    let s = json_of(
        gw.put(&grades, &tess, entries.clone()).await,
        StatusCode::OK,
    )
    .await;
    let again = json_of(gw.put(&grades, &tess, entries).await, StatusCode::OK).await;
    assert_eq!(s, again);
    let mut got: Vec<(String, f64)> = s["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["student_id"].as_str().unwrap().to_owned(),
                g["score"].as_f64().unwrap(),
            )
        })
        .collect();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    let mut want = vec![(ann_id.clone(), 45.5), (ben_id.clone(), 30.0)];
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got, want);
    assert_eq!(s["published"], false);
    assert_eq!(gw.count("grades").await, 2);

    // Over the maximum, too many decimals, a student not enrolled, a repeat.
    let b = problem(
        gw.put(
            &grades,
            &tess,
            json!({"entries": [{"student_id": ann_id, "score": 50.01}]}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&b), ["entries[0].score"]);
    let b = problem(
        gw.put(
            &grades,
            &tess,
            json!({"entries": [{"student_id": ann_id, "score": 1}, {"student_id": ben_id, "score": 4.125}]}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&b), ["entries[1].score"]);
    let b = problem(
        gw.put(
            &grades,
            &tess,
            json!({"entries": [{"student_id": ann_id, "score": 1}, {"student_id": outsider_id, "score": 2},
                               {"student_id": ann_id, "score": -1}]}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(
        error_fields(&b),
        ["entries[2].score", "entries[2].student_id"]
    );
    let b = problem(
        gw.put(
            &grades,
            &tess,
            json!({"entries": [{"student_id": outsider_id, "score": 2}]}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&b), ["entries[0].student_id"]);
    problem(
        gw.put(
            &grades,
            &theo,
            json!({"entries": [{"student_id": ann_id, "score": 1}]}),
        )
        .await,
        403,
        "permission_denied",
    )
    .await;
    let sheet = json_of(gw.get(&grades, &admin).await, StatusCode::OK).await;
    assert_eq!(sheet, s, "nothing was written");
    problem(gw.get(&grades, &ann).await, 403, "permission_denied").await;

    // Drafts are not for students; nobody reads another student's grades.
    let mine = format!("/api/v1/students/{ann_id}/grades");
    let r = json_of(gw.get(&mine, &ann).await, StatusCode::OK).await;
    assert_eq!(r["items"], json!([]));
    problem(gw.get(&mine, &ben).await, 404, "not_found").await;
    let staff = json_of(gw.get(&mine, &tess).await, StatusCode::OK).await;
    assert_eq!(staff["items"][0]["published"], false);

    // Publishing: the course's teacher or an admin.
    let publish = format!("/api/v1/assessments/{id}/publish");
    problem(
        gw.post(&publish, &theo, json!({})).await,
        403,
        "permission_denied",
    )
    .await;
    let p = json_of(gw.post(&publish, &tess, json!({})).await, StatusCode::OK).await;
    assert_eq!(
        (p["published"].as_bool(), p["version"].as_i64()),
        (Some(true), Some(3))
    );
    let r = json_of(gw.get(&mine, &ann).await, StatusCode::OK).await;
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0]["title"].as_str(),
            items[0]["score"].as_f64(),
            items[0]["max_score"].as_f64(),
            items[0]["course_code"].as_str(),
            items[0]["published"].as_bool()
        ),
        (
            Some("Quiz one"),
            Some(45.5),
            Some(50.0),
            Some("MATH-1"),
            Some(true)
        )
    );
    let theirs = json_of(
        gw.get(&format!("/api/v1/students/{ben_id}/grades"), &ben)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["items"][0]["score"].as_f64(), Some(30.0));
    problem(
        gw.get(&format!("/api/v1/students/{ann_id}/grades?limit=0"), &ann)
            .await,
        400,
        "invalid_argument",
    )
    .await;

    // The maximum cannot drop below a recorded score.
    problem(
        gw.patch(&one, &tess, json!({"version": 3, "max_score": 45}))
            .await,
        422,
        "failed_precondition",
    )
    .await;

    // Another school sees none of it.
    let south = gw.admin("south").await;
    problem(gw.get(&one, &south).await, 404, "not_found").await;
    problem(gw.post(&publish, &south, json!({})).await, 404, "not_found").await;
    problem(gw.get(&mine, &south).await, 404, "not_found").await;

    // The routes are in the OpenAPI document.
    let doc = json_of(
        gw.http
            .get(gw.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    for path in [
        "/api/v1/courses/{id}/assessments",
        "/api/v1/assessments/{id}",
        "/api/v1/assessments/{id}/grades",
        "/api/v1/assessments/{id}/publish",
        "/api/v1/students/{id}/grades",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}
