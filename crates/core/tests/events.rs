//! Store events built from the Shopify samples: every sample converts, no raw personal data
//! survives into the serialized event, the match keys hash what the specification says, and
//! the envelope round-trips.

use std::path::PathBuf;

use audience_core::envelope::{Envelope, EnvelopeError, SCHEMA_VERSION, shopify_message_id};
use audience_core::events::{Context, StoreEvent, from_webhook};
use audience_core::shopify::{Money, Topic};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SHOP: &str = "snowdevil.myshopify.com";

fn ctx() -> Context<'static> {
    Context {
        shop_domain: SHOP,
        shop_country: Some("US"),
    }
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/shopify")
}

fn read(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn read_json(relative: &str) -> Value {
    serde_json::from_slice(&read(relative)).unwrap()
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn m(s: &str) -> Money {
    s.parse().unwrap()
}

/// Every sample but the shape-only one, as (topic, relative path).
fn genuine_fixtures() -> Vec<(Topic, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let folder = entry.file_name().into_string().unwrap();
        let topic = Topic::parse(&folder.replace("__", "/")).unwrap();
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let name = file.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".json") && name != "anonymized_real_shape.json" {
                out.push((topic, format!("{folder}/{name}")));
            }
        }
    }
    out.sort();
    out
}

fn event(topic: Topic, body: &[u8]) -> StoreEvent {
    from_webhook(topic, body, &ctx()).unwrap_or_else(|e| panic!("{e}"))
}

fn order_event(body: &[u8]) -> audience_core::events::OrderEvent {
    match event(Topic::OrdersCreate, body) {
        StoreEvent::Order(order) => order,
        other => panic!("not an order: {other:?}"),
    }
}

/// Keys whose string values are personal data that must never appear raw in an event.
const PII_KEYS: &[&str] = &[
    "email",
    "contact_email",
    "customer_email",
    "phone",
    "first_name",
    "last_name",
    "address1",
    "address2",
    "city",
    "zip",
    "shop_owner",
    "company",
];

/// Keys that are personal data when longer than a code (`Kentucky`, not `KY`).
const PII_NAME_KEYS: &[&str] = &["province", "country", "country_name"];

/// Collects the personal data strings of a fixture, wherever they sit.
fn personal_strings(value: &Value, parent_key: Option<&str>, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if let Value::String(s) = child {
                    let is_address = parent_key.is_some_and(|k| k.ends_with("address"));
                    if !s.trim().is_empty()
                        && (PII_KEYS.contains(&key.as_str())
                            || (PII_NAME_KEYS.contains(&key.as_str()) && s.len() > 3)
                            || (is_address && key == "name"))
                    {
                        out.push(s.clone());
                    }
                }
                personal_strings(child, Some(key), out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| personal_strings(item, parent_key, out)),
        _ => {}
    }
}

fn assert_no_personal_data(fixture: &Value, serialized: &str, label: &str) {
    let mut strings = Vec::new();
    personal_strings(fixture, None, &mut strings);
    for s in strings {
        assert!(
            !serialized.contains(&s),
            "{label}: raw {s:?} in {serialized}"
        );
        let escaped = serde_json::to_string(&s).unwrap();
        assert!(
            !serialized.contains(escaped.trim_matches('"')),
            "{label}: raw {s:?}"
        );
    }
}

#[test]
fn every_sample_converts_without_raw_personal_data() {
    let fixtures = genuine_fixtures();
    assert!(fixtures.len() >= 14);
    for (topic, relative) in fixtures {
        let body = read(&relative);
        let event =
            from_webhook(topic, &body, &ctx()).unwrap_or_else(|e| panic!("{relative}: {e}"));
        let serialized = serde_json::to_string(&event).unwrap();
        assert_no_personal_data(&read_json(&relative), &serialized, &relative);
        // And the event reads back as itself.
        let back: StoreEvent = serde_json::from_str(&serialized).unwrap();
        assert_eq!(back, event, "{relative}");
    }
}

