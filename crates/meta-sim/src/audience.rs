//! Customer-file custom audiences: the `payload` format, row validation, membership, and
//! `usersreplace` sessions.
//!
//! From Meta's customer-file custom audience guide and the `/users` reference: `payload` is
//! `{schema, data}` where `schema` is one key or a list of keys and `data` a list of rows (arrays
//! in schema order, or plain values for a one-key schema); at most 10 000 rows a call. Every key is
//! SHA-256 lower-case hex except `MADID`/`MOBILE_ADVERTISER_ID` (plain, lower case), `EXTERN_ID`
//! ("use the exact format"), `LOOKALIKE_VALUE` (a number), `PAGEUID` and the data processing
//! options. Invalid rows are counted and sampled; the others are applied.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::{Value, json};

/// Most rows Meta accepts in one call.
pub const MAX_ROWS_PER_REQUEST: usize = 10_000;
/// A replace session ends this long after its first batch (90 minutes).
pub const REPLACE_SESSION_SECONDS: i64 = 90 * 60;
/// At most this many invalid entries are sampled in a response.
pub const MAX_INVALID_SAMPLES: usize = 100;

/// A member of an audience: schema key → value, without empty values.
pub type Member = BTreeMap<String, String>;

/// How the values of a schema key must look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRule {
    /// SHA-256 lower-case hex.
    Hashed,
    /// A mobile advertiser id, sent in clear and in lower case.
    Madid,
    /// Sent as is (`EXTERN_ID`, `PAGEUID`, data processing options).
    Plain,
    /// A non-negative number (value-based audiences).
    Number,
}

fn key_rule(key: &str) -> Option<KeyRule> {
    Some(match key {
        "EMAIL" | "PHONE" | "GEN" | "DOBY" | "DOBM" | "DOBD" | "LN" | "FN" | "FI" | "CT" | "ST"
        | "ZIP" | "COUNTRY" | "EMAIL_SHA256" | "PHONE_SHA256" => KeyRule::Hashed,
        "MADID" | "MOBILE_ADVERTISER_ID" => KeyRule::Madid,
        "EXTERN_ID"
        | "PAGEUID"
        | "DATA_PROCESSING_OPTIONS"
        | "DATA_PROCESSING_OPTIONS_COUNTRY"
        | "DATA_PROCESSING_OPTIONS_STATE" => KeyRule::Plain,
        "LOOKALIKE_VALUE" => KeyRule::Number,
        _ => return None,
    })
}

/// The key under which an identifier is matched: the single-key hashed schemas are the same
/// identifiers as their multi-key counterparts.
fn identifier_key(key: &str) -> Option<&'static str> {
    match key {
        "EMAIL" | "EMAIL_SHA256" => Some("EMAIL"),
        "PHONE" | "PHONE_SHA256" => Some("PHONE"),
        "MADID" | "MOBILE_ADVERTISER_ID" => Some("MADID"),
        "EXTERN_ID" => Some("EXTERN_ID"),
        "PAGEUID" => Some("PAGEUID"),
        _ => None,
    }
}

/// Why a `payload` is refused as a whole (code 100).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// No `payload` parameter.
    #[error("The parameter payload is required")]
    Missing,
    /// `payload` is not a JSON object.
    #[error("The parameter payload must be a JSON object with schema and data")]
    NotAnObject,
    /// No `schema`, or an empty one.
    #[error("The parameter payload.schema is required")]
    MissingSchema,
    /// A key Meta does not know.
    #[error("Invalid schema key: {0}")]
    UnknownKey(String),
    /// The same key twice in a schema.
    #[error("Duplicate schema key: {0}")]
    DuplicateKey(String),
    /// No `data` or not a list.
    #[error("The parameter payload.data is required and must be an array")]
    MissingData,
    /// More rows than [`MAX_ROWS_PER_REQUEST`].
    #[error("Too many rows in payload.data: {0} (at most 10000 a request)")]
    TooManyRows(usize),
}

/// A parsed `payload`.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// The keys, in order.
    pub schema: Vec<String>,
    /// The rows as sent.
    pub rows: Vec<Value>,
}

