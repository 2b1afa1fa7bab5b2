# keepvip: build, test and demo entry points. `make help` lists them.

CARGO ?= cargo
RELEASE_BIN := target/release/keepvip

.PHONY: help build release test lint unit demo clean

help:
	@echo "make build    debug build"
	@echo "make release  small optimised build ($(RELEASE_BIN))"
	@echo "make test     format and lint checks, unit tests, namespace LAN tests (root)"
	@echo "make unit     unit tests only (no root needed)"
	@echo "make demo     two routers on a namespace LAN: failover and return (root)"

build:
	$(CARGO) build

release:
	$(CARGO) build --release
	@ls -l $(RELEASE_BIN) | awk '{print "$(RELEASE_BIN): " $$5 " bytes"}'

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test --lib --bins

# The namespace tests take a lock of their own so they never overlap, but
# one test thread keeps their logs readable and the 2-core machines calm.
test: lint
	$(CARGO) test --lib --bins
	$(CARGO) test --tests -- --test-threads=1

demo: release
	sh tests/demo.sh $(RELEASE_BIN)

clean:
	$(CARGO) clean
