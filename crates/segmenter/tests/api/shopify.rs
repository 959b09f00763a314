//! Shopify bodies for the tests: Shopify's published samples with the fields a test cares about
//! overridden, so that every event goes through the same parsing and hashing as in ingest.

use std::path::PathBuf;

use audience_core::envelope::Envelope;
use audience_core::events::StoreEvent;
use audience_core::shopify::Topic;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::helpers::{SHOP, envelope};

fn fixture(path: &str) -> Value {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/shopify")
        .join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `n` days ago.
pub fn days_ago(n: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::days(n)
}

/// A customer record.
#[derive(Debug, Clone)]
pub struct CustomerSpec {
    pub id: u64,
    pub email: String,
    pub updated_at: DateTime<Utc>,
    /// `accepts_marketing` (older API versions): `None` leaves it out.
    pub accepts_marketing: Option<bool>,
}

impl CustomerSpec {
    pub fn new(id: u64) -> CustomerSpec {
        CustomerSpec {
            id,
            email: format!("customer{id}@example.com"),
            updated_at: Utc::now() - TimeDelta::hours(1),
            accepts_marketing: None,
        }
    }

    pub fn body(&self) -> Vec<u8> {
        let mut c = fixture("customers__create/sample.json");
        c["id"] = json!(self.id);
        c["email"] = json!(self.email);
        c["updated_at"] = json!(ts(self.updated_at));
        c["created_at"] = json!(ts(self.updated_at - TimeDelta::days(1)));
        c["default_address"]["customer_id"] = json!(self.id);
        if let Some(accepts) = self.accepts_marketing {
            c["accepts_marketing"] = json!(accepts);
        }
        serde_json::to_vec(&c).expect("json")
    }

    pub fn event(&self, topic: Topic) -> Envelope<StoreEvent> {
        envelope(SHOP, topic, &self.body())
    }

    pub fn create(&self) -> Envelope<StoreEvent> {
        self.event(Topic::CustomersCreate)
    }

    pub fn update(&self) -> Envelope<StoreEvent> {
        self.event(Topic::CustomersUpdate)
    }
}

/// An order.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    pub id: u64,
    pub customer: Option<u64>,
    pub total: String,
    pub processed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub test: bool,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub source_name: String,
    pub user_agent: Option<String>,
    pub browser_ip: Option<String>,
    pub landing_site: Option<String>,
    pub note_attributes: Vec<(String, String)>,
    /// (refund id, amount) listed in the order's `refunds[]`.
    pub refunds: Vec<(u64, String)>,
}

impl OrderSpec {
    pub fn new(id: u64, customer: Option<u64>, total: &str) -> OrderSpec {
        let at = Utc::now() - TimeDelta::days(2);
        OrderSpec {
            id,
            customer,
            total: total.to_owned(),
            processed_at: at,
            updated_at: at,
            test: false,
            cancelled_at: None,
            source_name: "web".into(),
            user_agent: None,
            browser_ip: None,
            landing_site: None,
            note_attributes: Vec::new(),
            refunds: Vec::new(),
        }
    }

    pub fn at(mut self, at: DateTime<Utc>) -> OrderSpec {
        self.processed_at = at;
        self.updated_at = at;
        self
    }

    pub fn updated(mut self, at: DateTime<Utc>) -> OrderSpec {
        self.updated_at = at;
        self
    }

    pub fn cancelled(mut self, at: DateTime<Utc>) -> OrderSpec {
        self.cancelled_at = Some(at);
        self.updated_at = at;
        self
    }

