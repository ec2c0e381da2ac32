//! A fake SMS provider: a real HTTP server speaking the provider protocol
//! (`POST /v1/messages`), answering from a script and recording requests.

use std::{collections::VecDeque, sync::Arc, sync::Mutex, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Response, StatusCode},
    routing::post,
    Router,
};

#[derive(Clone, Debug)]
pub enum Reply {
    Accept,
    Status(u16),
    RetryAfter(u16, u64),
    /// Never answers.
    Hang,
    /// Accepts after a pause (a provider under load).
    Slow(Duration),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    pub body: serde_json::Value,
}

struct Inner {
    script: Mutex<VecDeque<Reply>>,
    otherwise: Mutex<Reply>,
    received: Mutex<Vec<Received>>,
}

pub struct FakeProvider {
    pub base_url: String,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn messages(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let n = {
        let mut r = inner.received.lock().unwrap();
        r.push(Received {
            authorization: header(&headers, "authorization"),
            idempotency_key: header(&headers, "idempotency-key"),
            content_type: header(&headers, "content-type"),
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        });
        r.len()
    };
    let reply = inner
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| inner.otherwise.lock().unwrap().clone());
    let json = |code: u16, body: String| {
        Response::builder()
            .status(StatusCode::from_u16(code).unwrap())
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    match reply {
        Reply::Accept => json(202, format!("{{\"id\":\"msg_{n}\"}}")),
        Reply::Status(code) => json(code, "{\"error\":\"scripted\"}".into()),
        Reply::RetryAfter(code, secs) => {
            let mut r = json(code, "{\"error\":\"slow down\"}".into());
            r.headers_mut().insert("retry-after", secs.into());
            r
        }
        Reply::Hang => std::future::pending().await,
        Reply::Slow(pause) => {
            tokio::time::sleep(pause).await;
            json(202, format!("{{\"id\":\"msg_{n}\"}}"))
        }
    }
}

impl FakeProvider {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            script: Mutex::new(VecDeque::new()),
            otherwise: Mutex::new(Reply::Accept),
            received: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base_url: format!("http://{addr}"),
            inner,
            server,
        }
    }

    /// The next answers, in order; then the standing one.
    pub fn then(&self, reply: Reply) -> &Self {
        self.inner.script.lock().unwrap().push_back(reply);
        self
    }

    /// The answer once the script is used up (initially `Accept`).
    pub fn always(&self, reply: Reply) {
        *self.inner.otherwise.lock().unwrap() = reply;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.inner.received.lock().unwrap().len()
    }

    pub fn client(&self, timeout: Duration) -> notify_svc::sms::SmsClient {
        notify_svc::sms::SmsClient::new(
            &self.base_url,
            secrecy::SecretString::from(crate::job_helpers::API_KEY.to_owned()),
            "Schoolhouse".into(),
            timeout,
        )
        .unwrap()
    }
}