#[test]
fn the_collector_finds_the_samples_personal_data() {
    let mut strings = Vec::new();
    personal_strings(&read_json("orders__create/sample.json"), None, &mut strings);
    for expected in [
        "jon@example.com",
        "john@example.com",
        "555-555-SHIP",
        "Steve",
        "Shipper",
        "123 Elm St.",
        "Ottawa",
        "40003",
        "K2H7A8",
        "Kentucky",
        "Steve Shipper",
    ] {
        assert!(
            strings.iter().any(|s| s == expected),
            "{expected} not collected"
        );
    }
}

#[test]
fn each_topic_yields_its_event_type() {
    let expectations = [
        (
            "customers__create/sample.json",
            Topic::CustomersCreate,
            "customer",
        ),
        (
            "customers__update/sample.json",
            Topic::CustomersUpdate,
            "customer",
        ),
        (
            "customers__delete/sample.json",
            Topic::CustomersDelete,
            "customer_deleted",
        ),
        ("orders__create/sample.json", Topic::OrdersCreate, "order"),
        ("orders__updated/sample.json", Topic::OrdersUpdated, "order"),
        ("orders__paid/sample.json", Topic::OrdersPaid, "order"),
        (
            "orders__cancelled/sample.json",
            Topic::OrdersCancelled,
            "order",
        ),
        (
            "refunds__create/sample.json",
            Topic::RefundsCreate,
            "refund",
        ),
        (
            "app__uninstalled/sample.json",
            Topic::AppUninstalled,
            "app_uninstalled",
        ),
        (
            "customers__data_request/sample.json",
            Topic::CustomersDataRequest,
            "customer_data_request",
        ),
        (
            "customers__redact/sample.json",
            Topic::CustomersRedact,
            "customer_redact",
        ),
        ("shop__redact/sample.json", Topic::ShopRedact, "shop_redact"),
    ];
    for (relative, topic, tag) in expectations {
        let value = serde_json::to_value(event(topic, &read(relative))).unwrap();
        assert_eq!(value["type"], tag, "{relative}");
    }
}

#[test]
fn the_order_sample_hashes_its_match_keys() {
    let order = order_event(&read("orders__create/sample.json"));
    assert_eq!(order.order_id, 820_982_911_946_154_508);
    assert_eq!(order.customer_id, Some(115_310_627_314_723_954));
    let data = &order.user_data;
    let em: Vec<&str> = data.em.iter().map(|h| h.as_str()).collect();
    // The order's email (also its contact email, counted once), then the customer's.
    assert_eq!(em, [sha256("jon@example.com"), sha256("john@example.com")]);
    assert_eq!(
        data.external_id.as_ref().unwrap().as_str(),
        sha256("115310627314723954")
    );
    assert_eq!(data.fn_.as_ref().unwrap().as_str(), sha256("john"));
    assert_eq!(data.ln.as_ref().unwrap().as_str(), sha256("smith"));
    // Location from the billing address.
    assert_eq!(data.ct.as_ref().unwrap().as_str(), sha256("shippington"));
    assert_eq!(data.st.as_ref().unwrap().as_str(), sha256("ky"));
    assert_eq!(data.zp.as_ref().unwrap().as_str(), sha256("40003"));
    assert_eq!(data.country.as_ref().unwrap().as_str(), sha256("us"));
    // Every phone either hashed or reported, never raw.
    for invalid in &data.invalid_fields {
        assert!(!invalid.reason.is_empty());
        assert!(
            [
                "em",
                "ph",
                "fn",
                "ln",
                "ct",
                "st",
                "zp",
                "country",
                "external_id"
            ]
            .contains(&invalid.field.as_ref())
        );
    }
    let value = serde_json::to_value(&order).unwrap();
    assert_eq!(value["user_data"]["fn"], sha256("john"));
    assert!(value["user_data"].get("fn_").is_none());
}

