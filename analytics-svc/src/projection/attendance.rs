//! Attendance marks and overrides (AttendanceMarked: one session's changed
//! students, each with its effective status and revision).
//!
//! One event is a fixed number of statements whatever the class size:
//! the newest-revision upsert returns old and new status per changed
//! student; their differences move the day's, the course-day's and each
//! student-day's counts, and the students' counts over the school's last 30
//! school days.
//!
//! The window: a school day is a date with any mark, and the window is the
//! school's latest 30 of them. `student_recent` holds, per student, the sum
//! of its student-days inside the window. A mark inside the window adds its
//! delta; a mark on a date older than the window adds nothing; a new school
//! day that enters a full window pushes the oldest one out, whose
//! student-days are then subtracted (only that day's students: one
//! indexed range). Days never disappear (marks are never deleted), so this
//! is exactly the sum, whatever the order the marks arrive in.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use deadpool_postgres::Transaction;
use proto::events::v1::AttendanceMarked;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::risk;
use crate::domain::{date, id, Risk, WINDOW_DAYS};

/// Per status: present, absent, late, excused.
pub(crate) const STATUSES: [&str; 4] = ["present", "absent", "late", "excused"];

/// Per status, in the order of [`STATUSES`].
type Counts = [i32; 4];

/// The status's index in [`Counts`] (also the rebuild's check of a mark).
pub(crate) fn slot(status: &str) -> anyhow::Result<usize> {
    Ok(match status {
        "present" => 0,
        "absent" => 1,
        "late" => 2,
        "excused" => 3,
        other => anyhow::bail!("unknown attendance status {other:?}"),
    })
}

