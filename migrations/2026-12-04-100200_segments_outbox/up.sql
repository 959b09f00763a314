-- Every change of a customer's lifecycle segment, with what caused it.
CREATE TABLE segment_transitions (
    transition_id BIGSERIAL PRIMARY KEY,
    shop_id       BIGINT      NOT NULL REFERENCES shops (shop_id) ON DELETE CASCADE,
    customer_id   BIGINT      NOT NULL,
    -- NULL when the customer is first classified.
    from_segment  TEXT
        CHECK (from_segment IN ('prospect', 'first_time', 'repeat', 'vip', 'lapsed')),
    to_segment    TEXT        NOT NULL
        CHECK (to_segment IN ('prospect', 'first_time', 'repeat', 'vip', 'lapsed')),
    -- The Shopify topic of the message, or `sweep`.
    cause         TEXT        NOT NULL,
    -- The message that caused it (NULL for the sweep).
    message_id    TEXT,
    occurred_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX segment_transitions_customer_idx ON segment_transitions (shop_id, customer_id);

-- Message ids already applied, recorded in the same transaction as their effect: a
-- redelivered message changes nothing.
CREATE TABLE processed_messages (
    message_id   TEXT PRIMARY KEY,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX processed_messages_processed_at_idx ON processed_messages (processed_at);

-- The transactional outbox: written in the same transaction as the state change, published
-- to meta.dispatch by the relay (with confirms) and deleted once confirmed. Purchase payloads
-- carry the never-hashed browser data (IP, user agent, fbc, fbp), which therefore lives only
-- until the row is published.
CREATE TABLE outbox (
    outbox_id   BIGSERIAL PRIMARY KEY,
    shop_id     BIGINT      NOT NULL REFERENCES shops (shop_id) ON DELETE CASCADE,
    shop_domain TEXT        NOT NULL,
    -- The customer concerned, so that a redaction can drop what is still pending.
    customer_id BIGINT,
    topic       TEXT        NOT NULL CHECK (topic IN ('purchase', 'audience_change')),
    -- The DispatchMessage as JSON text: written once, read once by the relay, so it is not
    -- parsed into JSONB (cast with `payload::jsonb` to inspect it).
    payload     TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX outbox_shop_customer_idx ON outbox (shop_id, customer_id);