/// Parses a `payload` value (already decoded from JSON text if it came as text).
pub fn parse_payload(payload: &Value) -> Result<Payload, PayloadError> {
    let object = payload.as_object().ok_or(PayloadError::NotAnObject)?;
    let schema: Vec<String> = match object.get("schema") {
        Some(Value::String(key)) => vec![key.clone()],
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|key| key.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or(PayloadError::MissingSchema)?,
        _ => return Err(PayloadError::MissingSchema),
    };
    if schema.is_empty() {
        return Err(PayloadError::MissingSchema);
    }
    let mut seen = HashSet::new();
    for key in &schema {
        if key_rule(key).is_none() {
            return Err(PayloadError::UnknownKey(key.clone()));
        }
        if !seen.insert(key.as_str()) {
            return Err(PayloadError::DuplicateKey(key.clone()));
        }
    }
    let rows = object
        .get("data")
        .and_then(Value::as_array)
        .ok_or(PayloadError::MissingData)?;
    if rows.len() > MAX_ROWS_PER_REQUEST {
        return Err(PayloadError::TooManyRows(rows.len()));
    }
    Ok(Payload {
        schema,
        rows: rows.clone(),
    })
}

/// Checks one row against the schema and turns it into a member.
pub fn check_row(schema: &[String], row: &Value) -> Result<Member, String> {
    let values: Vec<&Value> = match row {
        Value::Array(items) => items.iter().collect(),
        scalar if schema.len() == 1 => vec![scalar],
        _ => return Err(format!("Row must be an array of {} values", schema.len())),
    };
    if values.len() != schema.len() {
        return Err(format!(
            "Row has {} values but the schema has {} keys",
            values.len(),
            schema.len()
        ));
    }
    let mut member = Member::new();
    for (key, value) in schema.iter().zip(values) {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            _ => return Err(format!("Value for {key} must be a string")),
        };
        if text.is_empty() {
            continue;
        }
        match key_rule(key) {
            Some(KeyRule::Hashed) if !crate::capi::is_sha256_hex(&text) => {
                return Err(format!(
                    "Value for {key} is not hashed (SHA-256 lower-case hex expected)"
                ));
            }
            Some(KeyRule::Madid) if text.chars().any(char::is_uppercase) => {
                return Err(format!("Value for {key} must be lower case and not hashed"));
            }
            Some(KeyRule::Number) if !text.parse::<f64>().is_ok_and(|v| v >= 0.0) => {
                return Err(format!("Value for {key} must be a non-negative number"));
            }
            _ => {}
        }
        member.insert(key.clone(), text);
    }
    if member
        .keys()
        .all(|key| identifier_key(key).is_none() && key_rule(key) != Some(KeyRule::Hashed))
    {
        return Err("Row carries no customer identifier".into());
    }
    Ok(member)
}

/// Rows of one call sorted into members and rejects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckedRows {
    /// Valid rows, as members.
    pub members: Vec<Member>,
    /// Number of invalid rows.
    pub invalid: u64,
    /// Up to [`MAX_INVALID_SAMPLES`] invalid entries (compact JSON of the row) with the reason.
    pub samples: BTreeMap<String, String>,
}

/// Checks every row of a payload.
pub fn check_rows(payload: &Payload) -> CheckedRows {
    let mut checked = CheckedRows::default();
    for row in &payload.rows {
        match check_row(&payload.schema, row) {
            Ok(member) => checked.members.push(member),
            Err(reason) => {
                checked.invalid += 1;
                if checked.samples.len() < MAX_INVALID_SAMPLES {
                    checked.samples.insert(row.to_string(), reason);
                }
            }
        }
    }
    checked
}

/// A `usersreplace` session in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplaceSession {
    /// The advertiser's session id.
    pub session_id: u64,
    /// When batch 1 arrived (simulator clock).
    pub started_at: i64,
    /// The schema of batch 1; later batches must use it.
    pub schema: Vec<String>,
    /// Members uploaded so far.
    pub members: BTreeSet<Member>,
    /// Batch numbers received, so that a retried batch is not counted twice.
    pub batches: BTreeSet<u64>,
    /// Rows received in the session.
    pub num_received: u64,
    /// Invalid rows in the session.
    pub num_invalid: u64,
}

/// Running totals of a `/users` session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionTotals {
    /// Rows received in the session so far.
    pub num_received: u64,
    /// Invalid rows in the session so far.
    pub num_invalid: u64,
}

