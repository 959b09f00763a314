#!/usr/bin/env bash
# audience-core must stay free of I/O: it may not depend (even transitively) on lapin, diesel,
# actix-web or reqwest. Fails listing the offending crates.
set -euo pipefail
tree=$(cargo tree -p audience-core -e normal --prefix none --locked 2>/dev/null | awk '{print $1}' | sort -u)
bad=$(grep -xE 'lapin|diesel|diesel-async|actix-web|reqwest|tokio' <<<"$tree" || true)
if [ -n "$bad" ]; then
  echo "audience-core must not depend on: $(echo $bad)" >&2
  exit 1
fi
echo "core dependency boundary: ok"