pub async fn apply(
    tx: &Transaction<'_>,
    school: Uuid,
    a: &AttendanceMarked,
    t: &Risk,
) -> anyhow::Result<()> {
    let course = id("course_id", &a.course_id)?;
    let day = date("date", &a.date)?;
    let period = i16::try_from(a.period).map_err(|_| anyhow::anyhow!("period out of range"))?;
    // One entry per student: the highest revision in the event.
    let mut input: BTreeMap<Uuid, (String, i32)> = BTreeMap::new();
    for c in &a.changes {
        let student = id("changes.student_id", &c.student_id)?;
        slot(&c.effective_status)?;
        let e = input
            .entry(student)
            .or_insert((c.effective_status.clone(), c.revision));
        if c.revision > e.1 {
            *e = (c.effective_status.clone(), c.revision);
        }
    }
    if input.is_empty() {
        return Ok(());
    }
    let students: Vec<Uuid> = input.keys().copied().collect();
    let statuses: Vec<&str> = input.values().map(|v| v.0.as_str()).collect();
    let revisions: Vec<i32> = input.values().map(|v| v.1).collect();
    let upsert = tx
        .prepare_cached(include_str!("attendance_upsert.sql"))
        .await?;
    let changed = tx
        .query(
            &upsert,
            &[
                &school, &course, &day, &period, &students, &statuses, &revisions,
            ],
        )
        .await?;
    if changed.is_empty() {
        return Ok(());
    }
    let mut total: Counts = [0; 4];
    let mut per_student: Vec<(Uuid, Counts)> = Vec::with_capacity(changed.len());
    for r in &changed {
        let student: Uuid = r.try_get(0)?;
        let old: Option<&str> = r.try_get(1)?;
        let new: &str = r.try_get(2)?;
        let mut d: Counts = [0; 4];
        if let Some(old) = old {
            d[slot(old)?] -= 1;
        }
        d[slot(new)?] += 1;
        for (t, x) in total.iter_mut().zip(d) {
            *t += x;
        }
        per_student.push((student, d));
    }

    // Prepared once per connection; then every flight below is one round
    // trip (tokio-postgres pipelines the statements of a `try_join!`, and
    // the server runs them in the order sent).
    let (state, session, days, course_days, student_days, drop, recent) = futures::try_join!(
        tx.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM days WHERE school_id = $1 AND date = $2), \
               ARRAY(SELECT date FROM days WHERE school_id = $1 \
                     ORDER BY date DESC OFFSET $3 LIMIT 2)",
        ),
        tx.prepare_cached("INSERT INTO sessions VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"),
        tx.prepare_cached(
            "INSERT INTO days (school_id, date, sessions, present, absent, late, excused) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (school_id, date) DO UPDATE SET \
               sessions = days.sessions + EXCLUDED.sessions, present = days.present + EXCLUDED.present, \
               absent = days.absent + EXCLUDED.absent, late = days.late + EXCLUDED.late, \
               excused = days.excused + EXCLUDED.excused",
        ),
        tx.prepare_cached(
            "INSERT INTO course_days (school_id, course_id, date, present, absent, late, excused) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (school_id, course_id, date) DO UPDATE SET \
               present = course_days.present + EXCLUDED.present, \
               absent = course_days.absent + EXCLUDED.absent, \
               late = course_days.late + EXCLUDED.late, excused = course_days.excused + EXCLUDED.excused",
        ),
        tx.prepare_cached(
            "INSERT INTO student_days (school_id, student_id, date, present, absent, late, excused) \
             SELECT $1, s, $2, p, a, l, e FROM unnest($3::uuid[], $4::int[], $5::int[], $6::int[], \
               $7::int[]) AS u(s, p, a, l, e) \
             ON CONFLICT (school_id, student_id, date) DO UPDATE SET \
               present = student_days.present + EXCLUDED.present, \
               absent = student_days.absent + EXCLUDED.absent, \
               late = student_days.late + EXCLUDED.late, \
               excused = student_days.excused + EXCLUDED.excused",
        ),
        tx.prepare_cached(
            "UPDATE student_recent r SET present = r.present - d.present, \
               absent = r.absent - d.absent, late = r.late - d.late, excused = r.excused - d.excused \
             FROM student_days d \
             WHERE d.school_id = $1 AND d.date = $2 AND r.school_id = $1 \
               AND r.student_id = d.student_id \
             RETURNING r.student_id",
        ),
        tx.prepare_cached(
            "INSERT INTO student_recent (school_id, student_id, present, absent, late, excused) \
             SELECT $1, s, p, a, l, e FROM unnest($2::uuid[], $3::int[], $4::int[], $5::int[], \
               $6::int[]) AS u(s, p, a, l, e) \
             ON CONFLICT (school_id, student_id) DO UPDATE SET \
               present = student_recent.present + EXCLUDED.present, \
               absent = student_recent.absent + EXCLUDED.absent, \
               late = student_recent.late + EXCLUDED.late, \
               excused = student_recent.excused + EXCLUDED.excused",
        ),
    )?;

    // Whether the date is a new school day, and the window's 29th and 30th
    // latest days before it (the window's oldest day and the one after).
    let (row, new_session) = futures::try_join!(
        async {
            tx.query_one(&state, &[&school, &day, &(WINDOW_DAYS - 2)])
                .await
        },
        async {
            tx.execute(&session, &[&school, &day, &course, &period])
                .await
        },
    )?;
    let existed: bool = row.try_get(0)?;
    let edge: Vec<NaiveDate> = row.try_get(1)?;
    let (w29, w30) = (edge.first().copied(), edge.get(1).copied());
    let (leaving, since) = window_after(day, existed, w29, w30);
    let new_session = i32::try_from(new_session)?;

    let ids: Vec<Uuid> = per_student.iter().map(|(s, _)| *s).collect();
    let col = |i: usize| -> Vec<i32> { per_student.iter().map(|(_, d)| d[i]).collect() };
    let (p, ab, l, e) = (col(0), col(1), col(2), col(3));
    let in_window = since.is_none_or(|since| day >= since);
    let (_, _, _, dropped, _) = futures::try_join!(
        async {
            tx.execute(
                &days,
                &[
                    &school,
                    &day,
                    &new_session,
                    &total[0],
                    &total[1],
                    &total[2],
                    &total[3],
                ],
            )
            .await
        },
        async {
            tx.execute(
                &course_days,
                &[
                    &school, &course, &day, &total[0], &total[1], &total[2], &total[3],
                ],
            )
            .await
        },
        async {
            tx.execute(&student_days, &[&school, &day, &ids, &p, &ab, &l, &e])
                .await
        },
        async {
            match leaving {
                Some(leaving) => tx.query(&drop, &[&school, &leaving]).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            if in_window {
                tx.execute(&recent, &[&school, &ids, &p, &ab, &l, &e]).await
            } else {
                Ok(0)
            }
        },
    )?;
    let mut affected: Vec<Uuid> = students;
    for r in &dropped {
        affected.push(r.try_get(0)?);
    }
    risk::refresh(tx, school, &affected, t).await
}

