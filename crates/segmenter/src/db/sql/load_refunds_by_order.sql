SELECT r.*
FROM refunds r
JOIN unnest($1::int8[], $2::int8[]) AS k(shop_id, order_id)
  ON r.shop_id = k.shop_id AND r.order_id = k.order_id