/// A customer-file custom audience.
#[derive(Debug, Clone, PartialEq)]
pub struct Audience {
    /// The audience id.
    pub id: String,
    /// The owning ad account (without `act_`).
    pub ad_account_id: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `subtype` (always `CUSTOM` here).
    pub subtype: String,
    /// `customer_file_source`.
    pub customer_file_source: Option<String>,
    /// Creation time (simulator clock).
    pub time_created: i64,
    /// Last membership change (simulator clock).
    pub time_updated: i64,
    /// Current members.
    pub members: BTreeSet<Member>,
    /// The replace session in progress, if any.
    pub replace: Option<ReplaceSession>,
    /// Replace sessions that have ended (finished or timed out).
    pub finished_replace_sessions: BTreeSet<u64>,
    /// Replace sessions that timed out.
    pub timed_out_replace_sessions: BTreeSet<u64>,
    /// Totals of `/users` sessions by id.
    pub user_sessions: BTreeMap<u64, SessionTotals>,
}

/// Why a `usersreplace` batch is refused (code 2650 with a subcode, or 100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaceError {
    /// Another replace session is in progress (1870145).
    InProgress,
    /// No session and `batch_seq` is not 1 (1870147).
    FirstBatchMissing,
    /// The session ran past 90 minutes (1870158).
    TimedOut,
    /// The session has already finished (1870159).
    Finished,
    /// A later batch changed the schema (code 100).
    SchemaChanged,
}

/// What a `usersreplace` batch did.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplaceProgress {
    /// Rows received in the session so far.
    pub num_received: u64,
    /// Invalid rows in the session so far.
    pub num_invalid: u64,
    /// Whether this batch ended the session and replaced the members.
    pub completed: bool,
}

impl Audience {
    /// A new, empty audience.
    pub fn new(id: String, ad_account_id: String, name: String, now: i64) -> Self {
        Self {
            id,
            ad_account_id,
            name,
            description: None,
            subtype: "CUSTOM".into(),
            customer_file_source: None,
            time_created: now,
            time_updated: now,
            members: BTreeSet::new(),
            replace: None,
            finished_replace_sessions: BTreeSet::new(),
            timed_out_replace_sessions: BTreeSet::new(),
            user_sessions: BTreeMap::new(),
        }
    }

    /// Ends a replace session that ran past 90 minutes. The audience keeps what the session
    /// uploaded, as Meta documents for subcode 1870158.
    pub fn expire_replace(&mut self, now: i64) {
        if let Some(session) = &self.replace
            && now - session.started_at > REPLACE_SESSION_SECONDS
        {
            let session_id = session.session_id;
            if let Some(session) = self.replace.take() {
                self.members = session.members;
            }
            self.finished_replace_sessions.insert(session_id);
            self.timed_out_replace_sessions.insert(session_id);
            self.time_updated = now;
        }
    }

    /// Adds members; an equal member is kept once. Returns how many were new.
    pub fn add(&mut self, members: Vec<Member>, now: i64) -> usize {
        let before = self.members.len();
        self.members.extend(members);
        self.time_updated = now;
        self.members.len() - before
    }

