//! A guardian login reads its children's attendance, invoices and balances
//! over HTTP, and nobody else's; none of these answers is cached.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn uncached(r: &Response) {
    assert!(r.headers().get("x-cache").is_none(), "{:?}", r.headers());
}

async fn ok_json(r: Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    uncached(&r);
    r.json().await.unwrap()
}

async fn refused(r: Response, status: u16, code: &str) {
    uncached(&r);
    problem(r, status, code).await;
}

fn invoice_ids(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(id).collect()
}

/// A school's students with a day of attendance each and an invoice each:
/// (students, invoices), in creation order.
async fn school_records(
    gw: &TestGateway,
    slug: &str,
    admin: &str,
    given: &[&str],
) -> (Vec<Value>, Vec<Value>) {
    let (_, tess_id) = gw
        .named_teacher(slug, admin, &format!("tess@{slug}.test"))
        .await;
    let course = gw.course(admin, "M1", &tess_id, 10).await;
    let mut students = Vec::new();
    let mut invoices = Vec::new();
    for (n, g) in given.iter().enumerate() {
        let s = gw.create_student(admin, &format!("{slug}-{n}"), g).await;
        let r = gw
            .post(
                &format!("/api/v1/courses/{}/enrolments", id(&course)),
                admin,
                json!({"student_id": id(&s)}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = gw
            .post(
                "/api/v1/invoices",
                admin,
                json!({"student_id": id(&s), "currency": "USD",
                       "lines": [{"description": "Tuition", "quantity": 1, "unit_amount": 100 * (n as i64 + 1)}],
                       "issued_on": "2026-09-01", "due_on": "2026-09-30"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        invoices.push(r.json().await.unwrap());
        students.push(s);
    }
    let entries: Vec<Value> = students
        .iter()
        .map(|s| json!({"student_id": id(s), "status": "present"}))
        .collect();
    let r = gw
        .put(
            &format!("/api/v1/courses/{}/attendance/2026-11-23", id(&course)),
            admin,
            json!({"entries": entries}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    (students, invoices)
}

#[tokio::test]
async fn a_guardian_reads_their_childrens_attendance_and_fees_over_http() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let (kids, invoices) = school_records(&gw, "north", &admin, &["Ada", "Ben", "Cy"]).await;
    let south = gw.admin("south").await;
    let (far, far_invoices) = school_records(&gw, "south", &south, &["Dee"]).await;

    let r = gw
        .post(
            "/api/v1/guardians",
            &admin,
            json!({"given_name": "Mary", "family_name": "Ng", "relationship": "mother",
                   "email": "mary@home.test", "notifications": {"email": true},
                   "login": {"email": "mary@north.test", "password": PASSWORD}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mum: Value = r.json().await.unwrap();
    for s in &kids[..2] {
        let r = gw
            .put(
                &format!("/api/v1/guardians/{}/students/{}", id(&mum), id(s)),
                &admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let mary = gw.login("north", "mary@north.test").await;
    let attendance = |s: &Value| {
        format!(
            "/api/v1/students/{}/attendance?from=2026-11-01&to=2026-11-30",
            id(s)
        )
    };
    let balance = |s: &Value| format!("/api/v1/students/{}/balance", id(s));
    let grades = |s: &Value| format!("/api/v1/students/{}/grades", id(s));
    let invoices_of = |s: &Value| format!("/api/v1/invoices?student_id={}", id(s));

    // Both children, twice: answered by students-svc every time, never
    // from the cache.
    for _ in 0..2 {
        for (n, s) in kids[..2].iter().enumerate() {
            let a = ok_json(gw.get(&attendance(s), &mary).await).await;
            assert_eq!(
                a["days"],
                json!([{"date": "2026-11-23", "present": 1, "absent": 0, "late": 0, "excused": 0}])
            );
            let b = ok_json(gw.get(&balance(s), &mary).await).await;
            assert_eq!(b["balances"][0]["balance_due"], 100 * (n as i64 + 1));
            // Grades: through to students-svc (nothing published yet).
            let g = ok_json(gw.get(&grades(s), &mary).await).await;
            assert_eq!(g["items"], json!([]));
            let page = ok_json(gw.get(&invoices_of(s), &mary).await).await;
            assert_eq!(invoice_ids(&page), [id(&invoices[n])]);
            let inv = ok_json(
                gw.get(&format!("/api/v1/invoices/{}", id(&invoices[n])), &mary)
                    .await,
            )
            .await;
            assert_eq!(inv, invoices[n]);
        }
    }
    let all = ok_json(gw.get("/api/v1/invoices", &mary).await).await;
    assert_eq!(invoice_ids(&all), [id(&invoices[1]), id(&invoices[0])]);

    // Cy (another family), a student of another school and no student at
    // all: 404, as their invoices, and as for a student reading someone
    // else's (an id edited in a URL tells nothing about which ids exist).
    let nobody = json!({"id": uuid::Uuid::now_v7().to_string()});
    for s in [&kids[2], &far[0], &nobody] {
        let student = format!("/api/v1/students/{}", id(s));
        problem(gw.get(&student, &mary).await, 404, "not_found").await;
        refused(gw.get(&attendance(s), &mary).await, 404, "not_found").await;
        refused(gw.get(&balance(s), &mary).await, 404, "not_found").await;
        refused(gw.get(&grades(s), &mary).await, 404, "not_found").await;
        refused(gw.get(&invoices_of(s), &mary).await, 404, "not_found").await;
    }
    for inv in [&invoices[2], &far_invoices[0]] {
        let path = format!("/api/v1/invoices/{}", id(inv));
        refused(gw.get(&path, &mary).await, 404, "not_found").await;
    }
    // Still read-only.
    let r = gw
        .post(
            &format!("/api/v1/invoices/{}/void", id(&invoices[0])),
            &mary,
            json!({}),
        )
        .await;
    problem(r, 403, "permission_denied").await;

    // Unlinked, Ben's records are closed to her at once.
    let r = gw
        .delete(
            &format!("/api/v1/guardians/{}/students/{}", id(&mum), id(&kids[1])),
            &admin,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let ben = &kids[1];
    refused(gw.get(&attendance(ben), &mary).await, 404, "not_found").await;
    refused(gw.get(&balance(ben), &mary).await, 404, "not_found").await;
    refused(gw.get(&grades(ben), &mary).await, 404, "not_found").await;
    refused(gw.get(&invoices_of(ben), &mary).await, 404, "not_found").await;
    let path = format!("/api/v1/invoices/{}", id(&invoices[1]));
    refused(gw.get(&path, &mary).await, 404, "not_found").await;
    let all = ok_json(gw.get("/api/v1/invoices", &mary).await).await;
    assert_eq!(invoice_ids(&all), [id(&invoices[0])]);
    ok_json(gw.get(&attendance(&kids[0]), &mary).await).await;
}
