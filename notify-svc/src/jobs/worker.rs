//! The workers of one replica: N loops that claim and run due jobs, one
//! LISTEN connection that wakes them when a job is enqueued, and one
//! housekeeping loop (expired leases, depth gauges, pruning).
//!
//! Shutdown: the workers stop claiming at once; running jobs get the grace
//! period to finish, then they are interrupted and handed back to the queue
//! (`queued`, due now) for another replica.

use std::{future::Future, sync::Arc, time::Duration};

use deadpool_postgres::Pool;
use tokio::{sync::Notify, task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{
    backoff::Backoff,
    metrics,
    model::{AnnouncementBatch, Claimed, JobPayload, JobStatus, ReminderRun, ReportCardRun},
    queue::{self, Finished},
};
use crate::email::EmailClient;
use crate::sms::SmsClient;

#[derive(Clone, Copy, Debug)]
pub struct WorkerSettings {
    pub workers: usize,
    pub poll: Duration,
    pub lease: Duration,
    pub backoff: Backoff,
    pub housekeeping: Duration,
    pub shutdown_grace: Duration,
    pub retention: Duration,
    pub listen: bool,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            workers: 4,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            backoff: Backoff {
                base: Duration::from_secs(2),
                max: Duration::from_secs(900),
            },
            housekeeping: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            retention: Duration::from_secs(7 * 24 * 3600),
            listen: true,
        }
    }
}

/// What running a job came to.
enum Outcome {
    Succeeded,
    Transient {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help: `failed`.
    Permanent(String),
    /// Nothing can run it now: `dead` (requeued by an operator).
    Unrunnable(&'static str),
}

/// The reason stored on `sms` jobs while no provider is configured.
pub const NO_SMS_PROVIDER: &str = "sms provider not configured";

/// The reason stored on `push` jobs when the service has no Redis client.
pub const NO_REALTIME: &str = "realtime publisher not configured";

/// The reason stored on `email` jobs while no SMTP relay is configured.
pub const NO_EMAIL_PROVIDER: &str = "email provider not configured";

/// What runs each kind of job; `None`: that kind ends dead.
#[derive(Clone, Default)]
pub struct Deliverers {
    pub sms: Option<SmsClient>,
    pub realtime: Option<fred::prelude::Client>,
    pub email: Option<EmailClient>,
    /// Runs `invoice_reminders` jobs (the overdue checks).
    pub reminders: Option<Arc<dyn ScheduledRunner>>,
    /// Runs `announcement` jobs (the fan-out).
    pub announcements: Option<Arc<dyn FanOut>>,
    /// Runs `report_card` jobs (fetch a summary, render, store).
    pub report_cards: Option<Arc<dyn CardRenderer>>,
}

/// The reason stored on `report_card` jobs when nothing runs them.
pub const NO_RENDERER: &str = "report card renderer not configured";

/// Why a report card could not be rendered this time.
#[derive(Debug)]
pub enum RenderError {
    /// Worth retrying (analytics-svc unavailable, a database error).
    Transient(String),
    /// Retrying cannot help (the student is gone): the card is failed.
    Permanent(String),
}

/// Renders one report card (`crate::report_cards`): the queue claims,
/// retries and gives up on it. `last_attempt` tells the renderer to mark
/// its card failed on a transient error too, since the job ends dead.
pub trait CardRenderer: Send + Sync {
    fn render_card<'a>(
        &'a self,
        pool: &'a Pool,
        school: uuid::Uuid,
        run: &'a ReportCardRun,
        last_attempt: bool,
    ) -> futures::future::BoxFuture<'a, Result<(), RenderError>>;
}

/// The reason stored on `announcement` jobs when nothing runs them.
pub const NO_FAN_OUT: &str = "announcement fan-out not configured";

/// Runs one batch of an announcement's fan-out (`crate::announcements`):
/// the queue schedules, claims and retries it.
pub trait FanOut: Send + Sync {
    /// Runs `batch` of `school` as job `job`; how many guardians it reached.
    fn fan_out<'a>(
        &'a self,
        pool: &'a Pool,
        school: uuid::Uuid,
        job: uuid::Uuid,
        batch: &'a AnnouncementBatch,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<usize>>;
}

/// The reason stored on `invoice_reminders` jobs when nothing runs them.
pub const NO_REMINDERS: &str = "overdue checks not configured";

/// Runs a scheduled job whose work lives outside the queue (the overdue
/// check, `crate::reminders`): the queue only schedules, claims and
/// retries it.
pub trait ScheduledRunner: Send + Sync {
    /// Runs the check of `school` for `run` as job `job`; how many
    /// notifications it created.
    fn run_reminders<'a>(
        &'a self,
        pool: &'a Pool,
        school: uuid::Uuid,
        job: uuid::Uuid,
        run: &'a ReminderRun,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<usize>>;
}

struct Shared {
    pool: Pool,
    settings: WorkerSettings,
    sms: Option<SmsClient>,
    realtime: Option<fred::prelude::Client>,
    email: Option<EmailClient>,
    reminders: Option<Arc<dyn ScheduledRunner>>,
    announcements: Option<Arc<dyn FanOut>>,
    report_cards: Option<Arc<dyn CardRenderer>>,
    wake: Notify,
    replica: String,
}

/// The running workers of this replica.
pub struct Workers {
    supervisor: tokio::task::JoinHandle<()>,
}

impl Workers {
    /// Starts the workers; they stop when `shutdown` resolves. `listen` is
    /// the connection for LISTEN/NOTIFY (`None`: poll only).
    pub fn start(
        pool: Pool,
        listen: Option<tokio_postgres::Config>,
        settings: WorkerSettings,
        deliverers: Deliverers,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        let replica = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty() && h.len() <= 100)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let shared = Arc::new(Shared {
            pool,
            settings,
            sms: deliverers.sms,
            realtime: deliverers.realtime,
            email: deliverers.email,
            reminders: deliverers.reminders,
            announcements: deliverers.announcements,
            report_cards: deliverers.report_cards,
            wake: Notify::new(),
            replica,
        });
        let supervisor = tokio::spawn(supervise(shared, listen, shutdown));
        Self { supervisor }
    }

