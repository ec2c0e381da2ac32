//! The daily overdue-invoice check, as scheduled jobs in the delivery
//! queue: one `invoice_reminders` job per school and local date, due at the
//! school's local check time (its time zone from `school.*` events). A run
//! reminds the guardians of every unpaid invoice that has reached a
//! reminder step (days overdue, e.g. 1, 7, 14: the highest step reached,
//! once per invoice and step) and schedules the next day's run, all in one
//! transaction. The dedupe key `reminders:<date>` makes the schedule itself
//! idempotent: two replicas, a redelivered event or a rerun after a crash
//! all land on the same job.

use anyhow::Context;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use deadpool_postgres::{GenericClient, Pool, Transaction};
use uuid::Uuid;

use crate::jobs::{self, DedupeKey, JobPayload, NewJob, ReminderRun, ScheduledRunner};
use crate::notices::{self, Overdue};

/// When and at which steps reminders go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Days overdue, ascending, each ≥ 1.
    pub steps: Vec<i64>,
    /// The school's local time of the daily check.
    pub local_time: NaiveTime,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            steps: vec![1, 7, 14],
            local_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
        }
    }
}

impl Schedule {
    /// The highest step `days` overdue has reached.
    pub fn step(&self, days: i64) -> Option<i64> {
        self.steps.iter().rev().copied().find(|s| *s <= days)
    }
}

/// The overdue reminder schedule.
#[derive(clap::Args, Debug, Clone)]
pub struct RemindersConfig {
    /// Days overdue at which guardians are reminded (comma-separated).
    #[arg(
        long = "reminder-steps-days",
        env = "NOTIFY_REMINDER_STEPS_DAYS",
        default_value = "1,7,14",
        value_delimiter = ','
    )]
    pub reminder_steps_days: Vec<u16>,
    /// The daily check's local time in each school's time zone (HH:MM).
    #[arg(
        long = "reminder-local-time",
        env = "NOTIFY_REMINDER_LOCAL_TIME",
        default_value = "09:00"
    )]
    pub reminder_local_time: String,
}

impl RemindersConfig {
    pub fn schedule(&self) -> anyhow::Result<Schedule> {
        let mut steps: Vec<i64> = self
            .reminder_steps_days
            .iter()
            .map(|d| i64::from(*d))
            .collect();
        steps.sort_unstable();
        steps.dedup();
        anyhow::ensure!(
            !steps.is_empty() && steps[0] >= 1,
            "NOTIFY_REMINDER_STEPS_DAYS must list days of at least 1"
        );
        let local_time = NaiveTime::parse_from_str(&self.reminder_local_time, "%H:%M")
            .context("NOTIFY_REMINDER_LOCAL_TIME must be HH:MM")?;
        Ok(Schedule { steps, local_time })
    }
}

/// The school's IANA zone as projected (UTC before its first event).
pub async fn time_zone<C: GenericClient>(client: &C, school: Uuid) -> anyhow::Result<Tz> {
    let stmt = client
        .prepare_cached("SELECT time_zone FROM schools WHERE school_id = $1")
        .await?;
    let zone: Option<String> = client
        .query_opt(&stmt, &[&school])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    Ok(zone.and_then(|z| z.parse().ok()).unwrap_or(Tz::UTC))
}

