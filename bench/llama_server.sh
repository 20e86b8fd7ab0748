#!/bin/sh
# Build llama.cpp's own server (llama-server, with parallel slots) from the llama.cpp sources
# that the pinned llama-cpp-python sdist vendors, into ~/.cache/automuse/llama-server, for
# `python -m bench.ballots --llama-server`. Takes about 10 minutes on 2 cores; needs cmake.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/automuse"
version=$(sed -n 's/^llama[-_]cpp[-_]python==//p' "$here/constraints.txt")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/.venv/bin/python" -m pip download --quiet --no-deps --no-binary :all: \
    "llama-cpp-python==$version" -d "$work"
tar xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
source=$(echo "$work"/llama_cpp_python-*/vendor/llama.cpp)
cmake -S "$source" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF > "$work/configure.log"
cmake --build "$work/build" --target llama-server -j "$(nproc)" > "$work/build.log"
mkdir -p "$cache"
cp "$work/build/bin/llama-server" "$cache/llama-server"
echo "$cache/llama-server"
