//! Every Shopify sample body under `shared/fixtures/shopify/` parses into its topic's type,
//! with exact ids and money, and bodies of the wrong shape fail naming the field.

use std::path::PathBuf;

use audience_core::shopify::{
    self, AccountState, ConsentState, Money, Payload, PayloadError, Topic,
};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/shopify")
}

fn read(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `orders__create` → `orders/create`.
fn topic_of_folder(folder: &str) -> Topic {
    Topic::parse(&folder.replace("__", "/"))
        .unwrap_or_else(|| panic!("no topic for folder {folder}"))
}

/// Every `*.json` fixture as (topic, relative path), the shape-only one excluded.
fn genuine_fixtures() -> Vec<(Topic, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let folder = entry.file_name().into_string().unwrap();
        let topic = topic_of_folder(&folder);
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

fn m(s: &str) -> Money {
    s.parse().unwrap()
}

fn order(relative: &str, topic: Topic) -> shopify::Order<'static> {
    let body: &'static [u8] = read(relative).leak();
    match shopify::parse(topic, body) {
        Ok(Payload::Order(order)) => order,
        other => panic!("{relative}: {other:?}"),
    }
}

#[test]
fn every_fixture_folder_is_a_topic_we_handle() {
    let fixtures = genuine_fixtures();
    for topic in Topic::ALL {
        assert!(
            fixtures.iter().any(|(t, _)| *t == topic),
            "no fixture for {topic}"
        );
    }
}

#[test]
fn every_genuine_sample_parses_as_its_topic() {
    let fixtures = genuine_fixtures();
    assert!(fixtures.len() >= 14, "found only {fixtures:?}");
    for (topic, relative) in fixtures {
        let body = read(&relative);
        let payload = shopify::parse(topic, &body).unwrap_or_else(|e| panic!("{relative}: {e}"));
        let matches = match topic {
            Topic::CustomersCreate | Topic::CustomersUpdate => {
                matches!(payload, Payload::Customer(_))
            }
            Topic::CustomersDelete => matches!(payload, Payload::CustomerDeleted(_)),
            Topic::OrdersCreate
            | Topic::OrdersUpdated
            | Topic::OrdersPaid
            | Topic::OrdersCancelled => {
                matches!(payload, Payload::Order(_))
            }
            Topic::RefundsCreate => matches!(payload, Payload::Refund(_)),
            Topic::AppUninstalled => matches!(payload, Payload::Shop(_)),
            Topic::CustomersDataRequest => matches!(payload, Payload::CustomersDataRequest(_)),
            Topic::CustomersRedact => matches!(payload, Payload::CustomersRedact(_)),
            Topic::ShopRedact => matches!(payload, Payload::ShopRedact(_)),
        };
        assert!(matches, "{relative} parsed as {payload:?}");
    }
}

#[test]
fn the_order_sample_keeps_ids_money_and_contacts_exact() {
    for folder in [
        "orders__create",
        "orders__updated",
        "orders__paid",
        "orders__cancelled",
    ] {
        let order = order(&format!("{folder}/sample.json"), topic_of_folder(folder));
        assert_eq!(order.id, 820_982_911_946_154_508);
        assert_eq!(order.name.as_deref(), Some("#9999"));
        assert!(order.test);
        assert_eq!(order.created_at.to_rfc3339(), "2021-12-31T19:00:00-05:00");
        assert_eq!(order.processed_at, Some(order.created_at));
        assert!(order.cancelled_at.is_some());
        assert_eq!(order.financial_status.as_deref(), Some("voided"));
        assert_eq!(order.source_name.as_deref(), Some("web"));
        assert_eq!(order.currency.as_str(), "USD");
        assert_eq!(
            order.presentment_currency.map(|c| c.to_string()).as_deref(),
            Some("USD")
        );
        assert_eq!(order.total_price.to_string(), "404.95");
        assert_eq!(order.current_total_price, Some(m("414.95")));
        let presentment = order
            .total_price_set
            .and_then(|s| s.presentment_money)
            .unwrap();
        assert_eq!(presentment.amount, m("404.95"));
        assert_eq!(order.email.as_deref(), Some("jon@example.com"));
        assert_eq!(order.contact_email.as_deref(), Some("jon@example.com"));
        assert_eq!(order.phone, None);
        assert_eq!(order.buyer_accepts_marketing, Some(true));
        assert!(order.client_details.is_none());
        assert!(order.landing_site.is_none());
        assert!(order.browser_ip.is_none());
        assert!(order.note_attributes.is_empty());
        assert!(order.refunds.is_empty());

        let customer = order.customer.as_ref().unwrap();
        assert_eq!(customer.id, 115_310_627_314_723_954);
        assert_eq!(customer.email.as_deref(), Some("john@example.com"));
        assert_eq!(customer.state, Some(AccountState::Disabled));
        assert_eq!(customer.created_at, None);
        let home = customer.default_address.as_ref().unwrap();
        assert_eq!(home.country_code.as_deref(), Some("CA"));
        assert_eq!(home.province_code.as_deref(), Some("ON"));

        let billing = order.billing_address.as_ref().unwrap();
        assert_eq!(billing.phone.as_deref(), Some("555-555-SHIP"));
        assert_eq!(billing.city.as_deref(), Some("Shippington"));
        assert_eq!(billing.province_code.as_deref(), Some("KY"));
        assert_eq!(billing.zip.as_deref(), Some("40003"));
        assert_eq!(billing.country_code.as_deref(), Some("US"));

        let ids: Vec<u64> = order.line_items.iter().map(|l| l.id).collect();
        assert_eq!(
            ids,
            [
                487_817_672_276_298_554,
                789_012_345_678_901_234,
                890_123_456_789_012_345,
                976_318_377_106_520_349,
                315_789_986_012_684_393
            ]
        );
        let first = &order.line_items[0];
        assert_eq!(first.product_id, Some(788_032_119_674_292_922));
        assert_eq!(first.variant_id, None);
        assert_eq!(first.sku.as_deref(), Some("SKU2006-001"));
        assert_eq!(first.quantity, 1);
        assert_eq!(first.price, Some(m("89.99")));
        assert_eq!(order.line_items[1].product_id, None);
    }
}

#[test]
fn refund_samples_read_string_and_number_money() {
    let body = read("refunds__create/sample.json");
    let Payload::Refund(refund) = shopify::parse(Topic::RefundsCreate, &body).unwrap() else {
        panic!("not a refund");
    };
    assert_eq!(refund.id, 890_088_186_047_892_319);
    assert_eq!(refund.order_id, 820_982_911_946_154_508);
    let subtotals: Vec<String> = refund
        .refund_line_items
        .iter()
        .map(|l| l.subtotal.unwrap().to_string())
        .collect();
    assert_eq!(subtotals, ["89.99", "19.99", "24.99", "159.99", "119.99"]);
    assert!(
        refund
            .refund_line_items
            .iter()
            .all(|l| l.total_tax == Some(Money::ZERO))
    );
    // A float-rounded id in the published sample is still read as the integer it shows.
    assert_eq!(
        refund.refund_line_items[2].id,
        Some(890_123_456_789_012_500)
    );
    let amounts: Vec<String> = refund
        .transactions
        .iter()
        .map(|t| t.amount.unwrap().to_string())
        .collect();
    assert_eq!(amounts, ["75.00", "10.00"]);
    assert!(
        refund
            .transactions
            .iter()
            .all(|t| t.is_successful_refund() && t.currency.is_none())
    );

    let body = read("refunds__create/pipedream_dev_store_vnd.json");
    let Payload::Refund(refund) = shopify::parse(Topic::RefundsCreate, &body).unwrap() else {
        panic!("not a refund");
    };
    assert_eq!(refund.id, 1_002_961_240_349);
    assert_eq!(refund.order_id, 6_273_085_767_965);
    let line = &refund.refund_line_items[0];
    assert_eq!(line.subtotal, Some(m("20")));
    assert_eq!(line.restock_type.as_deref(), Some("cancel"));
    let shop_money = line.subtotal_set.unwrap().shop_money.unwrap();
    assert_eq!(shop_money.currency_code.unwrap().as_str(), "VND");
    let transaction = &refund.transactions[0];
    assert_eq!(transaction.amount.unwrap().to_string(), "20");
    assert_eq!(transaction.currency.unwrap().as_str(), "VND");
}

#[test]
fn the_2024_10_customer_shape_carries_consent_and_totals() {
    let body = read("customers__create/sample_2024-10.json");
    let Payload::Customer(customer) = shopify::parse(Topic::CustomersCreate, &body).unwrap() else {
        panic!("not a customer");
    };
    assert_eq!(customer.id, 706_405_506_930_370_084);
    assert_eq!(customer.email, None);
    assert_eq!(customer.orders_count, Some(1));
    assert_eq!(customer.total_spent, Some(m("100.00")));
    assert_eq!(customer.last_order_id, Some(820_982_911_946_154_508));
    let consent = customer.email_marketing_consent.as_ref().unwrap();
    assert_eq!(consent.state, Some(ConsentState::NotSubscribed));
    assert_eq!(customer.email_marketing(), Some(false));
    assert_eq!(customer.sms_marketing_consent, None);
    assert_eq!(customer.sms_marketing(), None);
}

#[test]
fn the_2026_04_customer_shape_has_no_consent() {
    for relative in [
        "customers__create/sample.json",
        "customers__update/sample.json",
    ] {
        let body = read(relative);
        let Payload::Customer(customer) = shopify::parse(Topic::CustomersUpdate, &body).unwrap()
        else {
            panic!("not a customer");
        };
        assert_eq!(customer.id, 706_405_506_930_370_084);
        assert_eq!(customer.email.as_deref(), Some("bob@biller.com"));
        assert_eq!(customer.state, Some(AccountState::Disabled));
        assert_eq!(customer.verified_email, Some(true));
        assert_eq!(
            customer.updated_at.unwrap().to_rfc3339(),
            "2021-12-31T19:00:00-05:00"
        );
        assert_eq!(customer.email_marketing(), None);
        assert_eq!(customer.sms_marketing(), None);
        assert_eq!(customer.orders_count, None);
        assert_eq!(customer.total_spent, None);
        let home = customer.default_address.as_ref().unwrap();
        assert_eq!(home.zip.as_deref(), Some("K2P 2L8"));
        assert_eq!(home.country_code.as_deref(), Some("CA"));
    }
}

#[test]
fn legacy_accepts_marketing_is_the_email_consent_without_a_consent_record() {
    let body = br#"{"id": 7, "state": "enabled", "accepts_marketing": true,
        "sms_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in"}}"#;
    let Payload::Customer(customer) = shopify::parse(Topic::CustomersUpdate, body).unwrap() else {
        panic!("not a customer");
    };
    assert_eq!(customer.email_marketing(), Some(true));
    assert_eq!(customer.sms_marketing(), Some(true));
}

