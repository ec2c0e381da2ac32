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
    // One resource per path with all its methods, so that a method the path
    // does not serve is a 405 naming the ones it does (`Allow`), not a 404.
    cfg.service(
        web::scope("/api/v1")
            .service(web::resource("/auth/login").route(web::post().to(auth::login)))
            .service(web::resource("/auth/me").route(web::get().to(auth::me)))
            .service(web::resource("/schools").route(web::post().to(schools::create)))
            .service(web::resource("/users").route(web::post().to(users::create)))
            .service(
                web::resource("/students")
                    .route(web::get().to(students::list))
                    .route(web::post().to(students::create)),
            )
            .service(web::resource("/students/import").route(web::post().to(import::import)))
            .service(
                web::resource("/students/{id}")
                    .route(web::get().to(students::get))
                    .route(web::patch().to(students::update))
                    .route(web::delete().to(students::archive)),
            )
            .service(
                web::resource("/guardians")
                    .route(web::get().to(guardians::list))
                    .route(web::post().to(guardians::create)),
            )
            .service(
                web::resource("/guardians/{id}")
                    .route(web::get().to(guardians::get))
                    .route(web::patch().to(guardians::update)),
            )
            .service(
                web::resource("/guardians/{id}/students/{student_id}")
                    .route(web::put().to(guardians::link))
                    .route(web::delete().to(guardians::unlink)),
            )
            .service(web::resource("/me/children").route(web::get().to(guardians::children)))
            .service(web::resource("/me/notifications").route(web::get().to(notifications::list)))
            .service(
                web::resource("/me/notifications/read")
                    .route(web::post().to(notifications::mark_read)),
            )
            .service(web::resource("/staff").route(web::get().to(staff::list)))
            .service(
                web::resource("/staff/{user_id}")
                    .route(web::get().to(staff::get))
                    .route(web::put().to(staff::save)),
            )
            .service(
                web::resource("/students/{id}/attendance")
                    .route(web::get().to(courses::student_attendance)),
            )
            .service(
                web::resource("/courses")
                    .route(web::get().to(courses::list))
                    .route(web::post().to(courses::create)),
            )
            .service(
                web::resource("/courses/{id}")
                    .route(web::get().to(courses::get))
                    .route(web::patch().to(courses::update)),
            )
            .service(web::resource("/courses/{id}/slots").route(web::post().to(courses::add_slot)))
            .service(
                web::resource("/courses/{id}/enrolments")
                    .route(web::get().to(courses::roster))
                    .route(web::post().to(courses::enrol)),
            )
            .service(
                web::resource("/courses/{id}/enrolments/{student_id}")
                    .route(web::delete().to(courses::withdraw)),
            )
            .service(
                web::resource("/courses/{id}/attendance/{date}")
                    .route(web::get().to(courses::get_attendance))
                    .route(web::put().to(courses::mark_attendance)),
            )
            .service(
                web::resource("/courses/{id}/attendance/{date}/overrides")
                    .route(web::post().to(courses::override_attendance)),
            )
            .service(
                web::resource("/courses/{id}/assessments")
                    .route(web::get().to(grades::list))
                    .route(web::post().to(grades::create)),
            )
            .service(
                web::resource("/assessments/{id}")
                    .route(web::get().to(grades::get))
                    .route(web::patch().to(grades::update)),
            )
            .service(
                web::resource("/assessments/{id}/grades")
                    .route(web::get().to(grades::sheet))
                    .route(web::put().to(grades::record)),
            )
            .service(
                web::resource("/assessments/{id}/publish").route(web::post().to(grades::publish)),
            )
            .service(
                web::resource("/students/{id}/grades").route(web::get().to(grades::student_grades)),
            )
            .service(web::resource("/students/{id}/balance").route(web::get().to(fees::balance)))
            .service(
                web::resource("/invoices")
                    .route(web::get().to(fees::list))
                    .route(web::post().to(fees::create)),
            )
            .service(web::resource("/invoices/{id}").route(web::get().to(fees::get)))
            .service(web::resource("/invoices/{id}/issue").route(web::post().to(fees::issue)))
            .service(web::resource("/invoices/{id}/void").route(web::post().to(fees::void)))
            .service(web::resource("/invoices/{id}/payments").route(web::post().to(fees::pay)))
            .service(web::resource("/ws").route(web::get().to(ws::connect)))
            .service(web::resource("/openapi.json").route(web::get().to(crate::openapi::serve))),
    )
    .service(web::resource("/healthz").route(web::get().to(health::live)))
    .service(web::resource("/readyz").route(web::get().to(health::ready)));
}

/// Path ids must be UUIDs: anything else is a 400 naming the parameter.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    platform::text::parse_uuid(raw).ok_or_else(|| ApiError::field("id", "must be a UUID"))
}

/// The `{student_id}` segment of nested routes, checked like [`path_id`].
pub fn student_path_id(raw: &str) -> Result<Uuid, ApiError> {
    platform::text::parse_uuid(raw).ok_or_else(|| ApiError::field("student_id", "must be a UUID"))
}

/// Unknown routes answer problem+json like every other error.
pub async fn not_found() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound("no such route"))
}
