# keepvip: build, test and demo entry points. `make help` lists them.

CARGO ?= cargo
# `sudo make ...`: root has no Rust of its own where rustup installed it
# for the user; use the invoking user's toolchain (tests/preflight.sh
# changes it as that user). Crates are fetched into root's own ~/.cargo.
ifneq ($(SUDO_USER),)
ifeq ($(shell command -v $(CARGO)),)
SUDO_HOME := $(shell getent passwd $(SUDO_USER) | cut -d: -f6)
export PATH := $(SUDO_HOME)/.cargo/bin:$(PATH)
export RUSTUP_HOME ?= $(SUDO_HOME)/.rustup
endif
endif
RELEASE_BIN := target/release/keepvip
# Fully static musl builds; target settings live in cross/*.toml (cargo
# --config files), never in a global ~/.cargo.
STATIC_TARGET := x86_64-unknown-linux-musl
STATIC_BIN := target/$(STATIC_TARGET)/release/keepvip
AARCH64_TARGET := aarch64-unknown-linux-musl
AARCH64_BIN := target/$(AARCH64_TARGET)/release/keepvip

# make install: DESTDIR and PREFIX honoured; the service file's paths follow.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/keepvip
# Which binary to install (default: the host release build).
INSTALL_BIN ?= $(RELEASE_BIN)
# systemd (the unit), sysv (the init.d script) or none.
INIT ?= systemd

.PHONY: help build release static cross-aarch64 tiny check-static test lint unit demo install clean sim flood-compare fuzz soak bench wild-report systemd-test conformance

help:
	@echo "make build    debug build"
	@echo "make release  small optimised build ($(RELEASE_BIN))"
	@echo "make test     format and lint checks, unit tests, namespace LAN tests (root)"
	@echo "make unit     unit tests only (no root needed)"
	@echo "make demo     two routers on a namespace LAN: failover and return (root)"
	@echo "make static   fully static x86_64 musl binary ($(STATIC_BIN))"
	@echo "make cross-aarch64  fully static aarch64 musl binary, linked by rust-lld"
	@echo "make tiny     both static binaries at their smallest: std rebuilt with"
	@echo "              panic=immediate-abort (rust-src; unstable flags), in target/tiny/"
	@echo "make check-static   checks on both static binaries, init files, install,"
	@echo "                    a namespace failover test with the static binary (root)"
	@echo "make systemd-test  the systemd unit (and its hardened drop-in) under a real"
	@echo "                   systemd as PID 1: debootstrap, systemd-nspawn (root)"
	@echo "make bench    keepvip vs keepalived on a namespace LAN: failover, GARP,"
	@echo "              memory, CPU, size, start-up; a Markdown table (root, minutes)"
	@echo "make install  binary, example config, service file (DESTDIR, PREFIX, INIT=systemd|sysv|none)"
	@echo "make sim      the randomised LAN simulation over SIM_SEEDS seeds, release build"
	@echo "make flood-compare  the bad-packet flood at keepvip and at keepalived, figures side by side (root)"
	@echo "make fuzz     each fuzz target for FUZZ_SECONDS (nightly + cargo-fuzz)"
	@echo "make soak     SOAK_INSTANCES instances, a failover every few seconds, SOAK_SECONDS (root)"
	@echo "make wild-report CORPUS=DIR  keepvip -t over DIR/*.conf: loads / loads-5 / needs a program / refused"
	@echo "make conformance  CONFORMANCE_SCENARIOS random scenarios on keepalived, keepvip and"
	@echo "              mixed LANs, compared (root); SEED=N replays one"

build:
	$(CARGO) build

release:
	$(CARGO) build --release
	@ls -l $(RELEASE_BIN) | awk '{print "$(RELEASE_BIN): " $$5 " bytes"}'

static:
	$(CARGO) build --release --locked --config cross/$(STATIC_TARGET).toml
	@sh tests/print_size.sh $(STATIC_BIN)

cross-aarch64:
	$(CARGO) build --release --locked --config cross/$(AARCH64_TARGET).toml
	@sh tests/print_size.sh $(AARCH64_BIN)

