//! Builds the HTTP server: binds its own listener (tests use port 0), wires
//! middleware in the order docs/ARCHITECTURE.md ("Request flow") gives, and
//! stops on a shutdown future.

use std::{
    future::Future,
    net::{SocketAddr, TcpListener},
    sync::{atomic::AtomicBool, Arc, OnceLock},
};

use actix_cors::Cors;
use actix_web::{
    http::header,
    middleware::{from_fn, Compress, DefaultHeaders, ErrorHandlers},
    web, App, HttpServer,
};
use anyhow::Context;
use platform::redis::RedisSettings;

use crate::{
    auth::Tokens,
    cache::{self, Cache, Stats},
    config::Config,
    console::Console,
    json::BodyLimit,
    middleware::request_context,
    openapi::{self, Document},
    ratelimit::{LocalLimiter, RateLimiter},
    realtime::Hub,
    routes::import::ImportLimit,
    services::{Endpoints, Services},
    state::AppState,
};

pub struct Application {
    listener: TcpListener,
    admin: TcpListener,
    config: Config,
    endpoints: Endpoints,
    tokens: Arc<Tokens>,
    redis: RedisSettings,
    local_limiter: Arc<LocalLimiter>,
    cache: Arc<cache::Shared>,
    shutting_down: Arc<AtomicBool>,
    /// The web console, when `CONSOLE_DIR` is set.
    console: Option<Arc<Console>>,
}

