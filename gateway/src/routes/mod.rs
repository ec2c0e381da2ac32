//! HTTP routes: `/api/v1/...`, `/healthz` and `/readyz`, each registered
//! once, in [`configure`]. A handler's `#[utoipa::path]` attribute gives
//! its path (relative to its scope), method and documentation; the
//! registration below groups the handlers of a path into one resource and,
//! through utoipa-actix-web, the OpenAPI document collects every
//! registered handler (see `crate::openapi`). Handlers follow one shape
//! ([`rpc`]): parse → authorise → gRPC call → JSON.

pub mod analytics;
pub mod announcements;
pub mod auth;
pub mod courses;
pub mod deliveries;
pub mod fees;
pub mod grades;
pub mod guardians;
pub mod health;
pub mod import;
pub mod notification_templates;
pub mod notifications;
pub mod report_cards;
mod resource;
pub mod rpc;
pub mod schools;
pub mod staff;
pub mod students;
pub mod users;
pub mod ws;

use utoipa_actix_web::{scope, service_config::ServiceConfig};
use uuid::Uuid;

use crate::problem::ApiError;
use resource::resource;

/// Every route, one line per path: its handlers, in the order `Allow` lists
/// their methods. One resource per path with all its methods, so that a
/// method the path does not serve is a 405 naming the ones it does
/// (`Allow`), not a 404. actix tries the resources in this order.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/api/v1")
            .service(resource![auth::login])
            .service(resource![auth::refresh])
            .service(resource![auth::logout])
            .service(resource![auth::password])
            .service(resource![auth::me])
            .service(resource![schools::create])
            .service(resource![schools::get, schools::update])
            .service(resource![users::create])
            .service(resource![users::update])
            .service(resource![users::reset_password])
            .service(resource![students::list, students::create])
            // Before `/students/{id}`, which would take `import` for an id.
            .service(resource![import::import])
            .service(resource![
                students::get,
                students::update,
                students::archive
            ])
            .service(resource![guardians::list, guardians::create])
            .service(resource![guardians::get, guardians::update])
            .service(resource![guardians::link, guardians::unlink])
            .service(resource![guardians::children])
            .service(resource![notifications::list])
            .service(resource![notifications::mark_read])
            .service(resource![
                notification_templates::get,
                notification_templates::put
            ])
            .service(resource![announcements::list, announcements::create])
            .service(resource![announcements::get])
            .service(resource![report_cards::create])
            .service(resource![report_cards::create_grade])
            .service(resource![report_cards::batch])
            .service(resource![report_cards::get])
            .service(resource![report_cards::pdf])
            .service(resource![deliveries::list])
            .service(resource![deliveries::retry_all])
            .service(resource![deliveries::retry])
            .service(resource![staff::list])
            .service(resource![staff::get, staff::save])
            .service(resource![courses::student_attendance])
            .service(resource![courses::list, courses::create])
            .service(resource![courses::get, courses::update])
            .service(resource![courses::add_slot])
            .service(resource![courses::roster, courses::enrol])
            .service(resource![courses::withdraw])
            .service(resource![courses::get_attendance, courses::mark_attendance])
            .service(resource![courses::override_attendance])
            .service(resource![grades::list, grades::create])
            .service(resource![grades::get, grades::update])
            .service(resource![grades::sheet, grades::record])
            .service(resource![grades::publish])
            .service(resource![grades::student_grades])
            .service(resource![fees::balance])
            .service(resource![fees::list, fees::create])
            .service(resource![fees::get])
            .service(resource![fees::issue])
            .service(resource![fees::void])
            .service(resource![fees::pay])
            .service(resource![analytics::school_dashboard])
            .service(resource![analytics::teacher_dashboard])
            .service(resource![analytics::student_summary])
            .service(resource![analytics::at_risk])
            .service(resource![analytics::course_grades])
            .service(resource![analytics::attendance_report])
            .service(resource![analytics::fees_report])
            .service(resource![ws::connect]),
    )
    .service(resource![health::live])
    .service(resource![health::ready]);
}

/// Path ids must be UUIDs: anything else is a 400 naming the parameter.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    named_path_id("id", raw)
}

/// The `{student_id}` segment of nested routes, checked like [`path_id`].
pub fn student_path_id(raw: &str) -> Result<Uuid, ApiError> {
    named_path_id("student_id", raw)
}

/// A UUID path segment; a 400 naming `name` when it is not one.
pub fn named_path_id(name: &str, raw: &str) -> Result<Uuid, ApiError> {
    platform::text::parse_uuid(raw).ok_or_else(|| ApiError::field(name, "must be a UUID"))
}

/// Unknown routes answer problem+json like every other error.
pub async fn not_found() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound("no such route"))
}
