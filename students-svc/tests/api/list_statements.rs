//! Query discipline (issue 4, item 10): every list runs a fixed number of
//! SQL statements whatever its page size. Each list is counted on the wire
//! (`pgcount`) for a page of 1 and a page of 100 over 150 rows, with and
//! without its filters.

use platform::caller::{Caller, Role};
use proto::common::v1 as common;
use proto::students::v1 as pb;

use crate::helpers::*;
use crate::pgcount::StatementCounter;

const ROWS: usize = 150;

fn page(limit: u32) -> Option<common::PageRequest> {
    Some(common::PageRequest {
        limit,
        cursor: String::new(),
    })
}

/// 150 live students (grade 5, section A, active) plus a few archived and
/// other-grade ones; 150 guardians linked to two students each; 150
/// teachers with profiles; 150 invoices with two lines each. Written in
/// bulk as the database admin: the counts are about reads.
async fn seed(app: &TestApp, admin: &Caller) {
    let c = platform::testing::connect(&app.db.admin_url)
        .await
        .expect("admin connection");
    let sql = format!(
        "SET search_path = students;
         INSERT INTO students (id, school_id, admission_no, given_name, family_name, \
           date_of_birth, grade_level, section, status) \
         SELECT gen_random_uuid(), '{s}', 'S-' || n, 'Kid', 'Fam' || lpad(n::text, 4, '0'), \
           '2014-05-17', 5, 'A', 'active' FROM generate_series(1, {ROWS}) n;
         INSERT INTO students (id, school_id, admission_no, given_name, family_name, \
           date_of_birth, grade_level, section, status, archived_at) \
         SELECT gen_random_uuid(), '{s}', 'X-' || n, 'Old', 'Fam' || n, '2010-01-01', \
           7, 'B', 'graduated', CASE WHEN n % 2 = 0 THEN now() END \
           FROM generate_series(1, 10) n;
         INSERT INTO guardians (id, school_id, given_name, family_name, relationship) \
         SELECT gen_random_uuid(), '{s}', 'Pat', 'Fam' || lpad(n::text, 4, '0'), 'father' \
           FROM generate_series(1, {ROWS}) n;
         INSERT INTO guardian_students (school_id, guardian_id, student_id, relationship) \
         SELECT g.school_id, g.id, s.id, 'father' FROM \
           (SELECT *, row_number() OVER (ORDER BY family_name) AS n FROM guardians \
             WHERE school_id = '{s}') g \
           JOIN (SELECT *, row_number() OVER (ORDER BY family_name) AS n FROM students \
             WHERE school_id = '{s}' AND archived_at IS NULL AND grade_level = 5) s \
           ON s.n = g.n OR s.n = g.n % {ROWS} + 1;
         INSERT INTO users (id, school_id, email, password_hash, full_name, role) \
         SELECT gen_random_uuid(), '{s}', 't' || n || '@north.test', 'x', \
           'Teacher ' || lpad(n::text, 4, '0'), 'teacher' FROM generate_series(1, {ROWS}) n;
         INSERT INTO staff_profiles (school_id, user_id, subjects, employee_no, hired_on) \
         SELECT school_id, id, ARRAY['maths'], 'E-' || email, '2020-09-01' FROM users \
           WHERE school_id = '{s}' AND role = 'teacher';
         INSERT INTO invoices (id, school_id, student_id, currency, status, total, \
           issued_on, due_on) \
         SELECT gen_random_uuid(), school_id, id, 'USD', 'issued', 300, '2026-09-01', \
           '2026-09-30' FROM students WHERE school_id = '{s}' AND grade_level = 5;
         INSERT INTO invoice_lines (school_id, invoice_id, line_no, description, quantity, \
           unit_amount, amount) \
         SELECT school_id, id, l, 'Line ' || l, 1, 100 * l, 100 * l \
           FROM invoices, generate_series(1, 2) l WHERE school_id = '{s}';
         ANALYZE;",
        s = admin.school_id
    );
    c.batch_execute(&sql).await.expect("seed");
}

/// Starts students-svc behind the statement counter, with a seeded school.
async fn seeded() -> (StatementCounter, TestApp, Caller) {
    let counter = crate::pgcount::counter().await;
    let app = spawn_app_with(|c| {
        let url = counter.url(c.database_url());
        c.database_url = secrecy::SecretString::from(url);
    })
    .await;
    let admin = app.school("north").await;
    seed(&app, &admin).await;
    (counter, app, admin)
}

