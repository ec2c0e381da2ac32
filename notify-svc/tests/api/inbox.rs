//! NotificationService over real gRPC on a real database: a caller reads and
//! marks only their own notifications in their own school, keyset pages walk
//! everything exactly once, bad input names its field and writes nothing,
//! and a page costs the same statements whatever its size.

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use notify_svc::config::Config;
use platform::caller::{Caller, Role};
use proto::common::v1::PageRequest;
use proto::notify::v1::{
    self as pb, notification_service_client::NotificationServiceClient as Client,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use crate::helpers::TestApp;
use platform::testing::pgcount::StatementCounter;

/// A notification as inserted: who it is for and when.
#[derive(Clone, Copy, Debug)]
struct Seed {
    id: Uuid,
    school: Uuid,
    user: Uuid,
    created_at: DateTime<Utc>,
    read: bool,
}

/// Inserts `seeds` as the database admin, each for a guardian of its own.
async fn insert(app: &TestApp, seeds: &[Seed]) {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    for s in seeds {
        let read_at = s.read.then_some(s.created_at + Span::minutes(1));
        c.execute(
            "INSERT INTO notify.notifications \
             (id, school_id, guardian_id, recipient_user_id, student_id, kind, title, body, \
              channels, dedupe_key, source_event_id, created_at, read_at) \
             VALUES ($1, $2, $3, $4, $5, 'absence', $6, 'Absent from period 1', \
              ARRAY['push', 'sms'], $7, $8, $9, $10)",
            &[
                &s.id,
                &s.school,
                &Uuid::now_v7(),
                &s.user,
                &Uuid::now_v7(),
                &format!("Absence {}", s.id),
                &format!("absence:{}", s.id),
                &Uuid::now_v7(),
                &s.created_at,
                &read_at,
            ],
        )
        .await
        .unwrap();
    }
}

/// The read time of each of `ids`, as stored.
async fn read_at(app: &TestApp, ids: &[Uuid]) -> Vec<Option<DateTime<Utc>>> {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let mut out = Vec::new();
    for id in ids {
        let row = c
            .query_one(
                "SELECT read_at FROM notify.notifications WHERE id = $1",
                &[id],
            )
            .await
            .unwrap();
        out.push(row.get(0));
    }
    out
}

async fn read_count(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM notify.notifications WHERE read_at IS NOT NULL")
        .await
}

fn caller(school: Uuid, user: Uuid) -> Caller {
    Caller {
        school_id: school,
        user_id: user,
        role: Role::Guardian,
        student_id: None,
    }
}

fn as_caller<T>(c: &Caller, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    c.write(req.metadata_mut());
    req
}

async fn client(app: &TestApp) -> Client<crate::helpers::Svc> {
    let channel = crate::helpers::signed(app.addr);
    Client::new(channel)
}

fn list_req(limit: u32, cursor: &str, unread_only: bool) -> pb::ListMyNotificationsRequest {
    pb::ListMyNotificationsRequest {
        page: Some(PageRequest {
            limit,
            cursor: cursor.into(),
        }),
        unread_only,
    }
}

async fn list(
    api: &mut Client<crate::helpers::Svc>,
    c: &Caller,
    limit: u32,
    cursor: &str,
    unread_only: bool,
) -> Result<pb::ListMyNotificationsResponse, Status> {
    api.list_my_notifications(as_caller(c, list_req(limit, cursor, unread_only)))
        .await
        .map(tonic::Response::into_inner)
}

async fn mark(
    api: &mut Client<crate::helpers::Svc>,
    c: &Caller,
    ids: &[String],
) -> Result<Vec<pb::Notification>, Status> {
    api.mark_notifications_read(as_caller(
        c,
        pb::MarkNotificationsReadRequest { ids: ids.to_vec() },
    ))
    .await
    .map(|r| r.into_inner().notifications)
}

/// Walks every page of `limit`: the ids in order, and the page sizes.
async fn walk(
    api: &mut Client<crate::helpers::Svc>,
    c: &Caller,
    limit: u32,
    unread_only: bool,
    unread: u32,
) -> (Vec<Uuid>, Vec<usize>) {
    let (mut ids, mut sizes, mut cursor) = (Vec::new(), Vec::new(), String::new());
    loop {
        let page = list(api, c, limit, &cursor, unread_only).await.unwrap();
        assert_eq!(page.unread, unread, "the badge is the same on every page");
        sizes.push(page.notifications.len());
        ids.extend(page.notifications.iter().map(id_of));
        cursor = page.page.unwrap_or_default().next_cursor;
        if cursor.is_empty() {
            return (ids, sizes);
        }
        assert!(sizes.len() < 20, "paging does not end");
    }
}

fn id_of(n: &pb::Notification) -> Uuid {
    n.id.parse().unwrap()
}

fn ts(t: &prost_types::Timestamp) -> DateTime<Utc> {
    Utc.timestamp_opt(t.seconds, t.nanos as u32).unwrap()
}

/// The field named by an INVALID_ARGUMENT's bad-request details.
fn bad_field(status: &Status) -> String {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let bad = details.bad_request().expect("bad request details");
    assert_eq!(bad.field_violations.len(), 1, "{status:?}");
    bad.field_violations[0].field.clone()
}

/// School `a` with users `u` (seven notifications, two read, two sharing a
/// creation time) and `v` (one); school `b` with one for the same `u`.
struct World {
    a: Uuid,
    b: Uuid,
    u: Uuid,
    v: Uuid,
    /// `u`'s in school `a`, newest first.
    mine: Vec<Seed>,
    theirs: Seed,
    other_school: Seed,
}

async fn world(app: &TestApp) -> World {
    let (a, b, u, v) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let base = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
    let seed = |school, user, minutes: i64, read| Seed {
        id: Uuid::new_v4(),
        school,
        user,
        created_at: base + Span::minutes(minutes),
        read,
    };
    let mut mine = vec![
        seed(a, u, 0, false),
        seed(a, u, 1, true),
        seed(a, u, 2, false),
        // Two at the same instant: the id breaks the tie.
        seed(a, u, 3, false),
        seed(a, u, 3, false),
        seed(a, u, 4, true),
        seed(a, u, 5, false),
    ];
    let theirs = seed(a, v, 6, false);
    let other_school = seed(b, u, 7, false);
    let mut all = mine.clone();
    all.extend([theirs, other_school]);
    insert(app, &all).await;
    mine.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
    World {
        a,
        b,
        u,
        v,
        mine,
        theirs,
        other_school,
    }
}

async fn spawn() -> TestApp {
    let db = platform::testing::fresh_database().await.unwrap();
    let config = Config::for_database(&db.notify_url);
    TestApp::spawn(db, &config).await
}

#[tokio::test]
async fn a_caller_lists_only_their_own_notifications_newest_first_in_keyset_pages() {
    let app = spawn().await;
    let w = world(&app).await;
    let mut api = client(&app).await;
    let me = caller(w.a, w.u);
    let want: Vec<Uuid> = w.mine.iter().map(|s| s.id).collect();
    let want_unread: Vec<Uuid> = w.mine.iter().filter(|s| !s.read).map(|s| s.id).collect();

    let page = list(&mut api, &me, 0, "", false).await.unwrap();
    assert_eq!(
        page.notifications.iter().map(id_of).collect::<Vec<_>>(),
        want
    );
    assert_eq!(page.unread, 5);
    assert!(page.page.unwrap().next_cursor.is_empty());
    for (n, s) in page.notifications.iter().zip(&w.mine) {
        assert_eq!(n.kind, pb::NotificationKind::Absence as i32);
        assert_eq!(n.title, format!("Absence {}", s.id));
        assert_eq!(n.channels, ["push", "sms"]);
        assert_eq!(ts(n.created_at.as_ref().unwrap()), s.created_at);
        assert_eq!(n.read_at.is_some(), s.read, "{}", s.id);
        assert!(!n.student_id.is_empty());
    }

    // Pages of two walk all seven once, in order, with no gap or repeat.
    assert_eq!(
        walk(&mut api, &me, 2, false, 5).await,
        (want.clone(), vec![2, 2, 2, 1])
    );
    // A page exactly as long as what is left has no cursor after it.
    assert_eq!(walk(&mut api, &me, 7, false, 5).await, (want, vec![7]));
    assert_eq!(
        walk(&mut api, &me, 2, true, 5).await,
        (want_unread, vec![2, 2, 1])
    );

    // The other user of the school, the same user in the other school, and
    // a user with nothing: each sees only their own.
    let theirs = list(&mut api, &caller(w.a, w.v), 10, "", false)
        .await
        .unwrap();
    assert_eq!(
        (
            theirs.notifications.iter().map(id_of).collect::<Vec<_>>(),
            theirs.unread
        ),
        (vec![w.theirs.id], 1)
    );
    let elsewhere = list(&mut api, &caller(w.b, w.u), 10, "", false)
        .await
        .unwrap();
    assert_eq!(
        elsewhere
            .notifications
            .iter()
            .map(id_of)
            .collect::<Vec<_>>(),
        [w.other_school.id]
    );
    let nobody = list(&mut api, &caller(w.a, Uuid::now_v7()), 10, "", false)
        .await
        .unwrap();
    assert!(nobody.notifications.is_empty());
    assert_eq!(nobody.unread, 0);
    assert!(nobody.page.unwrap().next_cursor.is_empty());

    // A process that reached the port without the service key writes the
    // same caller metadata: it reads nobody's inbox and marks nothing read.
    let raw = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect_lazy();
    let mut forger = Client::new(raw);
    let err = forger
        .list_my_notifications(as_caller(&me, list_req(10, "", false)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let unread = w.mine.iter().find(|s| !s.read).unwrap().id;
    let err = forger
        .mark_notifications_read(as_caller(
            &me,
            pb::MarkNotificationsReadRequest {
                ids: vec![unread.to_string()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let page = list(&mut api, &me, 0, "", false).await.unwrap();
    assert_eq!(page.unread, 5, "nothing marked read");
    app.stop().await;
}

#[tokio::test]
async fn marking_read_is_all_or_nothing_on_the_callers_own_and_keeps_the_first_time() {
    let app = spawn().await;
    let w = world(&app).await;
    let mut api = client(&app).await;
    let me = caller(w.a, w.u);
    let unread: Vec<Uuid> = w.mine.iter().filter(|s| !s.read).map(|s| s.id).collect();
    let already_read = w.mine.iter().find(|s| s.read).unwrap().id;
    let s = |ids: &[Uuid]| ids.iter().map(Uuid::to_string).collect::<Vec<_>>();
    let before = read_count(&app).await;
    assert_eq!(before, 2);

    // Someone else's, another school's, or an unknown id alongside the
    // caller's own: NOT_FOUND and nothing marked, not even the caller's.
    for foreign in [w.theirs.id, w.other_school.id, Uuid::now_v7()] {
        let err = mark(&mut api, &me, &s(&[unread[0], foreign]))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        assert_eq!(err.message(), "notification not found");
        assert_eq!(
            read_at(&app, &[unread[0], w.theirs.id, w.other_school.id]).await,
            [None, None, None]
        );
    }
    // The owner of the other school's notification, calling from school a.
    let err = mark(&mut api, &caller(w.a, w.u), &s(&[w.other_school.id]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = mark(&mut api, &caller(w.b, w.v), &s(&[w.theirs.id]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(read_count(&app).await, before);

    // The caller's own (one twice): marked, with the time stored.
    let marked = mark(&mut api, &me, &s(&[unread[0], unread[1], unread[0]]))
        .await
        .unwrap();
    assert_eq!(
        marked.iter().map(id_of).collect::<Vec<_>>(),
        [unread[0], unread[1]],
        "newest first, once each"
    );
    let stored = read_at(&app, &[unread[0], unread[1]]).await;
    for (n, at) in marked.iter().zip(&stored) {
        let at = at.expect("read_at set");
        assert_eq!(ts(n.read_at.as_ref().unwrap()), at);
    }
    assert_eq!(read_count(&app).await, before + 2);
    let page = list(&mut api, &me, 0, "", false).await.unwrap();
    assert_eq!(page.unread, 3);

    // Again, with one read long ago: every first read time is kept.
    let first_read = read_at(&app, &[already_read]).await;
    let again = mark(&mut api, &me, &s(&[unread[1], already_read, unread[0]]))
        .await
        .unwrap();
    assert_eq!(
        read_at(&app, &[unread[0], unread[1], already_read]).await,
        [stored[0], stored[1], first_read[0]]
    );
    for n in &again {
        let want = read_at(&app, &[id_of(n)]).await[0].unwrap();
        assert_eq!(ts(n.read_at.as_ref().unwrap()), want);
    }
    assert_eq!(read_count(&app).await, before + 2);
    // Another user's inbox is untouched by all of it.
    let theirs = list(&mut api, &caller(w.a, w.v), 0, "", false)
        .await
        .unwrap();
    assert_eq!(theirs.unread, 1);
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_invalid_argument_naming_the_field_and_marks_nothing() {
    let app = spawn().await;
    let w = world(&app).await;
    let mut api = client(&app).await;
    let me = caller(w.a, w.u);
    let own = w.mine.iter().find(|s| !s.read).unwrap().id.to_string();
    let before = read_count(&app).await;

    let err = list(&mut api, &me, 101, "", false).await.unwrap_err();
    assert_eq!(bad_field(&err), "limit");
    // A cursor of another shape, or base64 of the wrong content.
    for forged in [
        "not a cursor",
        "MTIzfG5vdC1hLXV1aWQ",
        "bm90aGluZyBoZXJl",
        &"A".repeat(300),
    ] {
        let err = list(&mut api, &me, 2, forged, false).await.unwrap_err();
        assert_eq!(bad_field(&err), "cursor", "{forged}");
        assert!(!err.message().contains("base64"), "{err:?}");
    }

    let err = mark(&mut api, &me, &[]).await.unwrap_err();
    assert_eq!(bad_field(&err), "ids");
    let too_many: Vec<String> = (0..101).map(|_| Uuid::now_v7().to_string()).collect();
    let err = mark(&mut api, &me, &too_many).await.unwrap_err();
    assert_eq!(bad_field(&err), "ids");
    let err = mark(&mut api, &me, &[own.clone(), "nope".into()])
        .await
        .unwrap_err();
    assert_eq!(bad_field(&err), "ids[1]");
    let err = mark(&mut api, &me, &["'; DROP TABLE x; --".into()])
        .await
        .unwrap_err();
    assert_eq!(bad_field(&err), "ids[0]");
    assert_eq!(read_count(&app).await, before, "nothing marked");

    // Not through the gateway: no caller metadata.
    let err = api
        .list_my_notifications(list_req(2, "", false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = api
        .mark_notifications_read(pb::MarkNotificationsReadRequest {
            ids: vec![own.clone()],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(read_count(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn a_page_and_a_mark_cost_fixed_statements_whatever_their_size() {
    let db = platform::testing::fresh_database().await.unwrap();
    let proxy = StatementCounter::start(&db.notify_url).await;
    let mut config = Config::for_database(&proxy.url(&db.notify_url));
    // No workers: only the requests under test reach the database.
    config.jobs.jobs_workers = 0;
    let app = TestApp::spawn(db, &config).await;
    let (a, u) = (Uuid::now_v7(), Uuid::now_v7());
    let base = Utc::now() - Span::hours(1);
    let seeds: Vec<Seed> = (0..60)
        .map(|i| Seed {
            id: Uuid::new_v4(),
            school: a,
            user: u,
            created_at: base + Span::seconds(i),
            read: i % 3 == 0,
        })
        .collect();
    insert(&app, &seeds).await;
    let mut api = client(&app).await;
    let me = caller(a, u);
    let cursor = list(&mut api, &me, 1, "", false)
        .await
        .unwrap()
        .page
        .unwrap()
        .next_cursor;

    // Each statement shape once first: preparing is not executing, but a
    // first use may be counted differently by the driver.
    for (limit, unread_only) in [(1, false), (1, true)] {
        for c in ["", cursor.as_str()] {
            list(&mut api, &me, limit, c, unread_only).await.unwrap();
        }
    }
    let ids: Vec<String> = seeds.iter().map(|s| s.id.to_string()).collect();
    mark(&mut api, &me, &ids[..1]).await.unwrap();

    let mut counts = Vec::new();
    for (limit, unread_only) in [(1, false), (100, false), (1, true), (100, true)] {
        for c in ["", cursor.as_str()] {
            proxy.reset();
            let page = list(&mut api, &me, limit, c, unread_only).await.unwrap();
            assert!(!page.notifications.is_empty());
            counts.push(proxy.get());
        }
    }
    assert_eq!(counts, [2; 8], "page and unread count, whatever the size");
    let mut marks = Vec::new();
    for n in [1, 2, 50] {
        proxy.reset();
        let marked = mark(&mut api, &me, &ids[10..10 + n]).await.unwrap();
        assert_eq!(marked.len(), n);
        marks.push(proxy.get());
    }
    assert_eq!(marks, [1, 1, 1], "one statement whatever the number of ids");
    app.stop().await;
}
