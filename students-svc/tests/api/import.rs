//! Bulk CSV import over a real client stream: exact per-row reports, nothing
//! written unless asked for partial imports, interrupted uploads rejected.

use futures::stream;
use proto::students::v1 as pb;
use tonic::Code;

use crate::helpers::{spawn_app, student, with_caller, TestApp};

const HEADER: &str =
    "admission_no,given_name,family_name,date_of_birth,grade_level,section,status\n";

/// The file as a client stream, cut every `size` bytes (anywhere: inside a
/// row or a UTF-8 character), with the end marker unless `complete` is false.
fn chunks(
    csv: &str,
    mode: pb::ImportMode,
    size: usize,
    complete: bool,
) -> impl futures::Stream<Item = pb::ImportStudentsChunk> + Send + 'static {
    let mut out = vec![pb::ImportStudentsChunk {
        mode: mode.into(),
        ..Default::default()
    }];
    out.extend(
        csv.as_bytes()
            .chunks(size)
            .map(|c| pb::ImportStudentsChunk {
                data: c.to_vec(),
                ..Default::default()
            }),
    );
    if complete {
        out.push(pb::ImportStudentsChunk {
            end: true,
            ..Default::default()
        });
    }
    stream::iter(out)
}

async fn import(
    app: &TestApp,
    admin: &platform::caller::Caller,
    csv: &str,
    mode: pb::ImportMode,
) -> Result<pb::ImportStudentsReport, tonic::Status> {
    app.students()
        .import_students(with_caller(admin, chunks(csv, mode, 7, true)))
        .await
        .map(tonic::Response::into_inner)
}

fn errors(r: &pb::ImportStudentsReport) -> Vec<(u32, &str, &str)> {
    r.errors
        .iter()
        .map(|e| (e.row, e.column.as_str(), e.message.as_str()))
        .collect()
}

fn mixed_file() -> String {
    format!(
        "{HEADER}\
         I-1,Zoë,Ångström,2015-02-03,4,A,active\n\
         I-2,,Ng,2015-02-30,13,A,\n\
         I-3,Eve,Ng,2016-01-01,3,B,withdrawn\n\
         I-1,Dup,Row,2015-01-01,3,,\n\
         I-4,Ann,Ok,2014-05-05,x,,expelled\n"
    )
}

#[tokio::test]
async fn a_file_with_bad_rows_yields_an_exact_report_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.school("imp-all").await;
    let events_before = app.count("outbox").await;
    let r = import(&app, &admin, &mixed_file(), pb::ImportMode::All)
        .await
        .unwrap();
    assert_eq!((r.rows, r.imported, r.committed), (5, 0, false));
    assert_eq!(
        errors(&r),
        [
            (3, "given_name", "name is required"),
            (
                3,
                "date_of_birth",
                "date of birth is not a valid calendar date"
            ),
            (3, "grade_level", "grade level must be between 0 and 12"),
            (5, "admission_no", "admission number repeats row 2"),
            (
                6,
                "grade_level",
                "grade level must be a whole number between 0 and 12"
            ),
            (6, "status", "status must be active, graduated or withdrawn"),
        ]
    );
    assert!(!r.errors_truncated);
    assert_eq!(app.count("students").await, 0);
    assert_eq!(app.count("outbox").await, events_before);
}

#[tokio::test]
async fn partial_mode_writes_the_good_rows_and_reports_the_rest() {
    let app = spawn_app().await;
    let admin = app.school("imp-part").await;
    let r = import(&app, &admin, &mixed_file(), pb::ImportMode::Partial)
        .await
        .unwrap();
    assert_eq!((r.rows, r.imported, r.committed), (5, 2, true));
    assert_eq!(r.errors.len(), 6);
    assert_eq!(app.count("students").await, 2);
    let listed = app
        .students()
        .list_students(with_caller(&admin, pb::ListStudentsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .students;
    let mut names: Vec<(&str, &str, i32)> = listed
        .iter()
        .map(|s| (s.admission_no.as_str(), s.given_name.as_str(), s.status))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("I-1", "Zoë", pb::StudentStatus::Active as i32),
            ("I-3", "Eve", pb::StudentStatus::Withdrawn as i32)
        ]
    );
    let created: Vec<String> = app
        .events()
        .await
        .into_iter()
        .filter(|e| e.event_type == "student.created")
        .map(|e| e.aggregate_id)
        .collect();
    assert_eq!(created.len(), 2, "one event per imported student");
}