#[test]
fn the_order_sample_carries_state_money_and_lines() {
    let order = order_event(&read("orders__create/sample.json"));
    assert!(order.test);
    assert_eq!(order.name.as_deref(), Some("#9999"));
    assert_eq!(order.total_price, m("404.95"));
    assert_eq!(order.currency.as_str(), "USD");
    assert_eq!(order.presentment_total_price, Some(m("404.95")));
    assert_eq!(order.financial_status.as_deref(), Some("voided"));
    assert!(order.cancelled_at.is_some());
    assert_eq!(order.line_items.len(), 5);
    assert_eq!(order.line_items[3].line_item_id, 976_318_377_106_520_349);
    assert_eq!(order.line_items[3].price, Some(m("159.99")));
    assert_eq!(order.buyer_accepts_marketing, Some(true));
    // The sample has no browser context.
    assert_eq!(order.client_ip_address, None);
    assert_eq!(order.client_user_agent, None);
    assert_eq!(order.fbc, None);
    assert_eq!(order.fbp, None);
    assert_eq!(order.event_source_url, None);
    let value = serde_json::to_value(&order).unwrap();
    assert_eq!(value["total_price"], "404.95");
    assert_eq!(value["order_id"], json!(820_982_911_946_154_508_u64));
}

#[test]
fn an_fbclid_landing_page_builds_fbc_and_the_source_url() {
    let mut sample = read_json("orders__create/sample.json");
    sample["landing_site"] = json!(
        "/products/aviator?utm_source=facebook&fbclid=IwAR2F4-dbP0l7Mn1IawQQ&email=jon%40example.com"
    );
    sample["client_details"] = json!({
        "browser_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "accept_language": "en"
    });
    let order = order_event(&serde_json::to_vec(&sample).unwrap());
    // created_at 2021-12-31T19:00:00-05:00 = 1640995200000 ms.
    assert_eq!(
        order.fbc.as_deref(),
        Some("fb.1.1640995200000.IwAR2F4-dbP0l7Mn1IawQQ")
    );
    assert_eq!(
        order.event_source_url.as_deref(),
        Some("https://snowdevil.myshopify.com/products/aviator")
    );
    assert_eq!(order.client_ip_address.as_deref(), Some("203.0.113.7"));
    assert_eq!(
        order.client_user_agent.as_deref(),
        Some("Mozilla/5.0 (X11; Linux x86_64)")
    );
    let serialized = serde_json::to_string(&order).unwrap();
    assert!(!serialized.contains("jon%40example.com"), "{serialized}");
}

#[test]
fn cart_attributes_win_over_the_landing_page() {
    let mut sample = read_json("orders__create/sample.json");
    sample["landing_site"] = json!("/?fbclid=fromlanding");
    sample["note_attributes"] = json!([
        {"name": "gift_note", "value": "for Jon"},
        {"name": "_fbc", "value": "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890"},
        {"name": "_fbp", "value": "fb.1.1596403881668.1116446470"}
    ]);
    sample["browser_ip"] = json!("2001:db8::1");
    sample["client_details"] = json!({"browser_ip": "not an ip", "user_agent": null});
    let order = order_event(&serde_json::to_vec(&sample).unwrap());
    assert_eq!(
        order.fbc.as_deref(),
        Some("fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890")
    );
    assert_eq!(order.fbp.as_deref(), Some("fb.1.1596403881668.1116446470"));
    assert_eq!(order.client_ip_address.as_deref(), Some("2001:db8::1"));
    assert_eq!(order.client_user_agent, None);
    assert_eq!(
        order.event_source_url.as_deref(),
        Some("https://snowdevil.myshopify.com/")
    );
    let serialized = serde_json::to_string(&order).unwrap();
    assert!(!serialized.contains("for Jon"));
}

