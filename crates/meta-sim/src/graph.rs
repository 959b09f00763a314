//! One Graph API call, from routing to answer, decided under the state lock.
//!
//! The order follows what a client can observe from Meta: the path is routed, the token checked
//! (104 when absent, 190 when unknown or expired), the object resolved against the token's ad
//! accounts (100/33 otherwise), then injected faults, then the rate-limit budgets, and only then
//! the endpoint's own validation. A rejected or throttled request changes no data.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::audience::{self, CheckedRows, Payload, PayloadError, ReplaceError};
use crate::capi::{self, BatchError};
use crate::config::strip_act_prefix;
use crate::faults::{FaultKind, FaultTarget};
use crate::graph_error::{self as ge, GraphError, new_fbtrace_id};
use crate::params::Params;
use crate::rate_limit::{AccountUsage, UsageReport, UseCase, minutes_ceil};
use crate::state::{SimState, StoredEvent};

/// Deduplication window for `event_name` + `event_id` (48 hours).
pub const DEDUP_WINDOW_SECONDS: i64 = 48 * 3_600;

/// HTTP methods Graph calls use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// DELETE.
    Delete,
}

impl GraphMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// A Graph request, as the HTTP layer hands it over.
#[derive(Debug, Clone)]
pub struct GraphCall {
    /// The HTTP method.
    pub method: GraphMethod,
    /// The path segments after the version (`["2000", "events"]`).
    pub segments: Vec<String>,
    /// Query and body parameters.
    pub params: Params,
    /// A token from `Authorization: Bearer` / `OAuth`, if any.
    pub header_token: Option<String>,
}

/// The endpoints the simulator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Events { pixel_id: String },
    AddUsers { audience_id: String },
    RemoveUsers { audience_id: String },
    ReplaceUsers { audience_id: String },
    CreateAudience { ad_account_id: String },
    ReadAudience { audience_id: String },
}

impl Endpoint {
    fn label(&self) -> &'static str {
        match self {
            Self::Events { .. } => "POST /{pixel_id}/events",
            Self::AddUsers { .. } => "POST /{audience_id}/users",
            Self::RemoveUsers { .. } => "DELETE /{audience_id}/users",
            Self::ReplaceUsers { .. } => "POST /{audience_id}/usersreplace",
            Self::CreateAudience { .. } => "POST /act_{ad_account_id}/customaudiences",
            Self::ReadAudience { .. } => "GET /{audience_id}",
        }
    }

    fn use_case(&self) -> UseCase {
        match self {
            Self::Events { .. } => UseCase::AdsManagement,
            _ => UseCase::CustomAudience,
        }
    }
}

/// Label under which unroutable requests are counted.
const OTHER_ENDPOINT: &str = "other";

/// How the HTTP layer must answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A JSON body with a status.
    Json(StatusCode, Value),
    /// A Graph error object.
    Error(GraphError),
    /// An HTML 5xx, as an edge proxy answers.
    Edge(StatusCode),
    /// Hold the request for the configured delay, then answer 504 (an edge timeout).
    Hang,
}

/// The decision for one call.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Stats label of the endpoint.
    pub endpoint: &'static str,
    /// The answer.
    pub reply: Reply,
    /// What the usage headers say.
    pub usage: UsageReport,
    /// The trace id of the answer.
    pub fbtrace_id: String,
}

