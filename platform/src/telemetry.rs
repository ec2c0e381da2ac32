//! Logs and traces. Field names are dotted with units (`student.id`,
//! `duration_ms`).
//!
//! Traces are exported over OTLP/gRPC when the standard OpenTelemetry
//! variables ask for it (`OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, unless `OTEL_SDK_DISABLED=true` or
//! `OTEL_TRACES_EXPORTER=none`); the exporter itself reads the rest
//! (`OTEL_SERVICE_NAME`, `OTEL_BSP_*`, timeouts, headers). W3C trace context
//! crosses every hop: HTTP `traceparent` into the gateway, gRPC metadata into
//! the services.

use opentelemetry::{
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
    Context,
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider, Resource};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log shippers.
    #[default]
    Json,
    /// Human-readable, for a terminal.
    Pretty,
}

/// Flushes buffered spans when dropped (at the end of `main`).
#[must_use = "dropping it at once stops trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            if let Err(e) = p.shutdown() {
                eprintln!("trace export shutdown: {e}");
            }
        }
    }
}

fn env_is(key: &str, value: &str) -> bool {
    std::env::var(key).is_ok_and(|v| v.trim().eq_ignore_ascii_case(value))
}

fn tracing_requested() -> bool {
    let endpoint = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|k| std::env::var(k).is_ok_and(|v| !v.trim().is_empty()));
    endpoint && !env_is("OTEL_SDK_DISABLED", "true") && !env_is("OTEL_TRACES_EXPORTER", "none")
}

/// Installs the global subscriber for a binary: logs (`RUST_LOG`, default
/// `info`) and, when configured, trace export named `service` (unless
/// `OTEL_SERVICE_NAME` says otherwise). Call inside the Tokio runtime: the
/// exporter's gRPC channel lives there.
pub fn init_service(format: LogFormat, service: &'static str) -> Telemetry {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = if tracing_requested() {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
        {
            Ok(exporter) => {
                let resource = Resource::builder().with_service_name(service).build();
                Some(
                    SdkTracerProvider::builder()
                        .with_resource(resource)
                        .with_batch_exporter(exporter)
                        .build(),
                )
            }
            Err(e) => {
                eprintln!("trace export disabled: {e}");
                None
            }
        }
    } else {
        None
    };
    // Spans for export at info and above, whatever RUST_LOG says for logs.
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(service))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
    });
    let _ = tracing_subscriber::registry()
        .with(log_layer(format))
        .with(otel)
        .try_init();
    Telemetry { provider }
}

fn log_layer<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    match format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_target(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer()
            .compact()
            .with_target(true)
            .with_filter(filter)
            .boxed(),
    }
}

/// tokio-postgres logs every statement's parameters at debug: student
/// names, guardians' phone numbers, password hashes. A broad
/// `RUST_LOG=debug` must not write those into logs, so it is capped at info
/// unless `RUST_LOG` names `tokio_postgres` itself (a deliberate choice).
fn log_filter(rust_log: Option<&str>) -> EnvFilter {
    let spec = rust_log
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("info");
    let filter = EnvFilter::try_new(spec).unwrap_or_else(|e| {
        eprintln!("invalid RUST_LOG ({e}); logging at info");
        EnvFilter::new("info")
    });
    if spec.contains("tokio_postgres") {
        filter
    } else {
        filter.add_directive(
            "tokio_postgres=info"
                .parse()
                .expect("a valid static directive"),
        )
    }
}

/// Logs only, for tests (which start many servers in one process); calling
/// it twice is harmless.
pub fn init(format: LogFormat) {
    let _ = tracing_subscriber::registry()
        .with(log_layer(format))
        .try_init();
}

/// Makes `span` a child of the trace context carried by `carrier` (HTTP
/// headers or gRPC metadata), if any, and records its trace id in the span's
/// `trace.id` field, so that every log line inside it carries the id (also
/// when export is off but the caller sent a `traceparent`).
pub fn adopt_parent(span: &tracing::Span, carrier: &dyn Extractor) {
    use opentelemetry::trace::TraceContextExt;
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(carrier));
    let remote = cx.span().span_context().trace_id();
    if cx.has_active_span() {
        let _ = span.set_parent(cx);
    }
    let own = span.context().span().span_context().trace_id();
    let id = if own != opentelemetry::trace::TraceId::INVALID {
        own
    } else {
        remote
    };
    if id != opentelemetry::trace::TraceId::INVALID {
        span.record("trace.id", tracing::field::display(id));
    }
}

/// Links `span` to the trace context in `carrier` (work done for several
/// requests at once: one parent, the others linked).
pub fn add_link(span: &tracing::Span, carrier: &dyn Extractor) {
    use opentelemetry::trace::TraceContextExt;
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(carrier));
    let remote = cx.span().span_context().clone();
    if remote.is_valid() {
        span.add_link(remote);
    }
}

/// Writes the current span's trace context into `carrier`.
pub fn inject_current(carrier: &mut dyn Injector) {
    let cx: Context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, carrier));
}

/// gRPC metadata as a trace-context carrier.
pub struct Metadata<'a>(pub &'a mut tonic::metadata::MetadataMap);

impl Injector for Metadata<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// HTTP/2 request headers (an incoming gRPC call) as a carrier.
pub struct Headers<'a>(pub &'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::{layer::SubscriberExt, Layer};

    use super::log_filter;

    /// Whether an event of `target` at `level` would be logged under `rust_log`.
    fn logs(rust_log: Option<&str>, target: &str, level: Level) -> bool {
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::sink)
                .with_filter(log_filter(rust_log)),
        );
        tracing::subscriber::with_default(subscriber, || match (target, level) {
            ("tokio_postgres::query", Level::DEBUG) => {
                tracing::enabled!(target: "tokio_postgres::query", Level::DEBUG)
            }
            ("students_svc", Level::DEBUG) => {
                tracing::enabled!(target: "students_svc", Level::DEBUG)
            }
            ("students_svc", Level::INFO) => tracing::enabled!(target: "students_svc", Level::INFO),
            _ => unreachable!("not a case of these tests"),
        })
    }

    #[test]
    fn statement_parameters_stay_out_of_logs_unless_asked_for_by_name() {
        assert!(logs(Some("debug"), "students_svc", Level::DEBUG));
        assert!(!logs(Some("debug"), "tokio_postgres::query", Level::DEBUG));
        assert!(!logs(
            Some("students_svc=debug,info"),
            "tokio_postgres::query",
            Level::DEBUG
        ));
        assert!(logs(
            Some("info,tokio_postgres=debug"),
            "tokio_postgres::query",
            Level::DEBUG
        ));
        // Unset, blank or invalid: info.
        for spec in [None, Some(" "), Some("=oops=")] {
            assert!(logs(spec, "students_svc", Level::INFO), "{spec:?}");
            assert!(!logs(spec, "students_svc", Level::DEBUG), "{spec:?}");
        }
    }
}
