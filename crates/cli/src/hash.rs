//! `audiencectl hash`: runs customer data through `audience_core::normalize`, the exact code the
//! services use before anything reaches Meta, so an operator or a test can see what a value
//! normalizes and hashes to (and why a value is rejected) without reading the code.
//!
//! Input is JSON lines, `{"field":"ph","value":"020 7946 0958","country":"gb"}`, where `field` is
//! a Conversions API key (`em ph fn ln ge db ct st zp country external_id`, or `currency`) and
//! `country` (optional) is the ISO alpha-2 context used by `ph`, `st` and `zp`. Each input line
//! gives one output line, in order:
//!
//! - `{"field":"ph","normalized":"442079460958","sha256":"35e2…"}`; both `null` when the field is
//!   omitted (empty after normalization); `sha256` is `null` for `currency` (never hashed);
//! - `{"field":"ph","error":"invalid phone"}` when the value is rejected (data, not a failure);
//! - `{"error":"…","line":N}` when the line itself is malformed (not JSON, a missing or unknown
//!   key, an unknown field name); processing goes on with the next line.
//!
//! Blank lines are skipped. The exit status is 0 when every line was processable, 1 when any
//! line was malformed, 2 on an I/O error.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use audience_core::normalize::{self, Field, Hashed, NormalizeError};
use serde::{Deserialize, Serialize};

/// `--help` text for the subcommand.
pub const LONG_ABOUT: &str = "\
Normalize and SHA-256-hash customer data exactly as audience-sync does before sending it to Meta.

Reads JSON lines on stdin, e.g.
  {\"field\":\"ph\",\"value\":\"020 7946 0958\",\"country\":\"gb\"}
where field is a Conversions API key (em ph fn ln ge db ct st zp country external_id, or
currency) and country (optional) is the ISO alpha-2 context used by ph, st and zp.

Writes one JSON line per input line, in order:
  {\"field\":\"ph\",\"normalized\":\"442079460958\",\"sha256\":\"35e2...\"}
normalized and sha256 are null when the field is omitted (empty after normalization); sha256 is
null for currency, which is never hashed. A rejected value gives
  {\"field\":\"ph\",\"error\":\"invalid phone\"}
and a malformed line (not JSON, missing or unknown key, unknown field) gives
  {\"error\":\"<reason>\",\"line\":N}
after which processing continues. Blank lines are skipped.";

/// `--help` text on the exit status.
pub const EXIT_STATUS: &str = "\
Exit status:
  0  every line was processable JSON (rejected values such as an invalid phone are data, not
     failures)
  1  at least one line was malformed (each one is reported in the output)
  2  reading stdin or writing stdout failed";

/// Exit status when at least one line was malformed.
pub const EXIT_MALFORMED: u8 = 1;
/// Exit status when reading or writing failed.
pub const EXIT_IO_ERROR: u8 = 2;

/// What a run saw, for the exit status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Input lines answered (blank lines are not counted).
    pub lines: usize,
    /// Lines that were malformed.
    pub malformed: usize,
}

impl Summary {
    /// 0 when every line was processable, [`EXIT_MALFORMED`] otherwise.
    pub fn exit_code(self) -> ExitCode {
        if self.malformed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_MALFORMED)
        }
    }
}

/// One input line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    field: String,
    value: String,
    #[serde(default)]
    country: Option<String>,
}

/// What a field key names: a hashed `user_data` field, or `custom_data.currency`.
#[derive(Clone, Copy)]
enum Target {
    User(Field),
    Currency,
}

impl Target {
    /// Conversions API keys only (`em`, not `EMAIL`): this tool speaks the CAPI vocabulary.
    fn from_key(key: &str) -> Option<Target> {
        if key == "currency" {
            return Some(Target::Currency);
        }
        Field::ALL
            .into_iter()
            .find(|f| f.capi_key() == key)
            .map(Target::User)
    }
}

/// One output line.
#[derive(Serialize)]
#[serde(untagged)]
enum Output<'a> {
    Value {
        field: &'a str,
        normalized: Option<String>,
        sha256: Option<Hashed>,
    },
    Rejected {
        field: &'a str,
        error: NormalizeErrorText,
    },
    Malformed {
        error: String,
        line: usize,
    },
}

/// A [`NormalizeError`] serialized as its message (`"invalid phone"`).
struct NormalizeErrorText(NormalizeError);

impl Serialize for NormalizeErrorText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Reads JSON lines from `reader` and writes one answer line per input line to `writer`.
///
/// Malformed lines are answered with an error line and counted; only an I/O error stops the run.
///
/// # Errors
///
/// Any error reading `reader` or writing `writer`.
pub fn run<R: BufRead, W: Write>(mut reader: R, mut writer: W) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let line = match std::str::from_utf8(&buf) {
            Ok(line) => line,
            Err(e) => {
                summary.lines += 1;
                summary.malformed += 1;
                let error = format!("line is not valid UTF-8: {e}");
                write_line(
                    &mut writer,
                    &Output::Malformed {
                        error,
                        line: line_no,
                    },
                )?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        let output = answer(line, line_no);
        if matches!(output, Output::Malformed { .. }) {
            summary.malformed += 1;
        }
        write_line(&mut writer, &output)?;
    }
    writer.flush()?;
    Ok(summary)
}

