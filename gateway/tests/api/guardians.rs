//! Guardians and staff profiles over real HTTP, with a real students-svc.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn x_cache(r: &Response) -> String {
    r.headers()
        .get("x-cache")
        .map_or("none", |v| v.to_str().unwrap())
        .to_owned()
}

fn new_guardian(given: &str, login: Option<&str>) -> Value {
    let mut g = json!({
        "given_name": given,
        "family_name": "Ng",
        "relationship": "mother",
        "phone": "+447911123456",
        "email": format!("{}@home.test", given.to_lowercase()),
        "notifications": {"sms": true, "email": true}
    });
    if let Some(email) = login {
        g["login"] = json!({"email": email, "password": PASSWORD});
    }
    g
}

impl TestGateway {
    async fn create_guardian(&self, token: &str, body: Value) -> Value {
        let r = self.post("/api/v1/guardians", token, body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }

    async fn user_id(&self, token: &str) -> String {
        let me: Value = self
            .get("/api/v1/auth/me", token)
            .await
            .json()
            .await
            .unwrap();
        me["id"].as_str().unwrap().to_owned()
    }
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn guardians_crud_links_and_errors() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let teacher = gw.teacher("north", &admin).await;
    let ada = gw.create_student(&admin, "A-1", "Ada").await;

    let g = gw.create_guardian(&admin, new_guardian("Mary", None)).await;
    assert_eq!(g["relationship"], "mother");
    assert_eq!(g["phone"], "+447911123456");
    assert_eq!(
        g["notifications"],
        json!({"sms": true, "email": true, "push": false})
    );
    assert_eq!(g["version"], 1);
    assert_eq!(g["user_id"], Value::Null);
    let path = format!("/api/v1/guardians/{}", id(&g));

    // 400: every bad field, by path; unknown fields; bad enum values.
    let mut bad = new_guardian("Mary", Some("x"));
    bad["phone"] = json!("07911 123456");
    bad["email"] = json!("nope");
    let r = gw.post("/api/v1/guardians", &admin, bad).await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["email", "login.email", "phone"]);
    let mut no_phone = new_guardian("Mary", None);
    no_phone["phone"] = Value::Null;
    let body = problem(
        gw.post("/api/v1/guardians", &admin, no_phone).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["notifications.sms"]);
    let mut unknown = new_guardian("Mary", None);
    unknown["school_id"] = json!("00000000-0000-0000-0000-000000000000");
    problem(
        gw.post("/api/v1/guardians", &admin, unknown).await,
        400,
        "invalid_argument",
    )
    .await;
    let mut aunt = new_guardian("Mary", None);
    aunt["relationship"] = json!("aunt");
    let body = problem(
        gw.post("/api/v1/guardians", &admin, aunt).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["relationship"]);
    assert_eq!(gw.count("guardians").await, 1);

    // 403 for teachers' writes; teachers read.
    problem(
        gw.post("/api/v1/guardians", &teacher, new_guardian("Tom", None))
            .await,
        403,
        "permission_denied",
    )
    .await;
    let got: Value = gw.get(&path, &teacher).await.json().await.unwrap();
    assert_eq!(got, g);

