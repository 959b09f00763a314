-- Customers of a shop whose stored hashed emails or phones include any of the given hashes
-- (a compliance request that names no customer id).
SELECT customer_id
FROM customers
WHERE shop_id = $1
  AND ((user_data -> 'em') ?| $2::text[] OR (user_data -> 'ph') ?| $3::text[])
ORDER BY customer_id