# The smallest static binaries, for flash-starved routers: std is rebuilt
# from source with panic=immediate-abort, which drops the panic machinery
# and the backtrace printer (a panic is an abort with no message). Needs
# the rust-src component (`rustup component add rust-src`) and unstable
# flags: nightly, or stable with RUSTC_BOOTSTRAP=1 as here, so it is not
# the default build. Its own target directory leaves the others' builds be.
TINY_DIR := target/tiny
# opt-level z, no panic locations and no unwind tables (nothing unwinds when
# a panic aborts at once: .eh_frame alone was 76 KiB), std's
# optimize_for_size, identical code folded and relative relocations packed
# (RELR, which musl's static-pie start-up applies; the binary stays
# position-independent, so ASLR is kept) and leaving out `keepvip explain`
# (23 KiB) take the x86_64 binary to 589 KiB (636 KiB with only the first
# three, a round of features ago).
TINY_CARGO ?= RUSTC_BOOTSTRAP=1 CARGO_PROFILE_RELEASE_OPT_LEVEL=z $(CARGO)
TINY_FLAGS = -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size \
	--no-default-features
TINY_RUSTFLAGS = -C target-feature=+crt-static -Z unstable-options -C panic=immediate-abort \
	-Z location-detail=none -C force-unwind-tables=no \
	-C link-arg=--icf=all -C link-arg=-zpack-relative-relocs
tiny:
	@rustc --print sysroot | xargs -I{} test -d {}/lib/rustlib/src/rust/library || \
		{ echo "make tiny: needs rust-src: rustup component add rust-src" >&2; exit 1; }
	RUSTFLAGS="$(TINY_RUSTFLAGS)" CARGO_TARGET_DIR=$(TINY_DIR) $(TINY_CARGO) build --release --locked \
		--config cross/$(STATIC_TARGET).toml $(TINY_FLAGS)
	RUSTFLAGS="$(TINY_RUSTFLAGS)" CARGO_TARGET_DIR=$(TINY_DIR) $(TINY_CARGO) build --release --locked \
		--config cross/$(AARCH64_TARGET).toml $(TINY_FLAGS)
	@sh tests/print_size.sh $(TINY_DIR)/$(STATIC_TARGET)/release/keepvip
	@sh tests/print_size.sh $(TINY_DIR)/$(AARCH64_TARGET)/release/keepvip

# Real checks on what users ship: see the script's header.
check-static: preflight-check-static static cross-aarch64
	bash tests/static_checks.sh $(STATIC_BIN) $(AARCH64_BIN)