    /// Waits until every worker has stopped (after the shutdown signal).
    pub async fn join(self) {
        if let Err(e) = self.supervisor.await {
            tracing::error!(error = %e, "job workers panicked");
        }
    }
}

async fn supervise(
    shared: Arc<Shared>,
    listen: Option<tokio_postgres::Config>,
    shutdown: impl Future<Output = ()>,
) {
    let stop = CancellationToken::new();
    let abort = CancellationToken::new();
    let mut workers = JoinSet::new();
    let mut aux = JoinSet::new();
    if shared.settings.workers > 0 {
        for n in 0..shared.settings.workers {
            workers.spawn(work(shared.clone(), n, stop.clone(), abort.clone()));
        }
        aux.spawn(housekeep(shared.clone(), stop.clone()));
        if let (true, Some(cfg)) = (shared.settings.listen, listen) {
            aux.spawn(listen_for_jobs(shared.clone(), cfg, stop.clone()));
        }
        if shared.sms.is_none() {
            tracing::warn!(
                "no SMS provider configured: sms jobs will end dead ({NO_SMS_PROVIDER})"
            );
        }
        if shared.email.is_none() {
            tracing::warn!(
                "no SMTP relay configured: email jobs will end dead ({NO_EMAIL_PROVIDER})"
            );
        }
        tracing::info!(
            jobs.workers = shared.settings.workers,
            jobs.replica = %shared.replica,
            "job workers started"
        );
    }
    shutdown.await;
    stop.cancel();
    let drained = tokio::time::timeout(shared.settings.shutdown_grace, async {
        while workers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "running jobs did not finish within the shutdown grace period: handing them back"
        );
        abort.cancel();
        while workers.join_next().await.is_some() {}
    }
    while aux.join_next().await.is_some() {}
    tracing::info!("job workers stopped");
}

