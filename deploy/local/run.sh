#!/usr/bin/env bash
# `make run`: start the whole pipeline locally from the release binaries, with meta-sim as
# the Meta endpoint. Honours the environment (see the README's configuration table); fills in
# development defaults for what is unset. Ctrl-C (or SIGTERM) stops every service cleanly.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=./target/release

export SHOPIFY_API_SECRET="${SHOPIFY_API_SECRET:-dev-shopify-secret}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/audience_sync}"
export META_SIM_BIND="${META_SIM_BIND:-127.0.0.1:8090}"
export META_GRAPH_URL="${META_GRAPH_URL:-http://${META_SIM_BIND}}"
export INGEST_BIND="${INGEST_BIND:-0.0.0.0:8080}"
export SEGMENTER_HTTP_BIND="${SEGMENTER_HTTP_BIND:-0.0.0.0:8081}"
export RUST_LOG="${RUST_LOG:-info}"
export LOG_FORMAT="${LOG_FORMAT:-pretty}"

pids=()
stop() {
  trap - INT TERM
  echo "run: stopping ${#pids[@]} services" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
  echo "run: stopped" >&2
  exit 0
}
trap stop INT TERM


# Kill the actual process, not the sed pipe: start each service with exec in a subshell.
start_service() {
  local name=$1; shift
  ( exec "$@" ) > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=("$!")
}

if [ -x "$BIN/segmenter" ]; then
  echo "run: migrating $DATABASE_URL" >&2
  "$BIN/segmenter" migrate || { echo "run: migration failed" >&2; exit 1; }
fi

start_service meta-sim "$BIN/meta-sim"
start_service ingest "$BIN/ingest"
[ -x "$BIN/segmenter" ] && start_service segmenter "$BIN/segmenter" run
[ -x "$BIN/meta-dispatcher" ] && start_service dispatcher "$BIN/meta-dispatcher"

cat >&2 <<MSG
run: pipeline starting
  webhooks:  POST http://${INGEST_BIND/0.0.0.0/127.0.0.1}/webhooks/shopify
  secret:    SHOPIFY_API_SECRET=${SHOPIFY_API_SECRET}   (development secret; sign with it)
  meta-sim:  ${META_GRAPH_URL}  (inspect: ${META_GRAPH_URL}/_sim/stats)
  Ctrl-C stops everything.
MSG

# If any service exits on its own, stop the rest.
wait -n "${pids[@]}"
echo "run: a service exited; stopping the others" >&2
stop
