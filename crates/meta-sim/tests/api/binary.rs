//! The `meta-sim` binary: it prints where it listens and the development account, serves it, and
//! stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// Starts the binary and returns it with the first `lines` lines it printed.
fn start(args: &[&str], lines: usize) -> (Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meta-sim"))
        .args(args)
        .env_remove("META_SIM_BIND")
        .env_remove("META_SIM_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let printed: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(lines)
        .map(|line| line.expect("stdout is text"))
        .collect();
    (child, printed)
}

fn base_url(banner: &str) -> String {
    banner
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .expect("the banner names the URL")
        .to_owned()
}

/// Sends SIGTERM to the child (by its id) and waits up to five seconds for it to exit.
fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("meta-sim did not stop within five seconds of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_binary_prints_and_serves_the_development_account_and_stops_on_sigterm() {
    let (child, printed) = start(&["--bind", "127.0.0.1:0"], 2);
    let url = base_url(&printed[0]);
    assert!(
        printed[1].contains("access_token=dev-token ad_account=act_1000 pixels=[2000]"),
        "{printed:?}"
    );
    let now = chrono_now();

    let response = reqwest::Client::new()
        .post(format!("{url}/v26.0/2000/events"))
        .json(
            &json!({"access_token": "dev-token", "data": [crate::helpers::purchase(now, "bin-1")]}),
        )
        .send()
        .await
        .expect("the binary answers");

    assert_eq!(response.status(), 200);
    assert!(terminate(child).success());
}

#[tokio::test]
async fn the_binary_reads_accounts_from_a_config_file() {
    let path = std::env::temp_dir().join(format!("meta-sim-config-{}.json", std::process::id()));
    std::fs::write(
        &path,
        json!({"accounts": [{"access_token": "file-token", "ad_account_id": "act_42", "pixel_ids": ["43"]}]})
            .to_string(),
    )
    .unwrap();

    let (child, printed) = start(
        &["--bind", "127.0.0.1:0", "--config", path.to_str().unwrap()],
        2,
    );
    let url = base_url(&printed[0]);
    let response = reqwest::Client::new()
        .post(format!("{url}/v26.0/43/events"))
        .json(&json!({"access_token": "file-token", "data": [crate::helpers::purchase(chrono_now(), "f")]}))
        .send()
        .await
        .expect("the binary answers");
    let dev = reqwest::Client::new()
        .post(format!("{url}/v26.0/2000/events"))
        .json(&json!({"access_token": "dev-token", "data": []}))
        .send()
        .await
        .expect("the binary answers");

    std::fs::remove_file(&path).ok();
    assert!(printed[1].contains("file-token"), "{printed:?}");
    assert_eq!(response.status(), 200);
    assert_eq!(dev.status(), 401);
    assert!(terminate(child).success());
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