    // PATCH with versions.
    let r = gw
        .patch(
            &path,
            &admin,
            json!({"version": 1, "phone": "", "notifications": {"email": true, "push": true}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v2: Value = r.json().await.unwrap();
    assert_eq!(
        (v2["version"].as_i64(), &v2["phone"]),
        (Some(2), &Value::Null)
    );
    problem(
        gw.patch(&path, &admin, json!({"version": 1, "given_name": "Lost"}))
            .await,
        409,
        "version_conflict",
    )
    .await;

    // Links: create, duplicate, other school's, unlink.
    let link = format!("{path}/students/{}", id(&ada));
    let r = gw.put(&link, &admin, json!({"is_primary": true})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let l: Value = r.json().await.unwrap();
    assert_eq!(
        (&l["relationship"], &l["is_primary"]),
        (&json!("mother"), &json!(true))
    );
    problem(
        gw.put(&link, &admin, json!({})).await,
        409,
        "already_exists",
    )
    .await;
    problem(
        gw.put(&format!("{path}/students/not-a-uuid"), &admin, json!({}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    let listed: Value = gw
        .get(
            &format!("/api/v1/guardians?student_id={}", id(&ada)),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["students"][0]["student_id"], ada["id"]);

    let south = gw.admin("south").await;
    problem(gw.get(&path, &south).await, 404, "not_found").await;
    problem(gw.put(&link, &south, json!({})).await, 404, "not_found").await;
    let theirs = gw.create_student(&south, "S-1", "Sam").await;
    problem(
        gw.put(
            &format!("{path}/students/{}", id(&theirs)),
            &admin,
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let r = gw.delete(&link, &admin).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(gw.delete(&link, &admin).await, 404, "not_found").await;
    assert_eq!(gw.count("guardian_students").await, 0);
}

#[tokio::test]
async fn guardians_login_reads_their_children_through_the_gateway() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let ada = gw.create_student(&admin, "A-1", "Ada").await;
    let ben = gw.create_student(&admin, "A-2", "Ben").await;
    let cy = gw.create_student(&admin, "A-3", "Cy").await;
    let mum = gw
        .create_guardian(&admin, new_guardian("Mary", Some("mary@north.test")))
        .await;
    let lee = gw
        .create_guardian(&admin, new_guardian("Lee", Some("lee@north.test")))
        .await;
    for (g, s) in [(&mum, &ada), (&mum, &ben), (&lee, &cy)] {
        let r = gw
            .put(
                &format!("/api/v1/guardians/{}/students/{}", id(g), id(s)),
                &admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let mary = gw.login("north", "mary@north.test").await;
    let lee_token = gw.login("north", "lee@north.test").await;
    let me: Value = gw.get("/api/v1/auth/me", &mary).await.json().await.unwrap();
    assert_eq!(
        (&me["role"], &me["id"]),
        (&json!("guardian"), &mum["user_id"])
    );

    let children: Value = gw
        .get("/api/v1/me/children", &mary)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = children["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["given_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Ben"]);
    problem(
        gw.get("/api/v1/me/children", &admin).await,
        403,
        "permission_denied",
    )
    .await;

    // Her child: served, then cached for her alone.
    let ada_path = format!("/api/v1/students/{}", id(&ada));
    let first = gw.get(&ada_path, &mary).await;
    assert_eq!(
        (first.status(), x_cache(&first).as_str()),
        (StatusCode::OK, "MISS")
    );
    let body: Value = first.json().await.unwrap();
    assert_eq!(body, ada);
    let again = gw.get(&ada_path, &mary).await;
    assert_eq!(
        (again.status(), x_cache(&again).as_str()),
        (StatusCode::OK, "HIT")
    );
    // Another guardian never gets her cached copy: not theirs is not found.
    problem(gw.get(&ada_path, &lee_token).await, 404, "not_found").await;
    problem(
        gw.get(&format!("/api/v1/students/{}", id(&cy)), &mary)
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        gw.get("/api/v1/students", &mary).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        gw.get("/api/v1/guardians", &mary).await,
        403,
        "permission_denied",
    )
    .await;

    // Unlinking ends access at once, cached copy or not.
    let ben_path = format!("/api/v1/students/{}", id(&ben));
    assert_eq!(gw.get(&ben_path, &mary).await.status(), StatusCode::OK);
    let hit = gw.get(&ben_path, &mary).await;
    assert_eq!(x_cache(&hit), "HIT");
    let r = gw
        .delete(
            &format!("/api/v1/guardians/{}/students/{}", id(&mum), id(&ben)),
            &admin,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(gw.get(&ben_path, &mary).await, 404, "not_found").await;
}

#[tokio::test]
async fn guardians_staff_profiles_over_http() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let teacher = gw.teacher("north", &admin).await;
    let teacher_id = gw.user_id(&teacher).await;
    let admin_id = gw.user_id(&admin).await;
    let path = format!("/api/v1/staff/{teacher_id}");
    let body = json!({"phone": "+12025550123", "subjects": ["Maths"], "employee_no": "T-1", "hired_on": "2020-09-01"});

    let r = gw.put(&path, &admin, body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["profile"]["hired_on"], "2020-09-01");
    assert_eq!(saved["profile"]["subjects"], json!(["Maths"]));
    let own: Value = gw.get(&path, &teacher).await.json().await.unwrap();
    assert_eq!(own, saved);
    let list: Value = gw.get("/api/v1/staff", &admin).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["user_id"], teacher_id.as_str());

    problem(
        gw.get("/api/v1/staff", &teacher).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        gw.get(&format!("/api/v1/staff/{admin_id}"), &teacher).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        gw.put(&path, &teacher, body.clone()).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        gw.put(
            &format!("/api/v1/staff/{admin_id}"),
            &admin,
            json!({"employee_no": "A-1", "hired_on": "2020-09-01"}),
        )
        .await,
        422,
        "failed_precondition",
    )
    .await;
    let bad = problem(
        gw.put(&path, &admin, json!({"phone": "12", "employee_no": "T 1", "hired_on": "2020-09-01", "subjects": [""]}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&bad), ["employee_no", "phone", "subjects[0]"]);
    problem(
        gw.put(
            &path,
            &admin,
            json!({"employee_no": "T-1", "hired_on": "1 Sept"}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;

    let other = gw
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "tom@north.test", "password": PASSWORD, "full_name": "Tom", "role": "teacher"}),
        )
        .await;
    let other: Value = other.json().await.unwrap();
    problem(
        gw.put(
            &format!("/api/v1/staff/{}", id(&other)),
            &admin,
            body.clone(),
        )
        .await,
        409,
        "already_exists",
    )
    .await;
    let south = gw.admin("south").await;
    problem(gw.get(&path, &south).await, 404, "not_found").await;
    assert_eq!(gw.count("staff_profiles").await, 1);
}

#[tokio::test]
async fn guardians_and_staff_routes_are_documented() {
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
    for (path, methods) in [
        ("/api/v1/guardians", &["get", "post"][..]),
        ("/api/v1/guardians/{id}", &["get", "patch"]),
        (
            "/api/v1/guardians/{id}/students/{student_id}",
            &["put", "delete"],
        ),
        ("/api/v1/me/children", &["get"]),
        ("/api/v1/staff", &["get"]),
        ("/api/v1/staff/{user_id}", &["get", "put"]),
    ] {
        for m in methods {
            assert!(doc["paths"][path].get(m).is_some(), "{m} {path} missing");
        }
    }
    for schema in [
        "Guardian",
        "CreateGuardianBody",
        "StaffMember",
        "StaffProfileBody",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
}