/// Runs `call` for a page of 1 and of 100 and returns, per page size, the
/// number of items returned and of statements run.
async fn per_page<F, Fut>(counter: &StatementCounter, mut call: F) -> Vec<(usize, usize)>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut out = Vec::new();
    for limit in [1, 100] {
        // Warm: the first use of a shape on a connection prepares it
        // (Parse is not a statement, but keep the measure independent).
        call(limit).await;
        counter.reset();
        let items = call(limit).await;
        out.push((items, counter.get()));
    }
    out
}

#[tokio::test]
async fn student_lists_run_one_statement_whatever_the_page_or_filters() {
    let (counter, app, admin) = seeded().await;
    let teacher = app.teacher(&admin, "tess@north.test").await;
    let filters = [
        pb::ListStudentsRequest::default(),
        pb::ListStudentsRequest {
            grade_level: Some(5),
            ..Default::default()
        },
        pb::ListStudentsRequest {
            grade_level: Some(5),
            section: Some("A".into()),
            ..Default::default()
        },
        pb::ListStudentsRequest {
            section: Some("A".into()),
            ..Default::default()
        },
        pb::ListStudentsRequest {
            status: pb::StudentStatus::Active.into(),
            ..Default::default()
        },
        pb::ListStudentsRequest {
            query: "fam0".into(),
            ..Default::default()
        },
        pb::ListStudentsRequest {
            grade_level: Some(5),
            section: Some("A".into()),
            status: pb::StudentStatus::Active.into(),
            query: "fam".into(),
            ..Default::default()
        },
    ];
    for (n, filter) in filters.into_iter().enumerate() {
        let who = if n % 2 == 0 { &admin } else { &teacher };
        let counted = per_page(&counter, |limit| {
            let mut req = filter.clone();
            req.page = page(limit);
            let mut students = app.students();
            async move {
                students
                    .list_students(with_caller(who, req))
                    .await
                    .unwrap()
                    .into_inner()
                    .students
                    .len()
            }
        })
        .await;
        assert_eq!(counted, [(1, 1), (100, 1)], "filter #{n}");
    }
    // A later page (keyset cursor) is the same one statement.
    let mut students = app.students();
    let first = students
        .list_students(with_caller(
            &admin,
            pb::ListStudentsRequest {
                page: page(100),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    counter.reset();
    let second = students
        .list_students(with_caller(
            &admin,
            pb::ListStudentsRequest {
                page: Some(common::PageRequest {
                    limit: 100,
                    cursor: first.page.unwrap().next_cursor,
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // 150 live grade-5 students and 5 live graduated ones.
    assert_eq!((second.students.len(), counter.get()), (55, 1));
}

#[tokio::test]
async fn guardian_staff_and_invoice_lists_run_a_fixed_number_of_statements() {
    let (counter, app, admin) = seeded().await;

    // Guardians: the page, then all its links in one statement.
    let counted = per_page(&counter, |limit| {
        let mut guardians = app.guardians();
        let admin = &admin;
        async move {
            let r = guardians
                .list_guardians(with_caller(
                    admin,
                    pb::ListGuardiansRequest {
                        page: page(limit),
                        student_id: String::new(),
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(r.guardians.iter().all(|g| g.students.len() == 2));
            r.guardians.len()
        }
    })
    .await;
    assert_eq!(counted, [(1, 2), (100, 2)]);
    // Narrowed to one student's guardians: the same two.
    let one = app
        .guardians()
        .list_guardians(with_caller(
            &admin,
            pb::ListGuardiansRequest {
                page: page(1),
                student_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .guardians
        .remove(0);
    let student_id = one.students[0].student_id.clone();
    counter.reset();
    let r = app
        .guardians()
        .list_guardians(with_caller(
            &admin,
            pb::ListGuardiansRequest {
                page: page(100),
                student_id,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.guardians.len(), counter.get()), (2, 2));

    // Staff: teachers with their profiles in one statement.
    let counted = per_page(&counter, |limit| {
        let mut staff = app.staff();
        let admin = &admin;
        async move {
            let r = staff
                .list_staff(with_caller(
                    admin,
                    pb::ListStaffRequest { page: page(limit) },
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(r.staff.iter().all(|s| s.profile.is_some()));
            r.staff.len()
        }
    })
    .await;
    assert_eq!(counted, [(1, 1), (100, 1)]);

    // Invoices: the page, then all its lines in one statement; unfiltered,
    // by status, by student.
    let some_student = app
        .fees()
        .list_invoices(with_caller(
            &admin,
            pb::ListInvoicesRequest {
                page: page(1),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .invoices[0]
        .student_id
        .clone();
    for (filter, most) in [
        (pb::ListInvoicesRequest::default(), 100),
        (
            pb::ListInvoicesRequest {
                status: pb::InvoiceStatus::Issued.into(),
                ..Default::default()
            },
            100,
        ),
        (
            pb::ListInvoicesRequest {
                student_id: some_student.clone(),
                ..Default::default()
            },
            1,
        ),
    ] {
        let counted = per_page(&counter, |limit| {
            let mut req = filter.clone();
            req.page = page(limit);
            let mut fees = app.fees();
            let admin = &admin;
            async move {
                let r = fees
                    .list_invoices(with_caller(admin, req))
                    .await
                    .unwrap()
                    .into_inner();
                assert!(r.invoices.iter().all(|i| i.lines.len() == 2));
                r.invoices.len()
            }
        })
        .await;
        assert_eq!(counted, [(1, 2), (most, 2)], "{filter:?}");
    }
    // A student's own list: the same two.
    let me = Caller {
        school_id: admin.school_id,
        user_id: uuid::Uuid::now_v7(),
        role: Role::Student,
        student_id: Some(some_student.parse().unwrap()),
    };
    counter.reset();
    let r = app
        .fees()
        .list_invoices(with_caller(&me, pb::ListInvoicesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.invoices.len(), counter.get()), (1, 2));
}

/// A guardian's children and their invoices: the same statements for two
/// children as for sixty.
#[tokio::test]
async fn a_guardians_lists_do_not_grow_with_their_children() {
    let (counter, app, admin) = seeded().await;
    let c = platform::testing::connect(&app.db.admin_url)
        .await
        .expect("admin connection");
    let ids: Vec<String> = c
        .query(
            "SELECT id::text FROM students.students WHERE school_id = $1 \
             AND archived_at IS NULL AND grade_level = 5 ORDER BY family_name",
            &[&admin.school_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut measured = Vec::new();
    for (n, children) in [("few", &ids[..2]), ("many", &ids[..60])] {
        let g = app
            .guardians()
            .create_guardian(with_caller(
                &admin,
                pb::CreateGuardianRequest {
                    preferred_language: String::new(),
                    given_name: "Kim".into(),
                    family_name: n.into(),
                    relationship: pb::GuardianRelationship::Guardian.into(),
                    phone: String::new(),
                    email: String::new(),
                    notifications: None,
                    login: Some(pb::GuardianLogin {
                        email: format!("{n}@north.test"),
                        password: PASSWORD.into(),
                    }),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        for s in children {
            app.guardians()
                .link_student(with_caller(
                    &admin,
                    pb::LinkStudentRequest {
                        guardian_id: g.id.clone(),
                        student_id: s.clone(),
                        relationship: 0,
                        is_primary: false,
                    },
                ))
                .await
                .unwrap();
        }
        let caller = Caller {
            school_id: admin.school_id,
            user_id: g.user_id.parse().unwrap(),
            role: Role::Guardian,
            student_id: None,
        };
        counter.reset();
        let kids = app
            .guardians()
            .list_my_children(with_caller(&caller, pb::ListMyChildrenRequest {}))
            .await
            .unwrap()
            .into_inner()
            .students
            .len();
        let children_statements = counter.get();
        counter.reset();
        let invoices = app
            .fees()
            .list_invoices(with_caller(
                &caller,
                pb::ListInvoicesRequest {
                    page: page(100),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .invoices;
        assert!(invoices.iter().all(|i| i.lines.len() == 2));
        measured.push((kids, children_statements, invoices.len(), counter.get()));
    }
    assert_eq!(measured, [(2, 1, 2, 2), (60, 1, 60, 2)]);
}
