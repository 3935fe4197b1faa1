# SOVBridge. `make demo` and `make test` work on a fresh machine (they install what is missing).
PREFIX ?= /usr/local
SWIFT ?= swift
BIN_DEBUG = $(shell $(SWIFT) build --show-bin-path 2>/dev/null)
DEMO_OUT ?= out/demo

.PHONY: setup build release demo test schema-check bench fuzz install clean

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
	@bash scripts/schema-check.sh "$$($(SWIFT) build --show-bin-path)"

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
