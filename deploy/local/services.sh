#!/usr/bin/env bash
# Makes sure the local PostgreSQL and RabbitMQ are running; starts them if not.
# Used by `make run`, `make test` and `.ci/run`. Idempotent.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "PostgreSQL is not installed: apt-get install -y postgresql"; exit 1
  fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
  pg_up || { log "PostgreSQL did not start"; exit 1; }
fi

if ! amqp_up; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    log "RabbitMQ is not installed: apt-get install -y rabbitmq-server"; exit 1
  fi
  log "starting RabbitMQ"
  rabbitmq-server -detached || true
  for _ in $(seq 1 120); do amqp_up && break; sleep 0.5; done
  amqp_up || { log "RabbitMQ did not start"; exit 1; }
  # The port opens a moment before the node accepts logins.
  for _ in $(seq 1 60); do rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1 && break; sleep 0.5; done
fi
log "PostgreSQL and RabbitMQ are up"
