# audience-sync — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

.PHONY: services
services: ## Start PostgreSQL and RabbitMQ if they are not running
	@bash deploy/local/services.sh

.PHONY: build
build: ## Build every binary (release)
	$(CARGO) build --release --locked --bins

.PHONY: run
run: services ## Bring the whole pipeline up (meta-sim as Meta); Ctrl-C stops it
	$(CARGO) build --release --locked --bins
	@bash deploy/local/run.sh

.PHONY: test
test: services ## Run the whole test suite against the real PostgreSQL and RabbitMQ
	$(CARGO) test --workspace --locked

.PHONY: fmt
fmt: ## Format the code
	$(CARGO) fmt --all

.PHONY: lint
lint: ## rustfmt check, clippy -D warnings, and the core crate's dependency boundary
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	@bash deploy/local/check-core-deps.sh

.PHONY: bench-ingest
bench-ingest: services ## Ingest load benchmark next to a raw confirmed publisher (writes figures to stdout)
	$(CARGO) build --release --locked -p audience-ingest -p audience-bench
	./target/release/ingest-bench

.PHONY: bench-segmenter
bench-segmenter: services ## Segmenter throughput (100 000 mixed events) next to the raw PostgreSQL upsert rate
	$(CARGO) build --release --locked -p audience-segmenter
	./target/release/segmenter-bench

.PHONY: bench
bench: bench-ingest bench-segmenter ## Every benchmark

.PHONY: migrate
migrate: services ## Apply the database migrations to DATABASE_URL
	$(CARGO) run --locked -p audience-segmenter --bin segmenter -- migrate

.PHONY: schema
schema: services ## Regenerate crates/segmenter/src/db/schema.rs from migrations/ (needs diesel_cli)
	@command -v diesel >/dev/null || { echo "schema: needs diesel_cli: cargo install diesel_cli --no-default-features --features postgres (needs libpq-dev)" >&2; exit 1; }
	$(CARGO) build --locked -p audience-segmenter --bin segmenter
	@db=audience_sync_schema_$$$$; url=postgres://postgres@127.0.0.1:5432/$$db; \
	  DATABASE_URL=$$url ./target/debug/segmenter migrate >/dev/null \
	  && diesel print-schema --database-url $$url > crates/segmenter/src/db/schema.rs; \
	  rc=$$?; dropdb -h 127.0.0.1 -U postgres --if-exists $$db; exit $$rc
