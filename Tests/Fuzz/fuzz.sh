#!/usr/bin/env bash
# Fuzzes the wire codec with libFuzzer for FUZZ_SECONDS (default 60), starting from the committed seed corpus
# (Tests/Fuzz/corpus: one valid message of every command and direction, written by the real encoder), then the
# pytorch_model.bin readers (zip archive, restricted pickle) for CHECKPOINT_FUZZ_SECONDS (default 20) from
# Tests/CheckpointFuzz/corpus (the fixture archive and its pickle).
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

# The checkpoint readers: the corpus must be what the tool writes from the fixture, and every seed must load.
checkpoint_seconds=${CHECKPOINT_FUZZ_SECONDS:-20}
fixture=Tests/Reference/fixtures/checkpoint/pytorch/pytorch_model.bin
swift build -j "$jobs" --product CheckpointFuzz
ctool="$(swift build --show-bin-path)/CheckpointFuzz"
rm -rf "$fresh"/* && "$ctool" corpus "$fixture" "$fresh"
if ! diff -r Tests/CheckpointFuzz/corpus "$fresh" >/dev/null; then
  echo "fuzz: Tests/CheckpointFuzz/corpus differs from the fixture; regenerate it with:" >&2
  echo "  rm -r Tests/CheckpointFuzz/corpus && $ctool corpus $fixture Tests/CheckpointFuzz/corpus" >&2
  exit 1
fi
"$ctool" replay --valid Tests/CheckpointFuzz/corpus
swift build -j "$jobs" --build-path .build/fuzz --product CheckpointFuzz -Xswiftc -sanitize=fuzzer -Xswiftc -D -Xswiftc FUZZING
cfuzzer="$(swift build --build-path .build/fuzz --show-bin-path)/CheckpointFuzz"
cwork=$(mktemp -d)
trap 'rm -rf "$fresh" "$work" "$cwork"' EXIT
cp Tests/CheckpointFuzz/corpus/* "$cwork"/
if ! SWIFT_BACKTRACE=enable=no "$cfuzzer" "$cwork" -max_total_time="$checkpoint_seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix=.build/fuzz/checkpoint- -print_final_stats=1 2>.build/fuzz/checkpoint-fuzz.log; then
  tail -n 40 .build/fuzz/checkpoint-fuzz.log >&2
  echo "fuzz: a checkpoint reader crashed; the input is in .build/fuzz/ (checkpoint-crash-*); replay it with: $ctool replay FILE" >&2
  exit 1
fi
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" .build/fuzz/checkpoint-fuzz.log || true
echo "fuzz: checkpoint readers ${checkpoint_seconds} s without a crash ($(ls "$cwork" | wc -l) inputs in the corpus)"
