-- customers/data_request: a JSON export of what is held about the customer, for the operator
-- to hand to the merchant. It contains hashes and derived figures only.
CREATE TABLE data_requests (
    data_request_row_id BIGSERIAL PRIMARY KEY,
    shop_id             BIGINT      NOT NULL REFERENCES shops (shop_id) ON DELETE CASCADE,
    customer_id         BIGINT,
    -- Shopify's id of the request, when given.
    data_request_id     BIGINT,
    message_id          TEXT        NOT NULL,
    export              JSONB       NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX data_requests_customer_idx ON data_requests (shop_id, customer_id);
