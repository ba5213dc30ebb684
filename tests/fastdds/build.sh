#!/usr/bin/env bash
# Builds the Fast DDS test peer: tests/fastdds/build.sh [BUILD_DIR]
# Default BUILD_DIR: <repo>/target/fastdds-peer. Leaves BUILD_DIR/sustainml-fastdds-peer.
# Idempotent: a second run with nothing changed only checks timestamps.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="${1:-$repo/target/fastdds-peer}"

missing=()
command -v cmake >/dev/null 2>&1 || missing+=("cmake (apt-get install cmake)")
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || missing+=("a C++ compiler (apt-get install g++)")
command -v fastddsgen >/dev/null 2>&1 || missing+=("fastddsgen (apt-get install fastddsgen)")
if [ ! -f /usr/include/fastdds/dds/domain/DomainParticipant.hpp ] && [ ! -f /usr/local/include/fastdds/dds/domain/DomainParticipant.hpp ]; then
    missing+=("Fast DDS 2.x headers (apt-get install libfastrtps-dev libfastcdr-dev)")
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "build.sh: cannot build the Fast DDS peer, missing:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi

mkdir -p "$build_dir"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >"$build_dir/configure.log" 2>&1 || {
        cat "$build_dir/configure.log" >&2
        echo "build.sh: cmake configuration failed (log: $build_dir/configure.log)" >&2
        rm -f "$build_dir/CMakeCache.txt"
        exit 1
    }
fi
cmake --build "$build_dir" --parallel "$(nproc 2>/dev/null || echo 2)" >&2
test -x "$build_dir/sustainml-fastdds-peer"
echo "$build_dir/sustainml-fastdds-peer"
