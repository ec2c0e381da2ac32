use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

impl TestGateway {
    /// A teacher of `slug` with the given e-mail: (token, user id).
    pub async fn named_teacher(&self, slug: &str, admin: &str, email: &str) -> (String, String) {
        let r = self
            .post(
                "/api/v1/users",
                admin,
                json!({"email": email, "password": PASSWORD, "full_name": "Tess Teacher", "role": "teacher"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let user: Value = r.json().await.unwrap();
        let token = self.login(slug, email).await;
        (token, user["id"].as_str().unwrap().to_owned())
    }

    pub async fn course(&self, admin: &str, code: &str, teacher: &str, capacity: i32) -> Value {
        let r = self
            .post(
                "/api/v1/courses",
                admin,
                json!({"code": code, "name": format!("Course {code}"), "term": "2026-T1",
                       "teacher_id": teacher, "capacity": capacity}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }
}

async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.unwrap()
}

#[tokio::test]
async fn courses_slots_enrolments_and_attendance_over_http() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let (tess, tess_id) = gw.named_teacher("north", &admin, "tess@north.test").await;
    let (theo, theo_id) = gw.named_teacher("north", &admin, "theo@north.test").await;

    let c = gw.course(&admin, "MATH-1", &tess_id, 30).await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (c["version"].as_i64(), c["term"].as_str()),
        (Some(1), Some("2026-T1"))
    );

    // Only admins create; the teacher reads their own course, not another's.
    let r = gw
        .post("/api/v1/courses", &tess, json!({"code": "X", "name": "X", "term": "2026-T1", "teacher_id": tess_id, "capacity": 5}))
        .await;
    problem(r, 403, "permission_denied").await;
    let got = json_of(
        gw.get(&format!("/api/v1/courses/{id}"), &tess).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["code"], "MATH-1");
    problem(
        gw.get(&format!("/api/v1/courses/{id}"), &theo).await,
        403,
        "permission_denied",
    )
    .await;

    // PATCH with versions.
    let v2 = json_of(
        gw.patch(
            &format!("/api/v1/courses/{id}"),
            &admin,
            json!({"version": 1, "name": "Algebra"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (v2["version"].as_i64(), v2["name"].as_str()),
        (Some(2), Some("Algebra"))
    );
    let stale = gw
        .patch(
            &format!("/api/v1/courses/{id}"),
            &admin,
            json!({"version": 1, "name": "Lost"}),
        )
        .await;
    problem(stale, 409, "version_conflict").await;

    // Slots, with a room clash.
    let s = json_of(
        gw.post(
            &format!("/api/v1/courses/{id}/slots"),
            &admin,
            json!({"weekday": 1, "start": "09:00", "end": "10:00", "room": "R1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(s["start"], "09:00");
    let art = gw.course(&admin, "ART-1", &theo_id, 30).await;
    let art_id = art["id"].as_str().unwrap();
    let clash = gw
        .post(
            &format!("/api/v1/courses/{art_id}/slots"),
            &admin,
            json!({"weekday": 1, "start": "09:30", "end": "10:30", "room": "R1"}),
        )
        .await;
    let body = problem(clash, 409, "already_exists").await;
    assert!(body["detail"].as_str().unwrap().contains("room"), "{body}");
    let bad = gw
        .post(
            &format!("/api/v1/courses/{art_id}/slots"),
            &admin,
            json!({"weekday": 9, "start": "9", "end": "08:00", "room": ""}),
        )
        .await;
    let body = problem(bad, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["room", "start", "weekday"]);
    let got = json_of(
        gw.get(&format!("/api/v1/courses/{id}"), &admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["slots"].as_array().unwrap().len(), 1);

    // Teachers list only their own courses.
    let mine = json_of(gw.get("/api/v1/courses", &tess).await, StatusCode::OK).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let all = json_of(
        gw.get("/api/v1/courses?limit=1", &admin).await,
        StatusCode::OK,
    )
    .await;
    let cursor = all["next_cursor"].as_str().unwrap();
    let rest = json_of(
        gw.get(&format!("/api/v1/courses?limit=1&cursor={cursor}"), &admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            all["items"][0]["code"].as_str(),
            rest["items"][0]["code"].as_str()
        ),
        (Some("ART-1"), Some("MATH-1"))
    );
    assert!(rest["next_cursor"].is_null());

    // Enrolments.
    let a = gw.create_student(&admin, "A-1", "Ada").await;
    let b = gw.create_student(&admin, "A-2", "Bo").await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    for sid in [a_id, b_id] {
        let r = gw
            .post(
                &format!("/api/v1/courses/{id}/enrolments"),
                &admin,
                json!({"student_id": sid}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let again = gw
        .post(
            &format!("/api/v1/courses/{id}/enrolments"),
            &admin,
            json!({"student_id": a_id}),
        )
        .await;
    problem(again, 409, "already_exists").await;
    let roster = json_of(
        gw.get(&format!("/api/v1/courses/{id}/enrolments"), &tess)
            .await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = roster["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["given_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Bo"]);

    // Attendance: an idempotent bulk PUT, then an office override.
    let path = format!("/api/v1/courses/{id}/attendance/2026-11-23");
    let body = json!({"entries": [
        {"student_id": a_id, "status": "present"},
        {"student_id": b_id, "status": "absent", "note": "no word"}]});
    let first = json_of(gw.put(&path, &tess, body.clone()).await, StatusCode::OK).await;
    assert_eq!(first["records"].as_array().unwrap().len(), 2);
    let second = json_of(gw.put(&path, &tess, body).await, StatusCode::OK).await;
    assert_eq!(first, second, "a replay answers the same");
    assert_eq!(gw.count("attendance").await, 2);
    let wrong = gw
        .put(
            &path,
            &theo,
            json!({"entries": [{"student_id": a_id, "status": "absent"}]}),
        )
        .await;
    problem(wrong, 403, "permission_denied").await;

    let overrides = format!("{path}/overrides");
    let ov = json!({"overrides": [{"student_id": b_id, "status": "excused", "reason": "doctor"}]});
    problem(
        gw.post(&overrides, &tess, ov.clone()).await,
        403,
        "permission_denied",
    )
    .await;
    let s = json_of(gw.post(&overrides, &admin, ov).await, StatusCode::OK).await;
    let rb = s["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["student_id"] == b_id)
        .unwrap()
        .clone();
    assert_eq!(
        (
            rb["teacher_status"].as_str(),
            rb["override_status"].as_str(),
            rb["effective_status"].as_str()
        ),
        (Some("absent"), Some("excused"), Some("excused"))
    );
    assert_eq!(rb["revision"], 2);
    let read = json_of(gw.get(&path, &tess).await, StatusCode::OK).await;
    assert_eq!(read, s);

    let rollup = json_of(
        gw.get(
            &format!("/api/v1/students/{b_id}/attendance?from=2026-11-01&to=2026-11-30"),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        rollup["days"],
        json!([{"date": "2026-11-23", "present": 0, "absent": 0, "late": 0, "excused": 1}])
    );

    // Withdrawal frees the seat.
    let w = json_of(
        gw.delete(&format!("/api/v1/courses/{id}/enrolments/{a_id}"), &admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(w["withdrawn_at"].is_string());
    problem(
        gw.delete(&format!("/api/v1/courses/{id}/enrolments/{a_id}"), &admin)
            .await,
        404,
        "not_found",
    )
    .await;
    let got = json_of(
        gw.get(&format!("/api/v1/courses/{id}"), &admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["enrolled"], 1);
}

#[tokio::test]
async fn bad_input_full_courses_and_other_schools_over_http() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let (tess, tess_id) = gw.named_teacher("north", &admin, "tess@north.test").await;

    let r = gw
        .post("/api/v1/courses", &admin, json!({"code": "bad code", "name": "", "term": "2026", "teacher_id": "x", "capacity": 0}))
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(
        error_fields(&body),
        ["capacity", "code", "name", "teacher_id", "term"]
    );
    let r = gw
        .post("/api/v1/courses", &admin, json!({"code": "M1", "name": "M", "term": "2026-T1", "teacher_id": tess_id, "capacity": 5, "room": "R1"}))
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["room"]);
    assert_eq!(gw.count("courses").await, 0);

    let c = gw.course(&admin, "M1", &tess_id, 1).await;
    let id = c["id"].as_str().unwrap();
    let dup = gw
        .post("/api/v1/courses", &admin, json!({"code": "M1", "name": "Again", "term": "2026-T1", "teacher_id": tess_id, "capacity": 5}))
        .await;
    problem(dup, 409, "already_exists").await;

    let a = gw.create_student(&admin, "A-1", "Ada").await;
    let b = gw.create_student(&admin, "A-2", "Bo").await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let r = gw
        .post(
            &format!("/api/v1/courses/{id}/enrolments"),
            &admin,
            json!({"student_id": a_id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let full = gw
        .post(
            &format!("/api/v1/courses/{id}/enrolments"),
            &admin,
            json!({"student_id": b_id}),
        )
        .await;
    let body = problem(full, 422, "failed_precondition").await;
    assert_eq!(body["detail"], "course is full");

    // Attendance input errors name the entry.
    let path = format!("/api/v1/courses/{id}/attendance/2026-11-23");
    let r = gw
        .put(
            &path,
            &tess,
            json!({"entries": [{"student_id": a_id, "status": "asleep"}]}),
        )
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["entries[0].status"]);
    let r = gw
        .put(&path, &tess, json!({"entries": [{"student_id": a_id, "status": "present"}, {"student_id": b_id, "status": "present"}]}))
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["entries[1].student_id"]);
    let r = gw
        .put(
            &format!("/api/v1/courses/{id}/attendance/2026-02-30?period=13"),
            &tess,
            json!({"entries": [{"student_id": a_id, "status": "present"}]}),
        )
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["date"]);
    let r = gw
        .put(
            &format!("{path}?period=13"),
            &tess,
            json!({"entries": [{"student_id": a_id, "status": "present"}]}),
        )
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["period"]);
    assert_eq!(gw.count("attendance").await, 0);

    let r = gw
        .get(
            &format!("/api/v1/students/{a_id}/attendance?from=2026-01-01&to=2026-06-30"),
            &admin,
        )
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["to"]);
    let r = gw
        .get(&format!("/api/v1/students/{a_id}/attendance"), &admin)
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["from", "to"]);

    // Paths: malformed ids are 400, other schools' ids 404.
    let r = gw.get("/api/v1/courses/not-a-uuid", &admin).await;
    assert_eq!(
        error_fields(&problem(r, 400, "invalid_argument").await),
        ["id"]
    );
    let r = gw
        .delete(&format!("/api/v1/courses/{id}/enrolments/nope"), &admin)
        .await;
    assert_eq!(
        error_fields(&problem(r, 400, "invalid_argument").await),
        ["student_id"]
    );
    let south = gw.admin("south").await;
    problem(
        gw.get(&format!("/api/v1/courses/{id}"), &south).await,
        404,
        "not_found",
    )
    .await;
    problem(
        gw.get(&format!("/api/v1/courses/{id}/enrolments"), &south)
            .await,
        404,
        "not_found",
    )
    .await;
    let r = gw
        .post(
            &format!("/api/v1/courses/{id}/enrolments"),
            &south,
            json!({"student_id": a_id}),
        )
        .await;
    problem(r, 404, "not_found").await;
    problem(
        gw.get(
            &format!("/api/v1/students/{a_id}/attendance?from=2026-11-01&to=2026-11-02"),
            &south,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let r = gw
        .patch(
            &format!("/api/v1/courses/{id}"),
            &south,
            json!({"version": 1, "name": "Stolen"}),
        )
        .await;
    problem(r, 404, "not_found").await;
}