    /// Removes members equal to one of `rows`, or sharing an identifier value with one (email,
    /// phone, mobile advertiser id, external id, page-scoped id): Meta removes the person a row
    /// matches, not only a byte-identical row. Returns how many were removed.
    pub fn remove(&mut self, rows: &[Member], now: i64) -> usize {
        let exact: HashSet<&Member> = rows.iter().collect();
        let identifiers: HashSet<(&'static str, &str)> = rows
            .iter()
            .flat_map(|row| {
                row.iter()
                    .filter_map(|(key, value)| Some((identifier_key(key)?, value.as_str())))
            })
            .collect();
        let before = self.members.len();
        self.members.retain(|member| {
            !(exact.contains(member)
                || member.iter().any(|(key, value)| {
                    identifier_key(key)
                        .is_some_and(|id_key| identifiers.contains(&(id_key, value.as_str())))
                }))
        });
        self.time_updated = now;
        before - self.members.len()
    }

    /// Records the rows of a `/users` call in its session and returns the session totals.
    pub fn count_user_session(
        &mut self,
        session_id: u64,
        received: u64,
        invalid: u64,
    ) -> SessionTotals {
        let totals = self.user_sessions.entry(session_id).or_default();
        totals.num_received += received;
        totals.num_invalid += invalid;
        *totals
    }

    /// Applies one `usersreplace` batch.
    pub fn replace_batch(
        &mut self,
        session_id: u64,
        batch_seq: u64,
        last_batch: bool,
        payload: &Payload,
        checked: CheckedRows,
        now: i64,
    ) -> Result<ReplaceProgress, ReplaceError> {
        self.expire_replace(now);
        if self.timed_out_replace_sessions.contains(&session_id) {
            return Err(ReplaceError::TimedOut);
        }
        if self.finished_replace_sessions.contains(&session_id) {
            return Err(ReplaceError::Finished);
        }
        let session = match &mut self.replace {
            Some(session) if session.session_id != session_id => {
                return Err(ReplaceError::InProgress);
            }
            Some(session) => session,
            None if batch_seq != 1 => return Err(ReplaceError::FirstBatchMissing),
            None => self.replace.insert(ReplaceSession {
                session_id,
                started_at: now,
                schema: payload.schema.clone(),
                members: BTreeSet::new(),
                batches: BTreeSet::new(),
                num_received: 0,
                num_invalid: 0,
            }),
        };
        if session.schema != payload.schema {
            return Err(ReplaceError::SchemaChanged);
        }
        if session.batches.insert(batch_seq) {
            session.num_received += payload.rows.len() as u64;
            session.num_invalid += checked.invalid;
            session.members.extend(checked.members);
        }
        let progress = ReplaceProgress {
            num_received: session.num_received,
            num_invalid: session.num_invalid,
            completed: last_batch,
        };
        if last_batch && let Some(session) = self.replace.take() {
            self.members = session.members;
            self.finished_replace_sessions.insert(session_id);
            self.time_updated = now;
        }
        Ok(progress)
    }

    /// `operation_status`: Normal, or a replace in progress.
    pub fn operation_status(&self) -> Value {
        if self.replace.is_some() {
            json!({"code": 300, "description": "Replace in progress"})
        } else {
            json!({"code": 200, "description": "Normal"})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
    const B: &str = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";

    fn payload(value: Value) -> Payload {
        parse_payload(&value).unwrap()
    }

    #[test]
    fn a_single_key_schema_accepts_a_flat_list() {
        let p = payload(json!({"schema": "EMAIL_SHA256", "data": [A, B]}));
        let checked = check_rows(&p);
        assert_eq!(checked.members.len(), 2);
        assert_eq!(checked.invalid, 0);
    }

    #[test]
    fn rows_of_the_wrong_length_or_unhashed_are_invalid_and_sampled() {
        let p =
            payload(json!({"schema": ["EMAIL", "FN"], "data": [[A, B], [A], ["joe@x.com", B]]}));
        let checked = check_rows(&p);
        assert_eq!(checked.members.len(), 1);
        assert_eq!(checked.invalid, 2);
        assert_eq!(checked.samples.len(), 2);
    }

    #[test]
    fn extern_id_and_lookalike_value_are_not_hashed() {
        let p = payload(
            json!({"schema": ["EXTERN_ID", "LOOKALIKE_VALUE"], "data": [["cust-1", 44.5]]}),
        );
        let checked = check_rows(&p);
        assert_eq!(checked.invalid, 0, "{:?}", checked.samples);
        assert_eq!(checked.members[0]["LOOKALIKE_VALUE"], "44.5");
    }

    #[test]
    fn an_unknown_schema_key_refuses_the_payload() {
        let parsed = parse_payload(&json!({"schema": ["EMAIL", "SHOE_SIZE"], "data": []}));
        assert_eq!(
            parsed.unwrap_err(),
            PayloadError::UnknownKey("SHOE_SIZE".into())
        );
    }

    #[test]
    fn removing_by_email_removes_a_multi_key_member_with_that_email() {
        let mut audience = Audience::new("1".into(), "2".into(), "n".into(), 0);
        let member: Member = [
            ("EMAIL".to_owned(), A.to_owned()),
            ("FN".to_owned(), B.to_owned()),
        ]
        .into();
        audience.add(vec![member], 0);
        let removal: Member = [("EMAIL_SHA256".to_owned(), A.to_owned())].into();
        assert_eq!(audience.remove(&[removal], 1), 1);
        assert!(audience.members.is_empty());
    }

    #[test]
    fn a_replace_session_must_start_at_batch_one() {
        let mut audience = Audience::new("1".into(), "2".into(), "n".into(), 0);
        let p = payload(json!({"schema": "EMAIL_SHA256", "data": [A]}));
        let checked = check_rows(&p);
        let result = audience.replace_batch(9, 2, false, &p, checked, 0);
        assert_eq!(result.unwrap_err(), ReplaceError::FirstBatchMissing);
    }
}
