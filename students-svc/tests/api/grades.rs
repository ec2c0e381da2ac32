use platform::caller::{Caller, Role};
use proto::common::v1 as common;
use proto::events::v1::event::Payload;
use proto::events::v1::{Event, StudentScore};
use proto::students::v1 as pb;
use proto::students::v1::grade_service_client::GradeServiceClient;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

type Res<T> = Result<T, tonic::Status>;

fn grades(app: &TestApp) -> GradeServiceClient<crate::helpers::Svc> {
    GradeServiceClient::new(app.channel.clone())
}

fn due(day: u32) -> Option<common::Date> {
    Some(common::Date {
        year: 2026,
        month: 12,
        day,
    })
}

fn new_assessment(course: &str, title: &str, day: u32) -> pb::CreateAssessmentRequest {
    pb::CreateAssessmentRequest {
        course_id: course.into(),
        title: title.into(),
        description: String::new(),
        max_score: 5000,
        weight: 1250,
        due_date: due(day),
    }
}

async fn create(app: &TestApp, c: &Caller, r: pb::CreateAssessmentRequest) -> Res<pb::Assessment> {
    grades(app)
        .create_assessment(with_caller(c, r))
        .await
        .map(tonic::Response::into_inner)
}

async fn get(app: &TestApp, c: &Caller, id: &str) -> Res<pb::Assessment> {
    grades(app)
        .get_assessment(with_caller(c, pb::GetAssessmentRequest { id: id.into() }))
        .await
        .map(tonic::Response::into_inner)
}

async fn update(app: &TestApp, c: &Caller, r: pb::UpdateAssessmentRequest) -> Res<pb::Assessment> {
    grades(app)
        .update_assessment(with_caller(c, r))
        .await
        .map(tonic::Response::into_inner)
}

fn entry(student: &str, score: i32) -> pb::GradeEntry {
    pb::GradeEntry {
        student_id: student.into(),
        score,
    }
}

