//! Runs every record of `shared/fixtures/meta/normalization_vectors.json` through
//! `audience_core::normalize` and checks it against the record's `spec` column (normalized
//! value, SHA-256 and error), as `shared/fixtures/meta/README.md` prescribes. Records whose `spec`
//! is `{"unsupported": true}` are skipped; every other record must agree. All mismatches are
//! collected and listed before the test fails, so one run shows the whole picture.

use std::path::PathBuf;

use audience_core::normalize::{self, Field, NormalizeError};
use serde::Deserialize;

/// Vectors whose `spec` (computed with libphonenumber metadata 9.0.43) may differ from what the
/// `rlibphonenumber` crate's metadata (9.0.42) says, as `(id, reason)`. Only metadata differences belong
/// here, each with the number range that changed. Currently none: every phone vector agrees.
const METADATA_DIFFERENCES: &[(&str, &str)] = &[];

#[derive(Deserialize)]
struct Record {
    id: String,
    field: String,
    input: String,
    country: Option<String>,
    spec: Spec,
}

#[derive(Deserialize)]
struct Spec {
    #[serde(default)]
    unsupported: bool,
    normalized: Option<String>,
    sha256: Option<String>,
    error: Option<String>,
}

/// What the implementation produced, in the `spec` column's shape.
#[derive(Debug, PartialEq)]
struct Outcome {
    normalized: Option<String>,
    sha256: Option<String>,
    error: Option<String>,
}

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/meta/normalization_vectors.json")
}

fn error_outcome(e: NormalizeError) -> Outcome {
    Outcome {
        normalized: None,
        sha256: None,
        error: Some(e.to_string()),
    }
}

/// Runs one record; `Err` when its key maps to no supported field.
fn run(record: &Record) -> Result<Outcome, String> {
    if record.field == "currency" {
        return Ok(match normalize::normalize_currency(&record.input) {
            Ok(value) => Outcome {
                normalized: value,
                sha256: None,
                error: None,
            },
            Err(e) => error_outcome(e),
        });
    }
    let field = Field::from_key(&record.field)
        .ok_or_else(|| format!("key {:?} maps to no Field", record.field))?;
    Ok(
        match normalize::normalize(field, &record.input, record.country.as_deref()) {
            Ok(Some(n)) => Outcome {
                normalized: Some(n.value),
                sha256: Some(n.hash.into_string()),
                error: None,
            },
            Ok(None) => Outcome {
                normalized: None,
                sha256: None,
                error: None,
            },
            Err(e) => error_outcome(e),
        },
    )
}

#[test]
fn every_supported_vector_agrees_with_the_spec_column() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let records: Vec<Record> = serde_json::from_str(&text).expect("vectors file parses");
    assert!(!records.is_empty(), "no vectors in {}", path.display());

    let (mut passed, mut skipped, mut allowed) = (0_usize, 0_usize, 0_usize);
    let mut mismatches = Vec::new();
    for record in &records {
        if record.spec.unsupported {
            skipped += 1;
            continue;
        }
        let expected = Outcome {
            normalized: record.spec.normalized.clone(),
            sha256: record.spec.sha256.clone(),
            error: record.spec.error.clone(),
        };
        let allow = METADATA_DIFFERENCES.iter().find(|(id, _)| *id == record.id);
        match run(record) {
            Ok(actual) if actual == expected => {
                if allow.is_some() {
                    mismatches.push(format!(
                        "{}: agrees now; remove it from METADATA_DIFFERENCES",
                        record.id
                    ));
                } else {
                    passed += 1;
                }
            }
            Ok(_) if allow.is_some() => allowed += 1,
            Ok(actual) => mismatches.push(format!(
                "{} {} {:?} (country {:?}):\n    expected {expected:?}\n    actual   {actual:?}",
                record.id, record.field, record.input, record.country
            )),
            Err(reason) => mismatches.push(format!("{} {}: {reason}", record.id, record.field)),
        }
    }

    println!(
        "normalization vectors: {passed} passed, {} failed, {allowed} allowed metadata differences, {skipped} unsupported skipped (of {})",
        mismatches.len(),
        records.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} supported vectors disagree with spec:\n{}",
        mismatches.len(),
        records.len() - skipped,
        mismatches.join("\n")
    );
}
