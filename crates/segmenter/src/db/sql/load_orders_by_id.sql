SELECT o.*
FROM orders o
JOIN unnest($1::int8[], $2::int8[]) AS k(shop_id, order_id)
  ON o.shop_id = k.shop_id AND o.order_id = k.order_id
