//! A guardian login reads its linked children's attendance, invoices,
//! balance and published grades, and nobody else's: not another family's child of the same
//! school, not another school's student, not a child once unlinked. Each
//! read checks the link in the statement that reads (counted on the wire).

use pb::AttendanceStatus as S;
use platform::caller::{Caller, Role};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn day(d: u32) -> Option<common::Date> {
    Some(common::Date {
        year: 2026,
        month: 11,
        day: d,
    })
}

fn range(student: &str) -> pb::GetStudentAttendanceRequest {
    pb::GetStudentAttendanceRequest {
        student_id: student.into(),
        from: day(1),
        to: day(30),
    }
}

fn invoice(student_id: &str, unit_amount: i64) -> pb::CreateInvoiceRequest {
    pb::CreateInvoiceRequest {
        student_id: student_id.into(),
        currency: "USD".into(),
        lines: vec![pb::NewInvoiceLine {
            description: "Tuition".into(),
            quantity: 1,
            unit_amount,
        }],
        issued_on: Some(common::Date {
            year: 2026,
            month: 9,
            day: 1,
        }),
        due_on: Some(common::Date {
            year: 2026,
            month: 9,
            day: 30,
        }),
        status: 0,
    }
}

fn list_for(student_id: &str) -> pb::ListInvoicesRequest {
    pb::ListInvoicesRequest {
        student_id: student_id.into(),
        ..Default::default()
    }
}

/// A school whose guardian (with a login) has two children, Ada and Ben,
/// beside a third student, Cy, of another family; every one of them is in
/// a course with a day of attendance and has an invoice.
struct Family {
    admin: Caller,
    mum: pb::Guardian,
    mary: Caller,
    ada: pb::Student,
    ben: pb::Student,
    cy: pb::Student,
    invoices: [pb::Invoice; 3],
    course_id: String,
}

