//! TLS between the gateway and the services (and between services), mutual
//! where configured: each process reads the same few variables, so every
//! binary is configured alike (docs/OPERATIONS.md, "gRPC TLS").
//!
//! - A server with `GRPC_TLS_CERT` and `GRPC_TLS_KEY` listens with TLS only;
//!   with `GRPC_TLS_MUTUAL=true` it also demands a client certificate signed
//!   by `GRPC_TLS_CA`.
//! - A client with `GRPC_TLS_CA` dials its services with TLS (`https`),
//!   checking their certificates against that CA and for the name
//!   `GRPC_TLS_SERVER_NAME` (pods are dialled by address, so the name is not
//!   the address); with a certificate and key of its own it presents them.
//! - Nothing set: plaintext, which only `make run` and the tests use.
//!
//! The files are PEM, as a cert-manager Certificate's Secret holds them
//! (`tls.crt`, `tls.key`, `ca.crt`), and are read at start-up.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

#[derive(clap::Args, Clone, Debug, Default)]
pub struct TlsArgs {
    /// PEM certificate (chain) of this process: served by a service, shown
    /// as the client certificate by a caller under mutual TLS.
    #[arg(long, env = "GRPC_TLS_CERT")]
    pub grpc_tls_cert: Option<PathBuf>,
    /// PEM private key of `GRPC_TLS_CERT`.
    #[arg(long, env = "GRPC_TLS_KEY", hide_env_values = true)]
    pub grpc_tls_key: Option<PathBuf>,
    /// PEM CA the services' certificates (and, under mutual TLS, the
    /// callers') are signed by. Set: this process calls its services with TLS.
    #[arg(long, env = "GRPC_TLS_CA")]
    pub grpc_tls_ca: Option<PathBuf>,
    /// A service with TLS also demands a client certificate signed by
    /// `GRPC_TLS_CA`.
    #[arg(long, env = "GRPC_TLS_MUTUAL", default_value_t = false, action = clap::ArgAction::Set)]
    pub grpc_tls_mutual: bool,
    /// The name in the services' certificates.
    #[arg(long, env = "GRPC_TLS_SERVER_NAME", default_value = "schoolhouse-grpc")]
    pub grpc_tls_server_name: String,
    /// A service with TLS: a second, plaintext listener serving only
    /// `grpc.health.v1` (the same statuses), for kubelet's gRPC probes, which
    /// cannot speak TLS. It carries no caller and no data.
    #[arg(long, env = "GRPC_PROBE_LISTEN")]
    pub grpc_probe_listen: Option<std::net::SocketAddr>,
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

impl TlsArgs {
    fn identity(&self) -> anyhow::Result<Option<Identity>> {
        match (&self.grpc_tls_cert, &self.grpc_tls_key) {
            (Some(cert), Some(key)) => Ok(Some(Identity::from_pem(
                read(cert, "GRPC_TLS_CERT")?,
                read(key, "GRPC_TLS_KEY")?,
            ))),
            (None, None) => Ok(None),
            _ => anyhow::bail!("GRPC_TLS_CERT and GRPC_TLS_KEY go together"),
        }
    }

    fn ca(&self) -> anyhow::Result<Option<Certificate>> {
        self.grpc_tls_ca
            .as_deref()
            .map(|p| read(p, "GRPC_TLS_CA").map(Certificate::from_pem))
            .transpose()
    }

    /// The server side: `None` (plaintext) unless a certificate is set.
    pub fn server(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        let Some(identity) = self.identity()? else {
            anyhow::ensure!(
                !self.grpc_tls_mutual,
                "GRPC_TLS_MUTUAL needs GRPC_TLS_CERT and GRPC_TLS_KEY"
            );
            return Ok(None);
        };
        let mut tls = ServerTlsConfig::new().identity(identity);
        if self.grpc_tls_mutual {
            let ca = self
                .ca()?
                .context("GRPC_TLS_MUTUAL needs GRPC_TLS_CA to check callers against")?;
            tls = tls.client_ca_root(ca);
        }
        Ok(Some(tls))
    }

    /// The client side: `None` (plaintext) unless a CA is set.
    pub fn client(&self) -> anyhow::Result<Option<ClientTlsConfig>> {
        let Some(ca) = self.ca()? else {
            return Ok(None);
        };
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(ca)
            .domain_name(self.grpc_tls_server_name.clone());
        if let Some(identity) = self.identity()? {
            tls = tls.identity(identity);
        }
        Ok(Some(tls))
    }
}

/// A service's listening set-up beyond its routes, read at start-up: the
/// TLS of its gRPC port and its plaintext probe listener.
pub struct Listening {
    tls: Option<ServerTlsConfig>,
    probe: Option<tokio::net::TcpListener>,
}

/// Keeps the probe listener serving; it stops when this is dropped.
pub type ProbeGuard = tokio::sync::oneshot::Sender<()>;

impl TlsArgs {
    /// Reads the certificates and binds the probe listener (failing start-up
    /// rather than the first call).
    pub async fn listening(&self) -> anyhow::Result<Listening> {
        let probe = match self.grpc_probe_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (GRPC_PROBE_LISTEN)"))?,
            ),
            None => None,
        };
        Ok(Listening {
            tls: self.server()?,
            probe,
        })
    }
}

impl Listening {
    /// The probe listener's address, if there is one.
    pub fn probe_addr(&self) -> Option<std::net::SocketAddr> {
        self.probe.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Starts the probe listener serving `health` (the service's own, so the
    /// same statuses) and returns the gRPC server builder, with TLS when
    /// configured. Keep the guard for as long as the service serves.
    pub fn start(
        self,
        health: tonic_health::pb::health_server::HealthServer<
            impl tonic_health::pb::health_server::Health,
        >,
    ) -> anyhow::Result<(tonic::transport::Server, ProbeGuard)> {
        let (guard, stopped) = tokio::sync::oneshot::channel::<()>();
        if let Some(listener) = self.probe {
            tokio::spawn(async move {
                let stop = async {
                    let _ = stopped.await;
                };
                if let Err(e) = crate::grpc::serve_probe(listener, health, stop).await {
                    tracing::error!(error = %e, "the probe listener failed");
                }
            });
        }
        let mut server = tonic::transport::Server::builder();
        if let Some(tls) = self.tls {
            server = server.tls_config(tls)?;
        }
        Ok((server, guard))
    }
}
