SELECT c.*
FROM customers c
JOIN unnest($1::int8[], $2::int8[]) AS k(shop_id, customer_id)
  ON c.shop_id = k.shop_id AND c.customer_id = k.customer_id
