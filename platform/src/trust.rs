//! Trust between services: a service believes the caller named in a call's
//! metadata (`x-school-id`, `x-user-id`, `x-user-role`, `x-student-id`, or
//! `x-operator`) only when the call also carries a valid assertion
//! (`x-caller-assertion`): an HMAC-SHA256, under the key every Schoolhouse
//! process is given (`SERVICE_AUTH_KEY`), of those entries, the gRPC method
//! and an expiry a minute ahead. A process that can reach a service port but
//! does not hold the key cannot claim to be anybody (docs/ARCHITECTURE.md,
//! "Trust between services").
//!
//! - Clients wrap their channel in [`Signed`]: every call that carries a
//!   caller gets its assertion, bound to the method it goes to.
//! - Servers add [`VerifyLayer`]: a call whose caller entries come without a
//!   valid assertion is answered UNAUTHENTICATED before any handler runs; a
//!   verified caller is put in the request's extensions, where
//!   [`crate::caller::Caller::of`] and [`require_operator`] find it (neither
//!   reads the metadata itself, so a server without the layer believes
//!   nobody).

use std::{
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures::future::{Either, Ready};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use sha2::Sha256;

use crate::caller::{Caller, SCHOOL_ID, STUDENT_ID, USER_ID, USER_ROLE};

/// The assertion's metadata key.
pub const ASSERTION: &str = "x-caller-assertion";
/// Marks a call made by the platform operator (`1`): creating a school, a
/// rebuild. Believed, like a caller, only with its assertion.
pub const OPERATOR: &str = "x-operator";
/// How long an assertion stays valid: long enough for a call's deadline and
/// a few seconds of clock skew between pods, short enough that a captured
/// one is soon useless (and TLS keeps them from being captured).
pub const ASSERTION_TTL: Duration = Duration::from_secs(60);
/// The shortest key accepted (bytes).
pub const MIN_KEY_LEN: usize = 32;

pub use crate::caller::Verified;

/// The key of the configurations tests build (`Config::for_database`):
/// deployments are given their own (`make run` generates one per stack).
pub const TEST_KEY: &str = "schoolhouse-test-service-key-0123456789";

/// The shared service key (`SERVICE_AUTH_KEY`, at least 32 bytes).
#[derive(Clone)]
pub struct ServiceKey(Arc<[u8]>);

impl std::str::FromStr for ServiceKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::new(s.as_bytes()).map_err(|e| e.to_string())
    }
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceKey(..)")
    }
}

