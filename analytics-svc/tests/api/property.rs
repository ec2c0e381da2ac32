//! Property: a random history of one school (marks and overrides,
//! enrolments and withdrawals, grades, assessment changes, publishing,
//! invoices, payments, voids, student changes, guardian links) gives the
//! same read models
//! - applied in order,
//! - applied shuffled with duplicates (every fact carries its version or
//!   revision, so no order needs guarding except that the school's
//!   settings come first: a payment's month is read in the school's zone),
//! - rebuilt from an export of the final state (the latest fact per key, as
//!   students-svc's ExportSchool sends it), over the incrementally kept
//!   models while they exist,
//! - rebuilt from the whole history shuffled with duplicates (several
//!   revisions of a mark, in any order), its marks written in small
//!   batches: the rebuild's bulk attendance path keeps the newest revision
//!   across its writes and derives the same counters, window and runs.
//!
//! A seeded loop (`ANALYTICS_PROPERTY_SEEDS`, default 4 seeds) rather than
//! proptest, which the workspace does not have.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proto::events::v1::Event;
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use uuid::Uuid;

use crate::helpers::{apply, dump, School};

const STATUSES: [&str; 4] = ["present", "absent", "late", "excused"];

/// The generator's view of the school's current state, and the events.
pub struct History {
    pub school: School,
    pub events: Vec<Event>,
    /// The latest event per fact: what an export of the final state sends.
    pub latest: BTreeMap<String, Event>,
    /// Payments (each a fact of its own).
    pub payments: Vec<Event>,
}

impl History {
    fn push(&mut self, key: String, e: Event) {
        self.events.push(e.clone());
        self.latest.insert(key, e);
    }

    pub fn export(&self) -> Vec<Event> {
        // Settings first, then the rest in key order (the export's
        // dependency order does not matter to newest-wins).
        let mut out: Vec<Event> = self.latest.values().cloned().collect();
        out.sort_by_key(|e| e.event_type != "school.created");
        out.extend(self.payments.iter().cloned());
        out
    }
}

