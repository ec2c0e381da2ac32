use chrono::Datelike;
use pb::AttendanceStatus as S;
use platform::caller::{Caller, Role};
use proto::common::v1 as common;
use proto::events::v1::event::Payload;
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

fn entry(student: &str, status: S) -> pb::AttendanceEntry {
    pb::AttendanceEntry {
        student_id: student.into(),
        status: status.into(),
        note: String::new(),
    }
}

fn marks(course: &str, d: u32, entries: Vec<pb::AttendanceEntry>) -> pb::MarkAttendanceRequest {
    pb::MarkAttendanceRequest {
        course_id: course.into(),
        date: day(d),
        period: 0,
        entries,
    }
}

async fn mark(
    app: &TestApp,
    caller: &Caller,
    req: pb::MarkAttendanceRequest,
) -> Result<pb::AttendanceSession, tonic::Status> {
    app.attendance()
        .mark_attendance(with_caller(caller, req))
        .await
        .map(tonic::Response::into_inner)
}

async fn override_(
    app: &TestApp,
    caller: &Caller,
    course: &str,
    d: u32,
    overrides: Vec<pb::AttendanceOverride>,
) -> Result<pb::AttendanceSession, tonic::Status> {
    app.attendance()
        .override_attendance(with_caller(
            caller,
            pb::OverrideAttendanceRequest {
                course_id: course.into(),
                date: day(d),
                period: 0,
                overrides,
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

struct Class {
    admin: Caller,
    tess: Caller,
    course: pb::Course,
    students: Vec<String>,
}

/// A school with a teacher's course and `n` enrolled students.
async fn class(app: &TestApp, slug: &str, n: usize) -> Class {
    let admin = app.school(slug).await;
    let tess = app.teacher(&admin, &format!("tess@{slug}.test")).await;
    let course = app.create_course(&admin, "M1", "2026-T1", &tess, 100).await;
    let mut students = Vec::new();
    for i in 0..n {
        let s = app
            .create_student(&admin, student(&format!("A-{i}"), "Kid", "Ng"))
            .await;
        app.enrol(&admin, &course.id, &s.id).await;
        students.push(s.id);
    }
    Class {
        admin,
        tess,
        course,
        students,
    }
}

fn by_student(s: &pb::AttendanceSession, id: &str) -> pb::AttendanceRecord {
    s.records
        .iter()
        .find(|r| r.student_id == id)
        .cloned()
        .expect("record")
}

fn attendance_events(events: &[proto::events::v1::Event]) -> Vec<&proto::events::v1::Event> {
    events
        .iter()
        .filter(|e| e.aggregate_type == "attendance_session")
        .collect()
}

#[tokio::test]
async fn marking_is_an_idempotent_upsert_and_corrections_are_audited() {
    let app = spawn_app().await;
    let k = class(&app, "north", 3).await;
    let (a, b, c) = (&k.students[0], &k.students[1], &k.students[2]);
    let req = marks(
        &k.course.id,
        23,
        vec![entry(a, S::Present), entry(b, S::Absent), entry(c, S::Late)],
    );
    let first = mark(&app, &k.tess, req.clone()).await.unwrap();
    assert_eq!(first.records.len(), 3);
    let rb = by_student(&first, b);
    assert_eq!(rb.teacher_status, S::Absent as i32);
    assert_eq!(rb.effective_status, S::Absent as i32);
    assert_eq!(rb.marked_by, k.tess.user_id.to_string());
    assert_eq!(rb.revision, 1);

    // The same request again: same answer, nothing new written.
    let again = mark(&app, &k.tess, req).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.count("attendance").await, 3);
    assert_eq!(app.count("attendance_audit").await, 3);
    let events = app.events().await;
    let marked = attendance_events(&events);
    assert_eq!(marked.len(), 1, "a replay records no event");
    assert_eq!(marked[0].event_type, "attendance.marked");
    assert_eq!(marked[0].aggregate_id, k.course.id);
    match &marked[0].payload {
        Some(Payload::AttendanceMarked(p)) => {
            assert_eq!(
                (p.course_id.as_str(), p.date.as_str(), p.period),
                (k.course.id.as_str(), "2026-11-23", 0)
            );
            let mut got: Vec<(String, String)> = p
                .changes
                .iter()
                .map(|c| (c.student_id.clone(), c.effective_status.clone()))
                .collect();
            got.sort();
            let mut want = vec![
                (a.clone(), "present".to_owned()),
                (b.clone(), "absent".to_owned()),
                (c.clone(), "late".to_owned()),
            ];
            want.sort();
            assert_eq!(got, want);
        }
        other => panic!("unexpected payload {other:?}"),
    }

    // A correction of one student: only that record moves on.
    let mut corrected = entry(b, S::Late);
    corrected.note = "bus was late".into();
    let fixed = mark(
        &app,
        &k.tess,
        marks(&k.course.id, 23, vec![entry(a, S::Present), corrected]),
    )
    .await
    .unwrap();
    let rb2 = by_student(&fixed, b);
    assert_eq!(
        (rb2.teacher_status, rb2.revision, rb2.note.as_str()),
        (S::Late as i32, 2, "bus was late")
    );
    assert!(rb2.marked_at.unwrap().seconds >= rb.marked_at.unwrap().seconds);
    assert_eq!(by_student(&fixed, a).revision, 1);
    assert_eq!(fixed.records.len(), 3, "the whole session comes back");
    assert_eq!(app.count("attendance_audit").await, 4);
    let events = app.events().await;
    let marked = attendance_events(&events);
    assert_eq!(marked.len(), 2);
    match &marked[1].payload {
        Some(Payload::AttendanceMarked(p)) => {
            assert_eq!(p.changes.len(), 1);
            assert_eq!(
                (
                    p.changes[0].student_id.as_str(),
                    p.changes[0].effective_status.as_str(),
                    p.changes[0].revision
                ),
                (b.as_str(), "late", 2)
            );
        }
        other => panic!("unexpected payload {other:?}"),
    }
    // Another period of the same day is another session.
    let mut p2 = marks(&k.course.id, 23, vec![entry(a, S::Absent)]);
    p2.period = 2;
    let s2 = mark(&app, &k.tess, p2).await.unwrap();
    assert_eq!((s2.period, s2.records.len()), (2, 1));
}

#[tokio::test]
async fn office_overrides_are_kept_apart_from_the_teachers_mark() {
    let app = spawn_app().await;
    let k = class(&app, "north", 2).await;
    let (a, b) = (&k.students[0], &k.students[1]);
    mark(
        &app,
        &k.tess,
        marks(&k.course.id, 23, vec![entry(a, S::Absent)]),
    )
    .await
    .unwrap();

    let ov = |student: &str, status: S, reason: &str| pb::AttendanceOverride {
        student_id: student.into(),
        status: status.into(),
        reason: reason.into(),
    };
    let denied = override_(
        &app,
        &k.tess,
        &k.course.id,
        23,
        vec![ov(a, S::Excused, "doctor")],
    )
    .await
    .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let no_reason = override_(
        &app,
        &k.admin,
        &k.course.id,
        23,
        vec![ov(a, S::Excused, " ")],
    )
    .await
    .unwrap_err();
    assert_eq!(violations(&no_reason), ["overrides[0].reason"]);

    let s = override_(
        &app,
        &k.admin,
        &k.course.id,
        23,
        vec![
            ov(a, S::Excused, "doctor's note"),
            ov(b, S::Excused, "school trip"),
        ],
    )
    .await
    .unwrap();
    let ra = by_student(&s, a);
    assert_eq!(ra.teacher_status, S::Absent as i32);
    assert_eq!(ra.override_status, S::Excused as i32);
    assert_eq!(ra.effective_status, S::Excused as i32);
    assert_eq!(
        (ra.override_reason.as_str(), ra.overridden_by.clone()),
        ("doctor's note", k.admin.user_id.to_string())
    );
    assert_eq!(ra.revision, 2);
    let rb = by_student(&s, b);
    assert_eq!(
        (rb.teacher_status, rb.effective_status, rb.revision),
        (S::Unspecified as i32, S::Excused as i32, 1)
    );

    // The teacher's later correction keeps the override in force.
    let s = mark(
        &app,
        &k.tess,
        marks(&k.course.id, 23, vec![entry(a, S::Late)]),
    )
    .await
    .unwrap();
    let ra = by_student(&s, a);
    assert_eq!(
        (
            ra.teacher_status,
            ra.override_status,
            ra.effective_status,
            ra.revision
        ),
        (S::Late as i32, S::Excused as i32, S::Excused as i32, 3)
    );
    assert_eq!(ra.marked_by, k.tess.user_id.to_string());
    let got = app
        .attendance()
        .get_attendance_session(with_caller(
            &k.tess,
            pb::GetAttendanceSessionRequest {
                course_id: k.course.id.clone(),
                date: day(23),
                period: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, s);

    // Every change is in the audit trail with who and what.
    let db = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let trail: Vec<(String, String, Uuid, i32)> = db
        .query(
            "SELECT kind, status, actor, revision FROM students.attendance_audit \
             WHERE student_id = $1 ORDER BY revision",
            &[&Uuid::parse_str(a).unwrap()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        trail,
        [
            ("mark".into(), "absent".into(), k.tess.user_id, 1),
            ("override".into(), "excused".into(), k.admin.user_id, 2),
            ("mark".into(), "late".into(), k.tess.user_id, 3),
        ]
    );
    let events = app.events().await;
    let types: Vec<&str> = attendance_events(&events)
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "attendance.marked",
            "attendance.overridden",
            "attendance.marked"
        ]
    );
}

#[tokio::test]
async fn entries_for_students_not_enrolled_fail_the_whole_request() {
    let app = spawn_app().await;
    let k = class(&app, "north", 2).await;
    let outsider = app
        .create_student(&k.admin, student("X-1", "Out", "Side"))
        .await;
    let err = mark(
        &app,
        &k.tess,
        marks(
            &k.course.id,
            23,
            vec![
                entry(&k.students[0], S::Present),
                entry(&outsider.id, S::Absent),
                entry(&k.students[1], S::Present),
                entry(&Uuid::now_v7().to_string(), S::Present),
            ],
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&err),
        ["entries[1].student_id", "entries[3].student_id"]
    );
    assert!(err.message().contains("not enrolled"), "{}", err.message());
    assert_eq!(app.count("attendance").await, 0);
    assert_eq!(app.count("attendance_audit").await, 0);
    assert!(attendance_events(&app.events().await).is_empty());

    // A withdrawn student can still be marked for the day of the withdrawal,
    // and no longer for any later day. The days are counted from the
    // withdrawal itself, so the test means the same whatever day it runs.
    let withdrawn = app
        .enrolments()
        .withdraw(with_caller(
            &k.admin,
            pb::WithdrawRequest {
                course_id: k.course.id.clone(),
                student_id: k.students[1].clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let at = withdrawn.withdrawn_at.expect("withdrawn_at is set");
    let withdrawal_day = chrono::DateTime::from_timestamp(at.seconds, at.nanos as u32)
        .unwrap()
        .date_naive();
    let on = |d: chrono::NaiveDate| pb::MarkAttendanceRequest {
        course_id: k.course.id.clone(),
        date: Some(common::Date {
            year: d.year(),
            month: d.month(),
            day: d.day(),
        }),
        period: 0,
        entries: vec![entry(&k.students[1], S::Present)],
    };
    mark(&app, &k.tess, on(withdrawal_day)).await.unwrap();
    let err = mark(&app, &k.tess, on(withdrawal_day + chrono::Days::new(1)))
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["entries[0].student_id"]);
}

/// Attendance refers to students, courses and users without foreign keys
/// (see migration 0007): the database refuses to delete any of them, even
/// for a superuser, so a marked row can never point at nothing.
#[tokio::test]
async fn parents_of_attendance_rows_can_never_be_deleted() {
    let app = spawn_app().await;
    let k = class(&app, "north", 1).await;
    mark(
        &app,
        &k.tess,
        marks(&k.course.id, 23, vec![entry(&k.students[0], S::Absent)]),
    )
    .await
    .unwrap();
    let db = platform::testing::connect(&app.db.admin_url).await.unwrap();
    for (table, id) in [
        ("students", k.students[0].as_str()),
        ("courses", k.course.id.as_str()),
        ("users", &k.tess.user_id.to_string()),
    ] {
        let err = db
            .execute(
                &format!("DELETE FROM students.{table} WHERE id = $1"),
                &[&Uuid::parse_str(id).unwrap()],
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::RESTRICT_VIOLATION),
            "{table}: {err:?}"
        );
    }
    assert_eq!(app.count("students").await, 1);
    assert_eq!(app.count("attendance").await, 1);
}

#[tokio::test]
async fn bad_marks_wrong_teachers_and_other_schools() {
    let app = spawn_app().await;
    let k = class(&app, "north", 2).await;
    let (a, b) = (&k.students[0], &k.students[1]);
    let mut bad = marks(
        "nope",
        0,
        vec![
            entry(a, S::Unspecified),
            entry(a, S::Present),
            pb::AttendanceEntry {
                student_id: "x".into(),
                status: 9,
                note: "n".repeat(501),
            },
        ],
    );
    bad.period = 13;
    let err = mark(&app, &k.tess, bad).await.unwrap_err();
    assert_eq!(
        violations(&err),
        [
            "course_id",
            "date",
            "entries[0].status",
            "entries[1].student_id",
            "entries[2].note",
            "entries[2].status",
            "entries[2].student_id",
            "period",
        ]
    );
    let empty = mark(&app, &k.tess, marks(&k.course.id, 23, vec![]))
        .await
        .unwrap_err();
    assert_eq!(violations(&empty), ["entries"]);
    let mut no_date = marks(&k.course.id, 23, vec![entry(a, S::Present)]);
    no_date.date = None;
    assert_eq!(
        violations(&mark(&app, &k.tess, no_date).await.unwrap_err()),
        ["date"]
    );

    let theo = app.teacher(&k.admin, "theo@north.test").await;
    let wrong = mark(
        &app,
        &theo,
        marks(&k.course.id, 23, vec![entry(a, S::Present)]),
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.code(), Code::PermissionDenied);
    let as_student = Caller {
        role: Role::Student,
        student_id: Some(Uuid::parse_str(a).unwrap()),
        ..k.tess
    };
    let err = mark(
        &app,
        &as_student,
        marks(&k.course.id, 23, vec![entry(a, S::Present)]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let south = class(&app, "south", 1).await;
    let foreign = mark(
        &app,
        &south.tess,
        marks(&k.course.id, 23, vec![entry(b, S::Present)]),
    )
    .await
    .unwrap_err();
    assert_eq!(foreign.code(), Code::NotFound);
    let foreign_student = mark(
        &app,
        &k.tess,
        marks(
            &k.course.id,
            23,
            vec![entry(&south.students[0], S::Present)],
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(violations(&foreign_student), ["entries[0].student_id"]);
    let read = app
        .attendance()
        .get_attendance_session(with_caller(
            &south.admin,
            pb::GetAttendanceSessionRequest {
                course_id: k.course.id.clone(),
                date: day(23),
                period: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(read.code(), Code::NotFound);
    assert_eq!(app.count("attendance").await, 0);

    // An admin may mark as well.
    mark(
        &app,
        &k.admin,
        marks(&k.course.id, 23, vec![entry(a, S::Present)]),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn daily_rollups_count_effective_statuses_over_a_bounded_range() {
    let app = spawn_app().await;
    let k = class(&app, "north", 1).await;
    let a = &k.students[0];
    let theo = app.teacher(&k.admin, "theo@north.test").await;
    let art = app
        .create_course(&k.admin, "A1", "2026-T1", &theo, 10)
        .await;
    app.enrol(&k.admin, &art.id, a).await;
    mark(
        &app,
        &k.tess,
        marks(&k.course.id, 2, vec![entry(a, S::Present)]),
    )
    .await
    .unwrap();
    mark(&app, &theo, marks(&art.id, 2, vec![entry(a, S::Absent)]))
        .await
        .unwrap();
    mark(
        &app,
        &k.tess,
        marks(&k.course.id, 3, vec![entry(a, S::Absent)]),
    )
    .await
    .unwrap();
    override_(
        &app,
        &k.admin,
        &k.course.id,
        3,
        vec![pb::AttendanceOverride {
            student_id: a.clone(),
            status: S::Excused.into(),
            reason: "ill".into(),
        }],
    )
    .await
    .unwrap();
    mark(
        &app,
        &k.tess,
        marks(&k.course.id, 20, vec![entry(a, S::Late)]),
    )
    .await
    .unwrap();

    let rollup = |caller: Caller, student: String, from: u32, to: u32| {
        let mut att = app.attendance();
        async move {
            att.get_student_attendance(with_caller(
                &caller,
                pb::GetStudentAttendanceRequest {
                    student_id: student,
                    from: day(from),
                    to: day(to),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
        }
    };
    let r = rollup(k.admin, a.clone(), 1, 19).await.unwrap();
    let days: Vec<(u32, u32, u32, u32, u32)> = r
        .days
        .iter()
        .map(|d| (d.date.unwrap().day, d.present, d.absent, d.late, d.excused))
        .collect();
    assert_eq!(days, [(2, 1, 1, 0, 0), (3, 0, 0, 0, 1)]);
    // A teacher counts only the courses they teach.
    let r = rollup(theo, a.clone(), 1, 30).await.unwrap();
    let days: Vec<(u32, u32, u32)> = r
        .days
        .iter()
        .map(|d| (d.date.unwrap().day, d.present, d.absent))
        .collect();
    assert_eq!(days, [(2, 0, 1)]);
    // The student reads their own, and nobody else's (not found to them).
    let me = Caller {
        role: Role::Student,
        student_id: Some(Uuid::parse_str(a).unwrap()),
        ..k.tess
    };
    assert_eq!(rollup(me, a.clone(), 1, 30).await.unwrap().days.len(), 3);
    let other = app
        .create_student(&k.admin, student("B-1", "Bo", "Ng"))
        .await;
    assert_eq!(
        rollup(me, other.id, 1, 30).await.unwrap_err().code(),
        Code::NotFound
    );

    let too_long = app
        .attendance()
        .get_student_attendance(with_caller(
            &k.admin,
            pb::GetStudentAttendanceRequest {
                student_id: a.clone(),
                from: Some(common::Date {
                    year: 2026,
                    month: 1,
                    day: 1,
                }),
                to: Some(common::Date {
                    year: 2026,
                    month: 4,
                    day: 3,
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&too_long), ["to"]);
    assert_eq!(
        violations(&rollup(k.admin, a.clone(), 5, 4).await.unwrap_err()),
        ["to"]
    );
    assert_eq!(
        violations(&rollup(k.admin, "x".into(), 1, 4).await.unwrap_err()),
        ["student_id"]
    );
    let south = app.school("south").await;
    assert_eq!(
        rollup(south, a.clone(), 1, 4).await.unwrap_err().code(),
        Code::NotFound
    );
}

/// Marking a session runs the same small number of statements for 5 or 40
/// students: counted on the wire by a proxy in front of Postgres.
#[tokio::test]
async fn marking_runs_a_fixed_number_of_statements_whatever_the_class_size() {
    let counter = crate::pgcount::counter().await;
    let app = spawn_app_with(|c| {
        let url = counter.url(c.database_url());
        c.database_url = secrecy::SecretString::from(url);
    })
    .await;
    let k = class(&app, "north", 40).await;
    let session = |d: u32, n: usize, status: S| {
        marks(
            &k.course.id,
            d,
            k.students[..n].iter().map(|s| entry(s, status)).collect(),
        )
    };
    // Warm the connection's statement cache so preparing is not counted.
    mark(&app, &k.tess, session(1, 2, S::Present))
        .await
        .unwrap();

    let mut counts = Vec::new();
    for (d, n) in [(2, 5), (3, 40)] {
        counter.reset();
        let s = mark(&app, &k.tess, session(d, n, S::Absent)).await.unwrap();
        assert_eq!(s.records.len(), n);
        counts.push(counter.get());
    }
    // BEGIN, the course/access/enrolment check and the upsert (with its audit
    // rows and the session read back), the outbox row, COMMIT (sent in two
    // flights, see platform::db::Pipelined).
    assert_eq!(counts, [5, 5], "statements for 5 and 40 students");
    // A replay changes nothing and records no event: one statement fewer.
    counter.reset();
    mark(&app, &k.tess, session(3, 40, S::Absent))
        .await
        .unwrap();
    assert_eq!(counter.get(), 4);
}

/// Reads run the same statements whatever the page or class size.
#[tokio::test]
async fn lists_and_reads_run_a_fixed_number_of_statements() {
    let counter = crate::pgcount::counter().await;
    let app = spawn_app_with(|c| {
        let url = counter.url(c.database_url());
        c.database_url = secrecy::SecretString::from(url);
    })
    .await;
    let k = class(&app, "north", 30).await;
    for i in 0..4 {
        app.create_course(&k.admin, &format!("X{i}"), "2026-T2", &k.tess, 10)
            .await;
    }
    let all: Vec<_> = k.students.iter().map(|s| entry(s, S::Present)).collect();
    mark(&app, &k.tess, marks(&k.course.id, 23, all))
        .await
        .unwrap();

    let mut counted = Vec::new();
    for limit in [2, 100] {
        let page = Some(common::PageRequest {
            limit,
            cursor: String::new(),
        });
        counter.reset();
        let r = app
            .enrolments()
            .list_roster(with_caller(
                &k.tess,
                pb::ListRosterRequest {
                    course_id: k.course.id.clone(),
                    page: page.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.enrolments.len(), (limit as usize).min(30));
        let roster = counter.get();
        counter.reset();
        let r = app
            .courses()
            .list_courses(with_caller(
                &k.admin,
                pb::ListCoursesRequest {
                    page,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.courses.len(), (limit as usize).min(5));
        counted.push((roster, counter.get()));
    }
    // Roster: access check + page; courses: the page alone.
    assert_eq!(counted, [(2, 1), (2, 1)]);

    counter.reset();
    let s = app
        .attendance()
        .get_attendance_session(with_caller(
            &k.tess,
            pb::GetAttendanceSessionRequest {
                course_id: k.course.id.clone(),
                date: day(23),
                period: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((s.records.len(), counter.get()), (30, 2));
}
