//! NotificationTemplateService: admins of the school read and save its
//! templates; every other role is PERMISSION_DENIED.

use deadpool_postgres::Pool;
use platform::{
    caller::{Caller, Role},
    service::{ServiceError, Violations},
};
use proto::notify::v1 as pb;
use tonic::{Request, Response, Status};

use super::domain::{Lang, NoticeKind, Template};
use super::model::Stored;
use super::repo;

#[derive(Clone)]
pub struct TemplatesApi {
    pool: Pool,
}

impl TemplatesApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn admin(caller: &Caller) -> Result<(), ServiceError> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(
            "only the school's admins manage notification templates",
        ))
    }
}

fn kind_and_lang(v: &mut Violations, kind: &str, lang: &str) -> (Option<NoticeKind>, Option<Lang>) {
    let kind = v.take(
        "kind",
        NoticeKind::parse(kind).ok_or_else(|| {
            "must be one of grades_published, invoice_issued, invoice_overdue, payment_receipt"
                .to_owned()
        }),
    );
    let lang = v.take(
        "lang",
        Lang::parse(lang).ok_or_else(|| "must be two lowercase letters (ISO 639-1)".to_owned()),
    );
    (kind, lang)
}

const MAX_SUBJECT_SOURCE: usize = 500;
const MAX_BODY_SOURCE: usize = 10_000;

#[tonic::async_trait]
impl pb::notification_template_service_server::NotificationTemplateService for TemplatesApi {
    async fn get_notification_template(
        &self,
        req: Request<pb::GetNotificationTemplateRequest>,
    ) -> Reply<pb::NotificationTemplate> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let r = req.into_inner();
        let mut v = Violations::default();
        let (kind, lang) = kind_and_lang(&mut v, &r.kind, &r.lang);
        v.finish()?;
        let (Some(kind), Some(lang)) = (kind, lang) else {
            return Err(platform::service::nothing().into());
        };
        let client = self.pool.get().await.map_err(ServiceError::from)?;
        let stored = repo::find(&client, caller.school_id, kind, &lang)
            .await
            .map_err(ServiceError::from)?
            .unwrap_or_else(|| Stored {
                kind,
                lang,
                template: kind.default_template(),
                updated_at: None,
            });
        Ok(Response::new(stored.into_proto()))
    }

    async fn put_notification_template(
        &self,
        req: Request<pb::PutNotificationTemplateRequest>,
    ) -> Reply<pb::NotificationTemplate> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let r = req.into_inner();
        let mut v = Violations::default();
        let (kind, lang) = kind_and_lang(&mut v, &r.kind, &r.lang);
        if r.subject.trim().is_empty() || r.subject.chars().count() > MAX_SUBJECT_SOURCE {
            v.add(
                "subject",
                format!("must be 1 to {MAX_SUBJECT_SOURCE} characters"),
            );
        }
        if r.body.trim().is_empty() || r.body.chars().count() > MAX_BODY_SOURCE {
            v.add("body", format!("must be 1 to {MAX_BODY_SOURCE} characters"));
        }
        v.finish()?;
        let (Some(kind), Some(lang)) = (kind, lang) else {
            return Err(platform::service::nothing().into());
        };
        let template = Template {
            subject: r.subject,
            body: r.body,
        };
        // Rendered with every variable the kind provides: what fails here
        // would fail for every notice of the kind.
        if let Err(e) = template.validate(kind) {
            let field = if e.0.starts_with("subject") {
                "subject"
            } else {
                "body"
            };
            return Err(ServiceError::invalid(field, e.0).into());
        }
        let client = self.pool.get().await.map_err(ServiceError::from)?;
        let stored = repo::save(
            &client,
            caller.school_id,
            caller.user_id,
            kind,
            &lang,
            &template,
        )
        .await
        .map_err(ServiceError::from)?;
        Ok(Response::new(stored.into_proto()))
    }
}