#[tokio::test]
async fn existing_admission_numbers_are_reported_as_conflicts() {
    let app = spawn_app().await;
    let admin = app.school("imp-dup").await;
    app.create_student(&admin, student("I-3", "Old", "Timer"))
        .await;
    let file = format!("{HEADER}I-1,Ann,Ok,2015-01-01,3,,\nI-3,Eve,Ng,2016-01-01,3,B,\n");
    let all = import(&app, &admin, &file, pb::ImportMode::All)
        .await
        .unwrap();
    assert!(!all.committed);
    assert_eq!(
        errors(&all),
        [(
            3,
            "admission_no",
            "a student with this admission number already exists"
        )]
    );
    assert_eq!(app.count("students").await, 1, "nothing written");
    let partial = import(&app, &admin, &file, pb::ImportMode::Partial)
        .await
        .unwrap();
    assert_eq!((partial.imported, partial.errors.len()), (1, 1));
    assert_eq!(app.count("students").await, 2);
}

#[tokio::test]
async fn an_interrupted_upload_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.school("imp-cut").await;
    let file = format!("{HEADER}I-1,Ann,Ok,2015-01-01,3,,\n");
    let cut = app
        .students()
        .import_students(with_caller(
            &admin,
            chunks(&file, pb::ImportMode::Partial, 16, false),
        ))
        .await
        .unwrap_err();
    assert_eq!(cut.code(), Code::InvalidArgument);
    assert!(cut.message().contains("interrupted"), "{}", cut.message());
    assert_eq!(app.count("students").await, 0);
}

#[tokio::test]
async fn unusable_files_and_callers_are_refused() {
    let app = spawn_app().await;
    let admin = app.school("imp-bad").await;
    let teacher = app.teacher(&admin, "t@imp-bad.test").await;
    let file = format!("{HEADER}I-1,Ann,Ok,2015-01-01,3,,\n");
    let denied = app
        .students()
        .import_students(with_caller(
            &teacher,
            chunks(&file, pb::ImportMode::All, 64, true),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    for bad in [
        "admission_no,given_name\nI-1,Ann\n".to_owned(),
        "nonsense,given_name,family_name,date_of_birth,grade_level,admission_no\n".to_owned(),
        String::new(),
    ] {
        let e = import(&app, &admin, &bad, pb::ImportMode::All)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{bad:?}");
    }
    let bad_mode = app
        .students()
        .import_students(with_caller(
            &admin,
            stream::iter([pb::ImportStudentsChunk {
                mode: 99,
                data: file.clone().into_bytes(),
                end: true,
            }]),
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_mode.code(), Code::InvalidArgument);
    assert_eq!(app.count("students").await, 0);
}

#[tokio::test]
async fn ten_thousand_rows_import_in_one_transaction() {
    let app = spawn_app().await;
    let admin = app.school("imp-big").await;
    let mut file = String::from(HEADER);
    for i in 0..10_000 {
        file.push_str(&format!(
            "B-{i:05},Given{i},Family{i},2014-03-{:02},{},S{},\n",
            i % 28 + 1,
            i % 13,
            i % 4
        ));
    }
    let r = app
        .students()
        .import_students(with_caller(
            &admin,
            chunks(&file, pb::ImportMode::All, 64 * 1024, true),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.rows, r.imported, r.committed), (10_000, 10_000, true));
    assert!(r.errors.is_empty());
    assert_eq!(app.count("students").await, 10_000);
    assert_eq!(
        app.count("outbox").await,
        10_002,
        "the school, its admin, one per student"
    );
}
