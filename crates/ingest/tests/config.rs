//! The `ingest` binary refuses bad configuration at start-up, naming the variable.

use std::process::Command;

fn run_with(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ingest"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("ingest runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_missing_secret_stops_start_up_naming_the_variable() {
    let (code, stderr) = run_with(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("SHOPIFY_API_SECRET"), "{stderr}");
}

#[test]
fn bad_values_stop_start_up_naming_the_variable() {
    for (name, value) in [
        ("INGEST_MAX_BODY_BYTES", "four megabytes"),
        ("INGEST_BIND", "localhost"),
        ("INGEST_CONFIRM_TIMEOUT_MS", "9000"),
        ("INGEST_WORKERS", "0"),
        ("SHOP_COUNTRY", "usa"),
    ] {
        let (code, stderr) = run_with(&[("SHOPIFY_API_SECRET", "s"), (name, value)]);
        assert_eq!(code, Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
    }
}

#[test]
fn the_secret_is_never_echoed_in_a_configuration_error() {
    let (code, stderr) = run_with(&[("SHOPIFY_API_SECRET", " , "), ("INGEST_WORKERS", "2")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("SHOPIFY_API_SECRET"), "{stderr}");
}
