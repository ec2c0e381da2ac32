//! Access tokens: HS256 JWTs minted at login and verified on every request.
//! The algorithm is pinned and exp, nbf, iss, aud and sub are all required,
//! with at most a few seconds of leeway (jsonwebtoken's default is 60 s and
//! no nbf check, so both are overridden).

use std::{
    future::{ready, Ready},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use platform::caller::{Caller, Role};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;
use crate::problem::ApiError;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// School (tenant) id.
    pub sch: Uuid,
    pub role: String,
    /// The student record of a student login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

pub struct Tokens {
    /// Tokens that verified, with their expiry: checking the HMAC and
    /// parsing the claims was ~14% of the gateway's CPU on cached reads, and a
    /// client sends the same token with every request. Keyed by the whole
    /// token, so a hit is exactly a token that verified before; bounded, and
    /// every hit re-checks expiry.
    verified: moka::sync::Cache<Box<str>, (Caller, u64)>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl Tokens {
    pub fn new(c: &Config) -> Self {
        let secret = c.jwt_secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = c.jwt_leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[c.jwt_issuer.as_str()]);
        validation.set_audience(&[c.jwt_audience.as_str()]);
        Self {
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_TOKENS)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: c.jwt_issuer.clone(),
            audience: c.jwt_audience.clone(),
            ttl: Duration::from_secs(c.jwt_ttl_secs),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, caller: &Caller) -> anyhow::Result<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = Claims {
            sub: caller.user_id,
            sch: caller.school_id,
            role: caller.role.as_str().to_owned(),
            sid: caller.student_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        self.verify_at(token, unix_now()).map(|(caller, _)| caller)
    }

    /// `verify`, also returning the token's expiry (Unix seconds): a
    /// WebSocket lives no longer than the token it was opened with.
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Caller, u64), ApiError> {
        self.verify_at(token, unix_now())
    }

    /// `verify` at `now` (seconds): a remembered token is accepted only while
    /// unexpired (with the leeway), as jsonwebtoken would decide.
    fn verify_at(&self, token: &str, now: u64) -> Result<(Caller, u64), ApiError> {
        if let Some((caller, exp)) = self.verified.get(token) {
            return if exp.saturating_add(self.validation.leeway) >= now {
                Ok((caller, exp))
            } else {
                self.verified.invalidate(token);
                Err(BAD_TOKEN)
            };
        }
        self.decode(token)
    }

    fn decode(&self, token: &str) -> Result<(Caller, u64), ApiError> {
        const BAD: ApiError = BAD_TOKEN;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| BAD)?;
        let c = data.claims;
        let role: Role = c.role.parse().map_err(|_| BAD)?;
        if (role == Role::Student) != c.sid.is_some() {
            return Err(BAD);
        }
        let caller = Caller {
            school_id: c.sch,
            user_id: c.sub,
            role,
            student_id: c.sid,
        };
        self.verified.insert(token.into(), (caller, c.exp));
        Ok((caller, c.exp))
    }
}

const BAD_TOKEN: ApiError = ApiError::Unauthenticated("the access token is invalid or expired");

/// Verified tokens remembered (about 300 bytes each).
const VERIFIED_TOKENS: u64 = 20_000;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A caller whose token an earlier middleware already verified.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedCaller(pub Caller);

/// The verified caller of a request: extracting it is authentication (the
/// role checks are `routes::rpc::Rpc`'s).
pub struct Authenticated(pub Caller);

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The subprotocol a browser offers to carry its token on a WebSocket
/// upgrade (`new WebSocket(url, ["bearer", token])`): browsers cannot set
/// `Authorization` there, and a token in the URL would land in access logs.
pub const WS_BEARER_PROTOCOL: &str = "bearer";

/// The token of a WebSocket upgrade: `Authorization: Bearer …`, else the item
/// after `bearer` in `Sec-WebSocket-Protocol`. Only upgrade requests look at
/// the subprotocol header.
pub fn upgrade_token(req: &HttpRequest) -> Option<&str> {
    if let Some(t) = bearer(req) {
        return Some(t);
    }
    let upgrade = req.headers().get(header::UPGRADE)?.to_str().ok()?;
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return None;
    }
    req.headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .skip_while(|p| *p != WS_BEARER_PROTOCOL)
        .nth(1)
        .filter(|t| !t.is_empty())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(v) = req.extensions().get::<VerifiedCaller>() {
            return ready(Ok(Authenticated(v.0)));
        }
        let result = match (bearer(req), req.app_data::<web::Data<Tokens>>()) {
            (None, _) => Err(ApiError::Unauthenticated(
                "a bearer access token is required",
            )),
            (Some(token), Some(tokens)) => tokens.verify(token).map(Authenticated),
            (Some(_), None) => Err(ApiError::Unauthenticated(
                "authentication is not configured",
            )),
        };
        ready(result)
    }
}

/// Constant-time check of the operator token on operator-only routes.
pub fn require_operator(req: &HttpRequest, expected: &str) -> Result<(), ApiError> {
    let given = bearer(req).ok_or(ApiError::Unauthenticated("an operator token is required"))?;
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(a.len() ^ b.len(), |acc, (x, y)| acc | usize::from(x ^ y));
    if diff == 0 {
        Ok(())
    } else {
        Err(ApiError::Unauthenticated("the operator token is invalid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&Config::for_tests(String::new(), String::new()))
    }

    fn caller() -> Caller {
        Caller {
            school_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            role: Role::Teacher,
            student_id: None,
        }
    }

    #[test]
    fn issued_tokens_verify() {
        let t = tokens();
        let c = caller();
        assert_eq!(t.verify(&t.issue(&c).unwrap()).unwrap(), c);
        let (_, exp) = t.verify_with_expiry(&t.issue(&c).unwrap()).unwrap();
        assert!(exp >= unix_now() + t.ttl().as_secs() - 1);
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let t = tokens();
        let token = t.issue(&caller()).unwrap();
        let now = unix_now();
        assert!(t.verify_at(&token, now).is_ok());
        assert!(t.verified.contains_key(token.as_str()), "remembered");
        let (_, exp) = t.verified.get(token.as_str()).unwrap();
        let leeway = t.validation.leeway;
        assert!(t.verify_at(&token, exp + leeway).is_ok());
        assert!(t.verify_at(&token, exp + leeway + 1).is_err());
        assert!(
            !t.verified.contains_key(token.as_str()),
            "forgotten once expired"
        );
        // A tampered token is never served from memory.
        let mut tampered = token.clone();
        tampered.pop();
        assert!(t.verify_at(&tampered, now).is_err());
    }

    #[test]
    fn a_student_token_without_its_student_is_rejected() {
        let t = tokens();
        let mut c = caller();
        c.role = Role::Student;
        let token = t.issue(&c).unwrap();
        assert!(t.verify(&token).is_err());
    }
}
