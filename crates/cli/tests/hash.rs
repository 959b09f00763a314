//! Runs the real `audiencectl` binary: `hash` reads JSON lines on stdin and answers each one on
//! stdout, and the exit status tells whether any line was malformed.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

/// Runs `audiencectl <args>` with `stdin` and returns its output.
fn audiencectl(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_audiencectl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("audiencectl starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the input");
    child.wait_with_output().expect("audiencectl finishes")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?} is not JSON: {e}")))
        .collect()
}

#[test]
fn hash_answers_every_line_in_order_and_exits_0() {
    let input = [
        r#"{"field":"ph","value":"020 7946 0958","country":"gb"}"#,
        r#"{"field":"em","value":"  Jane.Doe+Shop@Example.COM "}"#,
        r#"{"field":"st","value":"California","country":"US"}"#,
        r#"{"field":"fn","value":"1234"}"#,
        r#"{"field":"ph","value":"12345"}"#,
        r#"{"field":"db","value":"1999-02-29"}"#,
        r#"{"field":"currency","value":"cad"}"#,
        r#"{"field":"external_id","value":"207119551"}"#,
        r#"{"field":"em","value":"973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B"}"#,
    ]
    .join("\n");

    let output = audiencectl(&["hash"], &input);

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let already = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b";
    assert_eq!(
        json_lines(&output),
        [
            json!({"field": "ph", "normalized": "442079460958",
                   "sha256": "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823"}),
            json!({"field": "em", "normalized": "jane.doe+shop@example.com",
                   "sha256": audience_core::normalize::Hashed::of("jane.doe+shop@example.com").as_str()}),
            json!({"field": "st", "normalized": "ca",
                   "sha256": audience_core::normalize::Hashed::of("ca").as_str()}),
            json!({"field": "fn", "normalized": null, "sha256": null}),
            json!({"field": "ph", "error": "invalid phone"}),
            json!({"field": "db", "error": "invalid date of birth"}),
            json!({"field": "currency", "normalized": "CAD", "sha256": null}),
            json!({"field": "external_id", "normalized": "207119551",
                   "sha256": audience_core::normalize::Hashed::of("207119551").as_str()}),
            json!({"field": "em", "normalized": already, "sha256": already}),
        ]
    );
}

#[test]
fn hash_reports_malformed_lines_continues_and_exits_1() {
    let input = concat!(
        "{\"field\":\"ph\",\"value\":\n",
        "{\"field\":\"phone\",\"value\":\"+44 20 7946 0958\"}\n",
        "{\"field\":\"ge\",\"value\":\"Female\"}\n",
    );

    let output = audiencectl(&["hash"], input);

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["line"], 1);
    assert!(
        lines[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("EOF")),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["line"], 2);
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("unknown field \"phone\"")),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        json!({"field": "ge", "normalized": "f",
               "sha256": audience_core::normalize::Hashed::of("f").as_str()})
    );
}

#[test]
fn hash_with_empty_input_writes_nothing_and_exits_0() {
    let output = audiencectl(&["hash"], "");

    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
}

#[test]
fn hash_help_documents_the_exit_status() {
    let output = audiencectl(&["hash", "--help"], "");

    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).expect("UTF-8 help");
    assert!(help.contains("Exit status"), "{help}");
    assert!(
        help.contains("1  at least one line was malformed"),
        "{help}"
    );
}
