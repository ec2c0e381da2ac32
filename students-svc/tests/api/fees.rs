//! Fees over real gRPC and Postgres: invoices, idempotent payments (with real
//! concurrency), balances, roles, tenancy and the events each change records.

use platform::caller::{Caller, Role};
use prost::Message;
use proto::common::v1 as common;
use proto::events::v1::{event::Payload, Event};
use proto::students::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn date(year: i32, month: u32, day: u32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

fn line(description: &str, quantity: i32, unit_amount: i64) -> pb::NewInvoiceLine {
    pb::NewInvoiceLine {
        description: description.into(),
        quantity,
        unit_amount,
    }
}

fn invoice(
    student_id: &str,
    currency: &str,
    lines: Vec<pb::NewInvoiceLine>,
) -> pb::CreateInvoiceRequest {
    pb::CreateInvoiceRequest {
        student_id: student_id.into(),
        currency: currency.into(),
        lines,
        issued_on: date(2026, 9, 1),
        due_on: date(2026, 9, 30),
        status: 0,
    }
}

fn pay(invoice_id: &str, key: &str, amount: i64) -> pb::RecordPaymentRequest {
    pb::RecordPaymentRequest {
        invoice_id: invoice_id.into(),
        idempotency_key: key.into(),
        amount,
        currency: "USD".into(),
        method: pb::PaymentMethod::Card.into(),
        reference: String::new(),
    }
}

/// The fee events in the outbox, in insertion order.
async fn fee_events(app: &TestApp) -> Vec<Event> {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    c.query("SELECT payload FROM students.outbox ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| Event::decode(r.get::<_, &[u8]>(0)).unwrap())
        .filter(|e| e.aggregate_type == "invoice")
        .collect()
}

/// A school's admin and one of its students.
async fn setup(app: &TestApp, slug: &str) -> (Caller, pb::Student) {
    let admin = app.school(slug).await;
    let s = app
        .create_student(&admin, student(&format!("{slug}-1"), "Ada", "Ng"))
        .await;
    (admin, s)
}

async fn create(app: &TestApp, caller: &Caller, req: pb::CreateInvoiceRequest) -> pb::Invoice {
    app.fees()
        .create_invoice(with_caller(caller, req))
        .await
        .expect("create invoice")
        .into_inner()
}

fn as_student(admin: &Caller, student_id: &str) -> Caller {
    Caller {
        school_id: admin.school_id,
        user_id: Uuid::now_v7(),
        role: Role::Student,
        student_id: Some(student_id.parse().unwrap()),
    }
}

#[tokio::test]
async fn invoices_payments_and_balance_with_their_events() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let mut fees = app.fees();

    let inv = create(
        &app,
        &admin,
        invoice(
            &s.id,
            "USD",
            vec![line(" Tuition ", 1, 50_000), line("Books", 3, 2_500)],
        ),
    )
    .await;
    assert_eq!(
        (inv.total, inv.amount_paid, inv.amount_due),
        (57_500, 0, 57_500)
    );
    assert_eq!(inv.status, pb::InvoiceStatus::Issued as i32);
    assert_eq!(inv.lines[0].description, "Tuition");
    assert_eq!(inv.lines[1].amount, 7_500);
    assert_eq!(inv.due_on, date(2026, 9, 30));
    let got = fees
        .get_invoice(with_caller(
            &admin,
            pb::GetInvoiceRequest { id: inv.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, inv);

    // A partial payment, then the rest.
    let first = fees
        .record_payment(with_caller(&admin, pay(&inv.id, "pay-1", 20_000)))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.replayed);
    let p = first.payment.unwrap();
    assert_eq!((p.amount, p.invoice_amount_due_after), (20_000, 37_500));
    assert_eq!(
        p.invoice_status_after,
        pb::InvoiceStatus::PartiallyPaid as i32
    );
    let after = first.invoice.unwrap();
    assert_eq!(after.status, pb::InvoiceStatus::PartiallyPaid as i32);
    assert_eq!((after.amount_paid, after.amount_due), (20_000, 37_500));
    let mut rest = pay(&inv.id, "pay-2", 37_500);
    rest.method = pb::PaymentMethod::BankTransfer.into();
    rest.reference = "TRX-9".into();
    let second = fees
        .record_payment(with_caller(&admin, rest))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        second.invoice.unwrap().status,
        pb::InvoiceStatus::Paid as i32
    );
    assert_eq!(second.payment.unwrap().reference, "TRX-9");
    let more = fees
        .record_payment(with_caller(&admin, pay(&inv.id, "pay-3", 1)))
        .await
        .unwrap_err();
    assert_eq!(more.code(), Code::FailedPrecondition);
    assert!(
        more.message().contains("already paid"),
        "{}",
        more.message()
    );

    // A draft is issued later; a draft and a void invoice are not balance.
    let mut draft = invoice(&s.id, "EUR", vec![line("Trip", 2, 1_000)]);
    draft.status = pb::InvoiceStatus::Draft.into();
    let draft = create(&app, &admin, draft).await;
    assert_eq!(draft.status, pb::InvoiceStatus::Draft as i32);
    let not_yet = fees
        .record_payment(with_caller(&admin, pay(&draft.id, "pay-d", 1)))
        .await
        .unwrap_err();
    assert_eq!(not_yet.code(), Code::FailedPrecondition);
    let balance = |who: Caller| {
        let mut fees = app.fees();
        let id = s.id.clone();
        async move {
            fees.get_student_balance(with_caller(
                &who,
                pb::GetStudentBalanceRequest { student_id: id },
            ))
            .await
            .unwrap()
            .into_inner()
            .balances
            .into_iter()
            .map(|b| (b.currency, b.total_invoiced, b.total_paid, b.balance_due))
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        balance(admin).await,
        vec![("USD".into(), 57_500, 57_500, 0)]
    );
    let issued = fees
        .issue_invoice(with_caller(
            &admin,
            pb::IssueInvoiceRequest {
                id: draft.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(issued.status, pb::InvoiceStatus::Issued as i32);
    let to_void = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("Lab", 1, 900)]),
    )
    .await;
    let voided = fees
        .void_invoice(with_caller(
            &admin,
            pb::VoidInvoiceRequest {
                id: to_void.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(voided.status, pb::InvoiceStatus::Void as i32);
    assert!(voided.voided_at.is_some());
    // Voiding again changes nothing and records nothing.
    let again = fees
        .void_invoice(with_caller(
            &admin,
            pb::VoidInvoiceRequest {
                id: to_void.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, voided);
    let paid_void = fees
        .record_payment(with_caller(&admin, pay(&to_void.id, "pay-v", 1)))
        .await
        .unwrap_err();
    assert_eq!(paid_void.code(), Code::FailedPrecondition);
    assert!(paid_void.message().contains("void"));
    // An invoice with payments cannot be voided.
    let paid = fees
        .void_invoice(with_caller(
            &admin,
            pb::VoidInvoiceRequest { id: inv.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(paid.code(), Code::FailedPrecondition);

    assert_eq!(
        balance(admin).await,
        vec![
            ("EUR".into(), 2_000, 0, 2_000),
            ("USD".into(), 57_500, 57_500, 0)
        ]
    );
    // The student reads their own balance.
    assert_eq!(balance(as_student(&admin, &s.id)).await.len(), 2);

    // Exactly one event per change, in order, with the amounts.
    let events = fee_events(&app).await;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "invoice.issued",
            "invoice.payment_recorded",
            "invoice.payment_recorded",
            "invoice.drafted",
            "invoice.issued",
            "invoice.issued",
            "invoice.voided",
        ]
    );
    for e in &events {
        assert_eq!(e.school_id, admin.school_id.to_string());
        assert_eq!(e.actor_user_id, admin.user_id.to_string());
    }
    match &events[0].payload {
        Some(Payload::InvoiceIssued(i)) => {
            assert_eq!(
                (i.invoice_id.as_str(), i.student_id.as_str()),
                (inv.id.as_str(), s.id.as_str())
            );
            assert_eq!(
                (i.total, i.amount_due, i.currency.as_str()),
                (57_500, 57_500, "USD")
            );
            assert_eq!(
                (i.status.as_str(), i.due_on.as_str()),
                ("issued", "2026-09-30")
            );
        }
        other => panic!("{other:?}"),
    }
    match &events[1].payload {
        Some(Payload::PaymentRecorded(p)) => {
            assert_eq!(events[1].aggregate_id, inv.id);
            assert_eq!(
                (p.amount, p.currency.as_str(), p.method.as_str()),
                (20_000, "USD", "card")
            );
            assert_eq!(p.student_id, s.id);
            assert_eq!(
                (p.invoice_amount_paid, p.invoice_amount_due),
                (20_000, 37_500)
            );
            assert_eq!(p.invoice_status, "partially_paid");
        }
        other => panic!("{other:?}"),
    }
    match &events[2].payload {
        Some(Payload::PaymentRecorded(p)) => {
            assert_eq!(
                (p.invoice_amount_due, p.invoice_status.as_str()),
                (0, "paid")
            );
            assert_eq!(
                (p.method.as_str(), p.reference.as_str()),
                ("bank_transfer", "TRX-9")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&events[3].payload, Some(Payload::InvoiceDrafted(i)) if i.status == "draft"));
    assert!(matches!(&events[6].payload, Some(Payload::InvoiceVoided(i)) if i.status == "void"));
}

#[tokio::test]
async fn invalid_invoices_are_rejected_field_by_field_and_write_nothing() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let mut fees = app.fees();
    let outbox_before = app.count("outbox").await;
    let bad = |req: pb::CreateInvoiceRequest| {
        let mut fees = fees.clone();
        async move {
            let e = fees
                .create_invoice(with_caller(&admin, req))
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
            violations(&e)
        }
    };

    let mut r = invoice(
        "not-a-uuid",
        "usd",
        vec![
            line("", 1, 100),
            line("ok", 0, 100),
            line("ok", 1001, 100),
            line("ok", 1, 0),
            line(&"x".repeat(201), 1, -5),
        ],
    );
    r.issued_on = date(2026, 2, 30);
    r.due_on = None;
    r.status = pb::InvoiceStatus::Paid.into();
    assert_eq!(
        bad(r).await,
        [
            "currency",
            "due_on",
            "issued_on",
            "lines[0].description",
            "lines[1].quantity",
            "lines[2].quantity",
            "lines[3].unit_amount",
            "lines[4].description",
            "lines[4].unit_amount",
            "status",
            "student_id",
        ]
    );
    assert_eq!(bad(invoice(&s.id, "USD", vec![])).await, ["lines"]);
    assert_eq!(
        bad(invoice(&s.id, "US", vec![line("a", 1, 1)])).await,
        ["currency"]
    );
    assert_eq!(
        bad(invoice(&s.id, "EURO", vec![line("a", 1, 1)])).await,
        ["currency"]
    );
    let mut early = invoice(&s.id, "USD", vec![line("a", 1, 1)]);
    early.due_on = date(2026, 8, 31);
    assert_eq!(bad(early).await, ["due_on"]);
    let mut ancient = invoice(&s.id, "USD", vec![line("a", 1, 1)]);
    ancient.issued_on = date(1999, 12, 31);
    assert_eq!(bad(ancient).await, ["issued_on"]);
    // Amount bounds and overflow: per unit, per line and in total.
    assert_eq!(
        bad(invoice(&s.id, "USD", vec![line("a", 1, i64::MAX)])).await,
        ["lines[0].unit_amount"]
    );
    assert_eq!(
        bad(invoice(
            &s.id,
            "USD",
            vec![line("a", 1000, 1_000_000_000_000)]
        ))
        .await,
        ["lines[0]"]
    );
    assert_eq!(
        bad(invoice(
            &s.id,
            "USD",
            vec![line("a", 1, 600_000_000_000), line("b", 1, 600_000_000_000)]
        ))
        .await,
        ["lines"]
    );
    let too_many = (0..101).map(|i| line(&format!("l{i}"), 1, 1)).collect();
    assert_eq!(bad(invoice(&s.id, "USD", too_many)).await, ["lines"]);

    assert_eq!(app.count("invoices").await, 0);
    assert_eq!(app.count("invoice_lines").await, 0);
    assert_eq!(app.count("outbox").await, outbox_before);

    // At the cap exactly is fine.
    let max = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("a", 1000, 1_000_000_000)]),
    )
    .await;
    assert_eq!(max.total, 1_000_000_000_000);
    let unknown = fees
        .create_invoice(with_caller(
            &admin,
            invoice(&Uuid::now_v7().to_string(), "USD", vec![line("a", 1, 1)]),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn invalid_and_refused_payments_write_nothing() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let mut fees = app.fees();
    let inv = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("Tuition", 1, 100)]),
    )
    .await;
    let outbox_before = app.count("outbox").await;

    let mut r = pay("nope", "", 0);
    r.currency = "usd".into();
    r.method = 0;
    r.reference = "x".repeat(101);
    let e = fees
        .record_payment(with_caller(&admin, r))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&e),
        [
            "amount",
            "currency",
            "idempotency_key",
            "invoice_id",
            "method",
            "reference"
        ]
    );
    for (key, amount) in [
        ("has space", 10),
        (&*"k".repeat(256), 10),
        ("ok", -1),
        ("ok", 1_000_000_000_001),
    ] {
        let e = fees
            .record_payment(with_caller(&admin, pay(&inv.id, key, amount)))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{key} {amount}");
    }

    let mut euros = pay(&inv.id, "k-eur", 10);
    euros.currency = "EUR".into();
    let e = fees
        .record_payment(with_caller(&admin, euros))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(e.message().contains("currency"), "{}", e.message());

    let e = fees
        .record_payment(with_caller(&admin, pay(&inv.id, "k-over", 101)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(e.message(), "payment exceeds the amount due");

    let e = fees
        .record_payment(with_caller(
            &admin,
            pay(&Uuid::now_v7().to_string(), "k-x", 1),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    assert_eq!(app.count("payments").await, 0);
    assert_eq!(app.count("outbox").await, outbox_before);
    let unchanged = fees
        .get_invoice(with_caller(
            &admin,
            pb::GetInvoiceRequest { id: inv.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged, inv);
    // A refused request does not burn its key.
    fees.record_payment(with_caller(&admin, pay(&inv.id, "k-over", 100)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_retry_returns_the_original_payment_and_a_different_body_is_refused() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let mut fees = app.fees();
    let inv = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("Tuition", 1, 100)]),
    )
    .await;
    let other = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("Books", 1, 100)]),
    )
    .await;

    let first = fees
        .record_payment(with_caller(&admin, pay(&inv.id, "key-1", 30)))
        .await
        .unwrap()
        .into_inner();
    let retry = fees
        .record_payment(with_caller(&admin, pay(&inv.id, "key-1", 30)))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.replayed && retry.replayed);
    assert_eq!(retry.payment, first.payment, "the same payment, as it was");
    assert_eq!(retry.invoice.unwrap().amount_paid, 30, "applied once");

    for changed in [
        pay(&inv.id, "key-1", 31),
        pay(&other.id, "key-1", 30),
        pb::RecordPaymentRequest {
            reference: "extra".into(),
            ..pay(&inv.id, "key-1", 30)
        },
    ] {
        let e = fees
            .record_payment(with_caller(&admin, changed))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition);
        assert!(e.message().contains("Idempotency-Key"), "{}", e.message());
    }
    assert_eq!(app.count("payments").await, 1);
    let payment_events = fee_events(&app)
        .await
        .iter()
        .filter(|e| e.event_type == "invoice.payment_recorded")
        .count();
    assert_eq!(payment_events, 1);

    // Keys are per school: another school may use the same one.
    let (admin2, s2) = setup(&app, "south").await;
    let inv2 = create(
        &app,
        &admin2,
        invoice(&s2.id, "USD", vec![line("Tuition", 1, 100)]),
    )
    .await;
    let theirs = fees
        .record_payment(with_caller(&admin2, pay(&inv2.id, "key-1", 30)))
        .await
        .unwrap()
        .into_inner();
    assert!(!theirs.replayed);
    assert_ne!(theirs.payment.unwrap().id, first.payment.unwrap().id);
    assert_eq!(app.count("payments").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_retries_of_one_key_apply_once() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let inv = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("Tuition", 1, 100)]),
    )
    .await;
    let calls = (0..20).map(|_| {
        let mut fees = app.fees();
        let req = with_caller(&admin, pay(&inv.id, "same-key", 30));
        tokio::spawn(async move { fees.record_payment(req).await })
    });
    let results: Vec<_> = futures::future::join_all(calls).await;
    let replies: Vec<pb::RecordPaymentResponse> = results
        .into_iter()
        .map(|r| r.unwrap().expect("every retry succeeds").into_inner())
        .collect();
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| r.payment.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(ids.len(), 1, "one payment id for all");
    assert_eq!(replies.iter().filter(|r| !r.replayed).count(), 1);
    assert_eq!(app.count("payments").await, 1);
    let got = app
        .fees()
        .get_invoice(with_caller(
            &admin,
            pb::GetInvoiceRequest { id: inv.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.amount_paid, 30);
    let recorded = fee_events(&app)
        .await
        .iter()
        .filter(|e| e.event_type == "invoice.payment_recorded")
        .count();
    assert_eq!(recorded, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_cannot_overpay_together() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let inv = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("Tuition", 1, 100)]),
    )
    .await;
    let calls = (0..10).map(|i| {
        let mut fees = app.fees();
        let req = with_caller(&admin, pay(&inv.id, &format!("key-{i}"), 30));
        tokio::spawn(async move { fees.record_payment(req).await })
    });
    let results: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 3);
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), Code::FailedPrecondition, "{}", r.message());
        assert_eq!(r.message(), "payment exceeds the amount due");
    }
    assert_eq!(app.count("payments").await, 3);
    let got = app
        .fees()
        .get_invoice(with_caller(
            &admin,
            pb::GetInvoiceRequest { id: inv.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((got.amount_paid, got.amount_due), (90, 10));
    assert_eq!(got.status, pb::InvoiceStatus::PartiallyPaid as i32);
}

/// The same key on different invoices at once: the invoice locks do not
/// serialise them, the unique key does. One applies; the others are refused
/// (their requests differ) and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_raced_across_invoices_applies_once() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let mut invoices = Vec::new();
    for _ in 0..10 {
        invoices.push(
            create(
                &app,
                &admin,
                invoice(&s.id, "USD", vec![line("Fee", 1, 100)]),
            )
            .await,
        );
    }
    let calls = invoices.iter().map(|inv| {
        let mut fees = app.fees();
        let req = with_caller(&admin, pay(&inv.id, "shared", 10));
        tokio::spawn(async move { fees.record_payment(req).await })
    });
    let results: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.code(), Code::FailedPrecondition, "{}", e.message());
    }
    assert_eq!(app.count("payments").await, 1);
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let paid: i64 = c
        .query_one(
            "SELECT sum(amount_paid)::bigint FROM students.invoices",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(paid, 10);
}

