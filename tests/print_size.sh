#!/bin/sh
# Prints where a built binary is and how big it is (bytes and KiB).
set -eu
bin=$1
[ -f "$bin" ] || { echo "$bin: not built" >&2; exit 1; }
bytes=$(wc -c <"$bin" | tr -d ' ')
echo "$bin: $bytes bytes ($(( (bytes + 1023) / 1024 )) KiB)"
