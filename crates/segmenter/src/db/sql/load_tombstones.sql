SELECT t.*
FROM tombstones t
JOIN unnest($1::int8[], $2::text[], $3::int8[]) AS k(shop_id, subject, subject_id)
  ON t.shop_id = k.shop_id AND t.subject = k.subject AND t.subject_id = k.subject_id