/// (course, date, period, student): one mark.
type Key = (Uuid, NaiveDate, i16, Uuid);

/// Applies several events' marks together (one read of the school's stream,
/// under load: a school's teachers marking their sessions), with the same
/// result as applying them one by one in order, in a fixed number of
/// statements instead of about eight per event.
///
/// Marks commute (newest revision wins per mark, counters move by deltas),
/// so only the window needs care: it moves when the batch brings new school
/// days. The window after the batch is the latest 30 of the school's days
/// and the batch's dates; the days it no longer holds leave it (their
/// student-days, as they were before the batch, are subtracted from the
/// students' sums), and only marks on dates inside it add to the sums. That
/// is the sum over the new window of the student-days after the batch,
/// exactly what one-by-one application keeps. The school's apply lock must
/// be held.
pub async fn apply_together(
    tx: &Transaction<'_>,
    school: Uuid,
    events: &[&AttendanceMarked],
    t: &Risk,
) -> anyhow::Result<()> {
    // Newest revision per mark; the first of equal revisions stays, as in
    // the one-by-one path (within an event and across events in order).
    let mut input: BTreeMap<Key, (usize, i32)> = BTreeMap::new();
    for a in events {
        let course = id("course_id", &a.course_id)?;
        let day = date("date", &a.date)?;
        let period = i16::try_from(a.period).map_err(|_| anyhow::anyhow!("period out of range"))?;
        for c in &a.changes {
            let student = id("changes.student_id", &c.student_id)?;
            let status = slot(&c.effective_status)?;
            let e = input
                .entry((course, day, period, student))
                .or_insert((status, c.revision));
            if c.revision > e.1 {
                *e = (status, c.revision);
            }
        }
    }
    if input.is_empty() {
        return Ok(());
    }
    let dates: Vec<NaiveDate> = {
        let mut d: Vec<NaiveDate> = input.keys().map(|k| k.1).collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    let (state, upsert, leave) = futures::try_join!(
        tx.prepare_cached(
            "SELECT ARRAY(SELECT date FROM days WHERE school_id = $1 \
                          ORDER BY date DESC LIMIT $2)",
        ),
        tx.prepare_cached(include_str!("attendance_upsert_many.sql")),
        tx.prepare_cached(
            "UPDATE student_recent r SET present = r.present - d.present, \
               absent = r.absent - d.absent, late = r.late - d.late, excused = r.excused - d.excused \
             FROM (SELECT student_id, sum(present)::int AS present, sum(absent)::int AS absent, \
                     sum(late)::int AS late, sum(excused)::int AS excused \
                   FROM student_days WHERE school_id = $1 AND date = ANY($2) \
                   GROUP BY student_id) d \
             WHERE r.school_id = $1 AND r.student_id = d.student_id \
             RETURNING r.student_id",
        ),
    )?;
    // The window before (the school's latest 30 days) and after (the latest
    // 30 of those and the batch's dates; a batch date only becomes a school
    // day through a mark, and every mark on a new date is a first mark).
    let before: Vec<NaiveDate> = tx
        .query_one(&state, &[&school, &WINDOW_DAYS])
        .await?
        .try_get(0)?;
    let window = window_with(&before, &dates);
    let leaving: Vec<NaiveDate> = before
        .iter()
        .filter(|d| !window.contains(d))
        .copied()
        .collect();
    let since: Option<NaiveDate> = (window.len() == WINDOW_DAYS as usize)
        .then(|| window.last().copied())
        .flatten();
    // Before the marks change any student-day: what leaves is what the sums
    // hold for those days now.
    let mut affected: Vec<Uuid> = Vec::new();
    if !leaving.is_empty() {
        for r in tx.query(&leave, &[&school, &leaving]).await? {
            affected.push(r.try_get(0)?);
        }
    }

    let n = input.len();
    let (mut courses, mut days, mut periods, mut students) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut statuses, mut revisions) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for ((course, day, period, student), (status, revision)) in &input {
        courses.push(*course);
        days.push(*day);
        periods.push(*period);
        students.push(*student);
        statuses.push(STATUSES[*status]);
        revisions.push(*revision);
    }
    let changed = tx
        .query(
            &upsert,
            &[
                &school, &courses, &days, &periods, &students, &statuses, &revisions,
            ],
        )
        .await?;
    if changed.is_empty() {
        return risk::refresh(tx, school, &affected, t).await;
    }

    // The deltas, summed per counter row (one row may appear only once in
    // an upsert).
    let mut sessions: BTreeMap<(NaiveDate, Uuid, i16), ()> = BTreeMap::new();
    let mut per_day: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
    let mut per_course_day: BTreeMap<(Uuid, NaiveDate), Counts> = BTreeMap::new();
    let mut per_student_day: BTreeMap<(Uuid, NaiveDate), Counts> = BTreeMap::new();
    let mut per_student_recent: BTreeMap<Uuid, Counts> = BTreeMap::new();
    for r in &changed {
        let course: Uuid = r.try_get(0)?;
        let day: NaiveDate = r.try_get(1)?;
        let period: i16 = r.try_get(2)?;
        let student: Uuid = r.try_get(3)?;
        let old: Option<&str> = r.try_get(4)?;
        let new: &str = r.try_get(5)?;
        let mut d: Counts = [0; 4];
        if let Some(old) = old {
            d[slot(old)?] -= 1;
        }
        d[slot(new)?] += 1;
        sessions.insert((day, course, period), ());
        let add = |c: &mut Counts| c.iter_mut().zip(d).for_each(|(c, x)| *c += x);
        add(per_day.entry(day).or_default());
        add(per_course_day.entry((course, day)).or_default());
        add(per_student_day.entry((student, day)).or_default());
        if since.is_none_or(|since| day >= since) {
            add(per_student_recent.entry(student).or_default());
        }
    }

    let (new_sessions, day_rows, course_day_rows, student_day_rows, recent) = futures::try_join!(
        tx.prepare_cached(
            "INSERT INTO sessions (school_id, date, course_id, period) \
             SELECT $1, d, c, p FROM unnest($2::date[], $3::uuid[], $4::int2[]) AS u(d, c, p) \
             ON CONFLICT DO NOTHING RETURNING date",
        ),
        tx.prepare_cached(
            "INSERT INTO days (school_id, date, sessions, present, absent, late, excused) \
             SELECT $1, d, s, p, a, l, e FROM unnest($2::date[], $3::int[], $4::int[], $5::int[], \
               $6::int[], $7::int[]) AS u(d, s, p, a, l, e) \
             ON CONFLICT (school_id, date) DO UPDATE SET \
               sessions = days.sessions + EXCLUDED.sessions, present = days.present + EXCLUDED.present, \
               absent = days.absent + EXCLUDED.absent, late = days.late + EXCLUDED.late, \
               excused = days.excused + EXCLUDED.excused",
        ),
        tx.prepare_cached(
            "INSERT INTO course_days (school_id, course_id, date, present, absent, late, excused) \
             SELECT $1, c, d, p, a, l, e FROM unnest($2::uuid[], $3::date[], $4::int[], $5::int[], \
               $6::int[], $7::int[]) AS u(c, d, p, a, l, e) \
             ON CONFLICT (school_id, course_id, date) DO UPDATE SET \
               present = course_days.present + EXCLUDED.present, \
               absent = course_days.absent + EXCLUDED.absent, \
               late = course_days.late + EXCLUDED.late, excused = course_days.excused + EXCLUDED.excused",
        ),
        tx.prepare_cached(
            "INSERT INTO student_days (school_id, student_id, date, present, absent, late, excused) \
             SELECT $1, s, d, p, a, l, e FROM unnest($2::uuid[], $3::date[], $4::int[], $5::int[], \
               $6::int[], $7::int[]) AS u(s, d, p, a, l, e) \
             ON CONFLICT (school_id, student_id, date) DO UPDATE SET \
               present = student_days.present + EXCLUDED.present, \
               absent = student_days.absent + EXCLUDED.absent, \
               late = student_days.late + EXCLUDED.late, \
               excused = student_days.excused + EXCLUDED.excused",
        ),
        tx.prepare_cached(
            "INSERT INTO student_recent (school_id, student_id, present, absent, late, excused) \
             SELECT $1, s, p, a, l, e FROM unnest($2::uuid[], $3::int[], $4::int[], $5::int[], \
               $6::int[]) AS u(s, p, a, l, e) \
             ON CONFLICT (school_id, student_id) DO UPDATE SET \
               present = student_recent.present + EXCLUDED.present, \
               absent = student_recent.absent + EXCLUDED.absent, \
               late = student_recent.late + EXCLUDED.late, \
               excused = student_recent.excused + EXCLUDED.excused",
        ),
    )?;

    // New sessions first: the days' session counts depend on them.
    let (sd, sc, sp): (Vec<NaiveDate>, Vec<Uuid>, Vec<i16>) = {
        let mut v = (Vec::new(), Vec::new(), Vec::new());
        for (d, c, p) in sessions.keys() {
            v.0.push(*d);
            v.1.push(*c);
            v.2.push(*p);
        }
        v
    };
    let mut opened: BTreeMap<NaiveDate, i32> = BTreeMap::new();
    for r in tx.query(&new_sessions, &[&school, &sd, &sc, &sp]).await? {
        *opened.entry(r.try_get(0)?).or_default() += 1;
    }

    let day_keys: Vec<NaiveDate> = per_day.keys().copied().collect();
    let day_sessions: Vec<i32> = day_keys
        .iter()
        .map(|d| opened.get(d).copied().unwrap_or(0))
        .collect();
    let day_counts: Vec<Counts> = per_day.values().copied().collect();
    let cd_courses: Vec<Uuid> = per_course_day.keys().map(|k| k.0).collect();
    let cd_dates: Vec<NaiveDate> = per_course_day.keys().map(|k| k.1).collect();
    let cd_counts: Vec<Counts> = per_course_day.values().copied().collect();
    let sd_students: Vec<Uuid> = per_student_day.keys().map(|k| k.0).collect();
    let sd_dates: Vec<NaiveDate> = per_student_day.keys().map(|k| k.1).collect();
    let sd_counts: Vec<Counts> = per_student_day.values().copied().collect();
    let r_students: Vec<Uuid> = per_student_recent.keys().copied().collect();
    let r_counts: Vec<Counts> = per_student_recent.values().copied().collect();
    let day_key: [&(dyn ToSql + Sync); 2] = [&day_keys, &day_sessions];
    let cd_key: [&(dyn ToSql + Sync); 2] = [&cd_courses, &cd_dates];
    let sd_key: [&(dyn ToSql + Sync); 2] = [&sd_students, &sd_dates];
    let r_key: [&(dyn ToSql + Sync); 1] = [&r_students];
    futures::try_join!(
        add_counts(tx, &day_rows, &school, &day_key, &day_counts),
        add_counts(tx, &course_day_rows, &school, &cd_key, &cd_counts),
        add_counts(tx, &student_day_rows, &school, &sd_key, &sd_counts),
        add_counts(tx, &recent, &school, &r_key, &r_counts),
    )?;
    affected.extend(per_student_day.keys().map(|k| k.0));
    affected.sort_unstable();
    affected.dedup();
    risk::refresh(tx, school, &affected, t).await
}

