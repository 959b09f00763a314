-- Customer state: hashed match keys and derived statistics only. No raw personal data is
-- ever stored: `user_data` holds the SHA-256 hashes ingest computed (em, ph, fn, ln, ct, st,
-- zp, country, external_id).
CREATE TABLE customers (
    shop_id                 BIGINT      NOT NULL REFERENCES shops (shop_id) ON DELETE CASCADE,
    -- Shopify's customer id.
    customer_id             BIGINT      NOT NULL,
    -- Hashed match keys, as sent to Meta's audiences.
    user_data               JSONB       NOT NULL DEFAULT '{}'::jsonb,
    -- Marketing consent as the last customer payload said (NULL: the payload did not say).
    email_marketing_consent BOOLEAN,
    sms_marketing_consent   BOOLEAN,
    -- Shopify's `updated_at` of the newest customer record applied; older ones are ignored.
    record_updated_at       TIMESTAMPTZ,
    -- Counted orders (non-test, non-cancelled) and their spend net of refunds.
    orders_count            INTEGER     NOT NULL DEFAULT 0 CHECK (orders_count >= 0),
    spent                   NUMERIC     NOT NULL DEFAULT 0,
    first_order_at          TIMESTAMPTZ,
    last_order_at           TIMESTAMPTZ,
    -- The lifecycle segment and since when.
    segment                 TEXT        NOT NULL
        CHECK (segment IN ('prospect', 'first_time', 'repeat', 'vip', 'lapsed')),
    segment_since           TIMESTAMPTZ NOT NULL,
    -- The Meta audiences the customer is in, as last dispatched: a JSON array of names
    -- (`["all_customers", "purchasers", "vip"]`).
    audiences               JSONB       NOT NULL DEFAULT '[]'::jsonb
        CHECK (jsonb_typeof(audiences) = 'array'),
    first_seen_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, customer_id)
);

-- The sweep looks for customers whose last counted order crossed `lapsed_after_days`.
CREATE INDEX customers_last_order_idx ON customers (shop_id, last_order_at)
    WHERE last_order_at IS NOT NULL;

-- Orders, reduced to what the segment rules and the purchase trigger need.
CREATE TABLE orders (
    shop_id                 BIGINT      NOT NULL REFERENCES shops (shop_id) ON DELETE CASCADE,
    order_id                BIGINT      NOT NULL,
    -- NULL for a guest checkout.
    customer_id             BIGINT,
    test                    BOOLEAN     NOT NULL,
    cancelled_at            TIMESTAMPTZ,
    financial_status        TEXT,
    source_name             TEXT,
    -- Total in the shop currency.
    currency                TEXT        NOT NULL,
    total_price             NUMERIC     NOT NULL,
    -- Total in the buyer's currency: converts refunds made in that currency.
    presentment_currency    TEXT,
    presentment_total_price NUMERIC,
    -- `processed_at`, else `created_at`: the order's time for the segment rules.
    ordered_at              TIMESTAMPTZ NOT NULL,
    -- Shopify's `updated_at` of the newest order payload applied.
    record_updated_at       TIMESTAMPTZ,
    -- When the order's Conversions API Purchase was written to the outbox (once per order).
    purchase_emitted_at     TIMESTAMPTZ,
    first_seen_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, order_id)
);

CREATE INDEX orders_customer_idx ON orders (shop_id, customer_id);

-- Refunds, from refunds/create and from the refunds[] of order payloads (same ids).
CREATE TABLE refunds (
    shop_id     BIGINT      NOT NULL REFERENCES shops (shop_id) ON DELETE CASCADE,
    refund_id   BIGINT      NOT NULL,
    order_id    BIGINT      NOT NULL,
    -- Successful refund transactions, in `currency`.
    amount      NUMERIC     NOT NULL,
    currency    TEXT,
    -- The same in the shop currency, when the payload allowed converting it.
    shop_amount NUMERIC,
    refunded_at TIMESTAMPTZ,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, refund_id)
);

CREATE INDEX refunds_order_idx ON refunds (shop_id, order_id);

-- After customers/delete or customers/redact (and for redacted orders): the id and nothing
-- else, so that a late or replayed webhook cannot bring the data back.
CREATE TABLE tombstones (
    shop_id    BIGINT      NOT NULL REFERENCES shops (shop_id) ON DELETE CASCADE,
    subject    TEXT        NOT NULL CHECK (subject IN ('customer', 'order')),
    subject_id BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, subject, subject_id)
);
