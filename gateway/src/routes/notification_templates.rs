use actix_web::web;
use platform::caller::Role;
use proto::notify::v1 as pb;

use super::rpc::{ok, Reply, Rpc};
use crate::dto::notification_templates::{NotificationTemplate, TemplateBody};
use crate::json::JsonBody;
use crate::problem::Problem;

const ADMIN: &[Role] = &[Role::Admin];

/// The school's template of a notice kind in a language, or the built-in
/// one (`custom: false`) when it has none, with its variables and a sample
/// rendering.
#[utoipa::path(get, path = "/notification-templates/{kind}/{lang}", tag = "notification_templates",
    security(("bearer" = [])),
    params(
        ("kind" = String, Path, description = "grades_published | invoice_issued | invoice_overdue | payment_receipt"),
        ("lang" = String, Path, description = "ISO 639-1, lowercase (en)"),
    ),
    responses((status = 200, body = NotificationTemplate), (status = 400, body = Problem),
        (status = 403, body = Problem)))]
pub async fn get(rpc: Rpc, path: web::Path<(String, String)>) -> Reply {
    rpc.require(ADMIN)?;
    let (kind, lang) = path.into_inner();
    let msg = pb::GetNotificationTemplateRequest { kind, lang };
    let r = rpc
        .notification_templates()
        .get_notification_template(rpc.request(msg))
        .await?;
    ok(NotificationTemplate::from(r.into_inner()))
}

/// Saves the school's template of a notice kind in a language. It is
/// rendered with a sample of the kind's variables first: a template that
/// does not render (a syntax error, an unknown variable) is a 400 naming
/// the part and the error, and nothing is saved.
#[utoipa::path(put, path = "/notification-templates/{kind}/{lang}", tag = "notification_templates",
    security(("bearer" = [])),
    params(
        ("kind" = String, Path, description = "grades_published | invoice_issued | invoice_overdue | payment_receipt"),
        ("lang" = String, Path, description = "ISO 639-1, lowercase (en)"),
    ),
    request_body = TemplateBody,
    responses((status = 200, body = NotificationTemplate), (status = 400, body = Problem),
        (status = 403, body = Problem)))]
pub async fn put(
    rpc: Rpc,
    path: web::Path<(String, String)>,
    body: JsonBody<TemplateBody>,
) -> Reply {
    rpc.require(ADMIN)?;
    let (kind, lang) = path.into_inner();
    let msg = body.0.into_proto(kind, lang);
    let r = rpc
        .notification_templates()
        .put_notification_template(rpc.request(msg))
        .await?;
    ok(NotificationTemplate::from(r.into_inner()))
}
