//! Starting a simulator per test and talking to it the way Meta's clients do.

use audience_meta_sim::{AccountConfig, RunningSim, SimConfig, spawn};
use reqwest::{Client, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "test-token";
pub const AD_ACCOUNT: &str = "1000";
pub const PIXEL: &str = "2000";
pub const VERSION: &str = "v26.0";

/// A running simulator with one registered account and an HTTP client.
pub struct TestSim {
    pub sim: RunningSim,
    pub client: Client,
}

/// A simulator with the test account (default budget).
pub async fn spawn_sim() -> TestSim {
    spawn_with(SimConfig::default().with_account(AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL])))
        .await
}

/// A simulator with the given configuration.
pub async fn spawn_with(config: SimConfig) -> TestSim {
    let sim = spawn(config).await.expect("the simulator starts");
    TestSim {
        sim,
        client: Client::new(),
    }
}

/// SHA-256 lower-case hex, as Meta wants contact fields.
pub fn sha(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A valid website Purchase at `event_time`.
pub fn purchase(event_time: i64, event_id: &str) -> Value {
    json!({
        "event_name": "Purchase",
        "event_time": event_time,
        "event_id": event_id,
        "action_source": "website",
        "event_source_url": "https://shop.example/thank-you",
        "user_data": {
            "em": [sha("joe@example.com")],
            "client_ip_address": "203.0.113.7",
            "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)"
        },
        "custom_data": {"value": 42.5, "currency": "USD"}
    })
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub fn graph(&self, path: &str) -> String {
        self.url(&format!("/{VERSION}/{path}"))
    }

    /// The simulator's clock, unix seconds.
    pub fn now(&self) -> i64 {
        self.sim.state().now()
    }

    /// `POST /{pixel}/events` with a JSON body and the token in it.
    pub async fn post_events(&self, events: Value) -> Response {
        self.post_events_to(PIXEL, TOKEN, events).await
    }

    pub async fn post_events_to(&self, pixel: &str, token: &str, events: Value) -> Response {
        self.client
            .post(self.graph(&format!("{pixel}/events")))
            .json(&json!({"data": events, "access_token": token}))
            .send()
            .await
            .expect("the request is answered")
    }

    /// Creates a customer-file audience and returns its id.
    pub async fn create_audience(&self, name: &str) -> String {
        let response = self
            .client
            .post(self.graph(&format!("act_{AD_ACCOUNT}/customaudiences")))
            .form(&[
                ("name", name),
                ("subtype", "CUSTOM"),
                ("customer_file_source", "USER_PROVIDED_ONLY"),
                ("access_token", TOKEN),
            ])
            .send()
            .await
            .expect("the request is answered");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        body["id"].as_str().expect("an id").to_owned()
    }

    /// `POST /{audience}/users` with a form body, `payload` as JSON text (the SDK's shape).
    pub async fn add_users(&self, audience: &str, payload: Value) -> Response {
        self.client
            .post(self.graph(&format!("{audience}/users")))
            .form(&[
                ("payload", payload.to_string()),
                ("access_token", TOKEN.to_owned()),
            ])
            .send()
            .await
            .expect("the request is answered")
    }

    /// `DELETE /{audience}/users` with the parameters in the query string (the SDK's shape).
    pub async fn remove_users(&self, audience: &str, payload: Value) -> Response {
        self.client
            .delete(self.graph(&format!("{audience}/users")))
            .query(&[
                ("payload", payload.to_string()),
                ("access_token", TOKEN.to_owned()),
            ])
            .send()
            .await
            .expect("the request is answered")
    }

    /// `POST /{audience}/usersreplace` with a session.
    pub async fn replace_users(&self, audience: &str, session: Value, payload: Value) -> Response {
        self.client
            .post(self.graph(&format!("{audience}/usersreplace")))
            .form(&[
                ("payload", payload.to_string()),
                ("session", session.to_string()),
                ("access_token", TOKEN.to_owned()),
            ])
            .send()
            .await
            .expect("the request is answered")
    }

    /// `GET /_sim/audiences/{id}/members`, the `data` list.
    pub async fn members(&self, audience: &str) -> Vec<Value> {
        let body: Value = self
            .client
            .get(self.url(&format!("/_sim/audiences/{audience}/members")))
            .send()
            .await
            .expect("the request is answered")
            .json()
            .await
            .expect("JSON");
        body["data"].as_array().expect("a data list").clone()
    }

    /// `GET /_sim/pixels/{pixel}/events`, the `data` list.
    pub async fn accepted_events(&self, pixel: &str) -> Vec<Value> {
        let body: Value = self
            .client
            .get(self.url(&format!("/_sim/pixels/{pixel}/events")))
            .send()
            .await
            .expect("the request is answered")
            .json()
            .await
            .expect("JSON");
        body["data"].as_array().expect("a data list").clone()
    }

    /// `GET /_sim/stats`.
    pub async fn stats(&self) -> Value {
        self.client
            .get(self.url("/_sim/stats"))
            .send()
            .await
            .expect("the request is answered")
            .json()
            .await
            .expect("JSON")
    }

    /// `POST /_sim/<path>` with a JSON body.
    pub async fn admin_post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(&format!("/_sim/{path}")))
            .json(&body)
            .send()
            .await
            .expect("the request is answered")
    }

    /// Moves the simulator clock to real time + `offset_seconds`.
    pub async fn set_clock(&self, offset_seconds: i64) {
        let response = self
            .admin_post("clock", json!({"offset_seconds": offset_seconds}))
            .await;
        assert_eq!(response.status(), 200);
    }

    /// Queues a fault.
    pub async fn fault(&self, body: Value) {
        let response = self.admin_post("faults", body).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }
}

/// The Graph error object of a response, with its status.
pub async fn graph_error(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    (status, body["error"].clone())
}
