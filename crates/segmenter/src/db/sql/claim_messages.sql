-- Records message ids as processed; returns the ids that were not recorded before. A
-- concurrent transaction inserting the same id waits for this one and then finds it taken.
INSERT INTO processed_messages (message_id)
SELECT unnest($1::text[])
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id
