//! gateway: HTTP/JSON at `/api/v1` in front of the gRPC services.
//!
//! Every module, in the order a request meets them:
//!
//! - [`config`]: flags / environment, secrets wrapped.
//! - [`startup`]: listener, middleware order, graceful stop.
//! - [`middleware`]: response time, access log, header limit, 405 bodies.
//! - [`request_id`]: the request id (accepted or generated) of the request
//!   being handled.
//! - [`edge`]: the Redis edge of every API request: token, rate limit,
//!   cache lookup, invalidation after writes.
//! - [`ratelimit`]: distributed GCRA limits per route class (Redis + Lua).
//! - [`cache`]: the response cache (Redis plus an in-process copy).
//! - [`auth`]: JWT minting and verification; the `Authenticated` extractor.
//! - [`routes`]: the route registration and the handlers (parse → authorise
//!   → gRPC call → JSON), one file per resource.
//! - [`json`]: strict JSON bodies and query strings with field errors.
//! - [`dto`]: the API's JSON shapes and their proto conversions, one file
//!   per resource; paging and field errors shared.
//! - [`services`]: gRPC clients and per-call metadata.
//! - [`realtime`]: the `/api/v1/ws` hub: Redis subscriber, routing, sockets.
//! - [`problem`]: `ApiError` → `application/problem+json`.
//! - [`openapi`]: the OpenAPI document, collected from the routes.
//! - [`state`]: what every worker shares.
//! - [`console`]: the web console's static files (`web/`), served at `/`.

pub mod auth;
pub mod cache;
pub mod config;
pub mod console;
pub mod dto;
pub mod edge;
pub mod json;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod ratelimit;
pub mod realtime;
pub mod request_id;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
