//! The jobs and SMS configuration refuses what cannot work.

use clap::Parser;
use notify_svc::Config;

fn parse(extra: &[&str]) -> Config {
    let mut args = vec![
        "notify-svc",
        "--service-auth-key",
        platform::trust::TEST_KEY,
        "--database-url",
        "postgres://u@h/db",
    ];
    args.extend_from_slice(extra);
    Config::try_parse_from(args).unwrap()
}

#[test]
fn no_provider_is_allowed_but_a_partial_one_is_not() {
    assert!(parse(&[]).jobs.sms.client().unwrap().is_none());
    let partial = parse(&["--sms-base-url", "https://sms.example"]);
    let err = partial.jobs.sms.client().unwrap_err().to_string();
    assert!(err.contains("set all three or none"), "{err}");
    let full = parse(&[
        "--sms-base-url",
        "https://sms.example/api",
        "--sms-api-key",
        "secret-key-1",
        "--sms-from",
        "Schoolhouse",
    ]);
    let client = full.jobs.sms.client().unwrap().unwrap();
    let shown = format!("{client:?} {full:?}");
    assert!(
        shown.contains("https://sms.example/api/v1/messages"),
        "{shown}"
    );
    assert!(!shown.contains("secret-key-1"), "{shown}");
    let not_a_url = parse(&[
        "--sms-base-url",
        "sms.example",
        "--sms-api-key",
        "k",
        "--sms-from",
        "S",
    ]);
    assert!(not_a_url.jobs.sms.client().is_err());
}

#[test]
fn the_lease_must_outlast_a_send() {
    assert!(parse(&[]).jobs.settings().is_ok());
    let short = parse(&["--jobs-lease-ms", "12000", "--sms-timeout-ms", "10000"]);
    let err = short.jobs.settings().unwrap_err().to_string();
    assert!(err.contains("NOTIFY_JOBS_LEASE_MS"), "{err}");
    assert!(Config::try_parse_from([
        "notify-svc",
        "--service-auth-key",
        platform::trust::TEST_KEY,
        "--database-url",
        "x",
        "--jobs-workers",
        "65"
    ])
    .is_err());
}