    pub fn body(&self) -> Vec<u8> {
        let mut o = fixture("orders__create/sample.json");
        o["id"] = json!(self.id);
        o["test"] = json!(self.test);
        o["cancelled_at"] = self.cancelled_at.map_or(Value::Null, |t| json!(ts(t)));
        o["cancel_reason"] = if self.cancelled_at.is_some() {
            json!("customer")
        } else {
            Value::Null
        };
        o["financial_status"] = json!(if self.cancelled_at.is_some() {
            "voided"
        } else {
            "paid"
        });
        o["total_price"] = json!(self.total);
        o["current_total_price"] = json!(self.total);
        o["total_price_set"] = json!({
            "shop_money": {"amount": self.total, "currency_code": "USD"},
            "presentment_money": {"amount": self.total, "currency_code": "USD"},
        });
        o["created_at"] = json!(ts(self.processed_at));
        o["processed_at"] = json!(ts(self.processed_at));
        o["updated_at"] = json!(ts(self.updated_at));
        o["source_name"] = json!(self.source_name);
        o["landing_site"] = self.landing_site.as_ref().map_or(Value::Null, |s| json!(s));
        o["browser_ip"] = self.browser_ip.as_ref().map_or(Value::Null, |s| json!(s));
        o["client_details"] = match (&self.user_agent, &self.browser_ip) {
            (None, None) => Value::Null,
            (ua, ip) => {
                json!({"browser_ip": ip, "user_agent": ua, "accept_language": "en", "browser_height": null, "browser_width": null, "session_hash": null})
            }
        };
        o["note_attributes"] = json!(
            self.note_attributes
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect::<Vec<_>>()
        );
        match self.customer {
            Some(id) => {
                o["customer"]["id"] = json!(id);
                o["customer"]["email"] = json!(format!("customer{id}@example.com"));
                o["customer"]["default_address"]["customer_id"] = json!(id);
            }
            None => o["customer"] = Value::Null,
        }
        o["refunds"] = json!(
            self.refunds
                .iter()
                .map(|(id, amount)| refund_json(*id, self.id, amount))
                .collect::<Vec<_>>()
        );
        serde_json::to_vec(&o).expect("json")
    }

    pub fn event(&self, topic: Topic) -> Envelope<StoreEvent> {
        envelope(SHOP, topic, &self.body())
    }

    pub fn create(&self) -> Envelope<StoreEvent> {
        self.event(Topic::OrdersCreate)
    }

    pub fn paid(&self) -> Envelope<StoreEvent> {
        self.event(Topic::OrdersPaid)
    }

    pub fn updated_event(&self) -> Envelope<StoreEvent> {
        self.event(Topic::OrdersUpdated)
    }
}

fn refund_json(id: u64, order_id: u64, amount: &str) -> Value {
    let mut r = fixture("refunds__create/sample.json");
    r["id"] = json!(id);
    r["order_id"] = json!(order_id);
    r["refund_line_items"] = json!([]);
    r["transactions"] = json!([{
        "id": id + 1, "order_id": order_id, "kind": "refund", "gateway": "bogus", "status": "success",
        "amount": amount, "currency": "USD", "created_at": null, "test": false
    }]);
    r
}

/// `refunds/create` for an order.
pub fn refund(id: u64, order_id: u64, amount: &str) -> Envelope<StoreEvent> {
    let body = serde_json::to_vec(&refund_json(id, order_id, amount)).expect("json");
    envelope(SHOP, Topic::RefundsCreate, &body)
}

/// `customers/redact` for a customer and orders.
pub fn customers_redact(customer: u64, orders: &[u64]) -> Envelope<StoreEvent> {
    let mut r = fixture("customers__redact/sample.json");
    r["shop_domain"] = json!(SHOP);
    r["customer"]["id"] = json!(customer);
    r["customer"]["email"] = json!(format!("customer{customer}@example.com"));
    r["orders_to_redact"] = json!(orders);
    envelope(
        SHOP,
        Topic::CustomersRedact,
        &serde_json::to_vec(&r).expect("json"),
    )
}

/// `customers/data_request` for a customer.
pub fn data_request(customer: u64) -> Envelope<StoreEvent> {
    let mut r = fixture("customers__data_request/sample.json");
    r["shop_domain"] = json!(SHOP);
    r["customer"]["id"] = json!(customer);
    r["customer"]["email"] = json!(format!("customer{customer}@example.com"));
    r["orders_requested"] = json!([]);
    envelope(
        SHOP,
        Topic::CustomersDataRequest,
        &serde_json::to_vec(&r).expect("json"),
    )
}

/// `customers/delete`.
pub fn customers_delete(customer: u64) -> Envelope<StoreEvent> {
    let mut r = fixture("customers__delete/sample.json");
    r["id"] = json!(customer);
    envelope(
        SHOP,
        Topic::CustomersDelete,
        &serde_json::to_vec(&r).expect("json"),
    )
}

/// `shop/redact`.
pub fn shop_redact() -> Envelope<StoreEvent> {
    let mut r = fixture("shop__redact/sample.json");
    r["shop_domain"] = json!(SHOP);
    envelope(
        SHOP,
        Topic::ShopRedact,
        &serde_json::to_vec(&r).expect("json"),
    )
}

/// `app/uninstalled`.
pub fn app_uninstalled() -> Envelope<StoreEvent> {
    let mut r = fixture("app__uninstalled/sample.json");
    r["myshopify_domain"] = json!(SHOP);
    envelope(
        SHOP,
        Topic::AppUninstalled,
        &serde_json::to_vec(&r).expect("json"),
    )
}
