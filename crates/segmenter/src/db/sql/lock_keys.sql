-- Takes transaction-scoped advisory locks on the given keys, in the order given (callers sort
-- them, so that two transactions never wait for each other in a cycle).
SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS t(k)