async fn work(shared: Arc<Shared>, n: usize, stop: CancellationToken, abort: CancellationToken) {
    let owner = format!("{}/{n}", shared.replica);
    let poll = shared.settings.poll;
    let mut error_pause = poll;
    while !stop.is_cancelled() {
        // Registered before looking, so an enqueue between an empty look
        // and the wait still wakes this worker.
        let woken = shared.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let pause = match claim(&shared, &owner).await {
            Ok(Some(job)) => {
                run(&shared, job, &abort).await;
                error_pause = poll;
                continue;
            }
            Ok(None) => poll,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = error_pause.as_millis() as u64, "cannot claim a job");
                let pause = error_pause;
                error_pause = (error_pause * 2).min(Duration::from_secs(30));
                pause
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = &mut woken => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

async fn claim(shared: &Shared, owner: &str) -> anyhow::Result<Option<Claimed>> {
    let client = shared.pool.get().await?;
    Ok(queue::claim(&client, owner, shared.settings.lease).await?)
}

async fn run(shared: &Shared, job: Claimed, abort: &CancellationToken) {
    metrics::record_queue_wait(job.queue_wait);
    let started = Instant::now();
    let outcome = tokio::select! {
        biased;
        () = abort.cancelled() => None,
        o = execute(shared, &job) => Some(o),
    };
    let ran_for = started.elapsed();
    let (finished, error) = finish(shared, &job, outcome).await;
    let label = match finished {
        Some(Finished::Now(JobStatus::Succeeded)) => "succeeded",
        Some(Finished::Now(JobStatus::Queued)) if error.is_none() => "released",
        Some(Finished::Now(JobStatus::Queued)) => "retried",
        Some(Finished::Now(JobStatus::Failed)) => "failed",
        Some(Finished::Now(JobStatus::Dead)) => "dead",
        Some(Finished::Now(JobStatus::Running)) | None => "unrecorded",
        Some(Finished::LeaseLost) => "lease_lost",
    };
    metrics::record_completion(job.kind, label, ran_for);
    let (id, school, attempt) = (job.id, job.school_id, job.attempts);
    let error = error.as_deref().unwrap_or("");
    match label {
        "succeeded" => {
            tracing::info!(job.id = %id, school.id = %school, job.kind = job.kind.as_str(), job.attempt = attempt, "job succeeded")
        }
        "retried" => {
            tracing::warn!(job.id = %id, school.id = %school, job.kind = job.kind.as_str(), job.attempt = attempt, error, "job failed, will retry")
        }
        "released" => {
            tracing::info!(job.id = %id, school.id = %school, "job interrupted by shutdown, handed back to the queue")
        }
        "lease_lost" => {
            tracing::warn!(job.id = %id, school.id = %school, "job outlived its lease; its result was not recorded")
        }
        "unrecorded" => {
            tracing::error!(job.id = %id, school.id = %school, "job result could not be recorded; it runs again when its lease expires")
        }
        _ => {
            tracing::warn!(job.id = %id, school.id = %school, job.kind = job.kind.as_str(), job.attempt = attempt, job.status = label, error, "job gave up")
        }
    }
}

async fn execute(shared: &Shared, job: &Claimed) -> Outcome {
    let Some(payload) = &job.payload else {
        return Outcome::Permanent("stored payload is invalid".into());
    };
    match payload {
        JobPayload::Sms(message) => {
            let Some(sms) = &shared.sms else {
                return Outcome::Unrunnable(NO_SMS_PROVIDER);
            };
            match sms.send(message, job.id).await {
                Ok(provider_id) => {
                    tracing::info!(job.id = %job.id, sms.to = %message.to, sms.provider_id = %provider_id, "sms accepted by the provider");
                    Outcome::Succeeded
                }
                Err(e) if e.is_transient() => Outcome::Transient {
                    error: e.to_string(),
                    retry_after: e.retry_after(),
                },
                Err(e) => Outcome::Permanent(e.to_string()),
            }
        }
        JobPayload::InvoiceReminders(r) => {
            let Some(runner) = &shared.reminders else {
                return Outcome::Unrunnable(NO_REMINDERS);
            };
            match runner
                .run_reminders(&shared.pool, job.school_id, job.id, r)
                .await
            {
                Ok(n) => {
                    tracing::info!(job.id = %job.id, school.id = %job.school_id, reminders.date = %r.date, reminders.sent = n, "overdue check done");
                    Outcome::Succeeded
                }
                Err(e) => Outcome::Transient {
                    error: format!("overdue check: {e}"),
                    retry_after: None,
                },
            }
        }
        JobPayload::Announcement(b) => {
            let Some(runner) = &shared.announcements else {
                return Outcome::Unrunnable(NO_FAN_OUT);
            };
            match runner.fan_out(&shared.pool, job.school_id, job.id, b).await {
                Ok(n) => {
                    tracing::info!(job.id = %job.id, school.id = %job.school_id, announcement.id = %b.announcement_id, announcement.recipients = n, "announcement batch fanned out");
                    Outcome::Succeeded
                }
                Err(e) => Outcome::Transient {
                    error: format!("announcement fan-out: {e}"),
                    retry_after: None,
                },
            }
        }
        JobPayload::ReportCard(r) => {
            let Some(renderer) = &shared.report_cards else {
                return Outcome::Unrunnable(NO_RENDERER);
            };
            let last = job.attempts >= job.max_attempts;
            match renderer
                .render_card(&shared.pool, job.school_id, r, last)
                .await
            {
                Ok(()) => Outcome::Succeeded,
                Err(RenderError::Transient(error)) => Outcome::Transient {
                    error: format!("report card: {error}"),
                    retry_after: None,
                },
                Err(RenderError::Permanent(e)) => Outcome::Permanent(format!("report card: {e}")),
            }
        }
        JobPayload::Email(message) => {
            let Some(email) = &shared.email else {
                return Outcome::Unrunnable(NO_EMAIL_PROVIDER);
            };
            match email.send(message, job.id).await {
                Ok(()) => {
                    tracing::info!(job.id = %job.id, email.to = %message.to, "e-mail accepted by the relay");
                    Outcome::Succeeded
                }
                Err(e) if e.is_transient() => Outcome::Transient {
                    error: e.to_string(),
                    retry_after: None,
                },
                Err(e) => Outcome::Permanent(e.to_string()),
            }
        }
        JobPayload::Push(m) => {
            use platform::realtime::{publish, PublishError, Target};
            let Some(redis) = &shared.realtime else {
                return Outcome::Unrunnable(NO_REALTIME);
            };
            match publish(
                redis,
                job.school_id,
                Target::User(m.user_id),
                m.kind.clone(),
                m.payload.clone(),
            )
            .await
            {
                // Delivered to whichever gateways have the user's sockets
                // (none: they catch up through the inbox API).
                Ok(p) => {
                    tracing::debug!(job.id = %job.id, realtime.id = %p.id, realtime.receivers = p.receivers, "push published");
                    Outcome::Succeeded
                }
                Err(PublishError::Redis(e)) => Outcome::Transient {
                    error: format!("redis: {e}"),
                    retry_after: None,
                },
                Err(e) => Outcome::Permanent(e.to_string()),
            }
        }
    }
}

/// Records the outcome under the job's lease (`None` outcome: interrupted,
/// release it); a few tries, since an unrecorded success is sent again.
async fn finish(
    shared: &Shared,
    job: &Claimed,
    outcome: Option<Outcome>,
) -> (Option<Finished>, Option<String>) {
    let error = match &outcome {
        None | Some(Outcome::Succeeded) => None,
        Some(Outcome::Transient { error, .. }) | Some(Outcome::Permanent(error)) => {
            Some(error.clone())
        }
        Some(Outcome::Unrunnable(e)) => Some((*e).to_owned()),
    };
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
        let result = async {
            let c = shared.pool.get().await?;
            let (id, token) = (job.id, job.lease_token);
            anyhow::Ok(match &outcome {
                None => queue::release(&c, id, token).await?,
                Some(Outcome::Succeeded) => queue::succeed(&c, id, token).await?,
                Some(Outcome::Transient { error, retry_after }) => {
                    let delay = shared.settings.backoff.delay(job.attempts, *retry_after);
                    queue::retry(&c, id, token, delay, error).await?
                }
                Some(Outcome::Permanent(e)) => {
                    queue::give_up(&c, id, token, JobStatus::Failed, e).await?
                }
                Some(Outcome::Unrunnable(e)) => {
                    queue::give_up(&c, id, token, JobStatus::Dead, e).await?
                }
            })
        }
        .await;
        match result {
            Ok(f) => return (Some(f), error),
            Err(e) => tracing::warn!(job.id = %job.id, error = %e, "cannot record a job's result"),
        }
    }
    (None, error)
}

async fn housekeep(shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        if let Err(e) = housekeeping_round(&shared).await {
            tracing::warn!(error = %e, "job housekeeping failed");
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(shared.settings.housekeeping) => {}
        }
    }
}

