#!/usr/bin/env bash
# Build llama.cpp's own programs -- rpc-server, llama-server, llama-cli -- with the RPC
# backend on, from the llama.cpp vendored in the llama-cpp-python sdist given, so the
# programs speak exactly the ggml and RPC protocol of the library codenook loads.
#
#   scripts/build-llama-tools.sh SDIST.tar.gz OUTDIR
#
# Writes OUTDIR/bin/{rpc-server,llama-server,llama-cli} and, last, OUTDIR/VERSION (the
# llama-cpp-python version): a half-finished build leaves no VERSION, so make retries it.
# Environment: LLAMA_TOOLS_CFLAGS (extra C/C++ flags, e.g. the Makefile's AMX exclusion),
# LLAMA_TOOLS_CMAKE (extra cmake arguments, e.g. -DGGML_CUDA=on), LLAMA_TOOLS_BUILD (a
# build folder to keep between runs; a temporary one otherwise), JOBS (parallel jobs).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 SDIST.tar.gz OUTDIR" >&2
    exit 2
fi
sdist=$1
out=$2
[ -f "$sdist" ] || { echo "$0: no such sdist: $sdist" >&2; exit 2; }
command -v cmake >/dev/null || { echo "$0: cmake is needed (apt-get install cmake)" >&2; exit 2; }

# The sdist is named, and unpacks into, llama_cpp_python-VERSION.
top=$(basename "$sdist" .tar.gz)
version=${top#llama_cpp_python-}

if [ -n "${LLAMA_TOOLS_BUILD:-}" ]; then
    work=$LLAMA_TOOLS_BUILD
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
src=$work/llama.cpp
if [ ! -f "$src/CMakeLists.txt" ]; then
    echo "Unpacking llama.cpp from $(basename "$sdist")"
    mkdir -p "$src"
    tar xzf "$sdist" -C "$src" --strip-components=3 "$top/vendor/llama.cpp"
fi

# Release, static (the three programs then stand alone in bin/), no tests, examples, web
# UI download, HTTPS or other tools: only what the three targets need, to keep CI short.
flags=${LLAMA_TOOLS_CFLAGS:-}
# shellcheck disable=SC2086
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF -DGGML_RPC=ON -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    ${LLAMA_TOOLS_CMAKE:-} >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 1; }

jobs=${JOBS:-$(nproc)}
echo "Building rpc-server, llama-server and llama-cli (llama-cpp-python $version, $jobs jobs)"
cmake --build "$work/build" --config Release -j "$jobs" \
    --target ggml-rpc-server llama-server llama-cli

mkdir -p "$out/bin"
rm -f "$out/VERSION"
install -m 755 "$work/build/bin/ggml-rpc-server" "$out/bin/rpc-server"
install -m 755 "$work/build/bin/llama-server" "$out/bin/llama-server"
install -m 755 "$work/build/bin/llama-cli" "$out/bin/llama-cli"
echo "$version" >"$out/VERSION"
echo "llama.cpp tools $version in $out/bin"