#[test]
fn a_guest_order_without_contact_data_has_no_match_keys() {
    let mut sample = read_json("orders__create/sample.json");
    for key in [
        "email",
        "contact_email",
        "phone",
        "customer",
        "billing_address",
        "shipping_address",
    ] {
        sample.as_object_mut().unwrap().remove(key);
    }
    let order = order_event(&serde_json::to_vec(&sample).unwrap());
    assert_eq!(order.customer_id, None);
    assert!(order.user_data.is_empty());
    assert!(order.user_data.invalid_fields.is_empty());
    let value = serde_json::to_value(&order).unwrap();
    assert_eq!(value["user_data"], json!({}));
}

#[test]
fn an_invalid_email_is_reported_not_fatal() {
    let mut sample = read_json("orders__create/sample.json");
    sample["email"] = json!("not an email");
    sample["contact_email"] = json!(null);
    let order = order_event(&serde_json::to_vec(&sample).unwrap());
    let em: Vec<&str> = order.user_data.em.iter().map(|h| h.as_str()).collect();
    assert_eq!(em, [sha256("john@example.com")]);
    let invalid = order
        .user_data
        .invalid_fields
        .iter()
        .find(|f| f.field == "em")
        .unwrap();
    assert_eq!(invalid.source, "email");
    assert_eq!(invalid.reason, "invalid email");
    assert!(
        !serde_json::to_string(&order)
            .unwrap()
            .contains("not an email")
    );
}

#[test]
fn the_shop_country_is_the_last_country_context() {
    let body = br#"{"id": 42, "state": "enabled", "phone": "(650)555-1212"}"#;
    let StoreEvent::Customer(customer) = event(Topic::CustomersCreate, body) else {
        panic!("not a customer");
    };
    let ph: Vec<&str> = customer.user_data.ph.iter().map(|h| h.as_str()).collect();
    assert_eq!(ph, [sha256("16505551212")]);
    assert_eq!(
        customer.user_data.external_id.unwrap().as_str(),
        sha256("42")
    );
}

#[test]
fn customer_consent_follows_the_api_version() {
    let StoreEvent::Customer(old) = event(
        Topic::CustomersCreate,
        &read("customers__create/sample_2024-10.json"),
    ) else {
        panic!("not a customer");
    };
    assert_eq!(old.email_marketing_consent, Some(false));
    assert_eq!(old.sms_marketing_consent, None);
    assert_eq!(old.orders_count, Some(1));
    assert_eq!(old.total_spent, Some(m("100.00")));
    assert_eq!(old.last_order_id, Some(820_982_911_946_154_508));
    assert!(old.user_data.em.is_empty());

    let StoreEvent::Customer(new) = event(
        Topic::CustomersUpdate,
        &read("customers__update/sample.json"),
    ) else {
        panic!("not a customer");
    };
    assert_eq!(new.customer_id, 706_405_506_930_370_084);
    assert_eq!(new.email_marketing_consent, None);
    assert_eq!(new.sms_marketing_consent, None);
    assert_eq!(new.orders_count, None);
    assert_eq!(new.total_spent, None);
    let data = &new.user_data;
    assert_eq!(
        data.em.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
        [sha256("bob@biller.com")]
    );
    assert_eq!(data.fn_.as_ref().unwrap().as_str(), sha256("bob"));
    assert_eq!(data.ln.as_ref().unwrap().as_str(), sha256("biller"));
    assert_eq!(data.ct.as_ref().unwrap().as_str(), sha256("ottawa"));
    assert_eq!(data.st.as_ref().unwrap().as_str(), sha256("on"));
    assert_eq!(data.country.as_ref().unwrap().as_str(), sha256("ca"));
    assert_eq!(
        data.external_id.as_ref().unwrap().as_str(),
        sha256("706405506930370084")
    );
    let value = serde_json::to_value(&new).unwrap();
    assert!(value.get("orders_count").is_none(), "{value}");
}

#[test]
fn a_deleted_customer_is_only_its_id() {
    let event = event(
        Topic::CustomersDelete,
        &read("customers__delete/sample.json"),
    );
    assert_eq!(event.customer_id(), Some(706_405_506_930_370_084));
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"type":"customer_deleted","customer_id":706405506930370084}"#
    );
}

