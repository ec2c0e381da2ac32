//! ExportService: one school's current state as events, from one snapshot,
//! with the versions the records have now; for its admin only.

use std::collections::BTreeMap;

use proto::common::v1 as common;
use proto::events::v1::{event::Payload, Event};
use proto::students::v1 as pb;
use proto::students::v1::{
    export_service_client::ExportServiceClient, grade_service_client::GradeServiceClient,
};
use tonic::Code;

use crate::helpers::*;

fn date(year: i32, month: u32, day: u32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

async fn export(
    app: &TestApp,
    caller: &platform::caller::Caller,
) -> Result<Vec<Event>, tonic::Status> {
    let mut stream = ExportServiceClient::new(app.channel.clone())
        .export_school(with_caller(caller, pb::ExportSchoolRequest {}))
        .await?
        .into_inner();
    let mut events = Vec::new();
    while let Some(batch) = stream.message().await? {
        events.extend(batch.events);
    }
    Ok(events)
}

#[tokio::test]
async fn a_school_exports_as_the_events_of_its_current_state() {
    let app = spawn_app().await;
    let admin = app.school("exp-a").await;
    let other = app.school("exp-b").await;
    app.create_student(&other, student("B-1", "Bea", "Other"))
        .await;
    let teacher = app.teacher(&admin, "t@exp-a.test").await;
    let ann = app
        .create_student(&admin, student("A-1", "Ann", "Able"))
        .await;
    let gone = app
        .create_student(&admin, student("A-2", "Gus", "Gone"))
        .await;
    app.students()
        .archive_student(with_caller(
            &admin,
            pb::ArchiveStudentRequest {
                id: gone.id.clone(),
            },
        ))
        .await
        .unwrap();
    let course = app
        .create_course(&admin, "M1", "2026-T1", &teacher, 30)
        .await;
    app.courses()
        .add_timetable_slot(with_caller(
            &admin,
            pb::AddTimetableSlotRequest {
                course_id: course.id.clone(),
                weekday: 1,
                start: "09:00".into(),
                end: "10:00".into(),
                room: "R1".into(),
            },
        ))
        .await
        .unwrap();
    app.enrol(&admin, &course.id, &ann.id).await;
    let bob = app
        .create_student(&admin, student("A-3", "Bob", "Brief"))
        .await;
    app.enrol(&admin, &course.id, &bob.id).await;
    app.enrolments()
        .withdraw(with_caller(
            &admin,
            pb::WithdrawRequest {
                course_id: course.id.clone(),
                student_id: bob.id.clone(),
            },
        ))
        .await
        .unwrap();
    app.attendance()
        .mark_attendance(with_caller(
            &teacher,
            pb::MarkAttendanceRequest {
                course_id: course.id.clone(),
                date: date(2026, 11, 23),
                period: 0,
                entries: vec![pb::AttendanceEntry {
                    student_id: ann.id.clone(),
                    status: pb::AttendanceStatus::Absent.into(),
                    note: String::new(),
                }],
            },
        ))
        .await
        .unwrap();
    let grades = GradeServiceClient::new(app.channel.clone());
    let assessment = grades
        .clone()
        .create_assessment(with_caller(
            &teacher,
            pb::CreateAssessmentRequest {
                course_id: course.id.clone(),
                title: "Quiz".into(),
                description: String::new(),
                max_score: 5000,
                weight: 1250,
                due_date: date(2026, 12, 1),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    grades
        .clone()
        .record_grades(with_caller(
            &teacher,
            pb::RecordGradesRequest {
                assessment_id: assessment.id.clone(),
                entries: vec![pb::GradeEntry {
                    student_id: ann.id.clone(),
                    score: 4200,
                }],
            },
        ))
        .await
        .unwrap();
    grades
        .clone()
        .publish_grades(with_caller(
            &teacher,
            pb::PublishGradesRequest {
                assessment_id: assessment.id.clone(),
            },
        ))
        .await
        .unwrap();
    let invoice = app
        .fees()
        .create_invoice(with_caller(
            &admin,
            pb::CreateInvoiceRequest {
                student_id: ann.id.clone(),
                currency: "USD".into(),
                lines: vec![pb::NewInvoiceLine {
                    description: "Tuition".into(),
                    quantity: 1,
                    unit_amount: 10_000,
                }],
                issued_on: date(2026, 9, 1),
                due_on: date(2026, 9, 30),
                status: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    app.fees()
        .issue_invoice(with_caller(
            &admin,
            pb::IssueInvoiceRequest {
                id: invoice.id.clone(),
            },
        ))
        .await
        .unwrap();
    app.fees()
        .record_payment(with_caller(
            &admin,
            pb::RecordPaymentRequest {
                invoice_id: invoice.id.clone(),
                idempotency_key: "pay-1".into(),
                amount: 4_000,
                currency: "USD".into(),
                method: pb::PaymentMethod::Card.into(),
                reference: String::new(),
            },
        ))
        .await
        .unwrap();
    let guardian = app
        .guardians()
        .create_guardian(with_caller(
            &admin,
            pb::CreateGuardianRequest {
                preferred_language: String::new(),
                given_name: "Gina".into(),
                family_name: "Able".into(),
                relationship: pb::GuardianRelationship::Mother.into(),
                phone: "+447911123456".into(),
                email: String::new(),
                notifications: None,
                login: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let link = pb::LinkStudentRequest {
        guardian_id: guardian.id.clone(),
        student_id: ann.id.clone(),
        relationship: 0,
        is_primary: true,
    };
    app.guardians()
        .link_student(with_caller(&admin, link.clone()))
        .await
        .unwrap();
    app.guardians()
        .unlink_student(with_caller(
            &admin,
            pb::UnlinkStudentRequest {
                guardian_id: guardian.id.clone(),
                student_id: ann.id.clone(),
            },
        ))
        .await
        .unwrap();
    app.guardians()
        .link_student(with_caller(&admin, link))
        .await
        .unwrap();

    let denied = export(&app, &teacher).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let events = export(&app, &admin).await.unwrap();
    let school = admin.school_id.to_string();
    assert!(
        events.iter().all(|e| e.school_id == school),
        "only the caller's school"
    );
    assert_eq!(events[0].event_type, "school.created", "the school first");
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &events {
        *kinds.entry(e.event_type.as_str()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("school.created", 1),
        ("user.created", 2),
        ("student.created", 2),
        ("student.archived", 1),
        ("course.created", 1),
        ("course.timetable_slot_added", 1),
        ("enrolment.created", 1),
        ("enrolment.withdrawn", 1),
        ("assessment.created", 1),
        ("grades.updated", 1),
        ("attendance.marked", 1),
        ("invoice.issued", 1),
        ("invoice.payment_recorded", 1),
        ("guardian.created", 1),
        ("guardian.linked", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds, expected);

    for e in &events {
        match &e.payload {
            Some(Payload::EnrolmentWithdrawn(w)) => {
                assert_eq!((w.student_id.as_str(), w.version), (bob.id.as_str(), 2));
            }
            Some(Payload::AttendanceMarked(a)) => {
                assert_eq!(a.date, "2026-11-23");
                assert_eq!(a.changes.len(), 1);
                assert_eq!(a.changes[0].effective_status, "absent");
            }
            Some(Payload::GradesUpdated(g)) => {
                assert!(g.published);
                assert_eq!(g.changes[0].score, 4200);
            }
            Some(Payload::InvoiceIssued(i)) => {
                // Issued at creation (1; issuing again changes nothing),
                // paid in part (2).
                assert_eq!(
                    (i.status.as_str(), i.amount_paid, i.version),
                    ("partially_paid", 4_000, 2)
                );
            }
            Some(Payload::PaymentRecorded(p)) => {
                assert_eq!((p.amount, p.invoice_version), (4_000, 2));
                assert!(p.recorded_at.is_some());
            }
            Some(Payload::GuardianLinked(l)) => {
                assert_eq!(l.version, 3, "linked, unlinked, linked again");
            }
            _ => {}
        }
    }
}
