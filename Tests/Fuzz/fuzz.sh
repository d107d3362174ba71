#!/usr/bin/env bash
# Fuzzes the wire codec with libFuzzer for FUZZ_SECONDS (default 60), starting from the committed seed corpus
# (Tests/Fuzz/corpus: one valid message of every command and direction, written by the real encoder), then the
# pytorch_model.bin readers (zip archive, restricted pickle) for CHECKPOINT_FUZZ_SECONDS (default 20) from
# Tests/CheckpointFuzz/corpus (the fixture archive and its pickle), then the job file and GEMM choice file readers
# for JOB_FUZZ_SECONDS (default 20) from Tests/JobFuzz/corpus (the self-contained jobs of jobs/, a choice file).
# Fails on any crash: a trap while decoding, or a decoded message that does not re-encode to itself.
# First checks that each corpus is what the current code writes and that every seed is accepted.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
checkpoint_seconds=${CHECKPOINT_FUZZ_SECONDS:-20}
job_seconds=${JOB_FUZZ_SECONDS:-20}
jobs=${SWIFT_JOBS:-2}
fresh=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$fresh" "$work"' EXIT

# check PRODUCT CORPUS WRITE-ARGS…: the plain tool rewrites the corpus into a fresh folder, which must equal the
# committed one, and replays it (every seed accepted).
check() {
  local product=$1 corpus=$2
  shift 2
  swift build -j "$jobs" --product "$product"
  tool="$(swift build --show-bin-path)/$product"
  rm -rf "${fresh:?}"/* && "$tool" corpus "$@" "$fresh"
  if ! diff -r "$corpus" "$fresh" >/dev/null; then
    echo "fuzz: $corpus differs from what $product writes now; regenerate it with:" >&2
    echo "  rm -r $corpus && $tool corpus $* $corpus" >&2
    exit 1
  fi
  "$tool" replay --valid "$corpus"
}

# fuzz PRODUCT CORPUS SECONDS LIBFUZZER-ARGS…: the instrumented build (its own build directory, so the instrumented
# modules never mix with the normal build) run from a copy of the corpus.
fuzz() {
  local product=$1 corpus=$2 time=$3
  shift 3
  swift build -j "$jobs" --build-path .build/fuzz --product "$product" -Xswiftc -sanitize=fuzzer -Xswiftc -D -Xswiftc FUZZING
  local fuzzer log=".build/fuzz/$product.log"
  fuzzer="$(swift build --build-path .build/fuzz --show-bin-path)/$product"
  rm -rf "${work:?}"/* && cp "$corpus"/* "$work"/
  # Swift's backtracer would catch the trap before libFuzzer could save the input: leave the crash to libFuzzer.
  if ! SWIFT_BACKTRACE=enable=no "$fuzzer" "$work" "$@" -max_total_time="$time" -max_len=65536 -timeout=10 \
      -artifact_prefix=".build/fuzz/$product-" -print_final_stats=1 2>"$log"; then
    tail -n 40 "$log" >&2
    echo "fuzz: $product crashed; the input is in .build/fuzz/ ($product-crash-*); replay it with: $tool replay FILE" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
  echo "fuzz: $product ${time} s without a crash ($(ls "$work" | wc -l) inputs in the corpus)"
}

# JSON bodies list their keys in hash order; deterministic hashing makes the written corpus reproducible.
SWIFT_DETERMINISTIC_HASHING=1 check WireFuzz Tests/Fuzz/corpus
fuzz WireFuzz Tests/Fuzz/corpus "$seconds" -dict=Tests/Fuzz/wire.dict
check CheckpointFuzz Tests/CheckpointFuzz/corpus Tests/Reference/fixtures/checkpoint/pytorch/pytorch_model.bin
fuzz CheckpointFuzz Tests/CheckpointFuzz/corpus "$checkpoint_seconds"
check JobFuzz Tests/JobFuzz/corpus jobs
fuzz JobFuzz Tests/JobFuzz/corpus "$job_seconds" -dict=Tests/JobFuzz/job.dict
