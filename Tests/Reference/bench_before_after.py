#!/usr/bin/env python3
"""Two builds of `smaller bench engine` and PyTorch (bench_torch.py) in one script, in alternation, with ratios.

    python3 Tests/Reference/bench_before_after.py --before /path/to/main/.build/release/smaller \
        --after .build/release/smaller --config small --threads 2 --repeats 5 --rounds 2

Each round runs before, after and PyTorch once each (so drifting load hits all three alike); a measure's figure is
the median over rounds of each run's median. Prints the ISA oneDNN reports (the numbers hold for that ISA only),
the load average, and `after --profile` at the end.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

MEASURES = ["train_step_all_rows", "train_step_mlm15", "adamw_only", "inference_b1", "inference_b32"]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="the baseline's smaller executable (release build)")
    ap.add_argument("--after", default=".build/release/smaller")
    ap.add_argument("--config", default="small", choices=["small", "afriberta-small"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    common = ["--config", args.config, "--threads", str(args.threads), "--repeats", str(args.repeats),
              "--warmup", str(args.warmup), "--json"]
    here = os.path.dirname(os.path.abspath(__file__))
    runs = {"before": [], "after": [], "torch": []}
    load = [os.getloadavg()[0]]
    isa = "?"
    for _ in range(args.rounds):
        for side in ("before", "after"):
            report = run_json([getattr(args, side), "bench", "engine"] + common)
            isa = report.get("isa", isa)
            runs[side].append(report["results"])
        if not args.no_torch:
            runs["torch"].append(run_json([sys.executable, os.path.join(here, "bench_torch.py")] + common)["results"])
        load.append(os.getloadavg()[0])

    def median(side, key):
        values = [r[key]["median_ms"] for r in runs[side] if key in r]
        return statistics.median(values) if values else None

    print(f"bench_before_after.py --config {args.config} (threads {args.threads}, oneDNN ISA {isa}, "
          f"{args.rounds} rounds x {args.repeats} repeats, load average {min(load):.1f}-{max(load):.1f})")
    print(f"{'measure':22s} {'before ms':>10s} {'after ms':>10s} {'torch ms':>10s} {'before/after':>13s} {'torch/after':>12s}")
    for key in MEASURES:
        b, a, t = median("before", key), median("after", key), median("torch", key)
        cells = [f"{v:10.1f}" if v is not None else f"{'-':>10s}" for v in (b, a, t)]
        ratio_ba = f"{b / a:13.2f}" if a and b else f"{'-':>13s}"
        ratio_ta = f"{t / a:12.2f}" if a and t else f"{'-':>12s}"
        print(f"{key:22s} {' '.join(cells)} {ratio_ba} {ratio_ta}")
    print()
    prof = subprocess.run([args.after, "bench", "engine", "--profile", "--config", args.config, "--threads",
                           str(args.threads), "--repeats", str(args.repeats), "--warmup", str(args.warmup)],
                          check=True, capture_output=True, text=True).stdout
    print(prof)


if __name__ == "__main__":
    main()
