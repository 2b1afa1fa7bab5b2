#!/usr/bin/env bash
# Before the tests: is everything they need here? Names every missing tool
# once (from tests/tools.list, the one list), and as root on an apt system
# installs them, adds the Rust components and targets, and goes on;
# otherwise it stops with the one command to run.
#
#   tests/preflight.sh GOAL...     GOAL: test, demo, check-static, systemd-test
#
# KEEPVIP_SKIP_NETNS=1 (no namespace tests) needs only Rust and a linker.
set -uo pipefail
cd "$(dirname "$0")/.."

goals=("$@")
[ ${#goals[@]} -gt 0 ] || goals=(test)
root=no
[ "$(id -u)" = 0 ] && root=yes
skip_netns=${KEEPVIP_SKIP_NETNS:-}
# keepalived, setpriv and friends live in sbin, off a user's PATH.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

wanted() { # GOAL[,GOAL...]
	local g
	for g in "${goals[@]}"; do [[ ",$1," == *",$g,"* ]] && return 0; done
	return 1
}

missing_commands=()
missing_packages=()
while read -r goal command package _; do
	case $goal in '' | \#*) continue ;; esac
	wanted "$goal" || continue
	# Without namespace tests only make, the linker and libc are needed.
	if [ "${goals[*]}" = test ] && [ "$skip_netns" = 1 ] && [ "$package" != make ] &&
		[ "$package" != gcc ] && [ "$package" != libc6-dev ]; then
		continue
	fi
	if [[ $command == /* ]]; then
		[ -e "$command" ] && continue
	elif command -v "$command" >/dev/null 2>&1; then
		continue
	fi
	missing_commands+=("$command")
	[[ " ${missing_packages[*]} " == *" $package "* ]] || missing_packages+=("$package")
done <tests/tools.list

# Rust: a rustup "minimal" profile has no rustfmt or clippy, and the static
# builds need the musl targets.
components=()
if wanted test; then
	cargo fmt --version >/dev/null 2>&1 || components+=(rustfmt)
	cargo clippy --version >/dev/null 2>&1 || components+=(clippy)
fi
targets=()
if wanted check-static; then
	installed=$(rustup target list --installed 2>/dev/null)
	for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
		[[ $installed == *"$t"* ]] || targets+=("$t")
	done
fi

if ! command -v cargo >/dev/null 2>&1; then
	echo "preflight: cargo not found. Install Rust (https://rustup.rs), then run the tests again." >&2
	exit 1
fi

problems=()
[ ${#missing_commands[@]} -eq 0 ] ||
	problems+=("missing: ${missing_commands[*]} (Debian packages: ${missing_packages[*]})")
[ ${#components[@]} -eq 0 ] || problems+=("missing Rust components: ${components[*]}")
[ ${#targets[@]} -eq 0 ] || problems+=("missing Rust targets: ${targets[*]}")
if [ "$root" = no ] && { { [ "$skip_netns" != 1 ] && wanted test; } || wanted demo; }; then
	problems+=("namespaces need root")
fi
[ ${#problems[@]} -eq 0 ] && exit 0

# Under sudo the toolchain is the invoking user's (see the Makefile):
# change it as that user, so that root owns nothing in their ~/.rustup.
as_rust_owner() {
	if [ "$root" = yes ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
		runuser -u "$SUDO_USER" -- "$@"
	else
		"$@"
	fi
}

for p in "${problems[@]}"; do echo "preflight: $p" >&2; done
if [ "$root" = yes ] && command -v apt-get >/dev/null 2>&1; then
	if [ ${#missing_packages[@]} -gt 0 ]; then
		echo "preflight: apt-get install ${missing_packages[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq &&
			apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null || {
			echo "preflight: apt-get install failed" >&2
			exit 1
		}
	fi
	if [ ${#components[@]} -gt 0 ]; then
		echo "preflight: rustup component add ${components[*]}" >&2
		as_rust_owner rustup component add "${components[@]}" || exit 1
	fi
	if [ ${#targets[@]} -gt 0 ]; then
		echo "preflight: rustup target add ${targets[*]}" >&2
		as_rust_owner rustup target add "${targets[@]}" || exit 1
	fi
	# Anything still missing would fail every test that needs it: stop here.
	for c in "${missing_commands[@]}"; do
		command -v "$c" >/dev/null 2>&1 || [ -e "$c" ] || {
			echo "preflight: $c still missing after the install" >&2
			exit 1
		}
	done
	exit 0
fi

# Not root, or no apt: one command to run.
make_goal=${goals[0]}
if command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
	# Without make, `sudo make` cannot reach this script: name it instead.
	if command -v make >/dev/null 2>&1; then
		echo "preflight: run   sudo make $make_goal   (it installs what is missing)" >&2
	else
		echo "preflight: run   sudo bash tests/preflight.sh $make_goal   (it installs what is missing), then   sudo make $make_goal" >&2
	fi
elif [ "$root" = no ]; then
	echo "preflight: install the packages above, then run as root:   make $make_goal" >&2
else
	echo "preflight: install the packages above with your package manager, then run   make $make_goal" >&2
fi
exit 1
