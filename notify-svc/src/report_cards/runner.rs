//! The `report_card` job: summary → PDF → store → status. Rendering waits
//! for one of the configured permits (a semaphore), so a grade of 250 cards
//! keeps at most that many PDFs in the making at once whatever the number
//! of workers; the summary fetch happens before, outside the limit.

use platform::trust::{ServiceKey, Signed};
use std::{sync::Arc, time::Instant};

use deadpool_postgres::Pool;
use futures::future::BoxFuture;
use platform::caller::{Caller, Role};
use proto::analytics::v1 as apb;
use proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use tokio::sync::Semaphore;
use tonic::transport::Channel;
use uuid::Uuid;

use super::config::ReportCardsConfig;
use super::model::Card;
use super::render::{self, Attendance, CardContent, CourseLine};
use super::repo;
use super::store::PdfStore;
use crate::jobs::{CardRenderer, RenderError, ReportCardRun};

pub struct Runner {
    analytics: AnalyticsServiceClient<Signed<Channel>>,
    store: Arc<dyn PdfStore>,
    permits: Arc<Semaphore>,
}

impl Runner {
    pub fn new(
        config: &ReportCardsConfig,
        store: Arc<dyn PdfStore>,
        key: ServiceKey,
        tls: Option<&tonic::transport::ClientTlsConfig>,
    ) -> anyhow::Result<Self> {
        let channel = platform::grpc::channel(
            &config.analytics_url,
            platform::grpc::ClientTimeouts {
                connect: std::time::Duration::from_secs(2),
                request: config.analytics_timeout(),
            },
            tls,
        )?;
        Ok(Self {
            analytics: AnalyticsServiceClient::new(Signed::new(channel, key)),
            store,
            permits: Arc::new(Semaphore::new(usize::from(
                config.report_card_concurrency.max(1),
            ))),
        })
    }

    /// The student's summary as the student sees it (published grades).
    async fn summary(
        &self,
        school: Uuid,
        card: &Card,
    ) -> Result<apb::StudentSummary, tonic::Status> {
        let caller = Caller {
            school_id: school,
            user_id: card.requested_by,
            role: Role::Student,
            student_id: Some(card.student_id),
        };
        let mut req = tonic::Request::new(apb::GetStudentSummaryRequest {
            student_id: card.student_id.to_string(),
        });
        caller.write(req.metadata_mut());
        let mut client = self.analytics.clone();
        Ok(client.get_student_summary(req).await?.into_inner())
    }

    async fn run(
        &self,
        pool: &Pool,
        school: Uuid,
        run: &ReportCardRun,
        last: bool,
    ) -> Result<(), RenderError> {
        let transient = |e: &dyn std::fmt::Display| RenderError::Transient(e.to_string());
        let (card, school_name, tz) = {
            let db = pool.get().await.map_err(|e| transient(&e))?;
            let Some(card) = repo::find(&db, school, run.card_id)
                .await
                .map_err(|e| transient(&e))?
            else {
                return Ok(());
            };
            if card.status != "queued" {
                return Ok(());
            }
            let stmt = db
                .prepare_cached("SELECT name, time_zone FROM schools WHERE school_id = $1")
                .await
                .map_err(|e| transient(&e))?;
            let row = db
                .query_opt(&stmt, &[&school])
                .await
                .map_err(|e| transient(&e))?;
            let (name, tz) = match row {
                Some(r) => (
                    r.try_get::<_, String>(0).map_err(|e| transient(&e))?,
                    r.try_get::<_, String>(1).map_err(|e| transient(&e))?,
                ),
                None => (String::new(), String::new()),
            };
            (card, name, tz)
        };
        let summary = match self.summary(school, &card).await {
            Ok(s) => s,
            Err(status) => {
                // NOT_FOUND is retried: analytics-svc applies the student's
                // events on its own, and may not have when notify-svc has.
                let permanent = matches!(
                    status.code(),
                    tonic::Code::InvalidArgument | tonic::Code::PermissionDenied
                );
                let reason = format!("student summary: {:?}", status.code());
                if permanent || last {
                    repo::finish(pool, school, card.id, Err(&reason))
                        .await
                        .map_err(|e| transient(&e))?;
                }
                return Err(if permanent {
                    RenderError::Permanent(reason)
                } else {
                    RenderError::Transient(reason)
                });
            }
        };
        let issued_on = chrono::Utc::now()
            .with_timezone(&tz.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC))
            .date_naive();
        let content = content(&card, school_name, &summary, issued_on);

        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| transient(&e))?;
        let started = Instant::now();
        let pdf = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            render::render(&content)
        })
        .await
        .map_err(|e| transient(&e))?;
        let took = started.elapsed();
        metrics::histogram!("report_card_render_seconds").record(took.as_secs_f64());

        self.store
            .put(school, card.id, &pdf)
            .await
            .map_err(|e| transient(&e))?;
        let ms = u32::try_from(took.as_millis()).unwrap_or(u32::MAX);
        repo::finish(pool, school, card.id, Ok(ms))
            .await
            .map_err(|e| transient(&e))?;
        tracing::info!(report_card.id = %card.id, school.id = %school, report_card.bytes = pdf.len(), report_card.render_ms = ms, "report card rendered");
        Ok(())
    }
}

/// What the card shows: the summary's courses of the card's term, by code.
pub fn content(
    card: &Card,
    school: String,
    s: &apb::StudentSummary,
    issued_on: chrono::NaiveDate,
) -> CardContent {
    let mut courses: Vec<CourseLine> = s
        .courses
        .iter()
        .filter(|c| c.term == card.term)
        .map(|c| CourseLine {
            code: c.code.clone(),
            name: c.name.clone(),
            average: c.average,
            graded: c.graded,
            attendance_rate: c.attendance_rate,
        })
        .collect();
    courses.sort_by(|a, b| a.code.cmp(&b.code));
    let a = s.year_attendance.clone().unwrap_or_default();
    CardContent {
        school: if school.is_empty() {
            "School".to_owned()
        } else {
            school
        },
        term: card.term.clone(),
        student_name: format!("{} {}", s.given_name, s.family_name),
        grade_level: s.grade_level,
        section: s.section.clone(),
        courses,
        attendance: Attendance {
            present: a.present,
            late: a.late,
            absent: a.absent,
            excused: a.excused,
            rate: a.rate,
        },
        issued_on,
    }
}

impl CardRenderer for Runner {
    fn render_card<'a>(
        &'a self,
        pool: &'a Pool,
        school: Uuid,
        run: &'a ReportCardRun,
        last_attempt: bool,
    ) -> BoxFuture<'a, Result<(), RenderError>> {
        Box::pin(self.run(pool, school, run, last_attempt))
    }
}
