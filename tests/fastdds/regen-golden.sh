#!/usr/bin/env bash
# Rebuilds the Fast DDS peer and regenerates the golden CDR fixtures that
# crates/types/tests/golden.rs checks our encoder/decoder against.
# Usage: tests/fastdds/regen-golden.sh [BUILD_DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/crates/types/tests/golden"

peer="$("$here/build.sh" "$@" | tail -n 1)"
mkdir -p "$out"
# `golden` opens no DDS participant, so it needs no network namespace.
"$peer" golden "$out"
echo "golden fixtures in $out" >&2
