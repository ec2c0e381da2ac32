//! The rebuild's bulk path for attendance, the bulk of a school's export
//! (a term of a 2,500-student school: about 150,000 marks).
//!
//! Applied one event at a time ([`crate::projection::attendance`]), each
//! mark moves five counter tables by deltas, and in one transaction every
//! counter row updated that way keeps all its versions until the commit:
//! the rebuild slowed down with the school's size. Here the rebuild starts
//! from cleared read models, so instead:
//!
//! 1. [`Marks::add`] collects the marks from the stream, newest revision
//!    per (session, student) with the same tie rule as the projection (the
//!    first of equal revisions stays), at most `per_write` of them in
//!    memory;
//! 2. [`Marks::write`] writes those to `attendance` in one statement, the
//!    same newest-wins upsert as the projection's, so a mark overridden in a
//!    later write is replaced there exactly as it would be per event;
//! 3. [`Marks::finish`] derives sessions, days, course-days, student-days
//!    and the students' 30-day window (with their runs of absent days) from
//!    the written marks, one grouped statement each.
//!
//! Marks touch nothing but these tables and other events read none of them
//! (the early-warning table is judged once at the end of the rebuild), so
//! deferring them past the other events changes nothing.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use deadpool_postgres::Transaction;
use proto::events::v1::AttendanceMarked;
use uuid::Uuid;

use crate::{
    domain::{date, id, WINDOW_DAYS},
    projection::attendance::{slot, STATUSES},
};

/// (course, date, period, student): one mark.
type Key = (Uuid, NaiveDate, i16, Uuid);

pub struct Marks {
    school: Uuid,
    per_write: usize,
    /// Status (index in [`STATUSES`]) and revision, newest per key.
    pending: BTreeMap<Key, (usize, i32)>,
    pub written: u64,
}

impl Marks {
    pub fn new(school: Uuid, per_write: usize) -> Self {
        Self {
            school,
            per_write: per_write.max(1),
            pending: BTreeMap::new(),
            written: 0,
        }
    }

    /// Collects one event's marks (checked as the projection checks them),
    /// writing the collected ones when there are `per_write` of them.
    pub async fn add(&mut self, tx: &Transaction<'_>, a: &AttendanceMarked) -> anyhow::Result<()> {
        let course = id("course_id", &a.course_id)?;
        let day = date("date", &a.date)?;
        let period = i16::try_from(a.period).map_err(|_| anyhow::anyhow!("period out of range"))?;
        for c in &a.changes {
            let student = id("changes.student_id", &c.student_id)?;
            let status = slot(&c.effective_status)?;
            let e = self
                .pending
                .entry((course, day, period, student))
                .or_insert((status, c.revision));
            // Strictly newer only: the projection keeps the first of equal
            // revisions, within an event and across events.
            if c.revision > e.1 {
                *e = (status, c.revision);
            }
        }
        if self.pending.len() >= self.per_write {
            self.write(tx).await?;
        }
        Ok(())
    }

