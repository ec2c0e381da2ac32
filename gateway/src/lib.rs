//! gateway: HTTP/JSON at `/api/v1` in front of the gRPC services.
//!
//! - [`config`]: flags / environment, secrets wrapped.
//! - [`startup`]: listener, middleware order, graceful stop.
//! - [`middleware`]: request id, response time, access log.
//! - [`auth`]: JWT minting and verification; the `Authenticated` extractor.
//! - [`json`]: strict JSON bodies and query strings with field errors.
//! - [`dto`]: the API's JSON shapes and their proto conversions.
//! - [`people_dto`]: JSON shapes of guardians and staff profiles.
//! - [`routes`]: handlers (parse → authorise → gRPC call → JSON).
//! - [`services`]: gRPC clients and per-call metadata.
//! - [`edge`]: the Redis edge of every API request: token, rate limit,
//!   cache lookup, invalidation after writes.
//! - [`cache`]: the response cache (Redis plus an in-process copy).
//! - [`ratelimit`]: distributed GCRA limits per route class (Redis + Lua).
//! - [`realtime`]: the `/api/v1/ws` hub: Redis subscriber, routing, sockets.
//! - [`problem`]: `ApiError` → `application/problem+json`.
//! - [`openapi`]: the generated OpenAPI document.
//! - [`state`]: what every worker shares.

pub mod auth;
pub mod cache;
pub mod config;
pub mod dto;
pub mod edge;
pub mod json;
pub mod middleware;
pub mod openapi;
pub mod people_dto;
pub mod problem;
pub mod ratelimit;
pub mod realtime;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
