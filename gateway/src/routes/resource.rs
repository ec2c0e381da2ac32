//! One path's handlers registered once: as one actix resource and in the
//! OpenAPI document, both from the handlers' `#[utoipa::path]` attributes.
//!
//! Why not utoipa-actix-web alone: it documents what `service(...)` gets,
//! and a handler becomes a service through actix's `#[get("/path")]`-style
//! macros, which make one resource per handler, guarded by its method. Two
//! handlers of one path are then two resources; a method the path does not
//! take matches neither and falls through to the 404 (and a route such as
//! `GET /students/import` reaches `/students/{id}`), where one resource with
//! all the path's methods answers 405 with `Allow`. So [`Resource`] builds
//! that one resource and implements utoipa-actix-web's [`OpenApiFactory`]
//! itself; the `resource!` macro makes one from the handlers' names, taking each handler's path and method from its
//! attribute, so the path is written once, in the attribute.

use actix_web::{
    dev::{AppService, HttpServiceFactory},
    http::Method,
    web, Route,
};
use utoipa::openapi::{path::PathItem, schema::Schema, OpenApi, RefOr};
use utoipa_actix_web::OpenApiFactory;

/// One path with every method it serves, and the document of its handlers.
#[derive(Default)]
pub struct Resource {
    path: Option<String>,
    routes: Vec<Route>,
    doc: utoipa::openapi::path::Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Resource {
    /// Adds a handler: `doc` is its own document (one path, its method(s)
    /// and the schemas it names), `route` routes a method to it. Panics at
    /// start-up when handlers of different paths or the same method meet in
    /// one resource (the document test builds every resource).
    pub fn handler(mut self, doc: OpenApi, route: impl Fn(Route) -> Route) -> Self {
        let mut paths = doc.paths.paths.into_iter();
        let (path, item) = paths.next().expect("a handler documents its path");
        assert!(paths.next().is_none(), "a handler has one path");
        match &self.path {
            None => self.path = Some(path.clone()),
            Some(p) => assert_eq!(p, &path, "one resource, one path"),
        }
        for method in methods(&item) {
            let taken = self.doc.paths.get(&path).is_some_and(|i| has(i, &method));
            assert!(!taken, "{method} {path} twice");
            self.routes.push(route(web::method(method)));
        }
        self.doc
            .paths
            .entry(path)
            .or_default()
            .merge_operations(item);
        if let Some(components) = doc.components {
            self.schemas.extend(components.schemas);
        }
        self
    }
}

/// The methods a path item documents, in a fixed order.
fn methods(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, &item.get),
        (Method::PUT, &item.put),
        (Method::POST, &item.post),
        (Method::DELETE, &item.delete),
        (Method::OPTIONS, &item.options),
        (Method::HEAD, &item.head),
        (Method::PATCH, &item.patch),
        (Method::TRACE, &item.trace),
    ]
    .into_iter()
    .filter(|(_, op)| op.is_some())
    .map(|(m, _)| m)
    .collect()
}

fn has(item: &PathItem, method: &Method) -> bool {
    methods(item).contains(method)
}

impl HttpServiceFactory for Resource {
    fn register(self, config: &mut AppService) {
        let path = self.path.expect("a resource has a handler");
        // In the order the handlers were given: actix lists them so in `Allow`.
        let resource = self
            .routes
            .into_iter()
            .fold(web::resource(path), actix_web::Resource::route);
        resource.register(config);
    }
}

impl OpenApiFactory for Resource {
    fn paths(&self) -> utoipa::openapi::path::Paths {
        self.doc.clone()
    }

    fn schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend(self.schemas.iter().cloned());
    }
}

/// `resource![students::get, students::update, students::archive]`: one
/// [`Resource`] serving those handlers, each at the path and method of its
/// `#[utoipa::path]` (all of one path), in that order (`Allow` lists them
/// so). Each handler's document comes from utoipa's `OpenApi` derive, which
/// is what resolves a handler's name to the type its attribute generates.
macro_rules! resource {
    ($($($handler:ident)::+),+ $(,)?) => {{
        let resource = $crate::routes::resource::Resource::default();
        $(
            let resource = resource.handler(
                {
                    #[derive(utoipa::OpenApi)]
                    #[openapi(paths($($handler)::+))]
                    struct Doc;
                    <Doc as utoipa::OpenApi>::openapi()
                },
                |route| route.to($($handler)::+),
            );
        )+
        resource
    }};
}

pub(crate) use resource;
