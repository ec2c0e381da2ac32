//! gRPC plumbing: client channels with timeouts, server listeners and the
//! standard health service every server registers.

use std::{future::Future, time::Duration};

use tonic::transport::{server::TcpIncoming, Channel, ClientTlsConfig, Endpoint};
use tonic_health::{server::HealthReporter, ServingStatus};

/// Timeouts for an outgoing channel. tonic has none by default.
#[derive(Clone, Copy, Debug)]
pub struct ClientTimeouts {
    pub connect: Duration,
    pub request: Duration,
}

/// A validated endpoint; `connect_lazy()` on it makes a channel that does not
/// stop its owner from starting while the service is briefly down. With
/// `tls` the call goes over TLS (`https`, whatever scheme `url` names).
pub fn endpoint(
    url: &str,
    t: ClientTimeouts,
    tls: Option<&ClientTlsConfig>,
) -> anyhow::Result<Endpoint> {
    let url = match (tls, url.strip_prefix("http://")) {
        (Some(_), Some(rest)) => format!("https://{rest}"),
        _ => url.to_owned(),
    };
    let mut endpoint = Endpoint::from_shared(url)?;
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls.clone())?;
    }
    let endpoint = endpoint
        .connect_timeout(t.connect)
        .timeout(t.request)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10))
        .keep_alive_while_idle(true);
    Ok(endpoint)
}

/// A lazily connecting channel to `url`.
pub fn channel(
    url: &str,
    t: ClientTimeouts,
    tls: Option<&ClientTlsConfig>,
) -> anyhow::Result<Channel> {
    Ok(endpoint(url, t, tls)?.connect_lazy())
}

/// Turns a bound listener into tonic's incoming stream (tests bind port 0).
pub fn incoming(listener: tokio::net::TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Waits for `signal`, then marks every service NOT_SERVING and keeps serving
/// for `delay`, so that balancing clients (and Kubernetes endpoints) stop
/// routing here before the server stops accepting calls; then in-flight calls
/// drain.
pub async fn drain_on<F: Future<Output = ()>>(
    signal: F,
    reporter: HealthReporter,
    services: &[&str],
    delay: Duration,
) {
    signal.await;
    reporter
        .set_service_status("", ServingStatus::NotServing)
        .await;
    for s in services {
        reporter
            .set_service_status(*s, ServingStatus::NotServing)
            .await;
    }
    tracing::info!(delay_ms = delay.as_millis() as u64, "not serving; draining");
    tokio::time::sleep(delay).await;
}

/// One span per incoming call, carrying the gateway's request id so every
/// log line of the call can be joined with the HTTP access log, and parented
/// to the caller's span when traces are on.
pub fn request_span(req: &tonic::codegen::http::Request<()>) -> tracing::Span {
    let request_id = req
        .headers()
        .get(crate::caller::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let span = tracing::info_span!("grpc", request.id = %request_id, rpc.path = %req.uri().path(),
        trace.id = tracing::field::Empty);
    // The caller's trace context (W3C traceparent in the metadata).
    crate::telemetry::adopt_parent(&span, &crate::telemetry::Headers(req.headers()));
    span
}

/// The gRPC services a server offers, each named once: adding a service
/// both routes it and reports its health, so a service can be neither served
/// unreported nor reported unserved.
#[derive(Default)]
pub struct Services {
    routes: tonic::service::RoutesBuilder,
    names: Vec<&'static str>,
}

impl Services {
    pub fn serve<S>(mut self, svc: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(svc);
        self
    }

    /// Reports every service SERVING; returns the names and the routes to
    /// serve (`Server::builder().add_routes(..)`).
    pub async fn start(
        self,
        reporter: &HealthReporter,
    ) -> (Vec<&'static str>, tonic::service::Routes) {
        for n in &self.names {
            reporter
                .set_service_status(*n, ServingStatus::Serving)
                .await;
        }
        (self.names, self.routes.routes())
    }
}

/// Health reporter with the overall ("") status SERVING.
pub async fn health() -> (
    HealthReporter,
    tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
) {
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    (reporter, service)
}

/// Serves `health` (the service's own health service, so the same statuses)
/// on a plaintext `listener` until `stop` resolves: the probe port of a
/// service whose gRPC port speaks TLS only (platform::grpc_tls).
pub async fn serve_probe<F: Future<Output = ()>>(
    listener: tokio::net::TcpListener,
    health: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    stop: F,
) -> anyhow::Result<()> {
    tonic::transport::Server::builder()
        .add_service(health)
        .serve_with_incoming_shutdown(incoming(listener), stop)
        .await?;
    Ok(())
}

/// Serves only the health service: for services whose RPCs have not landed
/// yet but whose schema and deployment already exist.
pub async fn serve_health_only<F: Future<Output = ()>>(
    listener: tokio::net::TcpListener,
    shutdown: F,
) -> anyhow::Result<()> {
    let (reporter, health) = health().await;
    tonic::transport::Server::builder()
        .trace_fn(request_span)
        .layer(crate::metrics::GrpcMetricsLayer)
        .add_service(health)
        .serve_with_incoming_shutdown(
            incoming(listener),
            drain_on(shutdown, reporter, &[], Duration::ZERO),
        )
        .await?;
    Ok(())
}
