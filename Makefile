# keepvip: build, test and demo entry points. `make help` lists them.

CARGO ?= cargo
RELEASE_BIN := target/release/keepvip

.PHONY: help build release test lint unit demo clean sim flood-compare fuzz soak

help:
	@echo "make build    debug build"
	@echo "make release  small optimised build ($(RELEASE_BIN))"
	@echo "make test     format and lint checks, unit tests, namespace LAN tests (root)"
	@echo "make unit     unit tests only (no root needed)"
	@echo "make demo     two routers on a namespace LAN: failover and return (root)"
	@echo "make sim      the randomised LAN simulation over SIM_SEEDS seeds, release build"
	@echo "make flood-compare  the bad-packet flood at keepvip and at keepalived, figures side by side (root)"
	@echo "make fuzz     each fuzz target for FUZZ_SECONDS (nightly + cargo-fuzz)"
	@echo "make soak     SOAK_INSTANCES instances, a failover every few seconds, SOAK_SECONDS (root)"

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

# The simulation property test runs 5,000 seeds in every `cargo test`; this
# runs many more, optimised (without LTO, which only slows the build).
SIM_SEEDS ?= 200000
SIM_FIRST_SEED ?= 0
sim:
	CARGO_PROFILE_RELEASE_LTO=false KEEPVIP_SIM_SEEDS=$(SIM_SEEDS) KEEPVIP_SIM_FIRST_SEED=$(SIM_FIRST_SEED) \
		$(CARGO) test --release --lib random_lans_keep_one_rightful_master -- --nocapture

# libFuzzer through cargo fuzz (nightly). Each target starts from its seeds
# (captured packets; the seed article's configs) and its regressions, and
# grows a corpus in tests/fuzz/corpus/ (not committed). A crash is saved in
# tests/fuzz/artifacts/TARGET/: copy it into tests/fuzz/regressions/TARGET/,
# where `cargo test --test fuzz_corpus` replays it on stable from then on.
FUZZ_SECONDS ?= 60
FUZZ = cd tests/fuzz && $(CARGO) +nightly fuzz run --fuzz-dir .
fuzz:
	mkdir -p tests/fuzz/corpus/advert tests/fuzz/corpus/config
	$(FUZZ) advert corpus/advert seeds/advert regressions/advert -- -max_total_time=$(FUZZ_SECONDS)
	$(FUZZ) config corpus/config ../fixtures/seed regressions/config -- -max_total_time=$(FUZZ_SECONDS) -dict=config.dict

# Minutes of failovers with many instances; not CI. VRRPv2 only for now, so
# whole-second intervals (SOAK_ADVERT_INT=0.02 once VRRPv3 is in).
SOAK_INSTANCES ?= 50
SOAK_SECONDS ?= 600
SOAK_ADVERT_INT ?= 1
soak:
	$(CARGO) build --release
	KEEPVIP_BIN=$(RELEASE_BIN) SOAK_INSTANCES=$(SOAK_INSTANCES) SOAK_SECONDS=$(SOAK_SECONDS) \
		SOAK_ADVERT_INT=$(SOAK_ADVERT_INT) \
		$(CARGO) test --test soak -- --ignored --nocapture --test-threads=1

# Not asserted for keepalived: the figures are printed, keepvip's asserted.
flood-compare:
	$(CARGO) test --test flood -- --include-ignored --nocapture --test-threads=1

clean:
	$(CARGO) clean