impl Application {
    pub fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        crate::middleware::set_slow_request(std::time::Duration::from_millis(
            config.slow_request_ms,
        ));
        let redis = RedisSettings {
            command_timeout: std::time::Duration::from_millis(config.redis_command_timeout_ms),
            ..Default::default()
        };
        // Fails here on a bad URL; the workers build their own clients.
        platform::redis::client(&config.redis_url, &redis)?;
        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let admin = TcpListener::bind(config.admin_listen)
            .with_context(|| format!("cannot listen on {}", config.admin_listen))?;
        // A console folder that is set but unreadable fails start-up.
        let console = match &config.console_dir {
            Some(dir) => Some(Arc::new(Console::load(dir)?)),
            None => None,
        };
        Ok(Self {
            console,
            listener,
            admin,
            endpoints: Endpoints::from_config(&config)?,
            tokens: Arc::new(Tokens::new(&config)),
            local_limiter: Arc::default(),
            cache: cache::Shared::new(config.cache()),
            config,
            redis,
            shutting_down: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The cache's counters (tests count origin calls with them).
    pub fn cache_stats(&self) -> Arc<Stats> {
        self.cache.stats.clone()
    }

    /// Serves until `shutdown` resolves; then readiness fails at once,
    /// WebSockets get their close frame (1001) within `WS_SHUTDOWN_GRACE_MS`,
    /// and in-flight requests get up to 30 s to finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let tokens = web::Data::from(self.tokens.clone());
        let (endpoints, flag) = (self.endpoints, self.shutting_down.clone());
        let (redis_url, redis_settings) = (self.config.redis_url.clone(), self.redis);
        let (policies, proxies) = (self.config.policies(), self.config.trusted_proxies.clone());
        let local_limiter = self.local_limiter.clone();
        let check_sessions = self.config.auth_revocation_check;
        let operator_token = self.config.operator_token.clone();
        let cache = self.cache.clone();
        let limit = self.config.body_limit_bytes;
        let import_limit = self.config.import_limit_bytes;
        let origins = self.config.cors_allowed_origins.clone();
        let console = self.console.map(web::Data::from);
        // One subscriber per instance, its tasks on this (the main) thread;
        // sockets live on the workers and share the hub.
        let hub = Hub::start(
            platform::realtime::subscriber(
                &self.config.redis_url,
                std::time::Duration::from_millis(self.config.realtime_redis_timeout_ms),
            )?,
            self.config.websocket(),
            origins.clone(),
        );
        let ws_grace = std::time::Duration::from_millis(self.config.ws_shutdown_grace_ms);
        let worker_hub = hub.clone();
        // Every worker registers the same routes and so collects the same
        // document; the first one completes it, the others share it.
        let document: Arc<OnceLock<web::Data<Document>>> = Arc::default();
        let mut server = HttpServer::new(move || {
            let cors = origins
                .iter()
                .filter(|o| !o.is_empty())
                .fold(Cors::default(), |c, o| c.allowed_origin(o))
                .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
                .allowed_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::IF_NONE_MATCH,
                    header::HeaderName::from_static("idempotency-key"),
                ])
                .expose_headers([
                    "x-request-id",
                    "x-response-time",
                    "x-cache",
                    "etag",
                    "ratelimit",
                    "ratelimit-policy",
                    "retry-after",
                    "idempotent-replayed",
                ])
                .max_age(600);
            // Per worker, so that its tasks run on the worker's own thread.
            let redis = platform::redis::connect(&redis_url, &redis_settings)
                .expect("the Redis URL was validated at build");
            let mut limiter = RateLimiter::new(
                redis.clone(),
                policies,
                proxies.clone(),
                local_limiter.clone(),
            );
            limiter.check_sessions = check_sessions;
            let state = web::Data::new(AppState {
                services: Services::connect(&endpoints),
                tokens: tokens.clone().into_inner(),
                operator_token: operator_token.clone(),
                redis: redis.clone(),
                shutting_down: flag.clone(),
                realtime: worker_hub.clone(),
            });
            // The routes and, collected from them, the OpenAPI document.
            let (app, collected) = openapi::documented(App::new())
                .configure(crate::routes::configure)
                .split_for_parts();
            let document = document.get_or_init(|| web::Data::new(Document::new(collected)));
            let app = match &console {
                Some(c) => app.app_data(c.clone()),
                None => app,
            };
            app.app_data(state)
                .app_data(document.clone())
                .app_data(tokens.clone())
                .app_data(web::Data::from(worker_hub.clone()))
                .app_data(web::Data::new(limiter))
                .app_data(web::Data::new(Cache::new(redis, cache.clone())))
                .app_data(BodyLimit(limit))
                .app_data(ImportLimit(import_limit))
                .app_data(web::PayloadConfig::new(limit))
                // The console's pages and files, else a problem+json 404.
                .default_service(web::to(crate::console::fallback))
                .wrap(ErrorHandlers::new().handler(
                    actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                    crate::middleware::method_not_allowed,
                ))
                .wrap(from_fn(crate::edge::edge))
                .wrap(from_fn(crate::middleware::header_limit))
                .wrap(Compress::default())
                .wrap(cors)
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((
                            header::CONTENT_SECURITY_POLICY,
                            "default-src 'none'; frame-ancestors 'none'",
                        ))
                        .add((
                            header::STRICT_TRANSPORT_SECURITY,
                            "max-age=63072000; includeSubDomains",
                        ))
                        .add((header::CACHE_CONTROL, "no-store")),
                )
                .wrap(from_fn(request_context))
        })
        .disable_signals()
        .shutdown_timeout(30)
        .listen(self.listener)?;
        if self.config.workers > 0 {
            server = server.workers(self.config.workers);
        }
        let server = server.run();
        let handle = server.handle();
        let stats = self.cache.stats.clone();
        let recorder = web::Data::new(platform::metrics::recorder());
        // After the recorder is installed: series registered before it are lost.
        crate::ratelimit::register();
        let admin_hub = web::Data::from(hub.clone());
        let admin = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(stats.clone()))
                .app_data(admin_hub.clone())
                .app_data(recorder.clone())
                .route("/metrics", web::get().to(crate::routes::health::metrics))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(self.admin)?
        .run();
        let admin_handle = admin.handle();
        let flag = self.shutting_down;
        tracing::info!(listen.addr = %self.config.listen, admin.addr = %self.config.admin_listen, "gateway serving");
        // Polled in this task (the shutdown future need not be Send); the
        // server future completes once the graceful stop has drained.
        let stop = async move {
            shutdown.await;
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
            // WebSockets never finish on their own: close them (1001) first,
            // or the graceful stop would wait its whole timeout for them.
            hub.shutdown(ws_grace).await;
            handle.stop(true).await;
            admin_handle.stop(true).await;
            std::future::pending::<()>().await;
        };
        tokio::select! {
            r = server => r.context("HTTP server failed"),
            r = admin => r.context("admin HTTP server failed"),
            () = stop => Ok(()),
        }
    }
}