pub fn history(seed: u64, steps: usize) -> History {
    let mut rng = StdRng::seed_from_u64(seed);
    let s = School::new();
    let mut h = History {
        school: s,
        events: Vec::new(),
        latest: BTreeMap::new(),
        payments: Vec::new(),
    };
    h.push(
        "school".into(),
        s.settings(
            &format!("p{seed}-{}", s.id().simple()),
            "Pacific/Auckland",
            2,
            1,
            1,
        ),
    );
    let teachers = [Uuid::now_v7(), Uuid::now_v7()];
    for t in teachers {
        h.push(format!("user:{t}"), s.user(t, "teacher"));
    }
    let students: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    let mut student_version = vec![0i64; students.len()];
    let courses: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let mut course_version = vec![0i64; courses.len()];
    for (i, c) in courses.iter().enumerate() {
        course_version[i] = 1;
        h.push(
            format!("course:{c}"),
            s.course(*c, &format!("C{i}"), teachers[i % 2], 10, 1),
        );
        h.push(format!("slot:{c}"), s.slot(*c, 1 + (i as i32 % 5), "09:00"));
    }
    for (i, st) in students.iter().enumerate() {
        student_version[i] = 1;
        h.push(
            format!("student:{st}"),
            s.student(*st, &format!("F{i}"), 3, "A", "active", 1),
        );
    }
    // (course, student) -> (enrolment id, enrolled)
    let mut enrolments: BTreeMap<(usize, usize), (Uuid, bool)> = BTreeMap::new();
    let dates: Vec<NaiveDate> = (0..35)
        .map(|d| NaiveDate::from_ymd_opt(2030, 2, 3).unwrap() + Duration::days(d))
        .collect();
    let mut revisions: BTreeMap<String, i32> = BTreeMap::new();
    // assessment -> (course, max, weight, published, version)
    let mut assessments: Vec<(Uuid, usize, i32, i32, bool, i64)> = Vec::new();
    // (assessment, student) -> (score, revision)
    let mut scores: BTreeMap<(usize, usize), (i32, i32)> = BTreeMap::new();
    // invoice -> (student, total, paid, status, version, issued_on)
    let mut invoices: Vec<(Uuid, usize, i64, i64, String, i64, String)> = Vec::new();
    let guardian = (Uuid::now_v7(), Uuid::now_v7());
    let mut link_version = 0i64;

    for _ in 0..steps {
        match rng.gen_range(0..100) {
            0..=34 => {
                let c = rng.gen_range(0..courses.len());
                let date = dates[rng.gen_range(0..dates.len())]
                    .format("%Y-%m-%d")
                    .to_string();
                let period = rng.gen_range(1..=2u32);
                let mut changes = Vec::new();
                for (i, st) in students.iter().enumerate() {
                    if rng.gen_bool(0.6) {
                        let key = format!("att:{c}:{date}:{period}:{i}");
                        let r = revisions.entry(key.clone()).or_insert(0);
                        *r += 1;
                        let status = STATUSES[rng.gen_range(0..4)];
                        changes.push((*st, status, *r));
                        h.latest
                            .insert(key, s.mark(courses[c], &date, period, &[(*st, status, *r)]));
                    }
                }
                if !changes.is_empty() {
                    h.events.push(s.mark(courses[c], &date, period, &changes));
                }
            }
            35..=44 => {
                let (c, i) = (
                    rng.gen_range(0..courses.len()),
                    rng.gen_range(0..students.len()),
                );
                let e = enrolments.entry((c, i)).or_insert((Uuid::now_v7(), false));
                if e.1 {
                    // Withdraw; the next enrolment is a new row.
                    let ev = s.enrol(e.0, courses[c], students[i], true);
                    h.push(format!("enrol:{}", e.0), ev);
                    *e = (Uuid::now_v7(), false);
                } else {
                    e.1 = true;
                    let ev = s.enrol(e.0, courses[c], students[i], false);
                    h.push(format!("enrol:{}", e.0), ev);
                }
            }
            45..=49 => {
                let i = rng.gen_range(0..students.len());
                student_version[i] += 1;
                let status = if rng.gen_bool(0.8) {
                    "active"
                } else {
                    "withdrawn"
                };
                let grade = rng.gen_range(3..=4);
                let e = s.student(
                    students[i],
                    &format!("F{i}"),
                    grade,
                    ["A", "B"][rng.gen_range(0..2)],
                    status,
                    student_version[i],
                );
                h.push(format!("student:{}", students[i]), e);
            }
            50..=54 => {
                let c = rng.gen_range(0..courses.len());
                course_version[c] += 1;
                let e = s.course(
                    courses[c],
                    &format!("C{c}"),
                    teachers[rng.gen_range(0..2)],
                    10,
                    course_version[c],
                );
                h.push(format!("course:{}", courses[c]), e);
            }
            55..=62 => {
                // A new assessment, or a change of one (its max score never
                // below a recorded score, as students-svc enforces).
                let k = if assessments.is_empty() || rng.gen_bool(0.4) {
                    let c = rng.gen_range(0..courses.len());
                    assessments.push((
                        Uuid::now_v7(),
                        c,
                        1000,
                        rng.gen_range(1..=4) * 1000,
                        false,
                        1,
                    ));
                    assessments.len() - 1
                } else {
                    let k = rng.gen_range(0..assessments.len());
                    let top = scores
                        .iter()
                        .filter(|((kk, _), _)| *kk == k)
                        .map(|(_, (sc, _))| *sc)
                        .max()
                        .unwrap_or(0);
                    let a = &mut assessments[k];
                    a.5 += 1;
                    let max = [1000, 2000, 500][rng.gen_range(0..3)];
                    if max >= top {
                        a.2 = max;
                    }
                    a.3 = rng.gen_range(1..=4) * 1000;
                    k
                };
                let a = assessments[k];
                let e = s.assessment(a.0, courses[a.1], a.2, a.3, "2030-03-01", a.4, a.5);
                h.push(format!("assessment:{}", a.0), e);
            }
            63..=74 => {
                if assessments.is_empty() {
                    continue;
                }
                let k = rng.gen_range(0..assessments.len());
                let a = assessments[k];
                let mut changes = Vec::new();
                for (i, st) in students.iter().enumerate() {
                    if rng.gen_bool(0.5) {
                        let e = scores.entry((k, i)).or_insert((0, 0));
                        e.0 = rng.gen_range(0..=a.2);
                        e.1 += 1;
                        changes.push((*st, e.0, e.1));
                        h.latest.insert(
                            format!("grade:{k}:{i}"),
                            s.grades(a.0, courses[a.1], a.2, a.4, &[(*st, e.0, e.1)]),
                        );
                    }
                }
                if !changes.is_empty() {
                    h.events
                        .push(s.grades(a.0, courses[a.1], a.2, a.4, &changes));
                }
            }
            75..=78 => {
                if assessments.is_empty() {
                    continue;
                }
                let k = rng.gen_range(0..assessments.len());
                assessments[k].4 = true;
                let a = assessments[k];
                let all: Vec<(Uuid, i32, i32)> = scores
                    .iter()
                    .filter(|((kk, _), _)| *kk == k)
                    .map(|((_, i), (sc, r))| (students[*i], *sc, *r))
                    .collect();
                let e = s.publish(a.0, courses[a.1], a.2, &all);
                h.events.push(e.clone());
                // The export's form of "published": the assessment's state.
                h.latest.insert(
                    format!("assessment:{}", a.0),
                    s.assessment(a.0, courses[a.1], a.2, a.3, "2030-03-01", true, a.5),
                );
                for ((kk, i), (sc, r)) in &scores {
                    if *kk == k {
                        h.latest.insert(
                            format!("grade:{k}:{i}"),
                            s.grades(a.0, courses[a.1], a.2, true, &[(students[*i], *sc, *r)]),
                        );
                    }
                }
            }
            79..=86 => {
                let i = rng.gen_range(0..students.len());
                let id = Uuid::now_v7();
                let issued = format!(
                    "2030-0{}-{:02}",
                    rng.gen_range(1..=3),
                    rng.gen_range(1..=28)
                );
                let total = rng.gen_range(1..=10) * 100;
                invoices.push((id, i, total, 0, "issued".into(), 1, issued.clone()));
                h.push(
                    format!("invoice:{id}"),
                    s.invoice(
                        id,
                        students[i],
                        total,
                        0,
                        "issued",
                        &issued,
                        "2030-03-10",
                        1,
                    ),
                );
            }
            87..=94 => {
                let open: Vec<usize> = (0..invoices.len())
                    .filter(|k| matches!(invoices[*k].4.as_str(), "issued" | "partially_paid"))
                    .collect();
                let Some(&k) = open.choose(&mut rng) else {
                    continue;
                };
                let inv = &mut invoices[k];
                let amount = rng.gen_range(1..=(inv.2 - inv.3));
                inv.3 += amount;
                inv.5 += 1;
                inv.4 = if inv.3 >= inv.2 {
                    "paid".into()
                } else {
                    "partially_paid".into()
                };
                let at = Utc
                    .with_ymd_and_hms(
                        2030,
                        rng.gen_range(1..=3),
                        rng.gen_range(1..=28),
                        rng.gen_range(0..24),
                        0,
                        0,
                    )
                    .unwrap();
                let e = s.payment(
                    Uuid::now_v7(),
                    inv.0,
                    students[inv.1],
                    amount,
                    inv.2,
                    inv.3,
                    inv.5,
                    at,
                );
                h.events.push(e.clone());
                h.payments.push(e);
                let inv = invoices[k].clone();
                h.latest.insert(
                    format!("invoice:{}", inv.0),
                    s.invoice(
                        inv.0,
                        students[inv.1],
                        inv.2,
                        inv.3,
                        &inv.4,
                        &inv.6,
                        "2030-03-10",
                        inv.5,
                    ),
                );
            }
            95..=96 => {
                let open: Vec<usize> = (0..invoices.len())
                    .filter(|k| invoices[*k].4 == "issued")
                    .collect();
                let Some(&k) = open.choose(&mut rng) else {
                    continue;
                };
                let inv = &mut invoices[k];
                inv.4 = "void".into();
                inv.5 += 1;
                let inv = invoices[k].clone();
                h.push(
                    format!("invoice:{}", inv.0),
                    s.invoice(
                        inv.0,
                        students[inv.1],
                        inv.2,
                        inv.3,
                        "void",
                        &inv.6,
                        "2030-03-10",
                        inv.5,
                    ),
                );
            }
            _ => {
                link_version += 1;
                let e = s.link(
                    guardian.0,
                    guardian.1,
                    students[0],
                    link_version % 2 == 1,
                    link_version,
                );
                h.push("link".into(), e);
            }
        }
    }
    h
}

