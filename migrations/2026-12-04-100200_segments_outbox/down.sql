DROP TABLE outbox;
DROP TABLE processed_messages;
DROP TABLE segment_transitions;
