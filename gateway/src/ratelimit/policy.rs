//! Route classes and their policies (`N/Ss`: N requests per S seconds).

use std::{str::FromStr, time::Duration};

use actix_web::http::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteClass {
    /// `POST /auth/login` (per client IP and per account) and
    /// `/auth/refresh` (per client IP); fails closed.
    Login,
    /// Costly operations (`POST /schools`); fails closed.
    Expensive,
    /// Other writes; fails open.
    Write,
    /// Reads; fails open.
    Read,
}

impl RouteClass {
    pub const ALL: [Self; 4] = [Self::Login, Self::Expensive, Self::Write, Self::Read];

    /// The class of a request; `None` for probes, the spec and preflights.
    pub fn of(method: &Method, path: &str) -> Option<Self> {
        let api = path.strip_prefix("/api/v1/")?;
        if api == "openapi.json" || *method == Method::OPTIONS {
            return None;
        }
        Some(match (method, api) {
            // Both spend a secret a guesser would try; per client address.
            (&Method::POST, "auth/login" | "auth/refresh") => Self::Login,
            (&Method::POST, "schools" | "students/import") => Self::Expensive,
            (&Method::GET | &Method::HEAD, _) => Self::Read,
            _ => Self::Write,
        })
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Expensive => "expensive",
            Self::Write => "write",
            Self::Read => "read",
        }
    }

    pub const fn fails_closed(self) -> bool {
        matches!(self, Self::Login | Self::Expensive)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub limit: u32,
    pub window: Duration,
}

impl Policy {
    /// Time one request uses up from the window.
    pub fn interval(&self) -> Duration {
        self.window / self.limit.max(1)
    }
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?}: expected N/Ss, e.g. 10/60s");
        let (n, w) = s.split_once('/').ok_or_else(bad)?;
        let limit: u32 = n.trim().parse().map_err(|_| bad())?;
        let secs: u64 = w
            .trim()
            .strip_suffix('s')
            .ok_or_else(bad)?
            .parse()
            .map_err(|_| bad())?;
        if limit == 0 || secs == 0 {
            return Err(bad());
        }
        Ok(Self {
            limit,
            window: Duration::from_secs(secs),
        })
    }
}

/// A proxy whose `X-Forwarded-For` is believed: an address or a CIDR block
/// (ingress controller pods change addresses within their pod network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedProxy(pub ipnet::IpNet);

impl FromStr for TrustedProxy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(Self)
            .map_err(|_| format!("{s:?}: expected an IP address or a CIDR block"))
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Policies {
    pub login: Policy,
    pub expensive: Policy,
    pub write: Policy,
    pub read: Policy,
}

impl Policies {
    pub fn get(&self, class: RouteClass) -> Policy {
        match class {
            RouteClass::Login => self.login,
            RouteClass::Expensive => self.expensive,
            RouteClass::Write => self.write,
            RouteClass::Read => self.read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policies() {
        let p: Policy = "10/60s".parse().unwrap();
        assert_eq!((p.limit, p.window), (10, Duration::from_secs(60)));
        assert_eq!(p.interval(), Duration::from_secs(6));
        for bad in ["", "10", "0/60s", "10/0s", "10/60", "x/60s", "10/1m"] {
            assert!(bad.parse::<Policy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn all_is_in_discriminant_order() {
        for (i, c) in RouteClass::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?}");
        }
    }

    #[test]
    fn classifies_routes() {
        let c = |m: Method, p: &str| RouteClass::of(&m, p);
        assert_eq!(
            c(Method::POST, "/api/v1/auth/login"),
            Some(RouteClass::Login)
        );
        assert_eq!(
            c(Method::POST, "/api/v1/schools"),
            Some(RouteClass::Expensive)
        );
        assert_eq!(c(Method::GET, "/api/v1/students"), Some(RouteClass::Read));
        assert_eq!(
            c(Method::PATCH, "/api/v1/students/x"),
            Some(RouteClass::Write)
        );
        assert_eq!(c(Method::GET, "/healthz"), None);
        assert_eq!(c(Method::GET, "/api/v1/openapi.json"), None);
        assert_eq!(c(Method::OPTIONS, "/api/v1/students"), None);
    }
}