#[test]
fn refund_amounts_sum_successful_refund_transactions() {
    let StoreEvent::Refund(refund) =
        event(Topic::RefundsCreate, &read("refunds__create/sample.json"))
    else {
        panic!("not a refund");
    };
    assert_eq!(refund.refund_id, 890_088_186_047_892_319);
    assert_eq!(refund.order_id, 820_982_911_946_154_508);
    assert_eq!(refund.amount, m("85.00"));
    assert_eq!(refund.amount.to_string(), "85.00");
    // The transactions' currency is null; the refund lines say USD, in both currencies.
    assert_eq!(
        refund.currency.map(|c| c.to_string()).as_deref(),
        Some("USD")
    );
    assert_eq!(refund.shop_amount, Some(m("85.00")));
    assert_eq!(
        refund.shop_currency.map(|c| c.to_string()).as_deref(),
        Some("USD")
    );
    assert_eq!(refund.line_items.len(), 5);
    assert_eq!(refund.line_items[0].subtotal, Some(m("89.99")));

    let StoreEvent::Refund(vnd) = event(
        Topic::RefundsCreate,
        &read("refunds__create/pipedream_dev_store_vnd.json"),
    ) else {
        panic!("not a refund");
    };
    assert_eq!(vnd.amount.to_string(), "20");
    assert_eq!(vnd.currency.map(|c| c.to_string()).as_deref(), Some("VND"));
    assert_eq!(vnd.shop_amount, Some(m("20")));
}

#[test]
fn failed_and_non_refund_transactions_do_not_count() {
    let mut sample = read_json("refunds__create/sample.json");
    let transactions = sample["transactions"].as_array_mut().unwrap();
    transactions[1]["status"] = json!("failure");
    let mut sale = transactions[0].clone();
    sale["kind"] = json!("sale");
    sale["amount"] = json!("999.00");
    transactions.push(sale);
    let StoreEvent::Refund(refund) =
        event(Topic::RefundsCreate, &serde_json::to_vec(&sample).unwrap())
    else {
        panic!("not a refund");
    };
    assert_eq!(refund.amount, m("75.00"));
}

