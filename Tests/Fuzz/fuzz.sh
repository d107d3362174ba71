#!/usr/bin/env bash
# Fuzzes the wire codec with libFuzzer for FUZZ_SECONDS (default 60), starting from the committed seed corpus
# (Tests/Fuzz/corpus: one valid message of every command and direction, written by the real encoder).
# Fails on any crash: a trap while decoding, or a decoded message that does not re-encode to itself.
# First checks that the corpus is what the current encoder writes and that every seed decodes.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
jobs=${SWIFT_JOBS:-2}

swift build -j "$jobs" --product WireFuzz
tool="$(swift build --show-bin-path)/WireFuzz"
fresh=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$fresh" "$work"' EXIT
# JSON bodies list their keys in hash order; deterministic hashing makes the written corpus reproducible.
SWIFT_DETERMINISTIC_HASHING=1 "$tool" corpus "$fresh"
if ! diff -r Tests/Fuzz/corpus "$fresh" >/dev/null; then
  echo "fuzz: Tests/Fuzz/corpus differs from what the encoder writes now; regenerate it with:" >&2
  echo "  rm -r Tests/Fuzz/corpus && SWIFT_DETERMINISTIC_HASHING=1 $tool corpus Tests/Fuzz/corpus" >&2
  exit 1
fi
"$tool" replay --valid Tests/Fuzz/corpus

# A separate build directory: every Swift module compiled with libFuzzer's coverage instrumentation.
swift build -j "$jobs" --build-path .build/fuzz --product WireFuzz -Xswiftc -sanitize=fuzzer -Xswiftc -D -Xswiftc FUZZING
fuzzer="$(swift build --build-path .build/fuzz --show-bin-path)/WireFuzz"
cp Tests/Fuzz/corpus/* "$work"/
# Swift's backtracer would catch the trap before libFuzzer could save the input: leave the crash to libFuzzer.
if ! SWIFT_BACKTRACE=enable=no "$fuzzer" "$work" -dict=Tests/Fuzz/wire.dict -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix=.build/fuzz/ -print_final_stats=1 2>.build/fuzz/fuzz.log; then
  tail -n 40 .build/fuzz/fuzz.log >&2
  echo "fuzz: the codec crashed; the input is in .build/fuzz/ (crash-*); replay it with: $tool replay FILE" >&2
  exit 1
fi
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" .build/fuzz/fuzz.log || true
echo "fuzz: ${seconds} s without a crash ($(ls "$work" | wc -l) inputs in the corpus)"
