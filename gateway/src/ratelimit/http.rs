//! The HTTP side of the limiter: whose budget a request spends, and the IETF
//! httpapi `RateLimit-Policy` / `RateLimit` headers on every limited response.

use std::net::IpAddr;

use actix_web::{
    dev::ServiceRequest,
    http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER},
    HttpResponse, ResponseError,
};
use platform::caller::Caller;

use super::{Decision, RateLimiter, RouteClass, TrustedProxy};
use crate::problem::ApiError;

const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const STATE: HeaderName = HeaderName::from_static("ratelimit");

fn ceil_secs(d: std::time::Duration) -> u64 {
    d.as_micros().div_ceil(1_000_000) as u64
}

/// The client address: the peer, unless the peer is a trusted proxy, in which
/// case the right-most `X-Forwarded-For` entry that is not itself trusted.
/// Untrusted peers cannot spoof their address with the header.
pub fn client_ip(req: &ServiceRequest, trusted: &[TrustedProxy]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| t.0.contains(ip));
    let peer = req.peer_addr()?.ip();
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    forwarded
        .rsplit(',')
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|ip| !is_trusted(ip))
        .or(Some(peer))
}

/// Whose budget a request spends: the user within its school's slot when
/// its token verified, otherwise the client address.
pub fn subject(
    req: &ServiceRequest,
    class: RouteClass,
    caller: Option<&Caller>,
    trusted: &[TrustedProxy],
) -> String {
    match caller {
        Some(c) => format!(
            "rl:{{school:{}}}:{}:u:{}",
            c.school_id,
            class.name(),
            c.user_id
        ),
        None => {
            let ip =
                client_ip(req, trusted).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            format!("rl:{{ip:{ip}}}:{}", class.name())
        }
    }
}

/// The `RateLimit-Policy` value of a policy (built once per class).
pub fn policy_header(class: RouteClass, p: &super::Policy) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "\"{}\";q={};w={}",
        class.name(),
        p.limit,
        p.window.as_secs()
    ))
    .ok()
}

pub fn write_headers(h: &mut HeaderMap, class: RouteClass, limiter: &RateLimiter, d: &Decision) {
    let name = class.name();
    if let Some(v) = limiter.policy_header(class) {
        h.insert(POLICY, v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "\"{name}\";r={};t={}",
        d.remaining,
        ceil_secs(d.reset)
    )) {
        h.insert(STATE, v);
    }
    if !d.allowed {
        h.insert(
            RETRY_AFTER,
            HeaderValue::from(ceil_secs(d.retry_after).max(1)),
        );
    }
}

/// The answer to a refused check: 429 with the limit headers, or 503 when
/// Redis is away and the class fails closed.
pub fn refusal(
    class: RouteClass,
    limiter: &RateLimiter,
    outcome: Result<Decision, super::Unavailable>,
) -> HttpResponse {
    match outcome {
        Ok(d) => {
            let mut res = ApiError::RateLimited.error_response();
            write_headers(res.headers_mut(), class, limiter, &d);
            res
        }
        Err(_) => {
            let mut res = ApiError::LimiterUnavailable.error_response();
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(1u32));
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: TrustedProxy = "10.0.0.0/24".parse().unwrap();
        let req = |peer: &str| {
            TestRequest::default()
                .peer_addr(format!("{peer}:4000").parse().unwrap())
                .insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.1"))
                .to_srv_request()
        };
        // An untrusted peer cannot choose its address.
        assert_eq!(
            client_ip(&req("198.51.100.9"), &[proxy]),
            Some("198.51.100.9".parse().unwrap())
        );
        // Through the trusted proxy: the right-most untrusted hop, not the
        // client-controlled left-most one.
        assert_eq!(
            client_ip(&req("10.0.0.1"), &[proxy]),
            Some("203.0.113.7".parse().unwrap())
        );
        let garbage = TestRequest::default()
            .peer_addr("10.0.0.1:4000".parse().unwrap())
            .insert_header(("x-forwarded-for", "not-an-ip"))
            .to_srv_request();
        assert_eq!(
            client_ip(&garbage, &[proxy]),
            Some("10.0.0.1".parse().unwrap())
        );
        for ok in ["10.0.0.7", "10.1.0.0/16", "::1", "fd00::/8"] {
            assert!(ok.parse::<TrustedProxy>().is_ok(), "{ok}");
        }
        for bad in ["", "10.0.0", "10.0.0.0/33", "proxy.local"] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
    }
}
