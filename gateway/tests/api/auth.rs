use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn login_and_me() {
    let gw = spawn().await;
    let school = gw.create_school("north").await;
    let token = gw.login("north", "admin@north.test").await;
    let me: Value = gw
        .get("/api/v1/auth/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "admin@north.test");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["school_id"], school["school"]["id"]);

    let wrong = gw
        .http
        .post(gw.url("/api/v1/auth/login"))
        .json(&json!({"school": "north", "email": "admin@north.test", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    problem(wrong, 401, "unauthenticated").await;
    let missing = gw.http.get(gw.url("/api/v1/auth/me")).send().await.unwrap();
    problem(missing, 401, "unauthenticated").await;
}

#[tokio::test]
async fn creating_schools_needs_the_operator_token() {
    let gw = spawn().await;
    let body = json!({"name": "N", "slug": "north", "admin": {"email": "a@n.org", "password": PASSWORD, "full_name": "A"}});
    let none = gw
        .http
        .post(gw.url("/api/v1/schools"))
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(none, 401, "unauthenticated").await;
    // Without the token the body is not even read: no validation hints.
    let junk = gw
        .http
        .post(gw.url("/api/v1/schools"))
        .header("content-type", "text/plain")
        .body("x".repeat(100_000))
        .send()
        .await
        .unwrap();
    problem(junk, 401, "unauthenticated").await;
    let admin_token = {
        gw.create_school("south").await;
        gw.login("south", "admin@south.test").await
    };
    for token in ["operator-token-operator-token-0124", admin_token.as_str()] {
        let r = gw.post("/api/v1/schools", token, body.clone()).await;
        problem(r, 401, "unauthenticated").await;
    }
    assert_eq!(gw.count("schools").await, 1);
    let created = gw
        .post("/api/v1/schools", &operator_token(&gw.config), body.clone())
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let dup = gw
        .post("/api/v1/schools", &operator_token(&gw.config), body)
        .await;
    problem(dup, 409, "already_exists").await;
}

fn claims(overrides: Value) -> Value {
    let now = now();
    let mut c = json!({
        "sub": uuid::Uuid::now_v7(), "sch": uuid::Uuid::now_v7(), "role": "admin",
        "sess": uuid::Uuid::now_v7(), "ep": 0,
        "iss": "schoolhouse", "aud": "schoolhouse-api",
        "iat": now, "nbf": now, "exp": now + 600
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn sign(c: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        c,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn bad_tokens_are_rejected() {
    let gw = spawn().await;
    let now = now();
    let valid = sign(&claims(json!({})), JWT_SECRET);
    let mut tampered = valid.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let payload = b64(&claims(json!({})));
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        payload
    );
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &claims(json!({})),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let cases = [
        (
            "expired",
            sign(&claims(json!({"exp": now - 30})), JWT_SECRET),
        ),
        (
            "not yet valid",
            sign(&claims(json!({"nbf": now + 60})), JWT_SECRET),
        ),
        (
            "wrong audience",
            sign(&claims(json!({"aud": "someone-else"})), JWT_SECRET),
        ),
        (
            "wrong issuer",
            sign(&claims(json!({"iss": "evil"})), JWT_SECRET),
        ),
        ("no nbf", sign(&claims(json!({"nbf": null})), JWT_SECRET)),
        ("no sub", sign(&claims(json!({"sub": null})), JWT_SECRET)),
        // Every token names its session and epoch (revocation).
        (
            "no session",
            sign(&claims(json!({"sess": null})), JWT_SECRET),
        ),
        ("no epoch", sign(&claims(json!({"ep": null})), JWT_SECRET)),
        (
            "unknown role",
            sign(&claims(json!({"role": "root"})), JWT_SECRET),
        ),
        (
            "other secret",
            sign(&claims(json!({})), "another-secret-another-secret-xx"),
        ),
        ("tampered", tampered),
        ("alg none", alg_none),
        ("other algorithm", hs512),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (name, token) in cases {
        let r = gw.get("/api/v1/auth/me", &token).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    // The valid token passes authentication (its user does not exist, so the
    // service answers 401 too, but from the service, not the gateway).
    let ok = gw.get("/api/v1/students?limit=1", &valid).await;
    assert_eq!(ok.status(), StatusCode::OK);
}
