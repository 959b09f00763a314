// @generated automatically by Diesel CLI.

diesel::table! {
    customers (shop_id, customer_id) {
        shop_id -> Int8,
        customer_id -> Int8,
        user_data -> Jsonb,
        email_marketing_consent -> Nullable<Bool>,
        sms_marketing_consent -> Nullable<Bool>,
        record_updated_at -> Nullable<Timestamptz>,
        orders_count -> Int4,
        spent -> Numeric,
        first_order_at -> Nullable<Timestamptz>,
        last_order_at -> Nullable<Timestamptz>,
        segment -> Text,
        segment_since -> Timestamptz,
        audiences -> Jsonb,
        first_seen_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    data_requests (data_request_row_id) {
        data_request_row_id -> Int8,
        shop_id -> Int8,
        customer_id -> Nullable<Int8>,
        data_request_id -> Nullable<Int8>,
        message_id -> Text,
        export -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    orders (shop_id, order_id) {
        shop_id -> Int8,
        order_id -> Int8,
        customer_id -> Nullable<Int8>,
        test -> Bool,
        cancelled_at -> Nullable<Timestamptz>,
        financial_status -> Nullable<Text>,
        source_name -> Nullable<Text>,
        currency -> Text,
        total_price -> Numeric,
        presentment_currency -> Nullable<Text>,
        presentment_total_price -> Nullable<Numeric>,
        ordered_at -> Timestamptz,
        record_updated_at -> Nullable<Timestamptz>,
        purchase_emitted_at -> Nullable<Timestamptz>,
        first_seen_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    outbox (outbox_id) {
        outbox_id -> Int8,
        shop_id -> Int8,
        shop_domain -> Text,
        customer_id -> Nullable<Int8>,
        topic -> Text,
        payload -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    processed_messages (message_id) {
        message_id -> Text,
        processed_at -> Timestamptz,
    }
}

diesel::table! {
    refunds (shop_id, refund_id) {
        shop_id -> Int8,
        refund_id -> Int8,
        order_id -> Int8,
        amount -> Numeric,
        currency -> Nullable<Text>,
        shop_amount -> Nullable<Numeric>,
        refunded_at -> Nullable<Timestamptz>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    segment_transitions (transition_id) {
        transition_id -> Int8,
        shop_id -> Int8,
        customer_id -> Int8,
        from_segment -> Nullable<Text>,
        to_segment -> Text,
        cause -> Text,
        message_id -> Nullable<Text>,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    shops (shop_id) {
        shop_id -> Int8,
        shop_domain -> Text,
        shopify_shop_id -> Nullable<Int8>,
        currency -> Nullable<Text>,
        vip_min_spent -> Numeric,
        lapsed_after_days -> Int4,
        purchase_topic -> Text,
        consent_policy -> Text,
        uninstalled_at -> Nullable<Timestamptz>,
        redacted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tombstones (shop_id, subject, subject_id) {
        shop_id -> Int8,
        subject -> Text,
        subject_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(customers -> shops (shop_id));
diesel::joinable!(data_requests -> shops (shop_id));
diesel::joinable!(orders -> shops (shop_id));
diesel::joinable!(outbox -> shops (shop_id));
diesel::joinable!(refunds -> shops (shop_id));
diesel::joinable!(segment_transitions -> shops (shop_id));
diesel::joinable!(tombstones -> shops (shop_id));

diesel::allow_tables_to_appear_in_same_query!(
    customers,
    data_requests,
    orders,
    outbox,
    processed_messages,
    refunds,
    segment_transitions,
    shops,
    tombstones,
);
