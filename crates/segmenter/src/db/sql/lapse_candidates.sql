-- Customers whose segment the passing of time (or a changed `lapsed_after_days`) may have
-- changed: a counted order, and the last one now on the other side of the shop's window.
-- $1 is "now". Shops that are uninstalled or redacted are left alone.
SELECT c.shop_id, c.customer_id
FROM customers c
JOIN shops s ON s.shop_id = c.shop_id
WHERE s.uninstalled_at IS NULL
  AND s.redacted_at IS NULL
  AND c.orders_count > 0
  AND c.last_order_at IS NOT NULL
  AND (
        (c.segment <> 'lapsed' AND c.last_order_at < $1 - make_interval(days => s.lapsed_after_days))
     OR (c.segment = 'lapsed' AND c.last_order_at >= $1 - make_interval(days => s.lapsed_after_days))
  )
ORDER BY c.shop_id, c.customer_id
LIMIT $2