async fn housekeeping_round(shared: &Shared) -> anyhow::Result<()> {
    let client = shared.pool.get().await?;
    let reclaimed = queue::reclaim_expired(&client).await?;
    if reclaimed > 0 {
        tracing::warn!(
            jobs.reclaimed = reclaimed,
            "reclaimed jobs whose lease expired"
        );
        shared.wake.notify_waiters();
    }
    metrics::record_depth(&queue::depth(&client).await?);
    let pruned = queue::prune(&client, shared.settings.retention).await?;
    if pruned > 0 {
        tracing::info!(jobs.pruned = pruned, "pruned finished jobs");
    }
    Ok(())
}

async fn listen_for_jobs(
    shared: Arc<Shared>,
    cfg: tokio_postgres::Config,
    stop: CancellationToken,
) {
    let mut pause = Duration::from_millis(200);
    loop {
        match listen_once(&shared, &cfg, &stop).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "job wake-up listener lost its connection; workers poll meanwhile");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// Holds one LISTEN connection until `stop`; an error when it breaks.
async fn listen_once(
    shared: &Arc<Shared>,
    cfg: &tokio_postgres::Config,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    let (client, mut conn) = cfg.connect(tokio_postgres::NoTls).await?;
    let wake = shared.clone();
    let mut driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(m) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(_) = m? {
                wake.wake.notify_waiters();
            }
        }
        anyhow::Ok(())
    });
    let listening = async {
        client
            .batch_execute(&format!("LISTEN {}", queue::CHANNEL))
            .await?;
        // Jobs enqueued before LISTEN took effect sent no wake-up to us.
        shared.wake.notify_waiters();
        anyhow::Ok(())
    };
    let result = tokio::select! {
        r = listening => match r {
            Ok(()) => tokio::select! {
                () = stop.cancelled() => Ok(()),
                r = &mut driver => Err(anyhow::anyhow!("connection closed: {:?}", r.map(|r| r.err().map(|e| e.to_string())))),
            },
            Err(e) => Err(e),
        },
        () = stop.cancelled() => Ok(()),
    };
    drop(client);
    driver.abort();
    result
}