#[test]
fn a_refund_in_another_currency_is_converted_with_its_own_amounts() {
    let mut sample = read_json("refunds__create/sample.json");
    // Buyer paid in EUR; the shop is in USD at 1.10 USD per EUR.
    for line in sample["refund_line_items"].as_array_mut().unwrap() {
        for set in ["subtotal_set", "total_tax_set"] {
            let shop: Money = line[set]["shop_money"]["amount"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let eur = shop.mul_div(m("1"), m("1.10"), 2).unwrap();
            line[set]["presentment_money"] =
                json!({"amount": eur.to_string(), "currency_code": "EUR"});
        }
    }
    for transaction in sample["transactions"].as_array_mut().unwrap() {
        transaction["currency"] = json!("EUR");
    }
    sample["transactions"][0]["amount"] = json!("100.00");
    sample["transactions"][1]["amount"] = json!("10.00");
    let StoreEvent::Refund(refund) =
        event(Topic::RefundsCreate, &serde_json::to_vec(&sample).unwrap())
    else {
        panic!("not a refund");
    };
    assert_eq!(refund.amount, m("110.00"));
    assert_eq!(refund.currency.unwrap().as_str(), "EUR");
    assert_eq!(refund.shop_currency.unwrap().as_str(), "USD");
    let shop_amount = refund.shop_amount.unwrap();
    assert!(
        shop_amount >= m("120.95") && shop_amount <= m("121.05"),
        "{shop_amount}"
    );
}

#[test]
fn refunds_inside_an_order_are_summarized() {
    let mut sample = read_json("orders__updated/sample.json");
    sample["refunds"] = json!([read_json("refunds__create/sample.json")]);
    let order = order_event(&serde_json::to_vec(&sample).unwrap());
    assert_eq!(order.refunds.len(), 1);
    assert_eq!(order.refunds[0].amount, m("85.00"));
    assert_eq!(order.refunds[0].shop_amount, Some(m("85.00")));
}

#[test]
fn the_shop_and_compliance_events_hold_ids_and_hashes_only() {
    let StoreEvent::AppUninstalled(shop) =
        event(Topic::AppUninstalled, &read("app__uninstalled/sample.json"))
    else {
        panic!("not a shop");
    };
    assert_eq!(shop.shop_id, 548_380_009);
    assert_eq!(shop.myshopify_domain, None);
    assert_eq!(shop.currency.unwrap().as_str(), "USD");
    assert_eq!(shop.country_code.as_deref(), Some("US"));

    let StoreEvent::CustomerDataRequest(request) = event(
        Topic::CustomersDataRequest,
        &read("customers__data_request/sample.json"),
    ) else {
        panic!("not a data request");
    };
    assert_eq!(request.shop_id, 954_889);
    assert_eq!(request.customer_id, Some(191_167));
    assert_eq!(request.orders_requested, [299_938, 280_263, 220_458]);
    assert_eq!(request.data_request_id, Some(9999));
    assert_eq!(
        request
            .user_data
            .em
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>(),
        [sha256("john@example.com")]
    );
    assert_eq!(
        request.user_data.external_id.as_ref().unwrap().as_str(),
        sha256("191167")
    );

    let StoreEvent::CustomerRedact(redact) = event(
        Topic::CustomersRedact,
        &read("customers__redact/sample.json"),
    ) else {
        panic!("not a redact");
    };
    assert_eq!(redact.customer_id, Some(191_167));
    assert_eq!(redact.orders_to_redact, [299_938, 280_263, 220_458]);
    assert_eq!(redact.user_data.em.len(), 1);

    let event = event(Topic::ShopRedact, &read("shop__redact/sample.json"));
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"type":"shop_redact","shop_id":954889}"#
    );
}