#[tokio::test]
async fn roles_and_other_schools() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let other_student = app
        .create_student(&admin, student("north-2", "Bo", "Li"))
        .await;
    let mut fees = app.fees();
    let mine = create(
        &app,
        &admin,
        invoice(&s.id, "USD", vec![line("Tuition", 1, 100)]),
    )
    .await;
    let theirs = create(
        &app,
        &admin,
        invoice(&other_student.id, "USD", vec![line("Tuition", 1, 100)]),
    )
    .await;

    let teacher = app.teacher(&admin, "t@north.test").await;
    let guardian = Caller {
        role: Role::Guardian,
        ..teacher
    };
    let student_caller = as_student(&admin, &s.id);
    for who in [teacher, guardian, student_caller] {
        let e = fees
            .create_invoice(with_caller(
                &who,
                invoice(&s.id, "USD", vec![line("a", 1, 1)]),
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        let e = fees
            .record_payment(with_caller(&who, pay(&mine.id, "k", 1)))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        let e = fees
            .void_invoice(with_caller(
                &who,
                pb::VoidInvoiceRequest {
                    id: mine.id.clone(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
    }
    let e = fees
        .list_invoices(with_caller(&teacher, pb::ListInvoicesRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = fees
        .get_invoice(with_caller(
            &teacher,
            pb::GetInvoiceRequest {
                id: mine.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // A guardian login without children reads nothing (guardian_reads.rs
    // covers linked children).
    let listed = fees
        .list_invoices(with_caller(&guardian, pb::ListInvoicesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.invoices.is_empty());
    let e = fees
        .get_invoice(with_caller(
            &guardian,
            pb::GetInvoiceRequest {
                id: mine.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // A student sees only their own invoices and balance.
    let listed = fees
        .list_invoices(with_caller(
            &student_caller,
            pb::ListInvoicesRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.invoices.len(), 1);
    assert_eq!(listed.invoices[0].id, mine.id);
    let e = fees
        .list_invoices(with_caller(
            &student_caller,
            pb::ListInvoicesRequest {
                student_id: other_student.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    fees.get_invoice(with_caller(
        &student_caller,
        pb::GetInvoiceRequest {
            id: mine.id.clone(),
        },
    ))
    .await
    .unwrap();
    let e = fees
        .get_invoice(with_caller(
            &student_caller,
            pb::GetInvoiceRequest {
                id: theirs.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = fees
        .get_student_balance(with_caller(
            &student_caller,
            pb::GetStudentBalanceRequest {
                student_id: other_student.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    // Not theirs: not found, as another student's invoice is.
    assert_eq!(e.code(), Code::NotFound);

    // Another school's admin finds none of it, and writes nothing.
    let (admin2, _) = setup(&app, "south").await;
    let before = (app.count("invoices").await, app.count("payments").await);
    let e = fees
        .get_invoice(with_caller(
            &admin2,
            pb::GetInvoiceRequest {
                id: mine.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = fees
        .create_invoice(with_caller(
            &admin2,
            invoice(&s.id, "USD", vec![line("a", 1, 1)]),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = fees
        .record_payment(with_caller(&admin2, pay(&mine.id, "k", 1)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = fees
        .void_invoice(with_caller(
            &admin2,
            pb::VoidInvoiceRequest {
                id: mine.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = fees
        .issue_invoice(with_caller(
            &admin2,
            pb::IssueInvoiceRequest {
                id: mine.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = fees
        .get_student_balance(with_caller(
            &admin2,
            pb::GetStudentBalanceRequest {
                student_id: s.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let listed = fees
        .list_invoices(with_caller(&admin2, pb::ListInvoicesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.invoices.is_empty());
    assert_eq!(
        (app.count("invoices").await, app.count("payments").await),
        before
    );
    assert_eq!(
        fees.get_invoice(with_caller(
            &admin,
            pb::GetInvoiceRequest {
                id: mine.id.clone()
            }
        ))
        .await
        .unwrap()
        .into_inner(),
        mine
    );
}

#[tokio::test]
async fn list_pages_newest_first_with_filters() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let s2 = app
        .create_student(&admin, student("north-2", "Bo", "Li"))
        .await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let who = if i < 5 { &s.id } else { &s2.id };
        let mut r = invoice(who, "USD", vec![line("Fee", 1, 100 + i)]);
        if i % 2 == 0 {
            r.status = pb::InvoiceStatus::Draft.into();
        }
        ids.push(create(&app, &admin, r).await.id);
    }
    ids.reverse();
    let mut fees = app.fees();
    let list = |student_id: &str, status: pb::InvoiceStatus, cursor: String, limit: u32| {
        let req = pb::ListInvoicesRequest {
            page: Some(common::PageRequest { limit, cursor }),
            student_id: student_id.into(),
            status: status.into(),
        };
        let mut fees = fees.clone();
        async move { fees.list_invoices(with_caller(&admin, req)).await }
    };
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = list("", pb::InvoiceStatus::Unspecified, cursor, 3)
            .await
            .unwrap()
            .into_inner();
        assert!(page.invoices.len() <= 3);
        assert!(page.invoices.iter().all(|i| i.lines.len() == 1));
        seen.extend(page.invoices.into_iter().map(|i| i.id));
        cursor = page.page.unwrap().next_cursor;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ids, "every invoice once, newest first");
    let of_s2 = list(&s2.id, pb::InvoiceStatus::Unspecified, String::new(), 0)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        of_s2
            .invoices
            .iter()
            .map(|i| i.id.clone())
            .collect::<Vec<_>>(),
        ids[..2]
    );
    let drafts = list("", pb::InvoiceStatus::Draft, String::new(), 0)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(drafts.invoices.len(), 4);
    let s_drafts = list(&s.id, pb::InvoiceStatus::Draft, String::new(), 0)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s_drafts.invoices.len(), 3);
    assert!(s_drafts
        .invoices
        .iter()
        .all(|i| i.student_id == s.id && i.status == pb::InvoiceStatus::Draft as i32));

    let e = list("x", pb::InvoiceStatus::Unspecified, "garbage!".into(), 101)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(violations(&e), ["cursor", "limit", "student_id"]);
    let e = fees
        .list_invoices(with_caller(
            &admin,
            pb::ListInvoicesRequest {
                status: 42,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&e), ["status"]);
}

#[tokio::test]
async fn balance_of_a_student_without_invoices_and_of_no_student() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let mut fees = app.fees();
    let b = fees
        .get_student_balance(with_caller(
            &admin,
            pb::GetStudentBalanceRequest {
                student_id: s.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.student_id, s.id);
    assert!(b.balances.is_empty());
    let e = fees
        .get_student_balance(with_caller(
            &admin,
            pb::GetStudentBalanceRequest {
                student_id: Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = fees
        .get_student_balance(with_caller(
            &admin,
            pb::GetStudentBalanceRequest {
                student_id: "x".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
}

/// The composite keys make a link into another school impossible even for
/// SQL that bypasses the service.
#[tokio::test]
async fn the_schema_refuses_cross_school_links() {
    let app = spawn_app().await;
    let (admin, s) = setup(&app, "north").await;
    let (admin2, s2) = setup(&app, "south").await;
    let theirs = create(
        &app,
        &admin2,
        invoice(&s2.id, "USD", vec![line("Fee", 1, 100)]),
    )
    .await;
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let student: Uuid = s.id.parse().unwrap();
    let err = c
        .execute(
            "INSERT INTO students.invoices (id, school_id, student_id, currency, status, total, \
             issued_on, due_on) VALUES ($1, $2, $3, 'USD', 'issued', 100, '2026-09-01', '2026-09-30')",
            &[&Uuid::now_v7(), &admin2.school_id, &student],
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
    );
    let invoice_id: Uuid = theirs.id.parse().unwrap();
    let err = c
        .execute(
            "INSERT INTO students.payments (id, school_id, invoice_id, amount, currency, method, \
             amount_due_after, idempotency_key, request_hash) \
             VALUES ($1, $2, $3, 1, 'USD', 'cash', 99, 'k', '\\x00')",
            &[&Uuid::now_v7(), &admin.school_id, &invoice_id],
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
    );
    // Money and status must agree.
    let err = c
        .execute(
            "UPDATE students.invoices SET amount_paid = 100 WHERE id = $1",
            &[&invoice_id],
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION)
    );
}