async fn family(app: &TestApp, slug: &str) -> Family {
    let admin = app.school(slug).await;
    let tess = app.teacher(&admin, &format!("tess@{slug}.test")).await;
    let course = app.create_course(&admin, "M1", "2026-T1", &tess, 10).await;
    let mut kids = Vec::new();
    for (n, given) in ["Ada", "Ben", "Cy"].into_iter().enumerate() {
        let s = app
            .create_student(&admin, student(&format!("{slug}-{n}"), given, "Ng"))
            .await;
        app.enrol(&admin, &course.id, &s.id).await;
        kids.push(s);
    }
    let statuses = [S::Present, S::Absent, S::Late];
    app.attendance()
        .mark_attendance(with_caller(
            &tess,
            pb::MarkAttendanceRequest {
                course_id: course.id.clone(),
                date: day(23),
                period: 0,
                entries: kids
                    .iter()
                    .zip(statuses)
                    .map(|(s, st)| pb::AttendanceEntry {
                        student_id: s.id.clone(),
                        status: st.into(),
                        note: String::new(),
                    })
                    .collect(),
            },
        ))
        .await
        .unwrap();
    let mut invoices = Vec::new();
    for (s, amount) in kids.iter().zip([100, 200, 300]) {
        let i = app
            .fees()
            .create_invoice(with_caller(&admin, invoice(&s.id, amount)))
            .await
            .unwrap()
            .into_inner();
        invoices.push(i);
    }
    let mum = app
        .guardians()
        .create_guardian(with_caller(
            &admin,
            pb::CreateGuardianRequest {
                preferred_language: String::new(),
                given_name: "Mary".into(),
                family_name: "Ng".into(),
                relationship: pb::GuardianRelationship::Mother.into(),
                phone: String::new(),
                email: String::new(),
                notifications: Some(pb::NotificationPreferences {
                    sms: false,
                    email: false,
                    push: true,
                }),
                login: Some(pb::GuardianLogin {
                    email: format!("mary@{slug}.test"),
                    password: PASSWORD.into(),
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    for s in &kids[..2] {
        app.guardians()
            .link_student(with_caller(
                &admin,
                pb::LinkStudentRequest {
                    guardian_id: mum.id.clone(),
                    student_id: s.id.clone(),
                    relationship: 0,
                    is_primary: false,
                },
            ))
            .await
            .unwrap();
    }
    let mary = Caller {
        school_id: admin.school_id,
        user_id: mum.user_id.parse().unwrap(),
        role: Role::Guardian,
        student_id: None,
    };
    let [ada, ben, cy]: [pb::Student; 3] = kids.try_into().unwrap();
    Family {
        admin,
        mum,
        mary,
        ada,
        ben,
        cy,
        invoices: invoices.try_into().unwrap(),
        course_id: course.id.clone(),
    }
}

async fn attendance(
    app: &TestApp,
    who: &Caller,
    student: &str,
) -> Result<pb::StudentAttendance, tonic::Status> {
    app.attendance()
        .get_student_attendance(with_caller(who, range(student)))
        .await
        .map(tonic::Response::into_inner)
}

async fn balance(
    app: &TestApp,
    who: &Caller,
    student: &str,
) -> Result<pb::StudentBalance, tonic::Status> {
    app.fees()
        .get_student_balance(with_caller(
            who,
            pb::GetStudentBalanceRequest {
                student_id: student.into(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn get_invoice(app: &TestApp, who: &Caller, id: &str) -> Result<pb::Invoice, tonic::Status> {
    app.fees()
        .get_invoice(with_caller(who, pb::GetInvoiceRequest { id: id.into() }))
        .await
        .map(tonic::Response::into_inner)
}

async fn list(
    app: &TestApp,
    who: &Caller,
    req: pb::ListInvoicesRequest,
) -> Result<Vec<String>, tonic::Status> {
    app.fees()
        .list_invoices(with_caller(who, req))
        .await
        .map(|r| r.into_inner().invoices.into_iter().map(|i| i.id).collect())
}

#[tokio::test]
async fn a_guardian_reads_their_childrens_attendance_invoices_and_balances_only() {
    let app = spawn_app().await;
    let f = family(&app, "north").await;
    let south = family(&app, "south").await;
    let [ada_inv, ben_inv, cy_inv] = &f.invoices;

    // Both children: their own roll-up, invoices and balance.
    for (s, present, absent, inv, due) in
        [(&f.ada, 1, 0, ada_inv, 100), (&f.ben, 0, 1, ben_inv, 200)]
    {
        let a = attendance(&app, &f.mary, &s.id).await.unwrap();
        assert_eq!(a.student_id, s.id);
        assert_eq!(a.days.len(), 1);
        assert_eq!((a.days[0].present, a.days[0].absent), (present, absent));
        assert_eq!(&get_invoice(&app, &f.mary, &inv.id).await.unwrap(), inv);
        assert_eq!(
            list(&app, &f.mary, list_for(&s.id)).await.unwrap(),
            [inv.id.as_str()]
        );
        let b = balance(&app, &f.mary, &s.id).await.unwrap();
        assert_eq!(b.balances.len(), 1);
        assert_eq!(
            (b.balances[0].total_invoiced, b.balances[0].balance_due),
            (due, due)
        );
    }
    // Without a student: every child's invoices, newest first, paginated.
    let all = list(&app, &f.mary, pb::ListInvoicesRequest::default())
        .await
        .unwrap();
    assert_eq!(all, [ben_inv.id.clone(), ada_inv.id.clone()]);
    let first = app
        .fees()
        .list_invoices(with_caller(
            &f.mary,
            pb::ListInvoicesRequest {
                page: Some(common::PageRequest {
                    limit: 1,
                    cursor: String::new(),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.invoices.len(), 1);
    assert_eq!(first.invoices[0].id, ben_inv.id);
    let second = app
        .fees()
        .list_invoices(with_caller(
            &f.mary,
            pb::ListInvoicesRequest {
                page: Some(common::PageRequest {
                    limit: 1,
                    cursor: first.page.unwrap().next_cursor,
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.invoices.len(), 1);
    assert_eq!(second.invoices[0].id, ada_inv.id);
    assert_eq!(second.page.unwrap().next_cursor, "");
    // A filter that matches nothing of a linked child: an empty page.
    let drafts = list(
        &app,
        &f.mary,
        pb::ListInvoicesRequest {
            student_id: f.ada.id.clone(),
            status: pb::InvoiceStatus::Draft.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(drafts.is_empty());

    // Cy (same school, another family), a student of another school and no
    // student at all answer alike, as to a student reading someone else's:
    // not found (an edited id tells nothing about which ids exist).
    let strangers = [
        f.cy.id.clone(),
        south.ada.id.clone(),
        Uuid::now_v7().to_string(),
    ];
    for id in &strangers {
        let e = attendance(&app, &f.mary, id).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{id}");
        let e = balance(&app, &f.mary, id).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{id}");
        let e = list(&app, &f.mary, list_for(id)).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{id}");
    }
    for id in [&cy_inv.id, &south.invoices[0].id] {
        let e = get_invoice(&app, &f.mary, id).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{id}");
    }
    // A guardian of the other school reaches none of north's either.
    let e = attendance(&app, &south.mary, &f.ada.id).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = get_invoice(&app, &south.mary, &ada_inv.id)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    // Reads only: writes stay refused.
    let e = app
        .fees()
        .create_invoice(with_caller(&f.mary, invoice(&f.ada.id, 1)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // Unlinked, Ben is no longer hers; Ada still is.
    app.guardians()
        .unlink_student(with_caller(
            &f.admin,
            pb::UnlinkStudentRequest {
                guardian_id: f.mum.id.clone(),
                student_id: f.ben.id.clone(),
            },
        ))
        .await
        .unwrap();
    let e = attendance(&app, &f.mary, &f.ben.id).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = balance(&app, &f.mary, &f.ben.id).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = list(&app, &f.mary, list_for(&f.ben.id)).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = get_invoice(&app, &f.mary, &ben_inv.id).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let all = list(&app, &f.mary, pb::ListInvoicesRequest::default())
        .await
        .unwrap();
    assert_eq!(all, [ada_inv.id.as_str()]);
    assert!(attendance(&app, &f.mary, &f.ada.id).await.is_ok());
}

/// A linked child without attendance or invoices: empty answers, not 403.
#[tokio::test]
async fn a_linked_child_with_nothing_recorded_reads_empty() {
    let app = spawn_app().await;
    let f = family(&app, "north").await;
    let dan = app
        .create_student(&f.admin, student("north-9", "Dan", "Ng"))
        .await;
    app.guardians()
        .link_student(with_caller(
            &f.admin,
            pb::LinkStudentRequest {
                guardian_id: f.mum.id.clone(),
                student_id: dan.id.clone(),
                relationship: 0,
                is_primary: false,
            },
        ))
        .await
        .unwrap();
    let a = attendance(&app, &f.mary, &dan.id).await.unwrap();
    assert!(a.days.is_empty());
    let b = balance(&app, &f.mary, &dan.id).await.unwrap();
    assert_eq!(b.student_id, dan.id);
    assert!(b.balances.is_empty());
    assert!(list(&app, &f.mary, list_for(&dan.id))
        .await
        .unwrap()
        .is_empty());
    // A day range without Ada's attendance: linked, so empty.
    let a = app
        .attendance()
        .get_student_attendance(with_caller(
            &f.mary,
            pb::GetStudentAttendanceRequest {
                student_id: f.ada.id.clone(),
                from: day(1),
                to: day(2),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(a.days.is_empty());
}

/// Each guardian read is the link check and the read in one statement (two
/// with an invoice's lines), whatever the number of children.
#[tokio::test]
async fn guardian_reads_check_the_link_in_the_read() {
    let counter = crate::pgcount::counter().await;
    let app = spawn_app_with(|c| {
        let url = counter.url(c.database_url());
        c.database_url = secrecy::SecretString::from(url);
    })
    .await;
    let f = family(&app, "north").await;
    let [ada_inv, _, cy_inv] = &f.invoices;

    let mut counted = Vec::new();
    for student in [&f.ada.id, &f.cy.id] {
        counter.reset();
        let _ = attendance(&app, &f.mary, student).await;
        let a = counter.get();
        counter.reset();
        let _ = balance(&app, &f.mary, student).await;
        let b = counter.get();
        counter.reset();
        let _ = list(&app, &f.mary, list_for(student)).await;
        counted.push((a, b, counter.get()));
    }
    // Allowed: roll-up 1, balance 1, page + lines 2; refused: 1, 1, 1.
    assert_eq!(counted, [(1, 1, 2), (1, 1, 1)]);
    counter.reset();
    get_invoice(&app, &f.mary, &ada_inv.id).await.unwrap();
    assert_eq!(counter.get(), 2);
    counter.reset();
    get_invoice(&app, &f.mary, &cy_inv.id).await.unwrap_err();
    assert_eq!(counter.get(), 1);
}

#[tokio::test]
async fn a_guardian_reads_only_published_grades_of_their_children() {
    use pb::grade_service_client::GradeServiceClient;
    let app = spawn_app().await;
    let f = family(&app, "gr-north").await;
    let mut grades = GradeServiceClient::new(app.channel.clone());
    let quiz = grades
        .create_assessment(with_caller(
            &f.admin,
            pb::CreateAssessmentRequest {
                course_id: f.course_id.clone(),
                title: "Quiz 1".into(),
                description: String::new(),
                max_score: 1000,
                weight: 1000,
                due_date: day(20),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let entries = [(&f.ada, 900), (&f.ben, 700), (&f.cy, 500)]
        .into_iter()
        .map(|(s, score)| pb::GradeEntry {
            student_id: s.id.clone(),
            score,
        })
        .collect();
    grades
        .record_grades(with_caller(
            &f.admin,
            pb::RecordGradesRequest {
                assessment_id: quiz.id.clone(),
                entries,
            },
        ))
        .await
        .unwrap();
    let reader = GradeServiceClient::new(app.channel.clone());
    let read = |who: &Caller, student: &pb::Student| {
        let mut grades = reader.clone();
        let req = with_caller(
            who,
            pb::ListStudentGradesRequest {
                student_id: student.id.clone(),
                ..Default::default()
            },
        );
        async move {
            grades
                .list_student_grades(req)
                .await
                .map(|r| r.into_inner())
        }
    };
    // Drafts are not for families.
    assert!(read(&f.mary, &f.ada).await.unwrap().grades.is_empty());
    grades
        .publish_grades(with_caller(
            &f.admin,
            pb::PublishGradesRequest {
                assessment_id: quiz.id.clone(),
            },
        ))
        .await
        .unwrap();
    for (child, score) in [(&f.ada, 900), (&f.ben, 700)] {
        let got = read(&f.mary, child).await.unwrap();
        let scores: Vec<i32> = got.grades.iter().map(|g| g.score).collect();
        assert_eq!(scores, [score]);
    }
    // Another family's child, an unknown id, another school: refused alike.
    let stranger = pb::Student {
        id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    for s in [&f.cy, &stranger] {
        let e = read(&f.mary, s).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{}", s.id);
    }
    let south = family(&app, "gr-south").await;
    let e = read(&south.mary, &f.ada).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
}