/// `date` at the local check time in `tz`, as an instant (the first such
/// instant when a DST change makes it ambiguous; an hour later when it
/// falls in a gap).
pub fn check_instant(tz: Tz, date: NaiveDate, at: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(at);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

fn run_job(school: Uuid, date: NaiveDate, at: DateTime<Utc>) -> anyhow::Result<NewJob> {
    let key = DedupeKey::parse(&format!("reminders:{date}"))
        .map_err(|_| anyhow::anyhow!("reminder dedupe key"))?;
    Ok(NewJob::new(
        school,
        key,
        JobPayload::InvoiceReminders(ReminderRun { date }),
    )
    .at(at))
}

/// Makes sure the school has its check for today (local), due at the
/// check time (now, if that has passed): a no-op when it exists.
pub async fn ensure_scheduled(
    tx: &Transaction<'_>,
    school: Uuid,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tz = time_zone(tx, school).await?;
    let today = now.with_timezone(&tz).date_naive();
    let at = check_instant(tz, today, schedule.local_time);
    jobs::enqueue(tx, &run_job(school, today, at)?).await?;
    Ok(())
}

/// Runs the check of `school` for its local `date` (job `job`): reminders
/// and the next day's run, in one transaction.
pub async fn run(
    pool: &Pool,
    school: Uuid,
    job: Uuid,
    date: NaiveDate,
    schedule: &Schedule,
) -> anyhow::Result<usize> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let first = schedule.steps.first().copied().unwrap_or(1);
    let stmt = tx
        .prepare_cached(
            "SELECT invoice_id, student_id, currency, total, amount_due, due_on, \
               ($2::date - due_on)::int8 \
             FROM invoices \
             WHERE school_id = $1 AND status IN ('issued', 'partially_paid') AND amount_due > 0 \
               AND due_on <= $2::date - $3::int",
        )
        .await?;
    let first = i32::try_from(first)?;
    let rows = tx.query(&stmt, &[&school, &date, &first]).await?;
    let mut overdue = Vec::with_capacity(rows.len());
    for r in &rows {
        let days: i64 = r.try_get(6)?;
        let Some(step) = schedule.step(days) else {
            continue;
        };
        overdue.push(Overdue {
            invoice_id: r.try_get(0)?,
            student_id: r.try_get(1)?,
            currency: r.try_get(2)?,
            total: r.try_get(3)?,
            amount_due: r.try_get(4)?,
            due_on: r.try_get(5)?,
            days_overdue: days,
            step,
        });
    }
    let created = notices::invoices_overdue(&tx, school, job, &overdue).await?;
    crate::deliveries::created(&tx, &created).await?;
    let tz = time_zone(&tx, school).await?;
    let next = date
        .checked_add_days(Days::new(1))
        .context("date out of range")?;
    jobs::enqueue(
        &tx,
        &run_job(school, next, check_instant(tz, next, schedule.local_time))?,
    )
    .await?;
    tx.commit().await?;
    Ok(created.len())
}

/// What the job workers run `invoice_reminders` jobs with.
#[derive(Clone, Debug, Default)]
pub struct Runner {
    pub schedule: Schedule,
}

impl ScheduledRunner for Runner {
    fn run_reminders<'a>(
        &'a self,
        pool: &'a Pool,
        school: Uuid,
        job: Uuid,
        run: &'a ReminderRun,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<usize>> {
        Box::pin(self::run(pool, school, job, run.date, &self.schedule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_step_reached_applies() {
        let s = Schedule::default();
        assert_eq!(s.step(0), None);
        assert_eq!(s.step(1), Some(1));
        assert_eq!(s.step(6), Some(1));
        assert_eq!(s.step(7), Some(7));
        assert_eq!(s.step(30), Some(14));
    }

    #[test]
    fn check_time_is_local() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        let at = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let tz: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            check_instant(tz, d, at).to_rfc3339(),
            "2027-01-15T00:00:00+00:00"
        );
        // A time in the spring-forward gap moves an hour on.
        let tz: Tz = "Europe/London".parse().unwrap();
        let gap = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
        let t = NaiveTime::from_hms_opt(1, 30, 0).unwrap();
        assert_eq!(
            check_instant(tz, gap, t).to_rfc3339(),
            "2027-03-28T01:30:00+00:00"
        );
    }

    #[test]
    fn steps_are_sorted_and_validated() {
        let c = RemindersConfig {
            reminder_steps_days: vec![14, 1, 7, 7],
            reminder_local_time: "08:30".into(),
        };
        let s = c.schedule().unwrap();
        assert_eq!(s.steps, vec![1, 7, 14]);
        assert_eq!(s.local_time, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
        let bad = RemindersConfig {
            reminder_steps_days: vec![0],
            reminder_local_time: "08:30".into(),
        };
        assert!(bad.schedule().is_err());
    }
}