#[test]
fn delete_shop_and_compliance_samples_keep_their_ids() {
    let body = read("customers__delete/sample.json");
    let Payload::CustomerDeleted(deleted) = shopify::parse(Topic::CustomersDelete, &body).unwrap()
    else {
        panic!("not a delete");
    };
    assert_eq!(deleted.id, 706_405_506_930_370_084);

    let body = read("app__uninstalled/sample.json");
    let Payload::Shop(shop) = shopify::parse(Topic::AppUninstalled, &body).unwrap() else {
        panic!("not a shop");
    };
    assert_eq!(shop.id, 548_380_009);
    assert_eq!(shop.myshopify_domain, None);
    assert_eq!(shop.currency.unwrap().as_str(), "USD");
    assert_eq!(shop.country_code.as_deref(), Some("US"));

    let body = read("customers__data_request/sample.json");
    let Payload::CustomersDataRequest(request) =
        shopify::parse(Topic::CustomersDataRequest, &body).unwrap()
    else {
        panic!("not a data request");
    };
    assert_eq!(request.shop_id, 954_889);
    assert_eq!(request.shop_domain.as_deref(), Some("{shop}.myshopify.com"));
    assert_eq!(request.customer.id, Some(191_167));
    assert_eq!(request.customer.email.as_deref(), Some("john@example.com"));
    assert_eq!(request.orders_requested, [299_938, 280_263, 220_458]);
    assert_eq!(request.data_request.map(|r| r.id), Some(9999));

    let body = read("customers__redact/sample.json");
    let Payload::CustomersRedact(redact) = shopify::parse(Topic::CustomersRedact, &body).unwrap()
    else {
        panic!("not a redact");
    };
    assert_eq!(redact.customer.phone.as_deref(), Some("555-625-1199"));
    assert_eq!(redact.orders_to_redact, [299_938, 280_263, 220_458]);

    let body = read("shop__redact/sample.json");
    let Payload::ShopRedact(redact) = shopify::parse(Topic::ShopRedact, &body).unwrap() else {
        panic!("not a shop redact");
    };
    assert_eq!(redact.shop_id, 954_889);
}

