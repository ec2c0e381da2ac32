//! Access tokens: HS256 JWTs minted at sign-in and refresh, verified on every
//! request. The algorithm is pinned and exp, nbf, iss, aud and sub are all
//! required, with at most a few seconds of leeway (jsonwebtoken's default is
//! 60 s and no nbf check, so both are overridden). Every token names its
//! session and the user's session epoch (`sess`, `ep`): the edge checks both
//! against Redis in the rate-limit script's call (platform::sessions).

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
    /// The session (students-svc) this token renews with.
    pub sess: Uuid,
    /// The user's session epoch when issued.
    pub ep: i64,
    /// The password must be changed before anything else is served.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chg: bool,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

/// The session an access token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub epoch: i64,
    pub must_change_password: bool,
}

pub struct Tokens {
    /// Tokens that verified, with their expiry: checking the HMAC and
    /// parsing the claims was ~14% of the gateway's CPU on cached reads, and a
    /// client sends the same token with every request. Keyed by the whole
    /// token, so a hit is exactly a token that verified before; bounded, and
    /// every hit re-checks expiry.
    verified: moka::sync::Cache<Box<str>, (Caller, Session, u64)>,
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

    /// A token of a session no sign-in started (tests and benchmarks that
    /// sign their own tokens): only an epoch bump of its user revokes it.
    pub fn issue_unrecorded(&self, caller: &Caller) -> anyhow::Result<String> {
        self.issue(
            caller,
            &Session {
                id: Uuid::now_v7(),
                epoch: 0,
                must_change_password: false,
            },
        )
    }

    pub fn issue(&self, caller: &Caller, session: &Session) -> anyhow::Result<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = Claims {
            sub: caller.user_id,
            sch: caller.school_id,
            role: caller.role.as_str().to_owned(),
            sid: caller.student_id,
            sess: session.id,
            ep: session.epoch,
            chg: session.must_change_password,
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

    pub fn verify(&self, token: &str) -> Result<(Caller, Session), ApiError> {
        self.verify_at(token, unix_now())
            .map(|(caller, session, _)| (caller, session))
    }

    /// `verify`, also returning the token's expiry (Unix seconds): a
    /// WebSocket lives no longer than the token it was opened with.
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Caller, Session, u64), ApiError> {
        self.verify_at(token, unix_now())
    }

    /// `verify` at `now` (seconds): a remembered token is accepted only while
    /// unexpired (with the leeway), as jsonwebtoken would decide.
    fn verify_at(&self, token: &str, now: u64) -> Result<(Caller, Session, u64), ApiError> {
        if let Some((caller, session, exp)) = self.verified.get(token) {
            return if exp.saturating_add(self.validation.leeway) >= now {
                Ok((caller, session, exp))
            } else {
                self.verified.invalidate(token);
                Err(BAD_TOKEN)
            };
        }
        self.decode(token)
    }

    fn decode(&self, token: &str) -> Result<(Caller, Session, u64), ApiError> {
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
        let session = Session {
            id: c.sess,
            epoch: c.ep,
            must_change_password: c.chg,
        };
        self.verified.insert(token.into(), (caller, session, c.exp));
        Ok((caller, session, c.exp))
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
pub struct VerifiedCaller(pub Caller, pub Session);

/// The verified caller of a request: extracting it is authentication (the
/// role checks are `routes::rpc::Rpc`'s). A session that must change its
/// password first is refused here (403) everywhere but [`SignedIn`]'s
/// routes.
pub struct Authenticated(pub Caller);

/// The verified caller and its session, also while the password must be
/// changed: for `/auth/password`, `/auth/logout` and `/auth/me`.
pub struct SignedIn {
    pub caller: Caller,
    pub session: Session,
}

/// The verified caller and session of a request, from the edge or the token.
fn verified(req: &HttpRequest) -> Result<(Caller, Session), ApiError> {
    if let Some(v) = req.extensions().get::<VerifiedCaller>() {
        return Ok((v.0, v.1));
    }
    match (bearer(req), req.app_data::<web::Data<Tokens>>()) {
        (None, _) => Err(ApiError::Unauthenticated(
            "a bearer access token is required",
        )),
        (Some(token), Some(tokens)) => tokens.verify(token),
        (Some(_), None) => Err(ApiError::Unauthenticated(
            "authentication is not configured",
        )),
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(verified(req).map(|(caller, session)| SignedIn { caller, session }))
    }
}

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
        ready(verified(req).and_then(|(caller, session)| {
            if session.must_change_password {
                Err(ApiError::PasswordChangeRequired)
            } else {
                Ok(Authenticated(caller))
            }
        }))
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

    fn session() -> Session {
        Session {
            id: Uuid::now_v7(),
            epoch: 3,
            must_change_password: true,
        }
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
        let s = session();
        assert_eq!(t.verify(&t.issue(&c, &s).unwrap()).unwrap(), (c, s));
        let (_, _, exp) = t.verify_with_expiry(&t.issue(&c, &s).unwrap()).unwrap();
        assert!(exp >= unix_now() + t.ttl().as_secs() - 1);
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let t = tokens();
        let token = t.issue(&caller(), &session()).unwrap();
        let now = unix_now();
        assert!(t.verify_at(&token, now).is_ok());
        assert!(t.verified.contains_key(token.as_str()), "remembered");
        let (_, _, exp) = t.verified.get(token.as_str()).unwrap();
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
        let token = t.issue(&c, &session()).unwrap();
        assert!(t.verify(&token).is_err());
    }
}
