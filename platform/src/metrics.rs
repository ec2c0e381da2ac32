//! Prometheus metrics: the process-wide recorder behind the `metrics` facade,
//! the admin HTTP listener that serves it, and the per-RPC layer of every
//! gRPC server. Names follow Prometheus conventions (`_total`, `_seconds`).

use std::{
    future::Future,
    pin::Pin,
    sync::OnceLock,
    task::{Context, Poll},
    time::Instant,
};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Latency buckets (seconds) of every `*_seconds` histogram: 1 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the recorder once per process (tests start many servers in one
/// process; they share it) and returns its handle.
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder (a test harness's) may already be installed;
            // then this handle renders only what we record through it.
            let _ = metrics::set_global_recorder(recorder);
            // Histogram samples are buffered until upkeep folds them into
            // their buckets: without it, memory grows with every request
            // between scrapes (seen in the bench: +120 MiB in minutes).
            // Present from the first scrape, whatever has happened yet.
            metrics::gauge!("schoolhouse_build_info", "version" => env!("CARGO_PKG_VERSION"))
                .set(1.0);
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                });
            handle
        })
        .clone()
}

/// Serves `GET /metrics` on `listener` until `shutdown`. `render` produces the
/// text (gauges sampled at scrape time are set inside it).
pub async fn serve_admin(
    listener: TcpListener,
    render: impl Fn() -> String + Clone + Send + Sync + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let render = render.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    render(),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// `grpc_server_requests_total{service,method,code}` and
/// `grpc_server_request_duration_seconds{service,method}` for every call.
/// The code is the `grpc-status` of the response head (errors answer
/// "trailers-only"), OK otherwise; unknown methods are labelled `unknown` so
/// that callers cannot grow the label set.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcMetricsLayer;

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

#[derive(Clone, Debug)]
pub struct GrpcMetrics<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> tower::Service<http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let path = req.uri().path().to_owned();
        let started = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await;
            let code = match &res {
                Ok(r) => r
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0),
                Err(_) => 2,
            };
            let code = CODES.get(code).copied().unwrap_or("UNKNOWN");
            let (service, method) = match path.trim_start_matches('/').split_once('/') {
                Some((s, m)) if code != "UNIMPLEMENTED" => (s.to_owned(), m.to_owned()),
                _ => ("unknown".to_owned(), "unknown".to_owned()),
            };
            metrics::histogram!("grpc_server_request_duration_seconds",
                "service" => service.clone(), "method" => method.clone())
            .record(started.elapsed().as_secs_f64());
            metrics::counter!("grpc_server_requests_total",
                "service" => service, "method" => method, "code" => code)
            .increment(1);
            res
        })
    }
}

/// The admin listener of a service, running beside its main server.
pub struct Admin {
    stop: tokio::sync::watch::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Admin {
    /// Starts serving `GET /metrics` on `listener` in the background.
    pub fn spawn(
        listener: TcpListener,
        render: impl Fn() -> String + Clone + Send + Sync + 'static,
    ) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(());
        let task = tokio::spawn(serve_admin(listener, render, async move {
            let _ = stopped.changed().await;
        }));
        Self { stop, task }
    }

    /// Stops it after the main server stopped (scrapes in flight finish).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "admin listener failed"),
            Err(e) => tracing::warn!(error = %e, "admin listener panicked"),
            Ok(Ok(())) => {}
        }
    }
}

/// Binds an admin listener (`/metrics`); port 0 in tests.
pub async fn bind_admin(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    use anyhow::Context as _;
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (admin)"))
}
