//! HTTP routes under `/api/v1`, plus `/healthz` and `/readyz`.

pub mod auth;
pub mod courses;
pub mod fees;
pub mod grades;
pub mod guardians;
pub mod health;
pub mod import;
pub mod notifications;
pub mod schools;
pub mod staff;
pub mod students;
pub mod users;
pub mod ws;

use actix_web::web;
use uuid::Uuid;

use crate::problem::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/auth/login", web::post().to(auth::login))
            .route("/auth/me", web::get().to(auth::me))
            .route("/schools", web::post().to(schools::create))
            .route("/users", web::post().to(users::create))
            .route("/students", web::get().to(students::list))
            .route("/students", web::post().to(students::create))
            .route("/students/import", web::post().to(import::import))
            .route("/students/{id}", web::get().to(students::get))
            .route("/students/{id}", web::patch().to(students::update))
            .route("/students/{id}", web::delete().to(students::archive))
            .route("/guardians", web::get().to(guardians::list))
            .route("/guardians", web::post().to(guardians::create))
            .route("/guardians/{id}", web::get().to(guardians::get))
            .route("/guardians/{id}", web::patch().to(guardians::update))
            .route(
                "/guardians/{id}/students/{student_id}",
                web::put().to(guardians::link),
            )
            .route(
                "/guardians/{id}/students/{student_id}",
                web::delete().to(guardians::unlink),
            )
            .route("/me/children", web::get().to(guardians::children))
            .route("/me/notifications", web::get().to(notifications::list))
            .route(
                "/me/notifications/read",
                web::post().to(notifications::mark_read),
            )
            .route("/staff", web::get().to(staff::list))
            .route("/staff/{user_id}", web::get().to(staff::get))
            .route("/staff/{user_id}", web::put().to(staff::save))
            .route(
                "/students/{id}/attendance",
                web::get().to(courses::student_attendance),
            )
            .route("/courses", web::get().to(courses::list))
            .route("/courses", web::post().to(courses::create))
            .route("/courses/{id}", web::get().to(courses::get))
            .route("/courses/{id}", web::patch().to(courses::update))
            .route("/courses/{id}/slots", web::post().to(courses::add_slot))
            .route("/courses/{id}/enrolments", web::get().to(courses::roster))
            .route("/courses/{id}/enrolments", web::post().to(courses::enrol))
            .route(
                "/courses/{id}/enrolments/{student_id}",
                web::delete().to(courses::withdraw),
            )
            .route(
                "/courses/{id}/attendance/{date}",
                web::get().to(courses::get_attendance),
            )
            .route(
                "/courses/{id}/attendance/{date}",
                web::put().to(courses::mark_attendance),
            )
            .route(
                "/courses/{id}/attendance/{date}/overrides",
                web::post().to(courses::override_attendance),
            )
            .route("/courses/{id}/assessments", web::get().to(grades::list))
            .route("/courses/{id}/assessments", web::post().to(grades::create))
            .route("/assessments/{id}", web::get().to(grades::get))
            .route("/assessments/{id}", web::patch().to(grades::update))
            .route("/assessments/{id}/grades", web::get().to(grades::sheet))
            .route("/assessments/{id}/grades", web::put().to(grades::record))
            .route("/assessments/{id}/publish", web::post().to(grades::publish))
            .route(
                "/students/{id}/grades",
                web::get().to(grades::student_grades),
            )
            .route("/students/{id}/balance", web::get().to(fees::balance))
            .route("/invoices", web::get().to(fees::list))
            .route("/invoices", web::post().to(fees::create))
            .route("/invoices/{id}", web::get().to(fees::get))
            .route("/invoices/{id}/issue", web::post().to(fees::issue))
            .route("/invoices/{id}/void", web::post().to(fees::void))
            .route("/invoices/{id}/payments", web::post().to(fees::pay))
            .route("/ws", web::get().to(ws::connect))
            .route("/openapi.json", web::get().to(crate::openapi::serve)),
    )
    .route("/healthz", web::get().to(health::live))
    .route("/readyz", web::get().to(health::ready));
}

/// Path ids must be UUIDs: anything else is a 400 naming the parameter.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::field("id", "must be a UUID"))
}

/// The `{student_id}` segment of nested routes, checked like [`path_id`].
pub fn student_path_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::field("student_id", "must be a UUID"))
}

/// Unknown routes answer problem+json like every other error.
pub async fn not_found() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound("no such route"))
}