#[test]
fn the_shape_only_order_is_accepted_or_rejected_naming_a_field() {
    let body = read("orders__create/anonymized_real_shape.json");
    match shopify::parse(Topic::OrdersCreate, &body) {
        Ok(Payload::Order(order)) => assert_eq!(order.id, 123),
        Ok(other) => panic!("parsed as {other:?}"),
        Err(error) => {
            let message = error.to_string();
            assert!(!error.path().is_empty(), "no field named: {message}");
            assert!(
                message.starts_with(&format!("orders/create payload: {}: ", error.path())),
                "{message}"
            );
            assert!(message.contains("example string"), "{message}");
        }
    }
}

#[test]
fn the_shape_only_order_parses_once_its_placeholders_are_real_values() {
    // Same key set, placeholder values replaced: proves the shape itself (no email, no phone,
    // reduced addresses) is accepted.
    let text = String::from_utf8(read("orders__create/anonymized_real_shape.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn fix(value: &mut serde_json::Value, key: Option<&str>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    fix(v, Some(k.as_str()));
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| fix(v, key)),
            serde_json::Value::String(s) if s == "example string" => {
                *s = match key {
                    Some("currency" | "presentment_currency" | "currency_code") => "USD".into(),
                    Some(k)
                        if k.contains("price") || k.contains("amount") || k.contains("total") =>
                    {
                        "1.00".into()
                    }
                    Some("country_code") => "US".into(),
                    _ => "x".into(),
                };
            }
            _ => {}
        }
    }
    fix(&mut value, None);
    let body = serde_json::to_vec(&value).unwrap();
    let Payload::Order(order) = shopify::parse(Topic::OrdersCreate, &body).unwrap() else {
        panic!("not an order");
    };
    assert_eq!(order.email, None);
    assert_eq!(order.contact_email, None);
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.email, None);
    assert_eq!(customer.first_name, None);
    assert_eq!(order.billing_address.as_ref().unwrap().city, None);
    assert_eq!(order.note_attributes.len(), 2);
}

