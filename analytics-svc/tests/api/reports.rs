//! The admin reports: rows streamed oldest first, validated ranges (366
//! days at most, naming the field), filters by grade and course.

use platform::{caller::Role, testing::AssertCode};
use proto::{analytics::v1 as pb, common::v1::Date};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{call, caller, now, School, TestApp};

fn date(y: i32, m: u32, d: u32) -> Option<Date> {
    Some(Date {
        year: y,
        month: m,
        day: d,
    })
}

fn fields(s: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    s.get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn attendance_and_fees_reports_stream_validated_ranges() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let (teacher, c1, c2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (ann, ben) = (Uuid::now_v7(), Uuid::now_v7());
    let (inv, pay) = (Uuid::now_v7(), Uuid::now_v7());
    let mut events = vec![
        s.settings("weka", "UTC", 9, 1, 1),
        s.course(c1, "MAT", teacher, 30, 1),
        s.course(c2, "ART", teacher, 30, 1),
        s.student(ann, "Ng", 5, "A", "active", 1),
        s.student(ben, "Oh", 6, "A", "active", 1),
        s.invoice(inv, ann, 1000, 0, "issued", "2029-12-20", "2030-01-10", 1),
        s.payment(pay, inv, ann, 250, 1000, 250, 2, now()),
    ];
    // 40 school days from 2029-04-01 to 2030-03-12 (more than one chunk).
    let first = chrono::NaiveDate::from_ymd_opt(2029, 4, 1).unwrap();
    for k in 0..40 {
        let d = (first + chrono::Duration::days(k * 8))
            .format("%Y-%m-%d")
            .to_string();
        events.push(s.mark(c1, &d, 1, &[(ann, "present", 1), (ben, "absent", 1)]));
        events.push(s.mark(c2, &d, 1, &[(ann, "late", 1)]));
    }
    app.apply(&events).await;
    let admin = caller(s.id(), Uuid::now_v7(), Role::Admin);
    let mut client = app.client().await;
    let rows = |req: pb::AttendanceReportRequest| {
        let mut client = client.clone();
        let req = call(&admin, req);
        async move {
            let mut stream = client.attendance_report(req).await?.into_inner();
            let mut out = Vec::new();
            while let Some(row) = stream.message().await? {
                out.push(row.day.unwrap());
            }
            Ok::<_, tonic::Status>(out)
        }
    };
    // 366 days (both ends included): 2029-04-01 .. 2030-04-01.
    let year = pb::AttendanceReportRequest {
        from: date(2029, 4, 1),
        to: date(2030, 4, 1),
        ..Default::default()
    };
    let all = rows(year.clone()).await.unwrap();
    assert_eq!(all.len(), 40);
    assert!(
        all.windows(2).all(|w| w[0].date < w[1].date),
        "oldest first"
    );
    assert_eq!(
        (
            all[0].date.as_str(),
            all[0].present,
            all[0].absent,
            all[0].late
        ),
        ("2029-04-01", 1, 1, 1)
    );
    assert_eq!(all[0].rate, 6667);
    // One course; one grade; both.
    let art = rows(pb::AttendanceReportRequest {
        course_id: c2.to_string(),
        ..year.clone()
    })
    .await
    .unwrap();
    assert_eq!((art.len(), art[0].late, art[0].present), (40, 1, 0));
    let grade6 = rows(pb::AttendanceReportRequest {
        grade_level: Some(6),
        ..year.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        (grade6[0].absent, grade6[0].present + grade6[0].late),
        (1, 0)
    );
    let both = rows(pb::AttendanceReportRequest {
        grade_level: Some(5),
        course_id: c1.to_string(),
        ..year.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        (both.len(), both[0].present, both[0].absent, both[0].late),
        (40, 1, 0, 0)
    );

    // 367 days: INVALID_ARGUMENT naming `to`; bad and missing dates name theirs.
    let long = rows(pb::AttendanceReportRequest {
        to: date(2030, 4, 2),
        ..year.clone()
    })
    .await
    .assert_code(Code::InvalidArgument);
    assert_eq!(fields(&long), ["to"]);
    let bad = rows(pb::AttendanceReportRequest {
        from: date(2030, 2, 30),
        to: None,
        ..Default::default()
    })
    .await
    .assert_code(Code::InvalidArgument);
    assert_eq!(fields(&bad), ["from", "to"]);
    let backwards = rows(pb::AttendanceReportRequest {
        from: date(2030, 3, 2),
        to: date(2030, 3, 1),
        ..Default::default()
    })
    .await
    .assert_code(Code::InvalidArgument);
    assert_eq!(fields(&backwards), ["to"]);

    // Fees: the months the range touches, oldest first.
    let mut fees = client
        .fees_report(call(
            &admin,
            pb::FeesReportRequest {
                from: date(2029, 4, 1),
                to: date(2030, 4, 1),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut months = Vec::new();
    while let Some(r) = fees.message().await.unwrap() {
        months.push(r.month.unwrap());
    }
    let got: Vec<(String, i64, i64, i64)> = months
        .into_iter()
        .map(|m| (m.month, m.billed, m.collected, m.outstanding))
        .collect();
    assert_eq!(
        got,
        [
            ("2029-12".to_owned(), 1000, 0, 750),
            ("2030-03".to_owned(), 0, 250, 0)
        ]
    );
    let long = client
        .fees_report(call(
            &admin,
            pb::FeesReportRequest {
                from: date(2029, 1, 1),
                to: date(2030, 1, 3),
            },
        ))
        .await
        .assert_code(Code::InvalidArgument);
    assert_eq!(fields(&long), ["to"]);
    app.stop().await;
}
