//! One HTTP request makes one trace: the gateway's span is the child of the
//! caller's `traceparent`, and students-svc's span the child of the
//! gateway's. The real binaries export over OTLP/gRPC to a receiver in this
//! test (a tonic server implementing the collector's trace service).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        trace_service_server::{TraceService, TraceServiceServer},
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    },
    common::v1::any_value::Value as AnyValue,
    trace::v1::Span,
};
use platform::testing::{eventually, redis::redis_url};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    e2e::{free_port, Processes},
    helpers::*,
};

/// Spans received, with the `service.name` of their resource.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<(String, Span)>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for rs in request.into_inner().resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                    AnyValue::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for ss in rs.scope_spans {
                spans.extend(ss.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.clone()),
            _ => None,
        })
}

#[tokio::test]
async fn one_request_is_one_trace_across_gateway_and_students_svc() {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let otlp = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(receiver.clone()))
            .serve_with_incoming(platform::grpc::incoming(listener)),
    );

    let db = platform::testing::fresh_database().await.unwrap();
    let (students, http) = (free_port(), free_port());
    let operator = "trace-operator-token-0123456789abcdef";
    let mut procs = Processes(Vec::new());
    // Logs at debug, captured: they must carry ids and never secrets.
    let logs = std::env::temp_dir().join(format!(
        "schoolhouse-trace-logs-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&logs).unwrap();
    let mut spawn = |name: &str, envs: &[(&str, String)]| {
        let log = std::fs::File::create(logs.join(format!("{name}.log"))).unwrap();
        let mut envs = envs.to_vec();
        envs.extend([
            ("RUST_LOG", "debug,h2=info,hyper=info,tower=info,tonic=info,fred=info,tokio_postgres=info,opentelemetry=info".to_owned()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.clone()),
            ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
        ]);
        procs.spawn(name, &envs, Some(log));
    };
    spawn(
        "students-svc",
        &[
            ("STUDENTS_LISTEN", format!("127.0.0.1:{students}")),
            ("STUDENTS_ADMIN_LISTEN", "127.0.0.1:0".into()),
            ("STUDENTS_DRAIN_DELAY_MS", "0".into()),
            ("STUDENTS_DATABASE_URL", db.students_url.clone()),
        ],
    );
    spawn(
        "gateway",
        &[
            ("GATEWAY_LISTEN", format!("127.0.0.1:{http}")),
            ("GATEWAY_ADMIN_LISTEN", "127.0.0.1:0".into()),
            ("STUDENTS_URL", format!("http://127.0.0.1:{students}")),
            ("REDIS_URL", redis_url()),
            ("JWT_SECRET", "trace-secret-trace-secret-trace-00".into()),
            ("OPERATOR_TOKEN", operator.into()),
        ],
    );
    let base = format!("http://127.0.0.1:{http}");
    wait_ready(&base).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let slug = crate::cache::unique("traced");
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/schools"))
        .bearer_auth(operator)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({"name": "Traced", "slug": slug,
            "admin": {"email": format!("admin@{slug}.test"), "password": PASSWORD, "full_name": "Ada"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let (gateway_span, service_span) = eventually(
        "the spans of the trace to arrive",
        Duration::from_secs(20),
        || async {
            let spans = receiver.0.lock().unwrap();
            let ours: Vec<&(String, Span)> = spans
                .iter()
                .filter(|(_, s)| hex(&s.trace_id) == trace_id)
                .collect();
            let find = |service: &str, name: &str| {
                ours.iter()
                    .find(|(svc, s)| svc == service && s.name == name)
                    .map(|(_, s)| s.clone())
            };
            let (g, s) = (find("gateway", "http")?, find("students-svc", "grpc")?);
            // The school's creation happened in this trace, nowhere else.
            let elsewhere = spans.iter().filter(|(_, s)| {
                attr(s, "rpc.path").is_some_and(|p| p.ends_with("/CreateSchool"))
                    && hex(&s.trace_id) != trace_id
            });
            assert_eq!(elsewhere.count(), 0);
            Some((g, s))
        },
    )
    .await;
    assert_eq!(
        hex(&gateway_span.parent_span_id),
        caller_span,
        "gateway span continues the caller's trace"
    );
    assert_eq!(
        service_span.parent_span_id, gateway_span.span_id,
        "students-svc span is the gateway span's child"
    );
    assert_eq!(
        attr(&service_span, "rpc.path").as_deref(),
        Some("/school.students.v1.SchoolService/CreateSchool")
    );
    assert_eq!(
        attr(&gateway_span, "http.route").as_deref(),
        Some("/api/v1/schools")
    );

    // The domain event of that change carries the same trace, so a
    // consumer's work joins it.
    let admin_db = platform::testing::connect(&db.admin_url).await.unwrap();
    let payload: Vec<u8> = admin_db
        .query_one(
            "SELECT payload FROM students.outbox ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let event = <proto::events::v1::Event as prost::Message>::decode(&payload[..]).unwrap();
    // Creating a school records `school.created`, then its admin's
    // `user.created`, in one transaction.
    assert_eq!(event.event_type, "school.created");
    let traceparent = event.trace_context.get("traceparent").expect("traceparent");
    assert_eq!(
        traceparent.split('-').nth(1),
        Some(trace_id),
        "{traceparent}"
    );
    procs.stop();
}