/// `events` shuffled (settings first) with about a third repeated.
pub fn scrambled(events: &[Event], seed: u64) -> Vec<Event> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut out: Vec<Event> = events.to_vec();
    for e in events {
        if rng.gen_bool(0.3) {
            out.push(e.clone());
        }
    }
    out.shuffle(&mut rng);
    let first = out
        .iter()
        .position(|e| e.event_type == "school.created")
        .unwrap();
    let settings = out.remove(first);
    out.insert(0, settings);
    out
}

fn seeds() -> u64 {
    std::env::var("ANALYTICS_PROPERTY_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

#[tokio::test]
async fn in_order_shuffled_with_duplicates_and_rebuilt_give_the_same_read_models() {
    let db = platform::testing::fresh_database().await.unwrap();
    platform::db::migrate(
        &db.analytics_url,
        &Default::default(),
        analytics_svc::MIGRATIONS,
    )
    .await
    .unwrap();
    let pool = platform::db::pool(&db.analytics_url, &Default::default()).unwrap();
    let mut runs = 0;
    for seed in 0..seeds() {
        let h = history(seed, 400);
        let in_order = h.school;
        apply(&pool, &h.events).await;
        let expected = dump(&db, in_order.id()).await;
        assert!(
            expected.iter().any(|r| r.starts_with("at_risk:")),
            "seed {seed}: nobody at risk"
        );
        assert!(
            expected.iter().any(|r| r.starts_with("student_recent:")),
            "seed {seed}"
        );
        assert!(
            expected.iter().filter(|r| r.starts_with("days:")).count() > 30,
            "seed {seed}: the window never moved"
        );

        // The same history for another school id, scrambled.
        let other = School::new();
        let moved: Vec<Event> = h
            .events
            .iter()
            .map(|e| Event {
                school_id: other.id().to_string(),
                ..e.clone()
            })
            .collect();
        apply(&pool, &scrambled(&moved, seed)).await;
        let got: Vec<String> = dump(&db, other.id())
            .await
            .into_iter()
            .map(|r| r.replace(&other.id().to_string(), &in_order.id().to_string()))
            .collect();
        similar(
            &expected,
            &got,
            &format!("seed {seed}: shuffled with duplicates"),
        );

        // The same scrambled history as the consumer applies a busy stream:
        // reads of up to 12 events, each in one transaction, its marks
        // applied together after its other events.
        let third = School::new();
        let moved: Vec<Event> = h
            .events
            .iter()
            .map(|e| Event {
                school_id: third.id().to_string(),
                ..e.clone()
            })
            .collect();
        apply_in_reads(&pool, &scrambled(&moved, seed), 12).await;
        let got: Vec<String> = dump(&db, third.id())
            .await
            .into_iter()
            .map(|r| r.replace(&third.id().to_string(), &in_order.id().to_string()))
            .collect();
        similar(
            &expected,
            &got,
            &format!("seed {seed}: in reads, marks together"),
        );

        // Rebuilt from the export of the final state, over the existing models.
        let export = h.export();
        crate::rebuild::rebuild_from(&pool, in_order.id(), export).await;
        let rebuilt = dump(&db, in_order.id()).await;
        similar(&expected, &rebuilt, &format!("seed {seed}: rebuilt"));

        // Rebuilt from every event, shuffled with duplicates, 5 marks a write.
        let every = scrambled(&h.events, seed.wrapping_add(1));
        crate::rebuild::rebuild_from_in_writes_of(&pool, in_order.id(), every, 5).await;
        let rebuilt = dump(&db, in_order.id()).await;
        similar(
            &expected,
            &rebuilt,
            &format!("seed {seed}: rebuilt from the whole history"),
        );
        runs += expected
            .iter()
            .filter(|r| r.starts_with("student_recent:") && !r.contains("\"absent_run\":0"))
            .count();
    }
    assert!(runs > 0, "no run of absent days in any seed");
}

/// Applies `events` as the consumer applies reads of `per_read` entries
/// (`platform::events::Handler::together`): one transaction per read, the
/// attendance events after the others, together.
pub async fn apply_in_reads(pool: &deadpool_postgres::Pool, events: &[Event], per_read: usize) {
    use proto::events::v1::event::Payload;
    let t = analytics_svc::domain::Risk::default();
    for read in events.chunks(per_read) {
        let mut client = pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        let school: Uuid = read[0].school_id.parse().unwrap();
        let (marks, others): (Vec<&Event>, Vec<&Event>) = read.iter().partition(|e| {
            matches!(
                e.payload,
                Some(Payload::AttendanceMarked(_) | Payload::AttendanceOverridden(_))
            )
        });
        for e in others {
            analytics_svc::projection::apply(&tx, school, e, &t)
                .await
                .unwrap_or_else(|err| panic!("{} failed: {err:#}", e.event_type));
        }
        if !marks.is_empty() {
            analytics_svc::projection::apply_together(&tx, school, &marks, &t)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

/// Equal, or a readable difference.
pub fn similar(expected: &[String], got: &[String], what: &str) {
    if expected != got {
        let missing: Vec<&String> = expected.iter().filter(|r| !got.contains(r)).collect();
        let extra: Vec<&String> = got.iter().filter(|r| !expected.contains(r)).collect();
        panic!("{what}: read models differ\nmissing: {missing:#?}\nextra: {extra:#?}");
    }
}
