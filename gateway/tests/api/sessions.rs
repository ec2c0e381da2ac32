//! Sessions over HTTP (issue 19): refresh rotation and reuse detection,
//! logout (one session, every session), and revocation on archive,
//! deactivation, password change and role change, effective within a second
//! on a second gateway instance; an admin's reset forcing a change.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// A sign-in: its access and refresh tokens.
struct Pair {
    access: String,
    refresh: String,
}

async fn sign_in(gw: &TestGateway, slug: &str, email: &str, password: &str) -> Pair {
    let r = gw
        .http
        .post(gw.url("/api/v1/auth/login"))
        .json(&json!({"school": slug, "email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "sign in {email}");
    pair(r.json().await.unwrap())
}

fn pair(body: Value) -> Pair {
    Pair {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn refresh(gw: &TestGateway, token: &str) -> reqwest::Response {
    gw.http
        .post(gw.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

/// `GET /auth/me` with `token` at `base`: the status.
async fn me(http: &reqwest::Client, base: &str, token: &str) -> StatusCode {
    http.get(format!("{base}/api/v1/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits (at most a second) until `token` is refused at `base`; the time.
async fn refused_within_a_second(http: &reqwest::Client, base: &str, token: &str) -> Duration {
    let started = Instant::now();
    loop {
        let status = me(http, base, token).await;
        if status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still accepted a second after its revocation"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A second gateway instance in front of the same students-svc and Redis.
async fn second(gw: &TestGateway) -> Instance {
    let other = spawn_instance(gw.config.clone());
    wait_ready(&other.base).await;
    other
}

#[tokio::test]
async fn a_refresh_token_is_spent_once_and_its_reuse_ends_the_session() {
    let gw = spawn().await;
    gw.create_school("rot").await;
    let first = sign_in(&gw, "rot", "admin@rot.test", PASSWORD).await;
    let other = sign_in(&gw, "rot", "admin@rot.test", PASSWORD).await;
    assert_ne!(first.refresh, other.refresh);

    let r = refresh(&gw, &first.refresh).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["must_change_password"], false);
    assert!(body["refresh_expires_at"].is_string(), "{body}");
    let second_pair = pair(body);
    assert_ne!(second_pair.refresh, first.refresh, "rotated");
    assert_eq!(
        me(&gw.http, &gw.base, &second_pair.access).await,
        StatusCode::OK
    );

    // The spent token again: refused, and the session is over for its
    // current tokens too (someone else may hold them).
    let r = refresh(&gw, &first.refresh).await;
    problem(r, 401, "unauthenticated").await;
    problem(
        refresh(&gw, &second_pair.refresh).await,
        401,
        "unauthenticated",
    )
    .await;
    refused_within_a_second(&gw.http, &gw.base, &second_pair.access).await;
    // Another session of the same user is untouched.
    assert_eq!(me(&gw.http, &gw.base, &other.access).await, StatusCode::OK);
    assert_eq!(refresh(&gw, &other.refresh).await.status(), StatusCode::OK);

    // Malformed: 401 as any unknown token; a body without it: 400.
    for bad in [
        "",
        "x.y",
        &"a".repeat(300),
        &format!("{}.short", uuid::Uuid::now_v7()),
    ] {
        problem(refresh(&gw, bad).await, 401, "unauthenticated").await;
    }
    let r = gw
        .http
        .post(gw.url("/api/v1/auth/refresh"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(r, 400, "invalid_argument").await;
}

#[tokio::test]
async fn logout_ends_this_session_or_every_session_on_every_gateway() {
    let gw = spawn().await;
    let other = second(&gw).await;
    gw.create_school("out").await;
    let a = sign_in(&gw, "out", "admin@out.test", PASSWORD).await;
    let b = sign_in(&gw, "out", "admin@out.test", PASSWORD).await;
    assert_eq!(me(&gw.http, &other.base, &a.access).await, StatusCode::OK);

    let r = gw.post("/api/v1/auth/logout", &a.access, json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let took = refused_within_a_second(&gw.http, &other.base, &a.access).await;
    eprintln!("logout seen by the other gateway after {took:?}");
    problem(refresh(&gw, &a.refresh).await, 401, "unauthenticated").await;
    assert_eq!(me(&gw.http, &other.base, &b.access).await, StatusCode::OK);

    let c = sign_in(&gw, "out", "admin@out.test", PASSWORD).await;
    let r = gw
        .http
        .post(gw.url("/api/v1/auth/logout?everywhere=true"))
        .bearer_auth(&b.access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for token in [&b.access, &c.access] {
        refused_within_a_second(&gw.http, &other.base, token).await;
        refused_within_a_second(&gw.http, &gw.base, token).await;
    }
    problem(refresh(&gw, &c.refresh).await, 401, "unauthenticated").await;
    // Signing in again starts afresh.
    let d = sign_in(&gw, "out", "admin@out.test", PASSWORD).await;
    assert_eq!(me(&gw.http, &other.base, &d.access).await, StatusCode::OK);
    // A bad parameter is named.
    let r = gw
        .http
        .post(gw.url("/api/v1/auth/logout?everywhere=maybe"))
        .bearer_auth(&d.access)
        .send()
        .await
        .unwrap();
    problem(r, 400, "invalid_argument").await;
}

#[tokio::test]
async fn archive_deactivation_password_and_role_changes_end_sessions_within_a_second() {
    let gw = spawn().await;
    let other = second(&gw).await;
    let admin = gw.admin("rev").await;
    let staff = |email: &str| json!({"email": email, "password": PASSWORD, "full_name": "Tess Teacher", "role": "teacher"});
    let mut ids = Vec::new();
    for email in ["role@rev.test", "off@rev.test", "pw@rev.test"] {
        let r = gw.post("/api/v1/users", &admin, staff(email)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let u: Value = r.json().await.unwrap();
        ids.push(u["id"].as_str().unwrap().to_owned());
    }
    let mut body = json!({"admission_no": "S-1", "given_name": "Sam", "family_name": "Student",
        "date_of_birth": "2014-03-01", "grade_level": 5, "section": "A"});
    body["login"] = json!({"email": "sam@rev.test", "password": PASSWORD});
    let r = gw.post("/api/v1/students", &admin, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let student: Value = r.json().await.unwrap();

    // Role change.
    let role = sign_in(&gw, "rev", "role@rev.test", PASSWORD).await;
    assert_eq!(
        me(&gw.http, &other.base, &role.access).await,
        StatusCode::OK
    );
    let r = gw
        .patch(
            &format!("/api/v1/users/{}", ids[0]),
            &admin,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["role"], "admin");
    refused_within_a_second(&gw.http, &other.base, &role.access).await;
    // The session does not carry the old role on: it ended.
    problem(refresh(&gw, &role.refresh).await, 401, "unauthenticated").await;
    let again = sign_in(&gw, "rev", "role@rev.test", PASSWORD).await;
    let body: Value = gw
        .get("/api/v1/auth/me", &again.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["role"], "admin", "signed in again under the new role");

    // Deactivation.
    let off = sign_in(&gw, "rev", "off@rev.test", PASSWORD).await;
    let r = gw
        .patch(
            &format!("/api/v1/users/{}", ids[1]),
            &admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    refused_within_a_second(&gw.http, &other.base, &off.access).await;
    problem(refresh(&gw, &off.refresh).await, 401, "unauthenticated").await;
    let r = gw
        .http
        .post(gw.url("/api/v1/auth/login"))
        .json(&json!({"school": "rev", "email": "off@rev.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthenticated").await;

    // Password change: the other sessions end; this one goes on renewed.
    let here = sign_in(&gw, "rev", "pw@rev.test", PASSWORD).await;
    let there = sign_in(&gw, "rev", "pw@rev.test", PASSWORD).await;
    let new_password = "a brand new passphrase";
    let r = gw
        .post(
            "/api/v1/auth/password",
            &here.access,
            json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let renewed = pair(r.json().await.unwrap());
    refused_within_a_second(&gw.http, &other.base, &there.access).await;
    refused_within_a_second(&gw.http, &other.base, &here.access).await;
    assert_eq!(
        me(&gw.http, &other.base, &renewed.access).await,
        StatusCode::OK
    );
    problem(refresh(&gw, &there.refresh).await, 401, "unauthenticated").await;
    assert_eq!(
        refresh(&gw, &renewed.refresh).await.status(),
        StatusCode::OK
    );
    sign_in(&gw, "rev", "pw@rev.test", new_password).await;

    // Archive: the student's own login.
    let sam = sign_in(&gw, "rev", "sam@rev.test", PASSWORD).await;
    assert_eq!(me(&gw.http, &other.base, &sam.access).await, StatusCode::OK);
    let r = gw
        .delete(
            &format!("/api/v1/students/{}", student["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    refused_within_a_second(&gw.http, &other.base, &sam.access).await;
    problem(refresh(&gw, &sam.refresh).await, 401, "unauthenticated").await;

    // The admin's own session was never touched.
    assert_eq!(me(&gw.http, &other.base, &admin).await, StatusCode::OK);
}

#[tokio::test]
async fn an_admin_reset_forces_a_new_password_at_the_next_sign_in() {
    let gw = spawn().await;
    let admin = gw.admin("reset").await;
    let teacher = gw.teacher("reset", &admin).await;
    let body: Value = gw
        .get("/api/v1/auth/me", &teacher)
        .await
        .json()
        .await
        .unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/users/{id}/password-reset");

    // Only an admin; the temporary password follows the password rules.
    problem(
        gw.post(
            &path,
            &teacher,
            json!({"temporary_password": "temporary-pass-1"}),
        )
        .await,
        403,
        "permission_denied",
    )
    .await;
    let p = problem(
        gw.post(&path, &admin, json!({"temporary_password": "short"}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    assert!(p.to_string().contains("temporary_password"), "{p}");
    let r = gw
        .post(
            &path,
            &admin,
            json!({"temporary_password": "temporary-pass-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    refused_within_a_second(&gw.http, &gw.base, &teacher).await;

    let r = gw
        .http
        .post(gw.url("/api/v1/auth/login"))
        .json(&json!({"school": "reset", "email": "teacher@reset.test", "password": "temporary-pass-1"}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["must_change_password"], true, "{body}");
    let temp = pair(body);
    problem(
        gw.get("/api/v1/students?limit=1", &temp.access).await,
        403,
        "password_change_required",
    )
    .await;
    assert_eq!(me(&gw.http, &gw.base, &temp.access).await, StatusCode::OK);
    // A refresh keeps the obligation.
    let r = refresh(&gw, &temp.refresh).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["must_change_password"], true);
    let temp = pair(body);
    let p = problem(
        gw.post(
            "/api/v1/auth/password",
            &temp.access,
            json!({"current_password": "not it at all", "new_password": "my own passphrase"}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert!(p.to_string().contains("current_password"), "{p}");
    let r = gw
        .post(
            "/api/v1/auth/password",
            &temp.access,
            json!({"current_password": "temporary-pass-1", "new_password": "my own passphrase"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["must_change_password"], false);
    let done = pair(body);
    assert_eq!(
        gw.get("/api/v1/students?limit=1", &done.access)
            .await
            .status(),
        StatusCode::OK
    );
    let r = gw
        .http
        .post(gw.url("/api/v1/auth/login"))
        .json(&json!({"school": "reset", "email": "teacher@reset.test", "password": "temporary-pass-1"}))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthenticated").await;

    // The last active admin cannot be demoted or deactivated.
    let body: Value = gw
        .get("/api/v1/auth/me", &admin)
        .await
        .json()
        .await
        .unwrap();
    let me_id = body["id"].as_str().unwrap();
    for change in [json!({"role": "teacher"}), json!({"active": false})] {
        problem(
            gw.patch(&format!("/api/v1/users/{me_id}"), &admin, change)
                .await,
            422,
            "failed_precondition",
        )
        .await;
    }
    // Another school's user, or none: not found.
    problem(
        gw.patch(
            &format!("/api/v1/users/{}", uuid::Uuid::now_v7()),
            &admin,
            json!({"active": false}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}