install:$(if $(filter $(RELEASE_BIN),$(INSTALL_BIN)), release)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/keepvip $(DESTDIR)$(DOCDIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(SBINDIR)/keepvip
	install -m 0644 cross/keepvip.conf $(DESTDIR)$(DOCDIR)/keepvip.conf.example
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 cross/systemd/keepvip-hardened.conf $(DESTDIR)$(DOCDIR)/keepvip-hardened.conf
	@# Never overwrite a config the user already has.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/keepvip/keepvip.conf ]; then \
		echo "kept existing $(DESTDIR)$(SYSCONFDIR)/keepvip/keepvip.conf"; \
	else \
		echo "install -m 0600 cross/keepvip.conf $(DESTDIR)$(SYSCONFDIR)/keepvip/keepvip.conf"; \
		install -m 0600 cross/keepvip.conf $(DESTDIR)$(SYSCONFDIR)/keepvip/keepvip.conf; \
	fi
ifeq ($(INIT),systemd)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's#/usr/sbin/keepvip#$(SBINDIR)/keepvip#g' -e 's#/etc/keepvip/#$(SYSCONFDIR)/keepvip/#g' \
		-e 's#/etc/default/keepvip#$(SYSCONFDIR)/default/keepvip#g' \
		-e 's#/usr/share/doc/keepvip/#$(DOCDIR)/#g' \
		cross/systemd/keepvip.service > $(DESTDIR)$(SYSTEMDUNITDIR)/keepvip.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/keepvip.service
	for unit in keepvip-upgrade.path keepvip-upgrade.service; do \
		sed -e 's#/usr/sbin/keepvip#$(SBINDIR)/keepvip#g' -e 's#/usr/share/doc/keepvip/#$(DOCDIR)/#g' \
			cross/systemd/$$unit > $(DESTDIR)$(SYSTEMDUNITDIR)/$$unit && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$unit || exit 1; \
	done
else ifeq ($(INIT),sysv)
	install -d $(DESTDIR)$(SYSCONFDIR)/init.d
	sed -e 's#/usr/sbin/keepvip#$(SBINDIR)/keepvip#g' -e 's#/etc/keepvip/#$(SYSCONFDIR)/keepvip/#g' \
		-e 's#/etc/default/keepvip#$(SYSCONFDIR)/default/keepvip#g' \
		cross/sysvinit/keepvip > $(DESTDIR)$(SYSCONFDIR)/init.d/keepvip
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/keepvip
else ifneq ($(INIT),none)
	$(error INIT must be systemd, sysv or none, not '$(INIT)')
endif

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test --lib --bins

# The namespace tests take a lock of their own so they never overlap, but
# one test thread keeps their logs readable and the 2-core machines calm.
test: preflight-test lint
	$(CARGO) test --lib --bins
	$(CARGO) test --test '*' -- --test-threads=1

# Every tool a goal needs, named once if missing; installed as root on apt
# systems (tests/tools.list is the one list; .ci/run uses it too). First
# among a goal's prerequisites, so it runs before any build.
preflight-%:
	@bash tests/preflight.sh $*

# The unit under a real systemd as PID 1 (debootstrap + systemd-nspawn,
# root, a minute or two; the Debian root is kept for the next run).
systemd-test: preflight-systemd-test static
	bash tests/systemd_test.sh $(STATIC_BIN)

# Not part of `make test`: minutes long, and it measures rather than asserts.
# The static binary is what ships, so it is the one measured.
bench: static
	KEEPVIP_BIN=$(CURDIR)/$(STATIC_BIN) $(CARGO) test --release --test bench -- --ignored --nocapture --test-threads=1

demo: preflight-demo release
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
SOAK_ADVERT_INT ?= 0.02
soak:
	$(CARGO) build --release
	KEEPVIP_BIN=$(RELEASE_BIN) SOAK_INSTANCES=$(SOAK_INSTANCES) SOAK_SECONDS=$(SOAK_SECONDS) \
		SOAK_ADVERT_INT=$(SOAK_ADVERT_INT) \
		$(CARGO) test --test soak -- --ignored --nocapture --test-threads=1

# Not asserted for keepalived: the figures are printed, keepvip's asserted.
flood-compare:
	$(CARGO) test --test flood -- --include-ignored --nocapture --test-threads=1

# keepalived as the oracle (tests/conformance.rs): each seed is a random LAN
# scenario played all-keepalived (twice), all-keepvip and mixed, side by
# side, and compared. `make test` plays a fixed set and the regression list;
# this plays CONFORMANCE_SCENARIOS seeds from CONFORMANCE_FIRST_SEED, or the
# one SEED, or the comma-separated SEEDS. CONFORMANCE_PARALLEL scenarios
# run at once (4 LANs each).
CONFORMANCE_SCENARIOS ?= 300
CONFORMANCE_FIRST_SEED ?= 10000
CONFORMANCE_PARALLEL ?= 1
SEED ?=
SEEDS ?=
conformance:
	KEEPVIP_CONFORMANCE_SEED=$(SEED) KEEPVIP_CONFORMANCE_SEEDS=$(SEEDS) \
		KEEPVIP_CONFORMANCE_SCENARIOS=$(CONFORMANCE_SCENARIOS) \
		KEEPVIP_CONFORMANCE_FIRST_SEED=$(CONFORMANCE_FIRST_SEED) \
		KEEPVIP_CONFORMANCE_PARALLEL=$(CONFORMANCE_PARALLEL) \
		$(CARGO) test --test conformance random_scenarios -- --ignored --nocapture --test-threads=1

clean:
	$(CARGO) clean

# keepvip -t over a directory of real keepalived.conf files (e.g.
# ../shared/wild_configs): per file, loads / refused only for a program
# absent here / refused with its first error, and the totals; "loads-5":
# runs, but -t exits 5 as keepalived 2.2.7's would. KEEPALIVED=/usr/sbin/keepalived
# adds keepalived -t's exit status on each file.
CORPUS ?= ../shared/wild_configs
wild-report: build
	sh tests/wild_report.sh $(CURDIR)/target/debug/keepvip $(CORPUS)
