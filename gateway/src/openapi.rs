//! The OpenAPI 3 document, generated from the handlers' annotations and the
//! DTO types, served at `/api/v1/openapi.json`.

use actix_web::HttpResponse;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{dto, people_dto, problem, routes};

mod contract;

#[derive(OpenApi)]
#[openapi(
    info(title = "Schoolhouse API", version = "1"),
    paths(
        routes::auth::login, routes::auth::me, routes::schools::create, routes::users::create,
        routes::students::list, routes::students::create, routes::students::get,
        routes::students::update, routes::students::archive, routes::import::import,
        routes::guardians::create, routes::guardians::list, routes::guardians::get,
        routes::guardians::update, routes::guardians::link, routes::guardians::unlink,
        routes::guardians::children, routes::staff::save, routes::staff::list, routes::staff::get,
        routes::courses::create, routes::courses::list, routes::courses::get,
        routes::courses::update, routes::courses::add_slot, routes::courses::enrol,
        routes::courses::roster, routes::courses::withdraw, routes::courses::mark_attendance,
        routes::courses::get_attendance, routes::courses::override_attendance,
        routes::courses::student_attendance,
        routes::fees::create, routes::fees::list, routes::fees::get, routes::fees::issue,
        routes::fees::void, routes::fees::pay, routes::fees::balance,
        routes::grades::create, routes::grades::list, routes::grades::get, routes::grades::update,
        routes::grades::record, routes::grades::sheet, routes::grades::publish,
        routes::grades::student_grades,
        routes::notifications::list, routes::notifications::mark_read,
        routes::ws::connect,
        routes::health::live, routes::health::ready,
    ),
    components(schemas(
        problem::Problem, problem::FieldError, dto::Student, dto::StudentPage, dto::StudentStatus,
        dto::CreateStudentBody, dto::UpdateStudentBody, dto::NewLogin, dto::LoginBody,
        dto::TokenResponse, dto::User, dto::Role, dto::CreateSchoolBody, dto::NewAdmin,
        dto::School, dto::CreatedSchool, dto::CreateUserBody, routes::import::ImportReport,
        routes::import::ImportRowError, routes::import::ImportMode,
        people_dto::Guardian, people_dto::GuardianLink, people_dto::GuardianPage,
        people_dto::Relationship, people_dto::NotificationPreferences,
        people_dto::CreateGuardianBody, people_dto::UpdateGuardianBody,
        people_dto::LinkStudentBody, people_dto::Children, people_dto::StaffProfileBody,
        people_dto::StaffProfile, people_dto::StaffMember, people_dto::StaffPage,
        dto::courses::Course, dto::courses::CoursePage, dto::courses::TimetableSlot,
        dto::courses::CreateCourseBody, dto::courses::UpdateCourseBody, dto::courses::AddSlotBody,
        dto::courses::Enrolment, dto::courses::EnrolmentPage, dto::courses::EnrolBody,
        dto::courses::AttendanceStatus, dto::courses::MarkEntry, dto::courses::MarkAttendanceBody,
        dto::courses::OverrideEntry, dto::courses::OverrideAttendanceBody,
        dto::courses::AttendanceRecord, dto::courses::AttendanceSession,
        dto::courses::AttendanceDay, dto::courses::StudentAttendance,
        dto::fees::Invoice, dto::fees::InvoiceLine, dto::fees::InvoicePage, dto::fees::InvoiceStatus,
        dto::fees::NewInvoiceLine, dto::fees::CreateInvoiceBody, dto::fees::PaymentBody,
        dto::fees::PaymentMethod, dto::fees::Payment, dto::fees::CurrencyBalance,
        dto::fees::StudentBalance,
        dto::grades::Assessment, dto::grades::AssessmentPage, dto::grades::CreateAssessmentBody,
        dto::grades::UpdateAssessmentBody, dto::grades::GradeEntryBody,
        dto::grades::RecordGradesBody, dto::grades::Grade, dto::grades::GradeSheet,
        dto::grades::StudentGrade, dto::grades::StudentGrades,
        dto::notifications::Notification, dto::notifications::NotificationKind,
        dto::notifications::NotificationPage, dto::notifications::MarkReadBody,
        dto::notifications::MarkedRead,
    )),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let bearer = || {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            )
        };
        components.add_security_scheme("bearer", bearer());
        components.add_security_scheme("operator", bearer());
    }
}

/// The served document: utoipa's, completed by [`contract::apply`] (the
/// common responses, headers and the services' request constraints).
pub fn document() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON");
        contract::apply(&mut doc);
        doc
    })
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn operation_ids_are_unique_and_errors_are_problems() {
        let doc = document();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "{id} twice");
                for (status, r) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        if path == "/readyz" {
                            continue;
                        }
                        assert!(
                            r["content"].get("application/problem+json").is_some(),
                            "{method} {path} {status}"
                        );
                        assert!(r["content"].get("application/json").is_none());
                    }
                }
            }
        }
        if std::env::var_os("OPENAPI_DUMP").is_some() {
            std::fs::write(
                std::env::var("OPENAPI_DUMP").unwrap(),
                serde_json::to_string_pretty(doc).unwrap(),
            )
            .unwrap();
        }
    }
}