/// Runs one counter upsert of the batch: `$1` the school, then `keys` (one
/// array each), then the four count arrays, in the order of [`STATUSES`].
/// Nothing to add: no statement.
async fn add_counts(
    tx: &Transaction<'_>,
    stmt: &tokio_postgres::Statement,
    school: &Uuid,
    keys: &[&(dyn ToSql + Sync)],
    counts: &[Counts],
) -> Result<u64, tokio_postgres::Error> {
    if counts.is_empty() {
        return Ok(0);
    }
    let cols: [Vec<i32>; 4] = std::array::from_fn(|i| counts.iter().map(|c| c[i]).collect());
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(1 + keys.len() + 4);
    params.push(school);
    params.extend_from_slice(keys);
    params.extend(cols.iter().map(|c| c as &(dyn ToSql + Sync)));
    tx.execute(stmt, &params).await
}

/// The latest [`WINDOW_DAYS`] of `days` (newest first) and `more`, newest
/// first.
fn window_with(days: &[NaiveDate], more: &[NaiveDate]) -> Vec<NaiveDate> {
    let mut all: Vec<NaiveDate> = days.iter().chain(more).copied().collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    all.dedup();
    all.truncate(WINDOW_DAYS as usize);
    all
}

/// The window after a mark on `day`: the day that leaves it (a new school
/// day entering a full window pushes the oldest out) and its oldest day
/// (`None` while it holds fewer than 30 days), from the days before the
/// mark: whether `day` was a school day, and the 29th and 30th latest.
fn window_after(
    day: NaiveDate,
    existed: bool,
    w29: Option<NaiveDate>,
    w30: Option<NaiveDate>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    match (existed, w29, w30) {
        (true, _, since) => (None, since),
        // Full: a newer day pushes the oldest out; the new oldest is the
        // older of the day and the former 29th. An older day stays outside.
        (false, Some(w29), Some(w30)) if day > w30 => (Some(w30), Some(day.min(w29))),
        (false, _, Some(w30)) => (None, Some(w30)),
        // Exactly 29 days: the day makes 30, the oldest of them all.
        (false, Some(w29), None) => (None, Some(day.min(w29))),
        (false, None, None) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 1, n).unwrap()
    }

    #[test]
    fn a_batch_window_is_the_latest_days_of_both() {
        let held: Vec<NaiveDate> = (2..=31).rev().map(d).collect();
        // Nothing new: the same window.
        assert_eq!(window_with(&held, &[d(5), d(31)]), held);
        // Two new days at the top push days 2 and 3 out; an older new day
        // stays outside.
        let mut more = vec![d(1)];
        more.extend([
            NaiveDate::from_ymd_opt(2030, 2, 1).unwrap(),
            NaiveDate::from_ymd_opt(2030, 2, 2).unwrap(),
        ]);
        let w = window_with(&held, &more);
        assert_eq!(w.len(), 30);
        assert_eq!(w.last(), Some(&d(4)));
        assert!(!w.contains(&d(1)) && !w.contains(&d(2)) && !w.contains(&d(3)));
        // Fewer than 30 days in all: every one.
        assert_eq!(window_with(&[d(3)], &[d(1)]), vec![d(3), d(1)]);
    }

    #[test]
    fn the_window_moves_only_for_a_new_day_inside_it() {
        // Days 2..=31 held (30): 29th latest = 3, 30th = 2.
        assert_eq!(
            window_after(d(10), true, Some(d(3)), Some(d(2))),
            (None, Some(d(2)))
        );
        assert_eq!(
            window_after(d(1), false, Some(d(3)), Some(d(2))),
            (None, Some(d(2)))
        );
        // A new day among them: day 2 leaves, 3 is the oldest.
        assert_eq!(
            window_after(d(20), false, Some(d(3)), Some(d(2))),
            (Some(d(2)), Some(d(3)))
        );
        // Days 3, 5, ... with a new day between the 30th and the 29th.
        assert_eq!(
            window_after(d(4), false, Some(d(5)), Some(d(3))),
            (Some(d(3)), Some(d(4)))
        );
        // 29 days held, a 30th arrives (older or newer than them).
        assert_eq!(
            window_after(d(1), false, Some(d(3)), None),
            (None, Some(d(1)))
        );
        assert_eq!(
            window_after(d(9), false, Some(d(3)), None),
            (None, Some(d(3)))
        );
        assert_eq!(window_after(d(9), false, None, None), (None, None));
    }
}