/// The answer to one non-blank line.
fn answer(line: &str, line_no: usize) -> Output<'static> {
    let malformed = |error: String| Output::Malformed {
        error,
        line: line_no,
    };
    let input: Input = match serde_json::from_str(line) {
        Ok(input) => input,
        Err(e) => return malformed(json_error(&e)),
    };
    let Some(target) = Target::from_key(&input.field) else {
        return malformed(format!(
            "unknown field {:?}; expected one of: {}, currency",
            input.field,
            Field::ALL.map(Field::capi_key).join(", ")
        ));
    };
    let field = match target {
        Target::User(f) => f.capi_key(),
        Target::Currency => "currency",
    };
    let result = match target {
        Target::User(f) => normalize::normalize(f, &input.value, input.country.as_deref())
            .map(|n| n.map_or((None, None), |n| (Some(n.value), Some(n.hash)))),
        Target::Currency => normalize::normalize_currency(&input.value).map(|c| (c, None)),
    };
    match result {
        Ok((normalized, sha256)) => Output::Value {
            field,
            normalized,
            sha256,
        },
        Err(e) => Output::Rejected {
            field,
            error: NormalizeErrorText(e),
        },
    }
}

/// A `serde_json` error as a reason for the line: whether it is not JSON at all or JSON of the
/// wrong shape, with the column (the line number is reported separately).
fn json_error(e: &serde_json::Error) -> String {
    let kind = if e.is_data() {
        "invalid input"
    } else {
        "invalid JSON"
    };
    let message = e.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m);
    format!("{kind}: {message} (column {})", e.column())
}

fn write_line<W: Write>(writer: &mut W, output: &Output<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *writer, output)?;
    writer.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_lines(input: &str) -> (Vec<serde_json::Value>, Summary) {
        let mut out = Vec::new();
        let summary = run(input.as_bytes(), &mut out).expect("in-memory I/O");
        let text = String::from_utf8(out).expect("UTF-8 output");
        let lines = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
            .collect();
        (lines, summary)
    }

    #[test]
    fn a_phone_is_normalized_and_hashed() {
        let (out, summary) = hash_lines(r#"{"field":"ph","value":"020 7946 0958","country":"gb"}"#);
        assert_eq!(
            out,
            [serde_json::json!({
                "field": "ph",
                "normalized": "442079460958",
                "sha256": "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823",
            })]
        );
        assert_eq!(
            summary,
            Summary {
                lines: 1,
                malformed: 0
            }
        );
    }

    #[test]
    fn omitted_rejected_and_currency_values() {
        let (out, summary) = hash_lines(concat!(
            r#"{"field":"fn","value":"1234"}"#,
            "\n",
            r#"{"field":"ph","value":"12345"}"#,
            "\n",
            r#"{"field":"currency","value":"usd"}"#,
            "\n",
        ));
        assert_eq!(
            out,
            [
                serde_json::json!({"field": "fn", "normalized": null, "sha256": null}),
                serde_json::json!({"field": "ph", "error": "invalid phone"}),
                serde_json::json!({"field": "currency", "normalized": "USD", "sha256": null}),
            ]
        );
        assert_eq!(summary.malformed, 0);
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number_and_processing_goes_on() {
        let (out, summary) = hash_lines(concat!(
            "not json\n",
            "\n",
            r#"{"field":"EMAIL","value":"a@b.co"}"#,
            "\n",
            r#"{"field":"em","value":"a@b.co","extra":1}"#,
            "\n",
            r#"{"field":"em"}"#,
            "\n",
            r#"{"field":"ge","value":"f"}"#,
        ));
        assert_eq!(out.len(), 5);
        for (i, line) in [1, 3, 4, 5].into_iter().enumerate() {
            assert_eq!(out[i]["line"], line, "{}", out[i]);
            assert!(out[i]["error"].is_string());
        }
        assert!(
            out[1]["error"]
                .as_str()
                .is_some_and(|e| e.contains("unknown field \"EMAIL\""))
        );
        assert!(
            out[2]["error"]
                .as_str()
                .is_some_and(|e| e.contains("extra"))
        );
        assert!(
            out[3]["error"]
                .as_str()
                .is_some_and(|e| e.contains("value"))
        );
        assert_eq!(out[4]["normalized"], "f");
        assert_eq!(
            summary,
            Summary {
                lines: 5,
                malformed: 4
            }
        );
    }

    #[test]
    fn invalid_utf8_is_a_malformed_line() {
        let mut out = Vec::new();
        let summary = run(&b"\xff\n"[..], &mut out).expect("in-memory I/O");
        assert_eq!(summary.malformed, 1);
        assert!(
            String::from_utf8(out)
                .expect("UTF-8")
                .contains("\"line\":1")
        );
    }
}
