use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn crud_with_versions() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let s = gw.create_student(&admin, "A-1", "Ada").await;
    let id = s["id"].as_str().unwrap();
    assert_eq!(s["version"], 1);
    assert_eq!(s["date_of_birth"], "2014-05-17");

    let got: Value = gw
        .get(&format!("/api/v1/students/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, s);

    let patch = |version: i64, name: &str| json!({"version": version, "given_name": name});
    let r = gw
        .http
        .patch(gw.url(&format!("/api/v1/students/{id}")))
        .bearer_auth(&admin)
        .json(&patch(1, "Adaeze"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v2: Value = r.json().await.unwrap();
    assert_eq!(
        (v2["version"].as_i64(), v2["given_name"].as_str()),
        (Some(2), Some("Adaeze"))
    );

    let stale = gw
        .http
        .patch(gw.url(&format!("/api/v1/students/{id}")))
        .bearer_auth(&admin)
        .json(&patch(1, "Lost Update"))
        .send()
        .await
        .unwrap();
    problem(stale, 409, "version_conflict").await;

    let archived: Value = gw
        .http
        .delete(gw.url(&format!("/api/v1/students/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(archived["archived_at"].is_string());
    let after = gw
        .http
        .patch(gw.url(&format!("/api/v1/students/{id}")))
        .bearer_auth(&admin)
        .json(&patch(3, "Too Late"))
        .send()
        .await
        .unwrap();
    problem(after, 422, "failed_precondition").await;
}

#[tokio::test]
async fn list_pages_with_cursor() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    for i in 0..7 {
        gw.create_student(&admin, &format!("A-{i}"), &format!("Given{i}"))
            .await;
    }
    let first: Value = gw
        .get("/api/v1/students?limit=5", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = gw
        .get(&format!("/api/v1/students?limit=5&cursor={cursor}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    assert!(second["next_cursor"].is_null());
    assert_eq!(second["items"][0]["given_name"], "Given5");
    let filtered: Value = gw
        .get(
            "/api/v1/students?grade_level=5&section=A&status=active&q=giv",
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn roles_per_route() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let teacher = gw.teacher("north", &admin).await;
    let mut with_login = new_student("A-1", "Ada");
    with_login["login"] = json!({"email": "ada@north.test", "password": PASSWORD});
    let r = gw.post("/api/v1/students", &admin, with_login).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ada: Value = r.json().await.unwrap();
    let ben = gw.create_student(&admin, "A-2", "Ben").await;
    let student = gw.login("north", "ada@north.test").await;

    // Teachers read but do not write.
    assert_eq!(
        gw.get("/api/v1/students", &teacher).await.status(),
        StatusCode::OK
    );
    let write = gw
        .post("/api/v1/students", &teacher, new_student("A-3", "Cy"))
        .await;
    problem(write, 403, "permission_denied").await;
    let users = gw
        .post(
            "/api/v1/users",
            &teacher,
            json!({"email": "x@north.test", "password": PASSWORD, "full_name": "X", "role": "admin"}),
        )
        .await;
    problem(users, 403, "permission_denied").await;

    // A student reads only their own record.
    let own = gw
        .get(
            &format!("/api/v1/students/{}", ada["id"].as_str().unwrap()),
            &student,
        )
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    let other = gw
        .get(
            &format!("/api/v1/students/{}", ben["id"].as_str().unwrap()),
            &student,
        )
        .await;
    // Another student's record is not found to a student; listing is a
    // role rule (403).
    problem(other, 404, "not_found").await;
    problem(
        gw.get("/api/v1/students", &student).await,
        403,
        "permission_denied",
    )
    .await;
    let me: Value = gw
        .get("/api/v1/auth/me", &student)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["student_id"], ada["id"]);
    assert_eq!(gw.count("students").await, 2);
}

#[tokio::test]
async fn another_schools_student_is_not_found() {
    let gw = spawn().await;
    let north = gw.admin("north").await;
    let south = gw.admin("south").await;
    let s = gw.create_student(&north, "A-1", "Ada").await;
    let path = format!("/api/v1/students/{}", s["id"].as_str().unwrap());
    problem(gw.get(&path, &south).await, 404, "not_found").await;
    let patch = gw
        .http
        .patch(gw.url(&path))
        .bearer_auth(&south)
        .json(&json!({"version": 1, "given_name": "Hacked"}))
        .send()
        .await
        .unwrap();
    problem(patch, 404, "not_found").await;
    let delete = gw
        .http
        .delete(gw.url(&path))
        .bearer_auth(&south)
        .send()
        .await
        .unwrap();
    problem(delete, 404, "not_found").await;
    let list: Value = gw
        .get("/api/v1/students", &south)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    let still: Value = gw.get(&path, &north).await.json().await.unwrap();
    assert_eq!(still, s);
}
