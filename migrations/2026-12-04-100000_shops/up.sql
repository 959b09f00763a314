-- One row per shop (its *.myshopify.com domain) with the per-shop settings of the segment
-- rules, the purchase trigger and the consent policy. The row holds no personal data and
-- outlives `shop/redact` as the shop's tombstone (see docs/segmenter.md).
CREATE TABLE shops (
    shop_id           BIGSERIAL PRIMARY KEY,
    shop_domain       TEXT        NOT NULL UNIQUE,
    -- Shopify's numeric shop id, once a payload has named it.
    shopify_shop_id   BIGINT,
    -- The shop currency (ISO 4217), once an order has named it.
    currency          TEXT,
    -- `vip`: counted spend at or above this amount, in the shop currency.
    vip_min_spent     NUMERIC     NOT NULL DEFAULT 1000.00 CHECK (vip_min_spent > 0),
    -- `lapsed`: the last counted order is older than this many days.
    lapsed_after_days INTEGER     NOT NULL DEFAULT 180 CHECK (lapsed_after_days > 0),
    -- The order topic whose first arrival emits the order's Conversions API Purchase.
    purchase_topic    TEXT        NOT NULL DEFAULT 'orders/create'
        CHECK (purchase_topic IN ('orders/create', 'orders/paid', 'orders/updated')),
    -- `all`, or `marketing_only`: customers who declined marketing stay out of every audience.
    consent_policy    TEXT        NOT NULL DEFAULT 'all'
        CHECK (consent_policy IN ('all', 'marketing_only')),
    -- Set by app/uninstalled: nothing is dispatched for the shop until it reinstalls.
    uninstalled_at    TIMESTAMPTZ,
    -- Set by shop/redact: every row of the shop but this one has been deleted.
    redacted_at       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