#[test]
fn a_payload_error_fails_the_webhook() {
    let error = from_webhook(
        Topic::OrdersCreate,
        &read("customers__create/sample.json"),
        &ctx(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("orders/create payload: missing field `total_price`"),
        "{error}"
    );
    let error = from_webhook(Topic::RefundsCreate, b"[]", &ctx()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("refunds/create payload: invalid type: sequence"),
        "{error}"
    );
}

fn envelope(topic: Topic, payload: StoreEvent) -> Envelope<StoreEvent> {
    Envelope {
        schema_version: SCHEMA_VERSION,
        message_id: shopify_message_id("545ebdd4-b7be-4d3d-b14e-54aa78e0e0f9"),
        shop_domain: SHOP.to_owned(),
        topic: topic.as_str().to_owned(),
        event_id: Some("59d6d79c-595f-4e7e-bc6f-72f5c3d0c66f".to_owned()),
        triggered_at: Some(
            DateTime::parse_from_rfc3339("2024-08-03T18:28:37.234647458Z")
                .unwrap()
                .with_timezone(&Utc),
        ),
        received_at: DateTime::parse_from_rfc3339("2024-08-03T18:28:37.5Z")
            .unwrap()
            .with_timezone(&Utc),
        api_version: "2026-10".to_owned(),
        payload,
    }
}

#[test]
fn envelopes_round_trip_for_every_sample() {
    for (topic, relative) in genuine_fixtures() {
        let original = envelope(topic, event(topic, &read(&relative)));
        let bytes = original.to_vec().unwrap();
        assert!(!bytes.contains(&b'\n'), "not compact");
        let back = Envelope::<StoreEvent>::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{relative}: {e}"));
        assert_eq!(back, original, "{relative}");
    }
}

#[test]
fn the_envelope_has_the_documented_fields() {
    let original = envelope(
        Topic::OrdersPaid,
        event(Topic::OrdersPaid, &read("orders__paid/sample.json")),
    );
    let value: Value = serde_json::from_slice(&original.to_vec().unwrap()).unwrap();
    assert_eq!(value["schema_version"], 1);
    assert_eq!(
        value["message_id"],
        "shopify:545ebdd4-b7be-4d3d-b14e-54aa78e0e0f9"
    );
    assert_eq!(value["shop_domain"], SHOP);
    assert_eq!(value["topic"], "orders/paid");
    assert_eq!(value["event_id"], "59d6d79c-595f-4e7e-bc6f-72f5c3d0c66f");
    assert_eq!(value["triggered_at"], "2024-08-03T18:28:37.234647458Z");
    assert_eq!(value["api_version"], "2026-10");
    assert_eq!(value["payload"]["type"], "order");
}

#[test]
fn an_unknown_schema_version_is_refused() {
    let original = envelope(
        Topic::ShopRedact,
        event(Topic::ShopRedact, &read("shop__redact/sample.json")),
    );
    let mut value: Value = serde_json::from_slice(&original.to_vec().unwrap()).unwrap();
    value["schema_version"] = json!(2);
    // A future version may change the payload shape too; the version is what is reported.
    value["payload"] = json!({"type": "something_new"});
    let error =
        Envelope::<StoreEvent>::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap_err();
    assert!(
        matches!(error, EnvelopeError::UnsupportedSchemaVersion { found: 2 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "unsupported envelope schema_version 2 (this build reads 1)"
    );

    value.as_object_mut().unwrap().remove("schema_version");
    let error =
        Envelope::<StoreEvent>::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap_err();
    assert!(
        matches!(error, EnvelopeError::MissingSchemaVersion),
        "{error:?}"
    );
}

#[test]
fn a_malformed_envelope_names_the_field() {
    let original = envelope(
        Topic::ShopRedact,
        event(Topic::ShopRedact, &read("shop__redact/sample.json")),
    );
    let mut value: Value = serde_json::from_slice(&original.to_vec().unwrap()).unwrap();
    value["payload"]["shop_id"] = json!("954889");
    let error =
        Envelope::<StoreEvent>::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap_err();
    let EnvelopeError::Malformed { path, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(path.starts_with("payload"), "{error}");

    let mut value: Value = serde_json::from_slice(&original.to_vec().unwrap()).unwrap();
    value["shop_domain"] = json!("evil.example.com");
    let error =
        Envelope::<StoreEvent>::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap_err();
    assert!(
        matches!(error, EnvelopeError::InvalidShopDomain(_)),
        "{error:?}"
    );

    let error = Envelope::<StoreEvent>::from_slice(b"not json").unwrap_err();
    assert!(
        matches!(error, EnvelopeError::Malformed { .. }),
        "{error:?}"
    );
}

/// Prints the cost of `from_webhook` on the order sample (compact, as Shopify sends it).
/// Run with `cargo test --release -p audience-core --test events -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, run in release on a quiet machine"]
fn report_order_conversion_cost() {
    use std::time::Instant;
    let body = serde_json::to_vec(&read_json("orders__create/sample.json")).unwrap();
    let ctx = ctx();
    let measure = |label: &str, f: &dyn Fn() -> usize| {
        let mut best = f64::MAX;
        let mut sink = 0;
        for _ in 0..200 {
            let start = Instant::now();
            for _ in 0..50 {
                sink += std::hint::black_box(f());
            }
            best = best.min(start.elapsed().as_secs_f64() * 1e6 / 50.0);
        }
        println!(
            "{label}: {best:.2} µs per {} byte order ({sink})",
            body.len()
        );
    };
    measure(
        "shopify::parse",
        &|| match audience_core::shopify::parse(Topic::OrdersCreate, &body) {
            Ok(audience_core::shopify::Payload::Order(order)) => order.line_items.len(),
            _ => 0,
        },
    );
    measure(
        "events::from_webhook",
        &|| match from_webhook(Topic::OrdersCreate, &body, &ctx) {
            Ok(StoreEvent::Order(order)) => order.line_items.len(),
            _ => 0,
        },
    );
}
