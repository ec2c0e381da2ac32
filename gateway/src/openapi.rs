//! The OpenAPI 3 document, collected from the route registration (each
//! handler's `#[utoipa::path]` and the DTO types it names), completed by
//! [`contract`], served at `/api/v1/openapi.json`.

use actix_web::{web, App, HttpResponse};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_actix_web::{AppExt, UtoipaApp};

use crate::dto::import::ImportMode;

mod contract;

/// Where the document is served.
pub const PATH: &str = "/api/v1/openapi.json";

/// What the registration does not give: the API's info, its security
/// schemes, and the one schema no handler annotation reaches (`ImportMode`,
/// named by the import's query parameters, whose schema the contract pass
/// replaces). Paths and the other schemas come from the registered handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Schoolhouse API", version = "1"),
    components(schemas(ImportMode)),
    modifiers(&Security)
)]
struct ApiDoc;

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

/// `app`, documenting what it registers from here on (utoipa-actix-web):
/// `UtoipaApp::configure(routes::configure)` then collects every route's
/// path, operation and schemas. [`PATH`] is registered first: the
/// `/api/v1` scope registered after it would otherwise take the path.
pub fn documented<T>(app: App<T>) -> UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Error = actix_web::Error,
        InitError = (),
    >,
{
    app.service(web::resource(PATH).route(web::get().to(serve)))
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
}

/// The served document: the collected one, completed by
/// [`contract::apply`] (the common responses, headers and the services'
/// request constraints). Stored as app data for [`serve`].
pub struct Document(serde_json::Value);

impl Document {
    pub fn new(collected: utoipa::openapi::OpenApi) -> Self {
        let mut doc = serde_json::to_value(collected).expect("the document is JSON");
        contract::apply(&mut doc);
        Self(doc)
    }

    pub fn json(&self) -> &serde_json::Value {
        &self.0
    }
}

async fn serve(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(doc.json())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The document of the API `routes::configure` registers.
    fn document() -> serde_json::Value {
        let (_, collected) = documented(App::new())
            .configure(crate::routes::configure)
            .split_for_parts();
        Document::new(collected).0
    }

    #[test]
    fn operation_ids_are_unique_and_errors_are_problems() {
        let doc = &document();
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