async fn record(
    app: &TestApp,
    c: &Caller,
    assessment: &str,
    entries: Vec<pb::GradeEntry>,
) -> Res<pb::GradeSheet> {
    grades(app)
        .record_grades(with_caller(
            c,
            pb::RecordGradesRequest {
                assessment_id: assessment.into(),
                entries,
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn sheet(app: &TestApp, c: &Caller, assessment: &str) -> Res<pb::GradeSheet> {
    grades(app)
        .get_grades(with_caller(
            c,
            pb::GetGradesRequest {
                assessment_id: assessment.into(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn publish(app: &TestApp, c: &Caller, assessment: &str) -> Res<pb::Assessment> {
    grades(app)
        .publish_grades(with_caller(
            c,
            pb::PublishGradesRequest {
                assessment_id: assessment.into(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn student_grades(app: &TestApp, c: &Caller, student: &str) -> Res<pb::StudentGrades> {
    grades(app)
        .list_student_grades(with_caller(
            c,
            pb::ListStudentGradesRequest {
                student_id: student.into(),
                ..Default::default()
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

struct Class {
    admin: Caller,
    tess: Caller,
    theo: Caller,
    course: pb::Course,
    students: Vec<String>,
}

/// A school with Tess's course of `n` enrolled students, and Theo, who
/// teaches something else.
async fn class(app: &TestApp, slug: &str, n: usize) -> Class {
    let admin = app.school(slug).await;
    let tess = app.teacher(&admin, &format!("tess@{slug}.test")).await;
    let theo = app.teacher(&admin, &format!("theo@{slug}.test")).await;
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
        theo,
        course,
        students,
    }
}

/// A student's own login, as the gateway passes it.
fn student_caller(admin: &Caller, student: &str) -> Caller {
    Caller {
        school_id: admin.school_id,
        user_id: Uuid::now_v7(),
        role: Role::Student,
        student_id: Some(student.parse().unwrap()),
    }
}

fn guardian_caller(admin: &Caller) -> Caller {
    Caller {
        school_id: admin.school_id,
        user_id: Uuid::now_v7(),
        role: Role::Guardian,
        student_id: None,
    }
}

fn scores(sheet: &pb::GradeSheet) -> Vec<(String, i32, i32)> {
    sheet
        .grades
        .iter()
        .map(|g| (g.student_id.clone(), g.score, g.revision))
        .collect()
}

fn sorted(mut v: Vec<(String, i32, i32)>) -> Vec<(String, i32, i32)> {
    v.sort();
    v
}

fn triples(s: &[StudentScore]) -> Vec<(String, i32, i32)> {
    s.iter()
        .map(|s| (s.student_id.clone(), s.score, s.revision))
        .collect()
}

fn types(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

#[tokio::test]
async fn teachers_manage_the_assessments_of_their_own_courses() {
    let app = spawn_app().await;
    let k = class(&app, "north", 0).await;
    let mut req = new_assessment(&k.course.id, "  Quiz 1 ", 20);
    req.description = "Chapters 1-3\nopen book".into();
    req.max_score = 4550;
    let quiz = create(&app, &k.tess, req).await.unwrap();
    assert_eq!(
        (
            quiz.title.as_str(),
            quiz.description.as_str(),
            quiz.max_score,
            quiz.weight,
            quiz.version
        ),
        ("Quiz 1", "Chapters 1-3\nopen book", 4550, 1250, 1)
    );
    assert_eq!(quiz.due_date, due(20));
    assert_eq!(quiz.course_id, k.course.id);
    assert_eq!(quiz.created_by, k.tess.user_id.to_string());
    assert!(quiz.published_at.is_none() && quiz.published_by.is_empty());

    // Another teacher, a student and a guardian may not.
    for c in [
        &k.theo,
        &student_caller(&k.admin, &Uuid::now_v7().to_string()),
        &guardian_caller(&k.admin),
    ] {
        let e = create(&app, c, new_assessment(&k.course.id, "X", 1))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
    }
    assert_eq!(
        get(&app, &k.theo, &quiz.id).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    assert_eq!(get(&app, &k.tess, &quiz.id).await.unwrap(), quiz);

    // The admin adds more; the list is in due-date order, keyset-paginated.
    let exam = create(&app, &k.admin, new_assessment(&k.course.id, "Exam", 30))
        .await
        .unwrap();
    let essay = create(&app, &k.admin, new_assessment(&k.course.id, "Essay", 5))
        .await
        .unwrap();
    let list = |cursor: String| pb::ListAssessmentsRequest {
        course_id: k.course.id.clone(),
        page: Some(common::PageRequest { limit: 2, cursor }),
    };
    let p1 = grades(&app)
        .list_assessments(with_caller(&k.tess, list(String::new())))
        .await
        .unwrap()
        .into_inner();
    let titles: Vec<&str> = p1.assessments.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["Essay", "Quiz 1"]);
    assert_eq!(p1.assessments[0], essay);
    let cursor = p1.page.unwrap().next_cursor;
    assert!(!cursor.is_empty());
    let p2 = grades(&app)
        .list_assessments(with_caller(&k.tess, list(cursor)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p2.assessments, [exam]);
    assert!(p2.page.unwrap().next_cursor.is_empty());
    let denied = grades(&app)
        .list_assessments(with_caller(&k.theo, list(String::new())))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Optimistic updates.
    let v2 = update(
        &app,
        &k.tess,
        pb::UpdateAssessmentRequest {
            id: quiz.id.clone(),
            version: 1,
            title: Some("Quiz one".into()),
            description: Some(String::new()),
            weight: Some(10_000),
            due_date: due(21),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (
            v2.title.as_str(),
            v2.description.as_str(),
            v2.weight,
            v2.max_score,
            v2.version
        ),
        ("Quiz one", "", 10_000, 4550, 2)
    );
    assert_eq!(v2.due_date, due(21));
    let stale = update(
        &app,
        &k.tess,
        pb::UpdateAssessmentRequest {
            id: quiz.id.clone(),
            version: 1,
            title: Some("Lost".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let theirs = update(
        &app,
        &k.theo,
        pb::UpdateAssessmentRequest {
            id: quiz.id.clone(),
            version: 2,
            title: Some("Mine".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(theirs.code(), Code::PermissionDenied);
    assert_eq!(get(&app, &k.admin, &quiz.id).await.unwrap(), v2);

    let events = app.events_of(&["assessment"]).await;
    assert_eq!(
        types(&events),
        [
            "assessment.created",
            "assessment.created",
            "assessment.created",
            "assessment.updated"
        ]
    );
    assert_eq!(events[0].aggregate_id, quiz.id);
    assert_eq!(events[0].actor_user_id, k.tess.user_id.to_string());
    match &events[3].payload {
        Some(Payload::AssessmentUpdated(a)) => {
            assert_eq!(
                (
                    a.assessment_id.as_str(),
                    a.course_id.as_str(),
                    a.title.as_str(),
                    a.max_score,
                    a.weight,
                    a.due_date.as_str(),
                    a.published,
                    a.version
                ),
                (
                    quiz.id.as_str(),
                    k.course.id.as_str(),
                    "Quiz one",
                    4550,
                    10_000,
                    "2026-12-21",
                    false,
                    2
                )
            );
        }
        other => panic!("unexpected payload {other:?}"),
    }
}

#[tokio::test]
async fn bad_assessments_are_rejected_field_by_field_and_write_nothing() {
    let app = spawn_app().await;
    let k = class(&app, "north", 0).await;
    let other = app.school("south").await;
    let their_teacher = app.teacher(&other, "tess@south.test").await;
    let their_course = app
        .create_course(&other, "M1", "2026-T1", &their_teacher, 10)
        .await;

    let e = create(
        &app,
        &k.admin,
        pb::CreateAssessmentRequest {
            course_id: "nope".into(),
            title: " ".into(),
            description: "bell\u{7}".into(),
            max_score: 0,
            weight: 10_001,
            due_date: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&e),
        [
            "course_id",
            "description",
            "due_date",
            "max_score",
            "title",
            "weight"
        ]
    );
    let mut r = new_assessment(&k.course.id, &"x".repeat(201), 1);
    r.max_score = 100_001;
    r.weight = 0;
    r.description = "y".repeat(2001);
    r.due_date = Some(common::Date {
        year: 2026,
        month: 2,
        day: 30,
    });
    let e = create(&app, &k.admin, r).await.unwrap_err();
    assert_eq!(
        violations(&e),
        ["description", "due_date", "max_score", "title", "weight"]
    );
    let mut r = new_assessment(&k.course.id, "Quiz", 1);
    r.max_score = -100;
    r.weight = -1;
    let e = create(&app, &k.admin, r).await.unwrap_err();
    assert_eq!(violations(&e), ["max_score", "weight"]);

    // Another school's course is not found, for its admin as for ours.
    let e = create(&app, &k.admin, new_assessment(&their_course.id, "Q", 1))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = create(
        &app,
        &k.admin,
        new_assessment(&Uuid::now_v7().to_string(), "Q", 1),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(app.count("assessments").await, 0);

    // Another school's assessment: not found for every operation.
    let theirs = create(&app, &other, new_assessment(&their_course.id, "Q", 1))
        .await
        .unwrap();
    let id = theirs.id.clone();
    assert_eq!(
        get(&app, &k.admin, &id).await.unwrap_err().code(),
        Code::NotFound
    );
    let e = update(
        &app,
        &k.admin,
        pb::UpdateAssessmentRequest {
            id: id.clone(),
            version: 1,
            title: Some("Mine".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(
        record(
            &app,
            &k.admin,
            &id,
            vec![entry(&Uuid::now_v7().to_string(), 1)]
        )
        .await
        .unwrap_err()
        .code(),
        Code::NotFound
    );
    assert_eq!(
        sheet(&app, &k.admin, &id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        publish(&app, &k.admin, &id).await.unwrap_err().code(),
        Code::NotFound
    );
    let e = grades(&app)
        .list_assessments(with_caller(
            &k.admin,
            pb::ListAssessmentsRequest {
                course_id: their_course.id.clone(),
                page: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // Updates: nothing to change, bad fields, a bad id.
    let quiz = create(&app, &k.admin, new_assessment(&k.course.id, "Quiz", 1))
        .await
        .unwrap();
    let e = update(
        &app,
        &k.admin,
        pb::UpdateAssessmentRequest {
            id: quiz.id.clone(),
            version: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(violations(&e), [""]);
    let e = update(
        &app,
        &k.admin,
        pb::UpdateAssessmentRequest {
            id: "x".into(),
            version: 0,
            title: Some(String::new()),
            max_score: Some(0),
            weight: Some(20_000),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        violations(&e),
        ["id", "max_score", "title", "version", "weight"]
    );
    let e = get(&app, &k.admin, "x").await.unwrap_err();
    assert_eq!(violations(&e), ["id"]);
    let page = grades(&app)
        .list_assessments(with_caller(
            &k.admin,
            pb::ListAssessmentsRequest {
                course_id: k.course.id.clone(),
                page: Some(common::PageRequest {
                    limit: 101,
                    cursor: "garbage".into(),
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&page), ["cursor", "limit"]);
    assert_eq!(get(&app, &k.admin, &quiz.id).await.unwrap().version, 1);
    // Ours and theirs: two creations, nothing else.
    let events = app.events_of(&["assessment"]).await;
    assert_eq!(types(&events), ["assessment.created", "assessment.created"]);
}

#[tokio::test]
async fn bulk_grading_is_an_idempotent_upsert_that_keeps_who_and_when() {
    let app = spawn_app().await;
    let k = class(&app, "north", 3).await;
    let (a, b, c) = (&k.students[0], &k.students[1], &k.students[2]);
    let quiz = create(&app, &k.tess, new_assessment(&k.course.id, "Quiz", 1))
        .await
        .unwrap();
    let entries = vec![entry(a, 4550), entry(b, 3000), entry(c, 0)];
    let first = record(&app, &k.tess, &quiz.id, entries.clone())
        .await
        .unwrap();
    assert_eq!(
        scores(&first),
        sorted(vec![
            (a.clone(), 4550, 1),
            (b.clone(), 3000, 1),
            (c.clone(), 0, 1)
        ])
    );
    assert!(first
        .grades
        .iter()
        .all(|g| g.graded_by == k.tess.user_id.to_string() && g.graded_at.is_some()));
    assert_eq!(
        (
            first.assessment_id.as_str(),
            first.course_id.as_str(),
            first.max_score
        ),
        (quiz.id.as_str(), k.course.id.as_str(), 5000)
    );
    assert!(first.published_at.is_none());

    // The same request again: the same sheet, no new row, no new event.
    let again = record(&app, &k.tess, &quiz.id, entries).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.count("grades").await, 3);
    let events = app.events_of(&["assessment"]).await;
    assert_eq!(types(&events), ["assessment.created", "grades.drafted"]);
    match &events[1].payload {
        Some(Payload::GradesDrafted(p)) => {
            assert_eq!(
                (
                    p.course_id.as_str(),
                    p.assessment_id.as_str(),
                    p.title.as_str(),
                    p.max_score,
                    p.published
                ),
                (k.course.id.as_str(), quiz.id.as_str(), "Quiz", 5000, false)
            );
            assert_eq!(
                triples(&p.changes),
                sorted(vec![
                    (a.clone(), 4550, 1),
                    (b.clone(), 3000, 1),
                    (c.clone(), 0, 1)
                ])
            );
        }
        other => panic!("unexpected payload {other:?}"),
    }

    // The admin corrects one score (the maximum is allowed): only that
    // grade moves on, and it records who changed it.
    let fixed = record(
        &app,
        &k.admin,
        &quiz.id,
        vec![entry(a, 4550), entry(b, 5000)],
    )
    .await
    .unwrap();
    let gb = fixed.grades.iter().find(|g| &g.student_id == b).unwrap();
    assert_eq!(
        (gb.score, gb.revision, gb.graded_by.clone()),
        (5000, 2, k.admin.user_id.to_string())
    );
    let ga = fixed.grades.iter().find(|g| &g.student_id == a).unwrap();
    assert_eq!(
        (ga.revision, ga.graded_by.clone()),
        (1, k.tess.user_id.to_string())
    );
    assert_eq!(sheet(&app, &k.tess, &quiz.id).await.unwrap(), fixed);
    let events = app.events_of(&["assessment"]).await;
    assert_eq!(events.len(), 3);
    match &events[2].payload {
        Some(Payload::GradesDrafted(p)) => {
            assert_eq!(triples(&p.changes), [(b.clone(), 5000, 2)]);
        }
        other => panic!("unexpected payload {other:?}"),
    }
    assert_eq!(events[2].actor_user_id, k.admin.user_id.to_string());
    assert_eq!(
        sheet(&app, &k.theo, &quiz.id).await.unwrap_err().code(),
        Code::PermissionDenied
    );
}

#[tokio::test]
async fn bad_grade_entries_name_their_index_and_write_nothing() {
    let app = spawn_app().await;
    let k = class(&app, "north", 3).await;
    let (a, b, c) = (&k.students[0], &k.students[1], &k.students[2]);
    let quiz = create(&app, &k.tess, new_assessment(&k.course.id, "Quiz", 1))
        .await
        .unwrap();
    let outsider = app
        .create_student(&k.admin, student("B-1", "Out", "Sider"))
        .await;
    let other = app.school("south").await;
    let foreign = app
        .create_student(&other, student("A-0", "Far", "Away"))
        .await;
    // A withdrawn student is no longer graded.
    app.enrolments()
        .withdraw(with_caller(
            &k.admin,
            pb::WithdrawRequest {
                course_id: k.course.id.clone(),
                student_id: c.clone(),
            },
        ))
        .await
        .unwrap();

    let cases: Vec<(Vec<pb::GradeEntry>, Vec<&str>)> = vec![
        (vec![], vec!["entries"]),
        (
            vec![entry(a, -1), entry("nope", 10)],
            vec!["entries[0].score", "entries[1].student_id"],
        ),
        (
            vec![entry(a, 10), entry(b, 10), entry(a, 20)],
            vec!["entries[2].student_id"],
        ),
        (vec![entry(a, 100_001)], vec!["entries[0].score"]),
        // Above this assessment's max score (50 points).
        (vec![entry(a, 10), entry(b, 5001)], vec!["entries[1].score"]),
        // Not enrolled: another student of the school, a withdrawn one,
        // another school's, an unknown id; with a score too high besides.
        (
            vec![
                entry(a, 10),
                entry(&outsider.id, 10),
                entry(c, 10),
                entry(&foreign.id, 10),
                entry(&Uuid::now_v7().to_string(), 9999),
            ],
            vec![
                "entries[1].student_id",
                "entries[2].student_id",
                "entries[3].student_id",
                "entries[4].score",
                "entries[4].student_id",
            ],
        ),
    ];
    for (entries, fields) in cases {
        let e = record(&app, &k.tess, &quiz.id, entries).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert_eq!(violations(&e), fields, "{e:?}");
    }
    let many: Vec<_> = (0..501)
        .map(|_| entry(&Uuid::now_v7().to_string(), 1))
        .collect();
    let e = record(&app, &k.tess, &quiz.id, many).await.unwrap_err();
    assert_eq!(violations(&e), ["entries"]);

    // The message of an over-the-maximum score says what the maximum is.
    let e = record(&app, &k.tess, &quiz.id, vec![entry(a, 5001)])
        .await
        .unwrap_err();
    assert!(e.message().contains("(50)"), "{}", e.message());

    // Wrong callers.
    for c in [&k.theo, &student_caller(&k.admin, a)] {
        let e = record(&app, c, &quiz.id, vec![entry(a, 10)])
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
    }
    let e = record(
        &app,
        &k.tess,
        &Uuid::now_v7().to_string(),
        vec![entry(a, 10)],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    assert_eq!(app.count("grades").await, 0);
    let events = app.events_of(&["assessment"]).await;
    assert_eq!(types(&events), ["assessment.created"]);
}

#[tokio::test]
async fn the_max_score_cannot_drop_below_a_recorded_score() {
    let app = spawn_app().await;
    let k = class(&app, "north", 1).await;
    let quiz = create(&app, &k.tess, new_assessment(&k.course.id, "Quiz", 1))
        .await
        .unwrap();
    record(&app, &k.tess, &quiz.id, vec![entry(&k.students[0], 4000)])
        .await
        .unwrap();
    let lower = |max: i32, version: i64| pb::UpdateAssessmentRequest {
        id: quiz.id.clone(),
        version,
        max_score: Some(max),
        ..Default::default()
    };
    let e = update(&app, &k.tess, lower(3999, 1)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    let ok = update(&app, &k.tess, lower(4000, 1)).await.unwrap();
    assert_eq!((ok.max_score, ok.version), (4000, 2));
    let e = record(&app, &k.tess, &quiz.id, vec![entry(&k.students[0], 4001)])
        .await
        .unwrap_err();
    assert_eq!(violations(&e), ["entries[0].score"]);
}

#[tokio::test]
async fn students_see_only_their_own_grades_and_only_once_published() {
    let app = spawn_app().await;
    let k = class(&app, "north", 2).await;
    let (a, b) = (&k.students[0], &k.students[1]);
    let (ann, ben) = (student_caller(&k.admin, a), student_caller(&k.admin, b));
    let quiz = create(&app, &k.tess, new_assessment(&k.course.id, "Quiz", 1))
        .await
        .unwrap();
    let later = create(&app, &k.tess, new_assessment(&k.course.id, "Later", 9))
        .await
        .unwrap();
    record(
        &app,
        &k.tess,
        &quiz.id,
        vec![entry(a, 4550), entry(b, 2000)],
    )
    .await
    .unwrap();
    record(&app, &k.tess, &later.id, vec![entry(a, 100)])
        .await
        .unwrap();

    // Drafts: the student sees nothing; staff of the course see them.
    assert!(student_grades(&app, &ann, a)
        .await
        .unwrap()
        .grades
        .is_empty());
    let staff_view = student_grades(&app, &k.admin, a).await.unwrap();
    assert_eq!(staff_view.grades.len(), 2);
    assert!(staff_view.grades.iter().all(|g| g.published_at.is_none()));
    assert_eq!(student_grades(&app, &k.tess, a).await.unwrap(), staff_view);
    assert!(student_grades(&app, &k.theo, a)
        .await
        .unwrap()
        .grades
        .is_empty());
    // Never another student's: not found to them, as an unknown id is; a
    // guardian login without a link to the student likewise
    // (guardian_reads.rs has the linked case).
    for (c, whose) in [(&ann, b), (&ben, a)] {
        let e = student_grades(&app, c, whose).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
    }
    let e = student_grades(&app, &guardian_caller(&k.admin), a)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = student_grades(&app, &k.admin, &Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // Only the course's teacher or an admin publishes.
    for c in [&k.theo, &ann] {
        assert_eq!(
            publish(&app, c, &quiz.id).await.unwrap_err().code(),
            Code::PermissionDenied
        );
    }
    let published = publish(&app, &k.tess, &quiz.id).await.unwrap();
    assert!(published.published_at.is_some());
    assert_eq!(
        (published.published_by.clone(), published.version),
        (k.tess.user_id.to_string(), 2)
    );
    // Publishing again changes nothing and records nothing.
    assert_eq!(publish(&app, &k.admin, &quiz.id).await.unwrap(), published);

    let mine = student_grades(&app, &ann, a).await.unwrap();
    assert_eq!(mine.student_id, *a);
    assert_eq!(
        mine.grades.len(),
        1,
        "the unpublished assessment stays hidden"
    );
    let g = &mine.grades[0];
    assert_eq!(
        (
            g.assessment_id.as_str(),
            g.course_id.as_str(),
            g.course_code.as_str(),
            g.title.as_str(),
            g.max_score,
            g.weight,
            g.score
        ),
        (
            quiz.id.as_str(),
            k.course.id.as_str(),
            "M1",
            "Quiz",
            5000,
            1250,
            4550
        )
    );
    assert_eq!(g.due_date, due(1));
    assert!(g.published_at.is_some() && g.graded_at.is_some());
    let bens = student_grades(&app, &ben, b).await.unwrap();
    assert_eq!(
        bens.grades.iter().map(|g| g.score).collect::<Vec<_>>(),
        [2000]
    );
    let e = student_grades(&app, &ann, b).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // A change after publishing is visible at once and recorded as such.
    record(
        &app,
        &k.tess,
        &quiz.id,
        vec![entry(a, 4800), entry(b, 2000)],
    )
    .await
    .unwrap();
    assert_eq!(
        student_grades(&app, &ann, a).await.unwrap().grades[0].score,
        4800
    );

    let events = app.events_of(&["assessment"]).await;
    assert_eq!(
        types(&events),
        [
            "assessment.created",
            "assessment.created",
            "grades.drafted",
            "grades.drafted",
            "grades.published",
            "grades.updated"
        ]
    );
    match &events[4].payload {
        Some(Payload::GradesPublished(p)) => {
            assert_eq!(
                (
                    p.course_id.as_str(),
                    p.assessment_id.as_str(),
                    p.title.as_str(),
                    p.max_score
                ),
                (k.course.id.as_str(), quiz.id.as_str(), "Quiz", 5000)
            );
            assert_eq!(
                triples(&p.scores),
                sorted(vec![(a.clone(), 4550, 1), (b.clone(), 2000, 1)])
            );
        }
        other => panic!("unexpected payload {other:?}"),
    }
    assert_eq!(events[4].aggregate_id, quiz.id);
    assert_eq!(events[4].actor_user_id, k.tess.user_id.to_string());
    match &events[5].payload {
        Some(Payload::GradesUpdated(p)) => {
            assert!(p.published);
            assert_eq!(triples(&p.changes), [(a.clone(), 4800, 2)]);
        }
        other => panic!("unexpected payload {other:?}"),
    }

    // Filtered by course, and paginated.
    let other_course = app
        .create_course(&k.admin, "M2", "2026-T1", &k.theo, 10)
        .await;
    let page = grades(&app)
        .list_student_grades(with_caller(
            &k.admin,
            pb::ListStudentGradesRequest {
                student_id: a.clone(),
                course_id: other_course.id.clone(),
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(page.grades.is_empty());
    let first = grades(&app)
        .list_student_grades(with_caller(
            &k.admin,
            pb::ListStudentGradesRequest {
                student_id: a.clone(),
                course_id: k.course.id.clone(),
                page: Some(common::PageRequest {
                    limit: 1,
                    cursor: String::new(),
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.grades[0].assessment_id, quiz.id);
    let next = grades(&app)
        .list_student_grades(with_caller(
            &k.admin,
            pb::ListStudentGradesRequest {
                student_id: a.clone(),
                course_id: String::new(),
                page: Some(common::PageRequest {
                    limit: 1,
                    cursor: first.page.unwrap().next_cursor,
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.grades[0].assessment_id, later.id);
    assert!(next.page.unwrap().next_cursor.is_empty());
}

/// Grading a class runs the same small number of statements for 5 or 40
/// students: counted on the wire by a proxy in front of Postgres.
#[tokio::test]
async fn grading_runs_a_fixed_number_of_statements_whatever_the_class_size() {
    let counter = crate::pgcount::counter().await;
    let app = spawn_app_with(|c| {
        let url = counter.url(c.database_url());
        c.database_url = secrecy::SecretString::from(url);
    })
    .await;
    let k = class(&app, "north", 40).await;
    let mut ids = Vec::new();
    for day in 1..=3 {
        let a = create(
            &app,
            &k.tess,
            new_assessment(&k.course.id, &format!("Q{day}"), day),
        )
        .await
        .unwrap();
        ids.push(a.id);
    }
    let entries = |n: usize, score: i32| -> Vec<pb::GradeEntry> {
        k.students[..n].iter().map(|s| entry(s, score)).collect()
    };
    // Warm the connection's statement cache so preparing is not counted.
    record(&app, &k.tess, &ids[0], entries(2, 100))
        .await
        .unwrap();

    let mut counts = Vec::new();
    for (id, n) in [(&ids[1], 5), (&ids[2], 40)] {
        counter.reset();
        let s = record(&app, &k.tess, id, entries(n, 1000)).await.unwrap();
        assert_eq!(s.grades.len(), n);
        counts.push(counter.get());
    }
    // BEGIN, assessment lock + access, enrolment check, upsert, read-back,
    // outbox, COMMIT.
    assert_eq!(counts, [7, 7], "statements for 5 and 40 students");
    // A replay changes nothing and records no event: one statement fewer.
    counter.reset();
    record(&app, &k.tess, &ids[2], entries(40, 1000))
        .await
        .unwrap();
    assert_eq!(counter.get(), 6);

    // Reads: the sheet in two statements, a student's grades in two.
    counter.reset();
    assert_eq!(
        sheet(&app, &k.tess, &ids[2]).await.unwrap().grades.len(),
        40
    );
    assert_eq!(counter.get(), 2);
    student_grades(&app, &k.admin, &k.students[0])
        .await
        .unwrap();
    counter.reset();
    let g = student_grades(&app, &k.admin, &k.students[0])
        .await
        .unwrap();
    assert_eq!((g.grades.len(), counter.get()), (3, 2));
}

/// A max score lowered while a score above it is being entered: exactly one
/// of the two wins, and no score is ever above its maximum (both take the
/// assessment's row lock).
#[tokio::test]
async fn a_racing_max_score_change_and_grade_entry_never_both_win() {
    let app = spawn_app().await;
    let k = class(&app, "north", 1).await;
    let a = &k.students[0];
    for round in 0..8 {
        let quiz = create(
            &app,
            &k.tess,
            new_assessment(&k.course.id, &format!("Q{round}"), 1),
        )
        .await
        .unwrap();
        let lower = update(
            &app,
            &k.admin,
            pb::UpdateAssessmentRequest {
                id: quiz.id.clone(),
                version: 1,
                max_score: Some(4000),
                ..Default::default()
            },
        );
        let enter = record(&app, &k.tess, &quiz.id, vec![entry(a, 4500)]);
        let (lowered, entered) = tokio::join!(lower, enter);
        match (&lowered, &entered) {
            (Ok(_), Err(e)) => assert_eq!(violations(e), ["entries[0].score"]),
            (Err(e), Ok(_)) => assert_eq!(e.code(), Code::FailedPrecondition),
            other => panic!("round {round}: {other:?}"),
        }
    }
    let db = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let above: i64 = db
        .query_one(
            "SELECT count(*) FROM students.grades g JOIN students.assessments a \
             ON a.school_id = g.school_id AND a.id = g.assessment_id WHERE g.score > a.max_score",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(above, 0);
}

#[tokio::test]
async fn the_schema_refuses_cross_school_links_and_impossible_values() {
    let app = spawn_app().await;
    let k = class(&app, "north", 1).await;
    let other = app.school("south").await;
    let foreign = app
        .create_student(&other, student("A-0", "Far", "Away"))
        .await;
    let quiz = create(&app, &k.tess, new_assessment(&k.course.id, "Quiz", 1))
        .await
        .unwrap();
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let (quiz_id, foreign_id, course_id): (Uuid, Uuid, Uuid) = (
        quiz.id.parse().unwrap(),
        foreign.id.parse().unwrap(),
        k.course.id.parse().unwrap(),
    );
    use tokio_postgres::error::SqlState;
    // A grade of our assessment for their student, under either school.
    for school in [k.admin.school_id, other.school_id] {
        let err = c
            .execute(
                "INSERT INTO students.grades (school_id, assessment_id, student_id, score, \
                 graded_by) VALUES ($1, $2, $3, 1, $4)",
                &[&school, &quiz_id, &foreign_id, &k.tess.user_id],
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    }
    // Their assessment on our course.
    let err = c
        .execute(
            "INSERT INTO students.assessments (id, school_id, course_id, title, max_score, \
             weight, due_on, created_by, updated_by) \
             VALUES ($1, $2, $3, 'X', 100, 100, '2026-12-01', $4, $4)",
            &[
                &Uuid::now_v7(),
                &other.school_id,
                &course_id,
                &other.user_id,
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    for (sql, what) in [
        ("UPDATE students.assessments SET max_score = 0", "max_score"),
        ("UPDATE students.assessments SET weight = 10001", "weight"),
        (
            "UPDATE students.assessments SET published_at = now()",
            "published_by",
        ),
    ] {
        let err = c.execute(sql, &[]).await.unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::CHECK_VIOLATION), "{what}");
    }
}

#[tokio::test]
async fn grades_published_names_the_logins_of_graded_students_who_have_one() {
    let app = spawn_app().await;
    let k = class(&app, "logins", 1).await;
    let mut with_login = student("L-1", "Lou", "Ng");
    with_login.login = Some(pb::StudentLogin {
        email: "lou@logins.test".into(),
        password: PASSWORD.into(),
    });
    let lou = app.create_student(&k.admin, with_login).await;
    app.enrol(&k.admin, &k.course.id, &lou.id).await;
    let login = app
        .events_of(&["user"])
        .await
        .into_iter()
        .find_map(|e| match e.payload {
            Some(Payload::UserCreated(u)) if u.role == "student" => Some(u.user_id),
            _ => None,
        })
        .expect("the student's user.created");
    let quiz = create(&app, &k.tess, new_assessment(&k.course.id, "Quiz", 1))
        .await
        .unwrap();
    record(
        &app,
        &k.tess,
        &quiz.id,
        vec![entry(&k.students[0], 100), entry(&lou.id, 200)],
    )
    .await
    .unwrap();
    publish(&app, &k.tess, &quiz.id).await.unwrap();
    let published = app
        .events_of(&["assessment"])
        .await
        .into_iter()
        .find_map(|e| match e.payload {
            Some(Payload::GradesPublished(p)) => Some(p),
            _ => None,
        })
        .expect("grades.published");
    assert_eq!(published.scores.len(), 2);
    assert_eq!(
        published.student_user_ids,
        std::collections::HashMap::from([(lou.id.clone(), login)]),
        "only the student with a login, by their own id"
    );
}