fn reject(topic: Topic, body: &[u8]) -> PayloadError {
    match shopify::parse(topic, body) {
        Ok(payload) => panic!("{topic} accepted {payload:?}"),
        Err(error) => error,
    }
}

#[test]
fn a_placeholder_total_price_is_rejected_naming_the_field() {
    let body = br#"{"id": 1, "created_at": "2021-12-31T19:00:00-05:00", "currency": "USD",
        "total_price": "example string"}"#;
    let error = reject(Topic::OrdersCreate, body);
    assert_eq!(error.path(), "total_price");
    assert!(
        error
            .to_string()
            .starts_with(r#"orders/create payload: total_price: invalid decimal "example string""#),
        "{error}"
    );
}

#[test]
fn a_float_id_is_rejected_not_rounded() {
    let body = br#"{"id": 8.209829119461545e17, "state": "enabled"}"#;
    let error = reject(Topic::CustomersCreate, body);
    assert_eq!(error.path(), "id");
}

#[test]
fn a_customer_body_sent_as_an_order_is_rejected() {
    let body = read("customers__create/sample.json");
    let error = reject(Topic::OrdersCreate, &body);
    assert!(
        error
            .to_string()
            .starts_with("orders/create payload: missing field `total_price`"),
        "{error}"
    );
}

