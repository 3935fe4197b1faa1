# SOVBridge. `make demo` and `make test` work on a fresh machine (they install what is missing).
PREFIX ?= /usr/local
SWIFT ?= swift
BIN_DEBUG = $(shell $(SWIFT) build --show-bin-path 2>/dev/null)
DEMO_OUT ?= out/demo

.PHONY: setup build release demo test test-postgres schema-check bench fuzz install clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

demo: build
	@bash scripts/demo.sh "$$($(SWIFT) build --show-bin-path)" "$(DEMO_OUT)"

test: build
	$(SWIFT) test --no-parallel
	@[ -n "$$SOV_TEST_POSTGRES_URL" ] || echo "note: SOV_TEST_POSTGRES_URL not set: the ledger suite ran against SQLite only (make test-postgres runs it against PostgreSQL too)"
	@bash scripts/schema-check.sh "$$($(SWIFT) build --show-bin-path)"
	@bash scripts/check-citations.sh

# `make test` with a throwaway PostgreSQL cluster (installed from Debian's packages when missing):
# the ledger suite then runs against both backends, as in CI. The cluster lives in a temporary
# folder, listens only on a Unix socket there, and is stopped and removed however the tests end.
test-postgres:
	@SOV_SETUP_POSTGRES=1 bash scripts/setup.sh
	@bash scripts/with-postgres.sh $(MAKE) test

bench: release
	@bash scripts/bench.sh "$$($(SWIFT) build -c release --show-bin-path)"

fuzz: setup
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

install: release
	install -d "$(PREFIX)/bin"
	for tool in sov-parse sov-validate sov-markup sov-emit sov-run sov-watch sov-push sov-ledger; do \
	  install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/$$tool" "$(PREFIX)/bin/$$tool"; \
	done

clean:
	rm -rf .build out