impl Outcome {
    /// The HTTP status the answer will have.
    pub fn status(&self) -> StatusCode {
        match &self.reply {
            Reply::Json(status, _) | Reply::Edge(status) => *status,
            Reply::Error(error) => error.status,
            Reply::Hang => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// What a resolved call concerns.
struct Resolved {
    ad_account_id: String,
    fault_targets: Vec<FaultTarget>,
}

impl SimState {
    /// Decides the answer to one Graph call and records its effects.
    pub(crate) fn handle_graph(&mut self, mut call: GraphCall) -> Outcome {
        let fbtrace_id = new_fbtrace_id();
        let now = self.now();
        let window = self.window_seconds();
        self.app_window.roll(now, window);

        let endpoint = match route(&call) {
            Ok(endpoint) => endpoint,
            Err(error) => {
                return self.finish_with_usage(
                    OTHER_ENDPOINT,
                    Reply::Error(error),
                    None,
                    fbtrace_id,
                );
            }
        };
        let label = endpoint.label();

        let resolved = match self.authorize(&endpoint, &mut call, now) {
            Ok(resolved) => resolved,
            Err(error) => {
                return self.finish_with_usage(label, Reply::Error(error), None, fbtrace_id);
            }
        };
        let use_case = endpoint.use_case();
        if let Some(account) = self.ad_accounts.get_mut(&resolved.ad_account_id) {
            account.window.roll(now, window);
        }

        if let Some(fault) = self.faults.take(&resolved.fault_targets) {
            self.stats.faults_served += 1;
            let mut usage = self.account_usage(&resolved.ad_account_id, use_case, now);
            let reply = self.fault_reply(fault, use_case, usage.as_mut(), now);
            return self.finish_with_usage(label, reply, usage, fbtrace_id);
        }

        if let Some(error) = self.spend_budget(&resolved.ad_account_id, use_case, now) {
            self.stats.throttled += 1;
            let usage = self.account_usage(&resolved.ad_account_id, use_case, now);
            return self.finish_with_usage(label, Reply::Error(error), usage, fbtrace_id);
        }

        let result = match &endpoint {
            Endpoint::Events { pixel_id } => {
                self.post_events(pixel_id, &call.params, now, &fbtrace_id)
            }
            Endpoint::AddUsers { audience_id } => {
                self.change_users(audience_id, &call.params, now, UsersChange::Add)
            }
            Endpoint::RemoveUsers { audience_id } => {
                self.change_users(audience_id, &call.params, now, UsersChange::Remove)
            }
            Endpoint::ReplaceUsers { audience_id } => {
                self.replace_users(audience_id, &call.params, now)
            }
            Endpoint::CreateAudience { ad_account_id } => {
                self.create_audience(ad_account_id, &call.params, now)
            }
            Endpoint::ReadAudience { audience_id } => {
                self.read_audience(audience_id, &call.params, now)
            }
        };
        let reply = match result {
            Ok(body) => Reply::Json(StatusCode::OK, body),
            Err(error) => Reply::Error(error),
        };
        let usage = self.account_usage(&resolved.ad_account_id, use_case, now);
        self.finish_with_usage(label, reply, usage, fbtrace_id)
    }

    /// The answer an injected fault gives; a throttle fault also shows the budget as spent.
    fn fault_reply(
        &mut self,
        fault: FaultKind,
        use_case: UseCase,
        usage: Option<&mut AccountUsage>,
        now: i64,
    ) -> Reply {
        match fault {
            FaultKind::Http5xx { status } => Reply::Edge(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ),
            FaultKind::Timeout => Reply::Hang,
            FaultKind::Transient { code } => Reply::Error(GraphError::transient_failure(code)),
            FaultKind::TokenExpired => {
                let now = chrono::DateTime::from_timestamp(now, 0).unwrap_or_else(chrono::Utc::now);
                Reply::Error(GraphError::token_expired(
                    now - chrono::Duration::hours(1),
                    now,
                ))
            }
            FaultKind::Throttle {
                code,
                regain_minutes,
            } => {
                self.stats.throttled += 1;
                if let Some(account) = usage {
                    account.percent = account.percent.max(100);
                    account.regain_minutes = regain_minutes;
                }
                Reply::Error(throttle_error(code, use_case))
            }
        }
    }

    /// Answers a request the HTTP layer could not turn into a call.
    pub(crate) fn refuse(&mut self, error: GraphError) -> Outcome {
        self.app_window.roll(self.now(), self.window_seconds());
        self.finish_with_usage(OTHER_ENDPOINT, Reply::Error(error), None, new_fbtrace_id())
    }

    fn window_seconds(&self) -> i64 {
        i64::try_from(self.config.rate_limit_window_seconds).unwrap_or(i64::MAX)
    }

    fn finish_with_usage(
        &mut self,
        label: &'static str,
        reply: Reply,
        account: Option<AccountUsage>,
        fbtrace_id: String,
    ) -> Outcome {
        let usage = UsageReport {
            app_percent: self.app_window.percent(self.config.app_calls_per_hour),
            account,
        };
        let outcome = Outcome {
            endpoint: label,
            reply,
            usage,
            fbtrace_id,
        };
        self.stats.count_request(label, outcome.status().as_u16());
        outcome
    }

    /// Checks the token and that the object belongs to one of its ad accounts.
    fn authorize(
        &self,
        endpoint: &Endpoint,
        call: &mut GraphCall,
        now: i64,
    ) -> Result<Resolved, GraphError> {
        let token = call
            .params
            .take("access_token")
            .and_then(|value| value.as_str().map(str::to_owned))
            .filter(|token| !token.is_empty())
            .or_else(|| call.header_token.clone())
            .ok_or_else(GraphError::token_required)?;
        let info = self
            .tokens
            .get(&token)
            .ok_or_else(GraphError::invalid_token)?;
        if let Some(expires_at) = info.expires_at
            && now >= expires_at
        {
            let at =
                |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_else(chrono::Utc::now);
            return Err(GraphError::token_expired(at(expires_at), at(now)));
        }
        let method = call.method.as_str();
        let (object_id, ad_account_id, object_target) = match endpoint {
            Endpoint::Events { pixel_id } => {
                let pixel = self.pixels.get(pixel_id);
                (
                    pixel_id.clone(),
                    pixel.map(|p| p.ad_account_id.clone()),
                    Some(FaultTarget::Pixel(pixel_id.clone())),
                )
            }
            Endpoint::AddUsers { audience_id }
            | Endpoint::RemoveUsers { audience_id }
            | Endpoint::ReplaceUsers { audience_id }
            | Endpoint::ReadAudience { audience_id } => (
                audience_id.clone(),
                self.audiences
                    .get(audience_id)
                    .map(|a| a.ad_account_id.clone()),
                Some(FaultTarget::Audience(audience_id.clone())),
            ),
            Endpoint::CreateAudience { ad_account_id } => (
                format!("act_{ad_account_id}"),
                self.ad_accounts
                    .contains_key(ad_account_id)
                    .then(|| ad_account_id.clone()),
                None,
            ),
        };
        let ad_account_id = ad_account_id
            .filter(|account| info.ad_accounts.contains(account))
            .ok_or_else(|| GraphError::unsupported_request(method, &object_id))?;
        let mut fault_targets: Vec<FaultTarget> = object_target.into_iter().collect();
        fault_targets.push(FaultTarget::AdAccount(ad_account_id.clone()));
        Ok(Resolved {
            ad_account_id,
            fault_targets,
        })
    }

    /// Counts the call against the app and ad account budgets, or says why it is throttled.
    fn spend_budget(
        &mut self,
        ad_account_id: &str,
        use_case: UseCase,
        now: i64,
    ) -> Option<GraphError> {
        if self.app_window.is_exhausted(self.config.app_calls_per_hour) {
            return Some(GraphError::app_request_limit());
        }
        let account = self.ad_accounts.get_mut(ad_account_id)?;
        if account.window.is_exhausted(account.calls_per_hour) {
            return Some(throttle_error(None, use_case));
        }
        account.window.record(now);
        self.app_window.record(now);
        None
    }

    fn account_usage(
        &self,
        ad_account_id: &str,
        use_case: UseCase,
        now: i64,
    ) -> Option<AccountUsage> {
        let window = self.window_seconds();
        let account = self.ad_accounts.get(ad_account_id)?;
        let reset_seconds = account.window.seconds_to_reset(now, window);
        let exhausted = account.window.is_exhausted(account.calls_per_hour);
        Some(AccountUsage {
            ad_account_id: ad_account_id.to_owned(),
            percent: account.window.percent(account.calls_per_hour),
            reset_seconds,
            regain_minutes: if exhausted {
                minutes_ceil(reset_seconds)
            } else {
                0
            },
            use_case,
        })
    }

    fn post_events(
        &mut self,
        pixel_id: &str,
        params: &Params,
        now: i64,
        fbtrace_id: &str,
    ) -> Result<Value, GraphError> {
        let data = match params.json("data") {
            None => {
                return Err(GraphError::invalid_parameter(
                    "The parameter data is required",
                ));
            }
            Some(Err(_)) => {
                return Err(GraphError::invalid_parameter(
                    "param data must be an array of server events",
                ));
            }
            Some(Ok(data)) => data,
        };
        let skew = self.config.future_event_skew_seconds;
        let events = match capi::validate_batch(&data, now, skew) {
            Ok(events) => events,
            Err(error) => {
                let count = data.as_array().map_or(0, Vec::len) as u64;
                self.stats.events.rejected += count;
                return Err(match error {
                    BatchError::NotAnArray => GraphError::invalid_parameter(
                        "param data must be an array of server events",
                    ),
                    BatchError::Empty => {
                        GraphError::invalid_parameter("param data must not be empty")
                    }
                    BatchError::TooManyEvents(n) => GraphError::invalid_parameter(format!(
                        "param data must contain at most {} events, got {n}",
                        capi::MAX_EVENTS_PER_REQUEST
                    )),
                    BatchError::Event { index, rejection } => GraphError::invalid_event(
                        index,
                        rejection.subcode(),
                        rejection.title(),
                        &rejection.description(),
                        rejection.field().as_deref(),
                    ),
                });
            }
        };
        let test_event_code = params
            .text("test_event_code")
            .filter(|code| !code.is_empty());
        let received = events.len() as u64;
        let mut deduplicated = 0_u64;
        let Some(pixel) = self.pixels.get_mut(pixel_id) else {
            return Err(GraphError::unsupported_request("POST", pixel_id));
        };
        for event in events {
            if let Some(event_id) = &event.event_id {
                let key = (event.event_name.clone(), event_id.clone());
                match pixel.first_seen.get(&key) {
                    Some(first) if now - first < DEDUP_WINDOW_SECONDS => {
                        deduplicated += 1;
                        continue;
                    }
                    _ => {
                        pixel.first_seen.insert(key, now);
                    }
                }
            }
            pixel.events.push(StoredEvent {
                event: Value::Object(event.body),
                received_at: now,
                test_event_code: test_event_code.clone(),
                fbtrace_id: fbtrace_id.to_owned(),
            });
        }
        self.stats.events.received += received;
        self.stats.events.deduplicated += deduplicated;
        self.stats.events.accepted += received - deduplicated;
        tracing::debug!(pixel_id, received, deduplicated, "Events accepted.");
        Ok(json!({
            "events_received": received,
            "messages": [],
            "fbtrace_id": fbtrace_id,
        }))
    }

    fn change_users(
        &mut self,
        audience_id: &str,
        params: &Params,
        now: i64,
        change: UsersChange,
    ) -> Result<Value, GraphError> {
        let session = match params.json("session") {
            None => None,
            Some(value) => Some(parse_session(&value.ok().unwrap_or(Value::Null), false)?),
        };
        let payload = payload_param(params)?;
        let checked = audience::check_rows(&payload);
        let audience = self
            .audiences
            .get_mut(audience_id)
            .ok_or_else(|| GraphError::unsupported_request("POST", audience_id))?;
        audience.expire_replace(now);
        if audience.replace.is_some() {
            return Err(replace_error(ReplaceError::InProgress));
        }
        let received = payload.rows.len() as u64;
        let invalid = checked.invalid;
        let samples = checked.samples.clone();
        match change {
            UsersChange::Add => {
                audience.add(checked.members, now);
            }
            UsersChange::Remove => {
                audience.remove(&checked.members, now);
            }
        }
        let (session_id, totals) = match session {
            Some(session) => (
                session.session_id,
                audience.count_user_session(session.session_id, received, invalid),
            ),
            None => (
                random_session_id(),
                audience::SessionTotals {
                    num_received: received,
                    num_invalid: invalid,
                },
            ),
        };
        self.stats.audience_rows.received += received;
        self.stats.audience_rows.invalid += invalid;
        Ok(json!({
            "audience_id": audience_id,
            "session_id": session_id.to_string(),
            "num_received": totals.num_received,
            "num_invalid_entries": totals.num_invalid,
            "invalid_entry_samples": samples,
        }))
    }

    fn replace_users(
        &mut self,
        audience_id: &str,
        params: &Params,
        now: i64,
    ) -> Result<Value, GraphError> {
        let session = match params.json("session") {
            None => {
                return Err(GraphError::invalid_parameter(
                    "The parameter session is required",
                ));
            }
            Some(value) => parse_session(&value.ok().unwrap_or(Value::Null), true)?,
        };
        let payload = payload_param(params)?;
        let checked: CheckedRows = audience::check_rows(&payload);
        let samples = checked.samples.clone();
        let invalid = checked.invalid;
        let audience = self
            .audiences
            .get_mut(audience_id)
            .ok_or_else(|| GraphError::unsupported_request("POST", audience_id))?;
        let progress = audience
            .replace_batch(
                session.session_id,
                session.batch_seq,
                session.last_batch,
                &payload,
                checked,
                now,
            )
            .map_err(replace_error)?;
        let account_id = audience.ad_account_id.clone();
        self.stats.audience_rows.received += payload.rows.len() as u64;
        self.stats.audience_rows.invalid += invalid;
        Ok(json!({
            "account_id": account_id,
            "audience_id": audience_id,
            "session_id": session.session_id.to_string(),
            "num_received": progress.num_received,
            "num_invalid_entries": progress.num_invalid,
            "invalid_entry_samples": samples,
        }))
    }

    fn create_audience(
        &mut self,
        ad_account_id: &str,
        params: &Params,
        now: i64,
    ) -> Result<Value, GraphError> {
        let name = params
            .text("name")
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| GraphError::invalid_parameter("The parameter name is required"))?;
        let subtype = params.text("subtype").unwrap_or_else(|| "CUSTOM".into());
        if subtype != "CUSTOM" {
            return Err(GraphError::invalid_parameter(format!(
                "subtype {subtype} is not supported by the simulator; only CUSTOM (customer file) audiences are"
            )));
        }
        let source = params.text("customer_file_source");
        if let Some(source) = &source
            && ![
                "USER_PROVIDED_ONLY",
                "PARTNER_PROVIDED_ONLY",
                "BOTH_USER_AND_PARTNER_PROVIDED",
            ]
            .contains(&source.as_str())
        {
            return Err(GraphError::invalid_parameter(format!(
                "customer_file_source must be USER_PROVIDED_ONLY, PARTNER_PROVIDED_ONLY or \
                 BOTH_USER_AND_PARTNER_PROVIDED, not {source}"
            )));
        }
        let id = self.next_audience_id();
        let mut audience = audience::Audience::new(id.clone(), ad_account_id.to_owned(), name, now);
        audience.subtype = subtype;
        audience.customer_file_source = source;
        audience.description = params.text("description");
        self.audiences.insert(id.clone(), audience);
        Ok(json!({ "id": id }))
    }

    fn read_audience(
        &mut self,
        audience_id: &str,
        params: &Params,
        now: i64,
    ) -> Result<Value, GraphError> {
        let audience = self
            .audiences
            .get_mut(audience_id)
            .ok_or_else(|| GraphError::unsupported_request("GET", audience_id))?;
        audience.expire_replace(now);
        let count = audience.members.len();
        let fields: Vec<String> = match params.text("fields") {
            Some(list) => list
                .split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect(),
            None => [
                "id",
                "name",
                "approximate_count_lower_bound",
                "approximate_count_upper_bound",
                "operation_status",
            ]
            .map(str::to_owned)
            .to_vec(),
        };
        let mut object = Map::new();
        object.insert("id".into(), json!(audience.id));
        for field in fields {
            let value = match field.as_str() {
                "id" => json!(audience.id),
                "account_id" => json!(audience.ad_account_id),
                "name" => json!(audience.name),
                "description" => json!(audience.description),
                "subtype" => json!(audience.subtype),
                "customer_file_source" => json!(audience.customer_file_source),
                "approximate_count_lower_bound" | "approximate_count_upper_bound" => json!(count),
                "operation_status" => audience.operation_status(),
                "time_created" => json!(audience.time_created),
                "time_updated" => json!(audience.time_updated),
                other => {
                    return Err(GraphError::invalid_parameter(format!(
                        "Tried accessing nonexisting field ({other}) on node type (CustomAudience)"
                    )));
                }
            };
            object.insert(field, value);
        }
        Ok(Value::Object(object))
    }
}

#[derive(Debug, Clone, Copy)]
enum UsersChange {
    Add,
    Remove,
}

/// Routes a call to an endpoint, honouring Graph's `method` parameter on POST.
fn route(call: &GraphCall) -> Result<Endpoint, GraphError> {
    let method = match (
        call.method,
        call.params.text("method").map(|m| m.to_ascii_uppercase()),
    ) {
        (GraphMethod::Post, Some(m)) if m == "DELETE" => GraphMethod::Delete,
        (GraphMethod::Post, Some(m)) if m == "GET" => GraphMethod::Get,
        (method, _) => method,
    };
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let unsupported = |node: &str| GraphError::unsupported_request(method.as_str(), node);
    match segments.as_slice() {
        [node] if is_numeric(node) => match method {
            GraphMethod::Get => Ok(Endpoint::ReadAudience {
                audience_id: (*node).to_owned(),
            }),
            _ => Err(unsupported(node)),
        },
        [node, "events"] if is_numeric(node) => match method {
            GraphMethod::Post => Ok(Endpoint::Events {
                pixel_id: (*node).to_owned(),
            }),
            _ => Err(unsupported(node)),
        },
        [node, "users"] if is_numeric(node) => match method {
            GraphMethod::Post => Ok(Endpoint::AddUsers {
                audience_id: (*node).to_owned(),
            }),
            GraphMethod::Delete => Ok(Endpoint::RemoveUsers {
                audience_id: (*node).to_owned(),
            }),
            GraphMethod::Get => Err(unsupported(node)),
        },
        [node, "usersreplace"] if is_numeric(node) => match method {
            GraphMethod::Post => Ok(Endpoint::ReplaceUsers {
                audience_id: (*node).to_owned(),
            }),
            _ => Err(unsupported(node)),
        },
        [node, "customaudiences"]
            if node.starts_with("act_") && is_numeric(strip_act_prefix(node)) =>
        {
            match method {
                GraphMethod::Post => Ok(Endpoint::CreateAudience {
                    ad_account_id: strip_act_prefix(node).to_owned(),
                }),
                _ => Err(unsupported(node)),
            }
        }
        [node] | [node, _] if is_numeric(strip_act_prefix(node)) => Err(unsupported(node)),
        _ => Err(GraphError::unknown_path(&format!(
            "/{}",
            segments.join("/")
        ))),
    }
}

/// The throttling error for a code, or the endpoint's own: 80003 for custom audiences, 17
/// otherwise.
fn throttle_error(code: Option<u32>, use_case: UseCase) -> GraphError {
    match code {
        Some(ge::CODE_APP_LIMIT) => GraphError::app_request_limit(),
        Some(ge::CODE_RATE_LIMIT) => GraphError::api_rate_limit(),
        Some(ge::CODE_CUSTOM_AUDIENCE_THROTTLE) => GraphError::custom_audience_throttle(),
        Some(_) => GraphError::user_request_limit(),
        None => match use_case {
            UseCase::CustomAudience => GraphError::custom_audience_throttle(),
            UseCase::AdsManagement => GraphError::user_request_limit(),
        },
    }
}

fn is_numeric(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The `session` parameter of `/users` and `/usersreplace`.
struct SessionParam {
    session_id: u64,
    batch_seq: u64,
    last_batch: bool,
}

fn parse_session(value: &Value, replace: bool) -> Result<SessionParam, GraphError> {
    let object = value.as_object().ok_or_else(|| {
        GraphError::invalid_parameter("The parameter session must be a JSON object")
    })?;
    let number = |name: &str| -> Option<u64> {
        match object.get(name)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    let session_id = number("session_id").filter(|id| *id > 0).ok_or_else(|| {
        GraphError::invalid_parameter("session.session_id must be a positive 64-bit integer")
    })?;
    let batch_seq = match number("batch_seq") {
        Some(seq) if seq > 0 => seq,
        None if !replace => 1,
        _ => {
            return Err(GraphError::invalid_parameter(
                "session.batch_seq must be a positive integer starting at 1",
            ));
        }
    };
    let last_batch = match object.get("last_batch_flag") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(s)) if s == "true" || s == "1" => true,
        Some(Value::String(s)) if s == "false" || s == "0" => false,
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        Some(_) => {
            return Err(GraphError::invalid_parameter(
                "session.last_batch_flag must be a boolean",
            ));
        }
    };
    Ok(SessionParam {
        session_id,
        batch_seq,
        last_batch,
    })
}

fn payload_param(params: &Params) -> Result<Payload, GraphError> {
    let value = match params.json("payload") {
        None => {
            return Err(GraphError::invalid_parameter(
                PayloadError::Missing.to_string(),
            ));
        }
        Some(Err(_)) => {
            return Err(GraphError::invalid_parameter(
                PayloadError::NotAnObject.to_string(),
            ));
        }
        Some(Ok(value)) => value,
    };
    audience::parse_payload(&value).map_err(|e| GraphError::invalid_parameter(e.to_string()))
}

fn replace_error(error: ReplaceError) -> GraphError {
    match error {
        ReplaceError::InProgress => GraphError::audience_update_failed(
            ge::SUBCODE_REPLACE_IN_PROGRESS,
            "Audience Update In Progress",
            "A replace operation is in progress for this audience. Wait until its operation_status \
             is Normal, then retry.",
        ),
        ReplaceError::FirstBatchMissing => GraphError::audience_update_failed(
            ge::SUBCODE_FIRST_BATCH_MISSING,
            "First Batch Missing",
            "A replace session must start with batch_seq 1.",
        ),
        ReplaceError::TimedOut => GraphError::audience_update_failed(
            ge::SUBCODE_SESSION_TIMED_OUT,
            "Session Timed Out",
            "The replace session ran longer than 90 minutes. The audience keeps the users uploaded \
             in it.",
        ),
        ReplaceError::Finished => GraphError::audience_update_failed(
            ge::SUBCODE_SESSION_FINISHED,
            "Session Already Finished",
            "This replace session has already finished. Start a new session.",
        ),
        ReplaceError::SchemaChanged => GraphError::invalid_parameter(
            "The schema of a replace session must stay the same for all its batches",
        ),
    }
}

fn random_session_id() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut id = [0_u8; 8];
    id.copy_from_slice(&bytes[..8]);
    // Positive as a signed 64-bit integer, as Meta's session ids are.
    (u64::from_le_bytes(id) >> 1).max(1)
}
