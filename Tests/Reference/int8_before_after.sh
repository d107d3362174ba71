#!/bin/sh
# Before/after of `smaller bench compress` for two builds on this machine, run in alternation (before, after,
# before, after) so drifting load hits both alike, then PyTorch's fp32 and dynamic int8 at batch 1 and 32 with
# the ratio of int8 speedups (ours from the last "after" run). Prints one table per build pair and ISA.
# Usage: sh Tests/Reference/int8_before_after.sh BEFORE_BINARY AFTER_BINARY [rounds] [repeats] [batch-repeats]
# e.g.:  git worktree add /tmp/before 93f977a && (cd /tmp/before && swift build -c release --product smaller)
#        sh Tests/Reference/int8_before_after.sh /tmp/before/.build/release/smaller .build/release/smaller 2 10 3
set -eu
before=$1; after=$2; rounds=${3:-2}; repeats=${4:-10}; batch=${5:-3}
out=$(mktemp -d)
for r in $(seq 1 "$rounds"); do
    "$before" bench compress --repeats "$repeats" --batch-repeats "$batch" --json > "$out/before-$r.json"
    "$after" bench compress --repeats "$repeats" --batch-repeats "$batch" --json > "$out/after-$r.json"
done
python3 Tests/Reference/bench_torch.py --config afriberta-small --threads 2 --inference-only --repeats "$repeats" --warmup 2 \
    --compress-json "$out/after-$rounds.json"
python3 - "$out" "$rounds" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
for r in range(1, rounds + 1):
    b, a = (json.load(open(f"{out}/{w}-{r}.json")) for w in ("before", "after"))
    print(f"\nround {r}: ISA {a['isa']}, oneDNN {a['oneDNN']}, threads {a['threads']}, T{a['tokens']}")
    print(f"{'variant':58s} {'b1 p50 before':>13s} {'after':>8s} {'b32 before':>11s} {'after':>8s}")
    rows = {x["name"]: x.get("timing") for x in b["rows"]}
    for x in a["rows"]:
        t, t0 = x.get("timing"), rows.get(x["name"])
        if t and t0:
            print(f"{x['name']:58s} {t0['b1P50Ms']:13.1f} {t['b1P50Ms']:8.1f} {t0['b32MedianMs']:11.0f} {t['b32MedianMs']:8.0f}")
    g = a.get("targets")
    if g:
        for k in ("batch1", "batch32"):
            v = g[k]
            print(f"{k}: int8/fp32 GEMM x{v['gemmRatio']:.2f}, linear share {100 * v['linearShare']:.1f} %, Amdahl bound x{v['amdahlBound']:.2f}")
        for v in g["variants"]:
            print(f"  {v['name']:56s} b1 x{v['b1Speedup']:.2f} ({100 * v['b1OfBound']:.0f} % of bound)  "
                  f"b32 x{v['b32Speedup']:.2f} ({100 * v['b32OfBound']:.0f} % of bound)")
        # The after build's int8 passes split by their probe (builds from the int8passes branch on).
        for v in g["variants"]:
            p = v.get("b32Phases")
            if not p:
                continue
            share = {s["phase"]: s["share"] for s in p["shares"]}
            own = [share.get(k, 0) for k in ("quantize", "gemm", "dequantize")]
            parts = own + [1 - sum(own)]
            print(f"  {v['name']:56s} b32 pass {p['passMs']:.1f} ms: " + ", ".join(
                f"{n} {x * p['passMs']:.1f} ms ({100 * x:.1f} %)" for n, x in zip(("quantize", "int8 GEMM", "dequantize", "fp32 rest"), parts)))
PY
echo "raw JSON in $out"
