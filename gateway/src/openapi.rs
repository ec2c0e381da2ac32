//! The OpenAPI 3 document, generated from the handlers' annotations and the
//! DTO types, served at `/api/v1/openapi.json`.

use actix_web::HttpResponse;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{dto, problem, routes};

#[derive(OpenApi)]
#[openapi(
    info(title = "Schoolhouse API", version = "1"),
    paths(
        routes::auth::login, routes::auth::me, routes::schools::create, routes::users::create,
        routes::students::list, routes::students::create, routes::students::get,
        routes::students::update, routes::students::archive,
        routes::fees::create, routes::fees::list, routes::fees::get, routes::fees::issue,
        routes::fees::void, routes::fees::pay, routes::fees::balance,
        routes::health::live, routes::health::ready,
    ),
    components(schemas(
        problem::Problem, problem::FieldError, dto::Student, dto::StudentPage, dto::StudentStatus,
        dto::CreateStudentBody, dto::UpdateStudentBody, dto::NewLogin, dto::LoginBody,
        dto::TokenResponse, dto::User, dto::Role, dto::CreateSchoolBody, dto::NewAdmin,
        dto::School, dto::CreatedSchool, dto::CreateUserBody,
        dto::fees::Invoice, dto::fees::InvoiceLine, dto::fees::InvoicePage, dto::fees::InvoiceStatus,
        dto::fees::NewInvoiceLine, dto::fees::CreateInvoiceBody, dto::fees::PaymentBody,
        dto::fees::PaymentMethod, dto::fees::Payment, dto::fees::CurrencyBalance,
        dto::fees::StudentBalance,
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

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
