//! Fees over real HTTP: the gateway in front of a real students-svc.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn new_invoice(student_id: &str, unit_amount: i64) -> Value {
    json!({
        "student_id": student_id,
        "currency": "USD",
        "lines": [{"description": "Tuition", "quantity": 1, "unit_amount": unit_amount}],
        "issued_on": "2026-09-01",
        "due_on": "2026-09-30"
    })
}

fn payment(amount: i64) -> Value {
    json!({"amount": amount, "currency": "USD", "method": "card"})
}

async fn pay(
    gw: &TestGateway,
    token: &str,
    invoice: &str,
    key: Option<&str>,
    body: Value,
) -> Response {
    let mut req = gw
        .http
        .post(gw.url(&format!("/api/v1/invoices/{invoice}/payments")))
        .bearer_auth(token)
        .json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}

async fn create_invoice(gw: &TestGateway, token: &str, body: Value) -> Value {
    let r = gw.post("/api/v1/invoices", token, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

#[tokio::test]
async fn invoices_payments_and_balance_over_http() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let s = gw.create_student(&admin, "A-1", "Ada").await;
    let sid = s["id"].as_str().unwrap();

    let mut body = new_invoice(sid, 7_000);
    body["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"description": "Books", "quantity": 2, "unit_amount": 1_500}));
    let inv = create_invoice(&gw, &admin, body).await;
    let id = inv["id"].as_str().unwrap();
    assert_eq!(inv["total"], 10_000);
    assert_eq!(inv["amount_due"], 10_000);
    assert_eq!(inv["status"], "issued");
    assert_eq!(inv["due_on"], "2026-09-30");
    assert_eq!(inv["lines"][1]["amount"], 3_000);
    let got: Value = gw
        .get(&format!("/api/v1/invoices/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, inv);

    // The Idempotency-Key header is required and checked.
    let r = pay(&gw, &admin, id, None, payment(4_000)).await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["Idempotency-Key"]);
    for bad in ["has space", &"k".repeat(256)] {
        let r = pay(&gw, &admin, id, Some(bad), payment(4_000)).await;
        let body = problem(r, 400, "invalid_argument").await;
        assert_eq!(error_fields(&body), ["Idempotency-Key"]);
    }
    assert_eq!(gw.count("payments").await, 0);

    // First answer, then the replay: same status, same body, marked.
    let first = pay(&gw, &admin, id, Some("pay-1"), payment(4_000)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["amount"], 4_000);
    assert_eq!(first["invoice_amount_due_after"], 6_000);
    assert_eq!(first["invoice_status_after"], "partially_paid");
    assert_eq!(first["method"], "card");
    let replay = pay(&gw, &admin, id, Some("pay-1"), payment(4_000)).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay, first);
    assert_eq!(gw.count("payments").await, 1);

    // Same key, different body: 422, nothing applied.
    let r = pay(&gw, &admin, id, Some("pay-1"), payment(4_001)).await;
    let body = problem(r, 422, "failed_precondition").await;
    assert!(
        body["detail"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );
    // Overpayment: 422 with the reason, nothing applied.
    let r = pay(&gw, &admin, id, Some("pay-2"), payment(6_001)).await;
    let body = problem(r, 422, "failed_precondition").await;
    assert_eq!(body["detail"], "payment exceeds the amount due");
    let mut euros = payment(10);
    euros["currency"] = json!("EUR");
    problem(
        pay(&gw, &admin, id, Some("pay-3"), euros).await,
        422,
        "failed_precondition",
    )
    .await;
    assert_eq!(gw.count("payments").await, 1);

    // Bodies are strict and errors name their fields.
    let mut unknown = payment(10);
    unknown["tip"] = json!(5);
    let body = problem(
        pay(&gw, &admin, id, Some("pay-4"), unknown).await,
        400,
        "invalid_argument",
    )
    .await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("tip"));
    let mut cheque = payment(10);
    cheque["method"] = json!("cheque");
    let body = problem(
        pay(&gw, &admin, id, Some("pay-4"), cheque).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["method"]);
    let bad =
        json!({"amount": 0, "currency": "usd", "method": "cash", "reference": "x".repeat(101)});
    let body = problem(
        pay(&gw, &admin, id, Some("pay-4"), bad).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["amount", "currency", "reference"]);
    let body = problem(
        pay(&gw, &admin, "nope", Some("pay-4"), payment(1)).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["id"]);
    problem(
        pay(
            &gw,
            &admin,
            &uuid::Uuid::now_v7().to_string(),
            Some("pay-4"),
            payment(1),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // The rest pays it off; a paid invoice takes nothing more and cannot be voided.
    let mut rest = json!({"amount": 6_000, "currency": "USD", "method": "bank_transfer", "reference": "TRX-1"});
    let paid: Value = pay(&gw, &admin, id, Some("pay-5"), rest.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paid["invoice_status_after"], "paid");
    assert_eq!(paid["reference"], "TRX-1");
    rest["amount"] = json!(1);
    problem(
        pay(&gw, &admin, id, Some("pay-6"), rest).await,
        422,
        "failed_precondition",
    )
    .await;
    let r = gw
        .post(&format!("/api/v1/invoices/{id}/void"), &admin, json!({}))
        .await;
    problem(r, 422, "failed_precondition").await;

    // A draft, issued later; another invoice voided.
    let mut draft = new_invoice(sid, 500);
    draft["currency"] = json!("EUR");
    draft["status"] = json!("draft");
    let draft = create_invoice(&gw, &admin, draft).await;
    assert_eq!(draft["status"], "draft");
    let r = gw
        .post(
            &format!("/api/v1/invoices/{}/issue", draft["id"].as_str().unwrap()),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "issued");
    let to_void = create_invoice(&gw, &admin, new_invoice(sid, 900)).await;
    let r = gw
        .post(
            &format!("/api/v1/invoices/{}/void", to_void["id"].as_str().unwrap()),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let voided: Value = r.json().await.unwrap();
    assert_eq!(voided["status"], "void");
    assert!(voided["voided_at"].is_string());

    let balance: Value = gw
        .get(&format!("/api/v1/students/{sid}/balance"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        balance,
        json!({"student_id": sid, "balances": [
            {"currency": "EUR", "total_invoiced": 500, "total_paid": 0, "balance_due": 500},
            {"currency": "USD", "total_invoiced": 10_000, "total_paid": 10_000, "balance_due": 0}
        ]})
    );

    let page: Value = gw
        .get("/api/v1/invoices?status=void", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], voided["id"]);
    let page: Value = gw
        .get("/api/v1/invoices?limit=2", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = gw
        .get(&format!("/api/v1/invoices?limit=2&cursor={cursor}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert!(next["next_cursor"].is_null());
    let r = gw
        .get(
            "/api/v1/invoices?status=owed&student_id=x&limit=0&sort=id",
            &admin,
        )
        .await;
    problem(r, 400, "invalid_argument").await;
    let r = gw
        .get("/api/v1/invoices?status=owed&student_id=x&limit=0", &admin)
        .await;
    let body = problem(r, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["limit", "status", "student_id"]);
}

#[tokio::test]
async fn invalid_invoices_write_nothing() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let s = gw.create_student(&admin, "A-1", "Ada").await;
    let sid = s["id"].as_str().unwrap();

    let mut bad_date = new_invoice(sid, 100);
    bad_date["due_on"] = json!("2026-02-30");
    bad_date["issued_on"] = json!("01/09/2026");
    let body = problem(
        gw.post("/api/v1/invoices", &admin, bad_date).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["due_on", "issued_on"]);

    let bad = json!({
        // issued_on defaults to today, long before this due date.
        "student_id": "x", "currency": "usd", "due_on": "2099-12-31",
        "lines": [{"description": "", "quantity": 0, "unit_amount": 0}, {"description": "ok", "quantity": 1001, "unit_amount": 1}]
    });
    let body = problem(
        gw.post("/api/v1/invoices", &admin, bad).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(
        error_fields(&body),
        [
            "currency",
            "lines[0].description",
            "lines[0].quantity",
            "lines[0].unit_amount",
            "lines[1].quantity",
            "student_id"
        ]
    );

    let mut huge = new_invoice(sid, 1);
    huge["lines"][0]["quantity"] = json!(10_000_000_000_i64);
    let body = problem(
        gw.post("/api/v1/invoices", &admin, huge).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["lines[0].quantity"]);
    let over = new_invoice(sid, 1_000_000_000_001);
    let body = problem(
        gw.post("/api/v1/invoices", &admin, over).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["lines[0].unit_amount"]);
    let mut total = new_invoice(sid, 600_000_000_000);
    total["lines"][0]["quantity"] = json!(2);
    let body = problem(
        gw.post("/api/v1/invoices", &admin, total).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["lines[0]"]);
    let mut unknown = new_invoice(sid, 1);
    unknown["school_id"] = json!(uuid::Uuid::now_v7());
    let body = problem(
        gw.post("/api/v1/invoices", &admin, unknown).await,
        400,
        "invalid_argument",
    )
    .await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("school_id"));
    let mut paid = new_invoice(sid, 1);
    paid["status"] = json!("paid");
    let body = problem(
        gw.post("/api/v1/invoices", &admin, paid).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["status"]);
    let nobody = new_invoice(&uuid::Uuid::now_v7().to_string(), 1);
    problem(
        gw.post("/api/v1/invoices", &admin, nobody).await,
        404,
        "not_found",
    )
    .await;

    assert_eq!(gw.count("invoices").await, 0);
    assert_eq!(gw.count("invoice_lines").await, 0);
}

#[tokio::test]
async fn roles_and_other_schools() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let teacher = gw.teacher("north", &admin).await;
    let mut with_login = new_student("A-1", "Ada");
    with_login["login"] = json!({"email": "ada@north.test", "password": PASSWORD});
    let r = gw.post("/api/v1/students", &admin, with_login).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ada: Value = r.json().await.unwrap();
    let ben = gw.create_student(&admin, "A-2", "Ben").await;
    let (ada_id, ben_id) = (ada["id"].as_str().unwrap(), ben["id"].as_str().unwrap());
    let student = gw.login("north", "ada@north.test").await;
    let hers = create_invoice(&gw, &admin, new_invoice(ada_id, 100)).await;
    let his = create_invoice(&gw, &admin, new_invoice(ben_id, 100)).await;
    let (hers_id, his_id) = (hers["id"].as_str().unwrap(), his["id"].as_str().unwrap());

    // Teachers have no access to fees; students may not write.
    for path in [
        "/api/v1/invoices".to_owned(),
        format!("/api/v1/invoices/{hers_id}"),
        format!("/api/v1/students/{ada_id}/balance"),
    ] {
        problem(gw.get(&path, &teacher).await, 403, "permission_denied").await;
    }
    for token in [&teacher, &student] {
        problem(
            gw.post("/api/v1/invoices", token, new_invoice(ada_id, 1))
                .await,
            403,
            "permission_denied",
        )
        .await;
        problem(
            pay(&gw, token, hers_id, Some("k"), payment(1)).await,
            403,
            "permission_denied",
        )
        .await;
        let r = gw
            .post(
                &format!("/api/v1/invoices/{hers_id}/void"),
                token,
                json!({}),
            )
            .await;
        problem(r, 403, "permission_denied").await;
    }

    // A student reads only their own.
    let mine: Value = gw
        .get("/api/v1/invoices", &student)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [hers_id]);
    let r = gw
        .get(&format!("/api/v1/invoices?student_id={ben_id}"), &student)
        .await;
    problem(r, 404, "not_found").await;
    assert_eq!(
        gw.get(&format!("/api/v1/invoices/{hers_id}"), &student)
            .await
            .status(),
        StatusCode::OK
    );
    problem(
        gw.get(&format!("/api/v1/invoices/{his_id}"), &student)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        gw.get(&format!("/api/v1/students/{ada_id}/balance"), &student)
            .await
            .status(),
        StatusCode::OK
    );
    let r = gw
        .get(&format!("/api/v1/students/{ben_id}/balance"), &student)
        .await;
    problem(r, 404, "not_found").await;

    // Another school sees none of it and changes nothing.
    let south = gw.admin("south").await;
    problem(
        gw.get(&format!("/api/v1/invoices/{hers_id}"), &south).await,
        404,
        "not_found",
    )
    .await;
    problem(
        pay(&gw, &south, hers_id, Some("k"), payment(1)).await,
        404,
        "not_found",
    )
    .await;
    let r = gw
        .post(
            &format!("/api/v1/invoices/{hers_id}/void"),
            &south,
            json!({}),
        )
        .await;
    problem(r, 404, "not_found").await;
    problem(
        gw.get(&format!("/api/v1/students/{ada_id}/balance"), &south)
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        gw.post("/api/v1/invoices", &south, new_invoice(ada_id, 1))
            .await,
        404,
        "not_found",
    )
    .await;
    let theirs: Value = gw
        .get("/api/v1/invoices", &south)
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs["items"].as_array().unwrap().is_empty());
    assert_eq!(
        (gw.count("invoices").await, gw.count("payments").await),
        (2, 0)
    );
}

#[tokio::test]
async fn concurrent_retries_over_http_apply_once() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let s = gw.create_student(&admin, "A-1", "Ada").await;
    let inv = create_invoice(&gw, &admin, new_invoice(s["id"].as_str().unwrap(), 100)).await;
    let id = inv["id"].as_str().unwrap();
    let answers =
        futures::future::join_all((0..10).map(|_| pay(&gw, &admin, id, Some("same"), payment(60))))
            .await;
    let mut bodies = Vec::new();
    for r in answers {
        assert_eq!(r.status(), StatusCode::CREATED);
        bodies.push(r.json::<Value>().await.unwrap());
    }
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "one payment for all"
    );
    assert_eq!(gw.count("payments").await, 1);
    let got: Value = gw
        .get(&format!("/api/v1/invoices/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["amount_paid"], 60);
}

#[tokio::test]
async fn openapi_documents_the_fee_routes() {
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
    for (path, method) in [
        ("/api/v1/invoices", "get"),
        ("/api/v1/invoices", "post"),
        ("/api/v1/invoices/{id}", "get"),
        ("/api/v1/invoices/{id}/issue", "post"),
        ("/api/v1/invoices/{id}/void", "post"),
        ("/api/v1/invoices/{id}/payments", "post"),
        ("/api/v1/students/{id}/balance", "get"),
    ] {
        assert!(
            doc["paths"][path].get(method).is_some(),
            "{method} {path} missing"
        );
    }
    let params = doc["paths"]["/api/v1/invoices/{id}/payments"]["post"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
    for schema in ["Invoice", "Payment", "PaymentBody", "StudentBalance"] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
}
