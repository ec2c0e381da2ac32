//! School settings over HTTP: set at creation, read by every signed-in
//! user, changed by the admin against a version.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn ok_body(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn settings_are_set_at_creation_read_by_everyone_and_changed_by_the_admin() {
    let gw = spawn().await;

    // Defaults: UTC, 1 September.
    let admin = gw.admin("north").await;
    let school = ok_body(gw.get("/api/v1/school", &admin).await).await;
    assert_eq!(school["slug"], "north");
    assert_eq!(school["time_zone"], "UTC");
    assert_eq!(
        (&school["year_start_month"], &school["year_start_day"]),
        (&json!(9), &json!(1))
    );
    assert_eq!(school["version"], 1);

    // Given at creation, and answered in the created school.
    let r = gw
        .post(
            "/api/v1/schools",
            &operator_token(&gw.config),
            json!({"name": "South", "slug": "south", "time_zone": "Pacific/Auckland",
                "year_start_month": 2, "year_start_day": 1,
                "admin": {"email": "admin@south.test", "password": PASSWORD, "full_name": "Sam Admin"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["school"]["time_zone"], "Pacific/Auckland");
    assert_eq!(created["school"]["year_start_month"], 2);
    assert_eq!(created["school"]["version"], 1);

    // Bad values at creation name their fields.
    let r = gw
        .post(
            "/api/v1/schools",
            &operator_token(&gw.config),
            json!({"name": "West", "slug": "west", "time_zone": "Mars/Olympus",
                "year_start_month": 2,
                "admin": {"email": "admin@west.test", "password": PASSWORD, "full_name": "Wes Admin"}}),
        )
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["time_zone", "year_start_day"]);

    // Every role reads its own school.
    let teacher = gw.teacher("north", &admin).await;
    let seen = ok_body(gw.get("/api/v1/school", &teacher).await).await;
    assert_eq!(seen["id"], school["id"]);
    let south_admin = gw.login("south", "admin@south.test").await;
    let south = ok_body(gw.get("/api/v1/school", &south_admin).await).await;
    assert_eq!(south["id"], created["school"]["id"]);

    // The admin changes the settings against the version read.
    let changed = ok_body(
        gw.patch(
            "/api/v1/school",
            &admin,
            json!({"version": 1, "time_zone": "America/Los_Angeles"}),
        )
        .await,
    )
    .await;
    assert_eq!(changed["time_zone"], "America/Los_Angeles");
    assert_eq!(changed["year_start_month"], 9, "unchanged");
    assert_eq!(changed["version"], 2);
    let changed = ok_body(
        gw.patch(
            "/api/v1/school",
            &admin,
            json!({"version": 2, "year_start_month": 1, "year_start_day": 15}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (&changed["year_start_month"], &changed["year_start_day"]),
        (&json!(1), &json!(15))
    );
    assert_eq!(changed["time_zone"], "America/Los_Angeles", "unchanged");
    assert_eq!(changed["version"], 3);

    // A stale version: 409, nothing changed.
    let r = gw
        .patch(
            "/api/v1/school",
            &admin,
            json!({"version": 2, "time_zone": "Europe/London"}),
        )
        .await;
    problem(r, 409, "version_conflict").await;

    // Bad values: 400 naming the field; a zone must be exactly a name.
    for (body, fields) in [
        (
            json!({"version": 3, "time_zone": "Mars/Olympus"}),
            vec!["time_zone"],
        ),
        (
            json!({"version": 3, "time_zone": " Europe/London"}),
            vec!["time_zone"],
        ),
        (
            json!({"version": 3, "year_start_month": 13, "year_start_day": 1}),
            vec!["year_start_month"],
        ),
        // No such day in some year: students-svc's rule.
        (
            json!({"version": 3, "year_start_month": 2, "year_start_day": 29}),
            vec!["year_start_month"],
        ),
        (
            json!({"version": 3, "year_start_day": 3}),
            vec!["year_start_month"],
        ),
        (json!({"version": 3}), vec!["time_zone"]),
    ] {
        let r = gw.patch("/api/v1/school", &admin, body.clone()).await;
        let p = problem(r, 400, "invalid_argument").await;
        assert_eq!(error_fields(&p), fields, "{body}");
    }
    let r = gw
        .patch(
            "/api/v1/school",
            &admin,
            json!({"version": 3, "slug": "renamed"}),
        )
        .await;
    problem(r, 400, "invalid_argument").await;

    // Only the admin changes them.
    let r = gw
        .patch(
            "/api/v1/school",
            &teacher,
            json!({"version": 3, "time_zone": "Europe/London"}),
        )
        .await;
    problem(r, 403, "permission_denied").await;
    let now = ok_body(gw.get("/api/v1/school", &admin).await).await;
    assert_eq!(now["version"], 3);
    assert_eq!(now["time_zone"], "America/Los_Angeles");

    // No token: 401.
    let r = gw.http.get(gw.url("/api/v1/school")).send().await.unwrap();
    problem(r, 401, "unauthenticated").await;
}
