//! The `segmenter` binary: `migrate` creates and migrates the database; a bad setting stops it
//! with a message naming the variable.

use std::process::Command;

use crate::helpers::PG_SERVER;

#[test]
fn segmenter_migrate_creates_and_migrates_the_database() {
    let url = format!("{PG_SERVER}/seg_test_{}", uuid::Uuid::new_v4().simple());
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_segmenter"))
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "info")
            .output()
            .expect("segmenter runs")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let log = String::from_utf8_lossy(&first.stdout);
    assert!(log.contains("\"applied\":4"), "{log}");
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("\"applied\":0"));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(audience_segmenter::db::migrate::drop_database(&url))
        .expect("drop");
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_variable() {
    for (name, value) in [
        ("SEGMENTER_PREFETCH", "many"),
        ("SEGMENTER_BATCH_SIZE", "100000"),
        ("SEGMENTER_SWEEP_INTERVAL_SECS", "0"),
        ("SEGMENTER_HTTP_BIND", "nowhere"),
        ("DATABASE_URL", "mysql://x/y"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_segmenter"))
            .arg("run")
            .env(name, value)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}
