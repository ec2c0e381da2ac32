//! gRPC over TLS (platform::grpc_tls), mutual: with certificates made here
//! (a CA the deployment trusts and a rogue one), students-svc serves only
//! callers presenting a certificate its CA signed, and callers accept only a
//! server its CA signed for the expected name. Plaintext is refused.

use std::path::PathBuf;

use platform::grpc::ClientTimeouts;
use platform::grpc_tls::TlsArgs;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use students_svc::{config::Config, startup::Application};
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

const NAME: &str = "schoolhouse-grpc";

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    Ca {
        cert: p.self_signed(&key).unwrap(),
        key,
    }
}

/// A leaf for `name`, good for both ends of a connection; its PEM files.
fn leaf(dir: &std::path::Path, file: &str, by: &Ca, name: &str) -> (PathBuf, PathBuf) {
    let mut p = CertificateParams::new(vec![name.to_owned()]).unwrap();
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &by.cert, &by.key).unwrap();
    let (c, k) = (
        dir.join(format!("{file}.crt")),
        dir.join(format!("{file}.key")),
    );
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

fn pem(dir: &std::path::Path, file: &str, ca: &Ca) -> PathBuf {
    let path = dir.join(format!("{file}.crt"));
    std::fs::write(&path, ca.cert.pem()).unwrap();
    path
}

/// Whether a health check through a channel made from `tls` succeeds.
async fn reaches(addr: std::net::SocketAddr, tls: &TlsArgs) -> bool {
    let client_tls = tls.client().unwrap();
    let timeouts = ClientTimeouts {
        connect: std::time::Duration::from_secs(2),
        request: std::time::Duration::from_secs(2),
    };
    let channel =
        platform::grpc::channel(&format!("http://{addr}"), timeouts, client_tls.as_ref()).unwrap();
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .is_ok()
}

#[tokio::test]
async fn mutual_tls_serves_only_callers_its_ca_signed() {
    let dir = std::env::temp_dir().join(format!("schoolhouse-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (trusted, rogue) = (ca("schoolhouse test CA"), ca("rogue CA"));
    let trusted_pem = pem(&dir, "ca", &trusted);
    let rogue_pem = pem(&dir, "rogue-ca", &rogue);
    let (server_cert, server_key) = leaf(&dir, "server", &trusted, NAME);
    let (client_cert, client_key) = leaf(&dir, "client", &trusted, "gateway");
    let (rogue_cert, rogue_key) = leaf(&dir, "rogue", &rogue, "gateway");

    let db = platform::testing::fresh_database().await.unwrap();
    let mut config = Config::for_database(&db.students_url);
    config.grpc_tls = TlsArgs {
        grpc_tls_cert: Some(server_cert.clone()),
        grpc_tls_key: Some(server_key.clone()),
        grpc_tls_ca: Some(trusted_pem.clone()),
        grpc_tls_mutual: true,
        grpc_tls_server_name: NAME.into(),
        grpc_probe_listen: Some("127.0.0.1:0".parse().unwrap()),
    };
    let app = Application::build(&config).await.unwrap();
    let addr = app.local_addr();
    let probe = app.probe_addr().expect("a probe listener");
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let client =
        |cert: Option<&PathBuf>, key: Option<&PathBuf>, ca: Option<&PathBuf>, name: &str| TlsArgs {
            grpc_tls_cert: cert.cloned(),
            grpc_tls_key: key.cloned(),
            grpc_tls_ca: ca.cloned(),
            grpc_tls_mutual: false,
            grpc_tls_server_name: name.into(),
            grpc_probe_listen: None,
        };
    // The deployment's caller: its CA's certificate, trusting that CA.
    assert!(
        reaches(
            addr,
            &client(
                Some(&client_cert),
                Some(&client_key),
                Some(&trusted_pem),
                NAME
            )
        )
        .await,
        "a caller with the right certificate"
    );
    for (what, tls) in [
        ("plaintext", client(None, None, None, NAME)),
        (
            "no client certificate",
            client(None, None, Some(&trusted_pem), NAME),
        ),
        (
            "a certificate of another CA",
            client(
                Some(&rogue_cert),
                Some(&rogue_key),
                Some(&trusted_pem),
                NAME,
            ),
        ),
        (
            "a server its CA does not vouch for",
            client(
                Some(&client_cert),
                Some(&client_key),
                Some(&rogue_pem),
                NAME,
            ),
        ),
        (
            "another server name",
            client(
                Some(&client_cert),
                Some(&client_key),
                Some(&trusted_pem),
                "somebody-else",
            ),
        ),
    ] {
        assert!(!reaches(addr, &tls).await, "{what} was served");
    }
    // Kubelet's probes, which cannot speak TLS, get the health service (and
    // only it) in plaintext on the probe port.
    let plain = client(None, None, None, NAME);
    assert!(
        reaches(probe, &plain).await,
        "the probe port answers health"
    );
    let timeouts = ClientTimeouts {
        connect: std::time::Duration::from_secs(2),
        request: std::time::Duration::from_secs(2),
    };
    let channel = platform::grpc::channel(&format!("http://{probe}"), timeouts, None).unwrap();
    let err = proto::students::v1::auth_service_client::AuthServiceClient::new(channel)
        .login(proto::students::v1::LoginRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented, "nothing else there");
    // Half a configuration is refused at start-up, not at the first call.
    let mut half = config.clone();
    half.grpc_tls.grpc_tls_key = None;
    assert!(Application::build(&half).await.is_err());
    std::fs::remove_dir_all(&dir).ok();
}
