//! Client-side load balancing over every replica of a service, with health
//! checks: one HTTP/2 connection to a Kubernetes ClusterIP would pin all
//! calls to one pod, and a pod that is shutting down must stop receiving
//! calls before it stops serving them.
//!
//! The target is a comma-separated list of `http://host:port` URLs; each host
//! may resolve to several addresses (a headless Service). Every `interval`
//! the addresses are resolved again and health-checked; the channel balances
//! over those that answer SERVING. If none does, it keeps all of them, so
//! calls fail fast (UNAVAILABLE) instead of waiting for an endpoint.

use std::{
    collections::{BTreeSet, HashMap},
    net::SocketAddr,
    time::Duration,
};

use anyhow::Context;
use tonic::transport::{channel::Change, Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

use crate::grpc::ClientTimeouts;

const HEALTH_TIMEOUT: Duration = Duration::from_millis(500);

/// Validated `host:port` targets of a comma-separated URL list.
#[derive(Clone, Debug)]
pub struct Targets(Vec<String>);

impl std::str::FromStr for Targets {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let targets = s
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| {
                let uri: http::Uri = u.parse().with_context(|| format!("{u:?} is not a URL"))?;
                anyhow::ensure!(
                    uri.scheme_str() == Some("http"),
                    "{u:?}: only http:// is supported"
                );
                let host = uri.host().context("no host")?;
                let port = uri.port_u16().context("no port")?;
                Ok(format!("{host}:{port}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!targets.is_empty(), "no service URL given");
        Ok(Self(targets))
    }
}

async fn resolve(targets: &Targets) -> BTreeSet<SocketAddr> {
    let mut out = BTreeSet::new();
    for t in &targets.0 {
        match tokio::net::lookup_host(t).await {
            Ok(addrs) => out.extend(addrs),
            Err(e) => tracing::warn!(target = %t, error = %e, "cannot resolve service"),
        }
    }
    out
}

fn endpoint(addr: SocketAddr, t: ClientTimeouts, tls: Option<&ClientTlsConfig>) -> Endpoint {
    crate::grpc::endpoint(&format!("http://{addr}"), t, tls)
        .expect("a socket address is a valid URI, and the TLS settings were read at start-up")
}

/// A channel balancing over the healthy replicas behind `targets`, kept up to
/// date by a task on the current runtime (it ends when the channel is
/// dropped).
pub fn channel(
    targets: Targets,
    t: ClientTimeouts,
    interval: Duration,
    tls: Option<ClientTlsConfig>,
) -> Channel {
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(64);
    tokio::spawn(async move {
        let mut health: HashMap<SocketAddr, HealthClient<Channel>> = HashMap::new();
        let mut current: BTreeSet<SocketAddr> = BTreeSet::new();
        let mut first = true;
        loop {
            let resolved = resolve(&targets).await;
            if resolved.is_empty() {
                // DNS trouble: keep balancing over what we had.
                tokio::time::sleep(interval).await;
                if changes.is_closed() {
                    return;
                }
                continue;
            }
            health.retain(|a, _| resolved.contains(a));
            let mut serving = BTreeSet::new();
            if !first {
                // All replicas at once: one hanging replica costs one timeout.
                let checks = resolved.iter().map(|&addr| {
                    let mut client = health
                        .entry(addr)
                        .or_insert_with(|| {
                            HealthClient::new(endpoint(addr, t, tls.as_ref()).connect_lazy())
                        })
                        .clone();
                    async move {
                        let check = client.check(HealthCheckRequest {
                            service: String::new(),
                        });
                        matches!(
                            tokio::time::timeout(HEALTH_TIMEOUT, check).await,
                            Ok(Ok(r)) if r.get_ref().status == ServingStatus::Serving as i32
                        )
                        .then_some(addr)
                    }
                });
                let checks: Vec<_> = checks.collect();
                serving.extend(
                    futures::future::join_all(checks)
                        .await
                        .into_iter()
                        .flatten(),
                );
            }
            // At start-up (no checks yet) and when nothing answers: all of them.
            let wanted = if serving.is_empty() {
                resolved
            } else {
                serving
            };
            for gone in current.difference(&wanted) {
                tracing::info!(endpoint = %gone, "removing endpoint");
                if changes.send(Change::Remove(*gone)).await.is_err() {
                    return;
                }
            }
            for new in wanted.difference(&current) {
                tracing::info!(endpoint = %new, "adding endpoint");
                if changes
                    .send(Change::Insert(*new, endpoint(*new, t, tls.as_ref())))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            current = wanted;
            first = false;
            tokio::time::sleep(interval).await;
            if changes.is_closed() {
                return;
            }
        }
    });
    channel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_target_lists() {
        let t: Targets = "http://students-svc:50051, http://127.0.0.1:50061"
            .parse()
            .unwrap();
        assert_eq!(t.0, ["students-svc:50051", "127.0.0.1:50061"]);
        for bad in [
            "",
            " , ",
            "students-svc:50051",
            "https://a:1",
            "http://a",
            "not a url",
        ] {
            assert!(bad.parse::<Targets>().is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn unresolvable_names_resolve_to_nothing() {
        let t: Targets = "http://127.0.0.1:1,http://no-such-host.invalid:1"
            .parse()
            .unwrap();
        let got = resolve(&t).await;
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            ["127.0.0.1:1".parse::<SocketAddr>().unwrap()]
        );
    }
}