    /// Writes the collected marks: one upsert, newest revision wins over a
    /// row of an earlier write.
    pub async fn write(&mut self, tx: &Transaction<'_>) -> anyhow::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let n = self.pending.len();
        let (mut courses, mut dates, mut periods, mut students) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut statuses, mut revisions) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for ((course, day, period, student), (status, revision)) in
            std::mem::take(&mut self.pending)
        {
            courses.push(course);
            dates.push(day);
            periods.push(period);
            students.push(student);
            statuses.push(STATUSES[status]);
            revisions.push(revision);
        }
        let stmt = tx
            .prepare_cached(
                "INSERT INTO attendance (school_id, course_id, date, period, student_id, status, \
                   revision) \
                 SELECT $1, c, d, p, s, st, r FROM unnest($2::uuid[], $3::date[], $4::int2[], \
                   $5::uuid[], $6::text[], $7::int[]) AS u(c, d, p, s, st, r) \
                 ON CONFLICT (school_id, course_id, date, period, student_id) DO UPDATE \
                   SET status = EXCLUDED.status, revision = EXCLUDED.revision \
                   WHERE attendance.revision < EXCLUDED.revision",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &self.school,
                &courses,
                &dates,
                &periods,
                &students,
                &statuses,
                &revisions,
            ],
        )
        .await?;
        self.written += n as u64;
        Ok(())
    }

    /// Writes what is left, then derives the counter tables from the marks
    /// (the tables are empty: the rebuild cleared them).
    pub async fn finish(mut self, tx: &Transaction<'_>) -> anyhow::Result<()> {
        self.write(tx).await?;
        if self.written == 0 {
            return Ok(());
        }
        let school = &self.school;
        // A session is marked when it has a mark; a school day is a date
        // with a marked session.
        tx.execute(
            "INSERT INTO sessions (school_id, date, course_id, period) \
             SELECT DISTINCT school_id, date, course_id, period FROM attendance \
             WHERE school_id = $1",
            &[school],
        )
        .await?;
        tx.execute(
            "INSERT INTO days (school_id, date, sessions, present, absent, late, excused) \
             SELECT $1, a.date, s.sessions, \
               count(*) FILTER (WHERE a.status = 'present'), \
               count(*) FILTER (WHERE a.status = 'absent'), \
               count(*) FILTER (WHERE a.status = 'late'), \
               count(*) FILTER (WHERE a.status = 'excused') \
             FROM attendance a \
             JOIN (SELECT date, count(*) AS sessions FROM sessions WHERE school_id = $1 \
                   GROUP BY date) s ON s.date = a.date \
             WHERE a.school_id = $1 GROUP BY a.date, s.sessions",
            &[school],
        )
        .await?;
        tx.execute(
            "INSERT INTO course_days (school_id, course_id, date, present, absent, late, excused) \
             SELECT $1, course_id, date, \
               count(*) FILTER (WHERE status = 'present'), \
               count(*) FILTER (WHERE status = 'absent'), \
               count(*) FILTER (WHERE status = 'late'), \
               count(*) FILTER (WHERE status = 'excused') \
             FROM attendance WHERE school_id = $1 GROUP BY course_id, date",
            &[school],
        )
        .await?;
        tx.execute(
            "INSERT INTO student_days (school_id, student_id, date, present, absent, late, \
               excused) \
             SELECT $1, student_id, date, \
               count(*) FILTER (WHERE status = 'present'), \
               count(*) FILTER (WHERE status = 'absent'), \
               count(*) FILTER (WHERE status = 'late'), \
               count(*) FILTER (WHERE status = 'excused') \
             FROM attendance WHERE school_id = $1 GROUP BY student_id, date",
            &[school],
        )
        .await?;
        // The window: the school's latest 30 days. Per student, the sum of
        // its student-days there, and the run of absent days up to its
        // latest (those after its latest day with any other status), as
        // the early-warning judgement computes it.
        tx.execute(
            "WITH win AS ( \
               SELECT coalesce((SELECT date FROM days WHERE school_id = $1 \
                                ORDER BY date DESC OFFSET $2 LIMIT 1), \
                               '-infinity'::date) AS since), \
             d AS ( \
               SELECT student_id, date, present, absent, late, excused, \
                 max(date) FILTER (WHERE absent < present + absent + late + excused) \
                   OVER (PARTITION BY student_id) AS attended \
               FROM student_days \
               WHERE school_id = $1 AND date >= (SELECT since FROM win)) \
             INSERT INTO student_recent (school_id, student_id, present, absent, late, excused, \
               absent_run) \
             SELECT $1, student_id, sum(present)::int, sum(absent)::int, sum(late)::int, \
               sum(excused)::int, \
               count(*) FILTER (WHERE date > coalesce(attended, '-infinity'::date))::int \
             FROM d GROUP BY student_id",
            &[school, &(WINDOW_DAYS - 1)],
        )
        .await?;
        Ok(())
    }
}