impl ServiceKey {
    pub fn new(secret: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= MIN_KEY_LEN,
            "SERVICE_AUTH_KEY must be at least {MIN_KEY_LEN} bytes"
        );
        Ok(Self(secret.into()))
    }

    fn mac(&self, path: &str, expires: u64, who: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length; `new` checked ours is long enough.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(b"schoolhouse-caller-v1\n");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(who.as_bytes());
        mac
    }

    /// The assertion for a call to `path` with these headers, valid until
    /// `now + ASSERTION_TTL`; `None` when the call names no caller.
    pub fn assertion(&self, path: &str, headers: &HeaderMap, now: u64) -> Option<String> {
        let who = claimed(headers)?;
        let expires = now + ASSERTION_TTL.as_secs();
        let tag = self.mac(path, expires, &who).finalize().into_bytes();
        // Every gRPC call the gateway makes signs one: hex without a
        // formatter per byte.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = format!("v1.{expires}.");
        out.reserve(tag.len() * 2);
        for b in tag {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        Some(out)
    }

    /// Who the call is from: `Ok(None)` when it names nobody (sign-in,
    /// health), the caller when its assertion holds, else UNAUTHENTICATED
    /// (without saying which part failed).
    pub fn verify(
        &self,
        path: &str,
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Option<Verified>, tonic::Status> {
        let Some(who) = claimed(headers) else {
            return Ok(None);
        };
        let refused = || tonic::Status::unauthenticated("the caller is not vouched for");
        let assertion = headers
            .get(ASSERTION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(refused)?;
        let mut parts = assertion.splitn(3, '.');
        let (Some("v1"), Some(expires), Some(tag)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        let expires: u64 = expires.parse().map_err(|_| refused())?;
        // Expired, or further ahead than any signer would set it.
        if expires < now || expires > now + 2 * ASSERTION_TTL.as_secs() {
            return Err(refused());
        }
        let tag = decode_hex(tag).ok_or_else(refused)?;
        self.mac(path, expires, &who)
            .verify_slice(&tag)
            .map_err(|_| refused())?;
        if who == "operator" {
            return Ok(Some(Verified::Operator));
        }
        let caller = Caller::from_headers(headers)?;
        Ok(Some(Verified::User(caller)))
    }
}

/// The caller entries of a call, in a fixed order (what the assertion
/// covers); `None` when there are none. An operator call names no user.
fn claimed(headers: &HeaderMap) -> Option<String> {
    let get = |k: &str| headers.get(k).map(HeaderValue::as_bytes);
    if get(OPERATOR) == Some(b"1".as_slice()) {
        return Some("operator".to_owned());
    }
    let keys = [SCHOOL_ID, USER_ID, USER_ROLE, STUDENT_ID];
    if keys.iter().all(|k| get(k).is_none()) {
        return None;
    }
    let mut who = String::from("user");
    for k in keys {
        who.push('\n');
        who.push_str(&String::from_utf8_lossy(get(k).unwrap_or(b"-")));
    }
    Some(who)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The operator, or PERMISSION_DENIED: for operator actions (creating a
/// school, a rebuild), whatever a school's caller could otherwise do.
pub fn require_operator<T>(req: &tonic::Request<T>) -> Result<(), tonic::Status> {
    match req.extensions().get::<Verified>() {
        Some(Verified::Operator) => Ok(()),
        _ => Err(tonic::Status::permission_denied(
            "this action needs the operator credential",
        )),
    }
}

/// Marks an outgoing request as the operator's ([`Signed`] then vouches for
/// it).
pub fn as_operator<T>(req: &mut tonic::Request<T>) {
    req.metadata_mut()
        .insert(OPERATOR, tonic::metadata::MetadataValue::from_static("1"));
}

/// A client channel that vouches for the callers of its calls.
#[derive(Clone, Debug)]
pub struct Signed<S> {
    inner: S,
    key: ServiceKey,
}

impl<S> Signed<S> {
    pub fn new(inner: S, key: ServiceKey) -> Self {
        Self { inner, key }
    }
}

impl<S, B> tower::Service<http::Request<B>> for Signed<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // Whatever a caller wrote before is replaced, never kept.
        req.headers_mut().remove(ASSERTION);
        if let Some(a) = self
            .key
            .assertion(req.uri().path(), req.headers(), unix_now())
        {
            if let Ok(v) = HeaderValue::from_str(&a) {
                req.headers_mut().insert(ASSERTION, v);
            }
        }
        self.inner.call(req)
    }
}

/// The server side: checks every call's assertion ([`ServiceKey::verify`]).
#[derive(Clone, Debug)]
pub struct VerifyLayer {
    key: ServiceKey,
}

impl VerifyLayer {
    pub fn new(key: ServiceKey) -> Self {
        Self { key }
    }
}

impl<S> tower::Layer<S> for VerifyLayer {
    type Service = Verify<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Verify {
            inner,
            key: self.key.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Verify<S> {
    inner: S,
    key: ServiceKey,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Verify<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    RB: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<S::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // Nothing upstream may have put a caller here; only this layer does.
        req.extensions_mut().remove::<Verified>();
        match self.key.verify(req.uri().path(), req.headers(), unix_now()) {
            Ok(Some(v)) => {
                req.extensions_mut().insert(v);
                Either::Right(self.inner.call(req))
            }
            Ok(None) => Either::Right(self.inner.call(req)),
            Err(status) => {
                metrics::counter!("grpc_server_unvouched_calls_total").increment(1);
                Either::Left(futures::future::ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Role;
    use uuid::Uuid;

    const PATH: &str = "/school.students.v1.StudentService/GetStudent";

    fn key(b: u8) -> ServiceKey {
        ServiceKey::new(&[b; 32]).unwrap()
    }

    fn headers(c: &Caller) -> HeaderMap {
        let mut md = tonic::metadata::MetadataMap::new();
        c.write(&mut md);
        md.into_headers()
    }

    fn caller() -> Caller {
        Caller {
            school_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            role: Role::Teacher,
            student_id: None,
        }
    }

    fn signed(k: &ServiceKey, path: &str, mut h: HeaderMap, now: u64) -> HeaderMap {
        let a = k.assertion(path, &h, now).unwrap();
        h.insert(ASSERTION, a.parse().unwrap());
        h
    }

    #[test]
    fn a_signed_caller_verifies_and_nothing_else_does() {
        let (k, now, c) = (key(1), 1_000_000, caller());
        let h = signed(&k, PATH, headers(&c), now);
        assert_eq!(k.verify(PATH, &h, now).unwrap(), Some(Verified::User(c)));
        assert_eq!(
            k.verify(PATH, &h, now + 60).unwrap(),
            Some(Verified::User(c))
        );
        // Expired; another method; another key; no assertion.
        assert!(k.verify(PATH, &h, now + 61).is_err());
        assert!(k.verify("/x.Y/Z", &h, now).is_err());
        assert!(key(2).verify(PATH, &h, now).is_err());
        assert!(k.verify(PATH, &headers(&c), now).is_err());
        // Any entry changed after signing: another school, role, student.
        for (name, value) in [
            (SCHOOL_ID, Uuid::now_v7().to_string()),
            (USER_ROLE, "admin".to_owned()),
            (STUDENT_ID, Uuid::now_v7().to_string()),
        ] {
            let mut forged = h.clone();
            forged.insert(name, value.parse().unwrap());
            assert!(k.verify(PATH, &forged, now).is_err(), "{name} changed");
        }
        // An operator claim needs its own assertion.
        let mut forged = h.clone();
        forged.insert(OPERATOR, "1".parse().unwrap());
        assert!(k.verify(PATH, &forged, now).is_err());
        let mut op = HeaderMap::new();
        op.insert(OPERATOR, "1".parse().unwrap());
        let op = signed(&k, PATH, op, now);
        assert_eq!(k.verify(PATH, &op, now).unwrap(), Some(Verified::Operator));
        // Nobody named: nothing to verify.
        assert_eq!(k.verify(PATH, &HeaderMap::new(), now).unwrap(), None);
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(ServiceKey::new(&[0; 31]).is_err());
    }
}