#[test]
fn an_order_body_sent_as_a_customer_or_refund_is_rejected() {
    let body = read("orders__create/sample.json");
    let error = reject(Topic::CustomersCreate, &body);
    assert_eq!(
        error.to_string(),
        "customers/create payload: missing field `state`: not a customer record"
    );
    let error = reject(Topic::RefundsCreate, &body);
    assert!(
        error
            .to_string()
            .starts_with("refunds/create payload: missing field `order_id`"),
        "{error}"
    );
}

#[test]
fn empty_objects_arrays_and_non_json_are_rejected_for_every_topic() {
    for topic in Topic::ALL {
        let error = reject(topic, b"{}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{topic} payload: missing field `")),
            "{error}"
        );
        assert!(!error.is_syntax());

        let error = reject(topic, b"[]");
        assert!(
            error.to_string().starts_with(&format!(
                "{topic} payload: invalid type: sequence, expected"
            )),
            "{error}"
        );

        let error = reject(topic, b"null");
        assert!(error.to_string().contains("invalid type: null"), "{error}");

        let error = reject(topic, b"{\"id\": 1,");
        assert!(error.is_syntax(), "{error}");
    }
}

#[test]
fn an_array_is_not_read_as_a_struct_by_position() {
    // serde would otherwise fill a struct from a JSON array, field by field.
    let error = reject(Topic::CustomersDelete, b"[706405506930370084]");
    assert_eq!(
        error.to_string(),
        "customers/delete payload: invalid type: sequence, expected a JSON object"
    );
    let error = reject(Topic::ShopRedact, b"  \"954889\"");
    assert!(
        error.to_string().contains("invalid type: string"),
        "{error}"
    );
    let error = reject(Topic::ShopRedact, b"nonsense");
    assert!(error.is_syntax(), "{error}");
}

#[test]
fn a_body_that_is_not_utf8_is_a_positioned_syntax_error() {
    let error = reject(
        Topic::CustomersCreate,
        b"{\"id\": 1, \"state\": \"enabled\", \"email\": \"a\xff@b.co\"}",
    );
    assert!(error.is_syntax(), "{error}");
    assert_eq!(error.line(), 1);
    assert!(error.column() > 0, "{error}");
}

#[test]
fn a_wrong_type_deep_inside_names_the_whole_path() {
    let body = br#"{"id": 1, "created_at": "2021-12-31T19:00:00-05:00", "currency": "USD",
        "total_price": "1.00", "customer": {"id": 2, "default_address": {"zip": 12345}}}"#;
    let error = reject(Topic::OrdersUpdated, body);
    assert_eq!(error.path(), "customer.default_address.zip");
    assert!(
        error.to_string().starts_with(
            "orders/updated payload: customer.default_address.zip: invalid type: integer `12345`"
        ),
        "{error}"
    );
}

#[test]
fn a_bad_timestamp_or_currency_is_rejected() {
    let body = br#"{"id": 1, "created_at": "yesterday", "currency": "USD", "total_price": "1.00"}"#;
    assert_eq!(reject(Topic::OrdersPaid, body).path(), "created_at");
    let body = br#"{"id": 1, "created_at": "2021-12-31T19:00:00-05:00", "currency": "US", "total_price": "1.00"}"#;
    let error = reject(Topic::OrdersPaid, body);
    assert_eq!(error.path(), "currency");
    assert!(
        error.to_string().contains(r#"invalid currency code "US""#),
        "{error}"
    );
}

#[test]
fn unicode_and_escaped_strings_are_read() {
    let body = "{\"id\": 1, \"state\": \"enabled\", \"first_name\": \"Jos\\u00e9\", \"last_name\": \"정\", \
                \"default_address\": {\"city\": \"São Paulo\", \"country_code\": \"BR\"}}"
        .as_bytes();
    let Payload::Customer(customer) = shopify::parse(Topic::CustomersCreate, body).unwrap() else {
        panic!("not a customer");
    };
    assert_eq!(customer.first_name.as_deref(), Some("José"));
    assert_eq!(customer.last_name.as_deref(), Some("정"));
    assert_eq!(
        customer.default_address.unwrap().city.as_deref(),
        Some("São Paulo")
    );
}
