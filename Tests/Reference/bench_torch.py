#!/usr/bin/env python3
"""The PyTorch peer of `smaller bench engine`: the same shapes, the same measurements (run by hand).

Training step B32xT128: XLMRobertaForMaskedLM forward + backward + clip_grad_norm_ + AdamW step, dropout 0.1,
with 15% of positions labelled (transformers computes the MLM logits on every position regardless) and with
every position labelled. Inference: XLMRobertaForTokenClassification (9 labels), eval + no_grad, batch 1 and 32.
Times in milliseconds: median and p95 over --repeats after --warmup. Inference also runs PyTorch's dynamic int8
(`quantize_dynamic` on the Linear layers) at batch 1 and 32 and prints its speedup over PyTorch's fp32; with
`--compress-json` (our `smaller bench compress --json` output) it prints ours beside it and the ratio.

Usage: python3 Tests/Reference/bench_torch.py --config small --threads 2 [--json]

--paired: batch-1 inference only, drift-proof. Starts `smaller bench engine --serve` (same config, threads and
B1xT128 shape as `--batch1-only`) as a child and alternates one timed pass of ours (one line on its stdin, its time
read back) with one timed PyTorch pass in this process, swapping which goes first every pair, so both sides of a
pair see the same machine speed. Prints each pair's ratio ours / PyTorch and the ratios' median and p95.

    python3 Tests/Reference/bench_torch.py --paired --config afriberta-small --threads 2 --repeats 41
"""
import argparse
import json
import os
import subprocess
import time
import warnings

import torch
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaForTokenClassification

SHAPES = {
    "small": dict(vocab_size=8000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024),
    "afriberta-small": dict(vocab_size=70006, hidden_size=768, num_hidden_layers=4, num_attention_heads=6,
                            intermediate_size=3072),
}


def stat(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    n = len(ms)
    median = ms[n // 2] if n % 2 else (ms[n // 2 - 1] + ms[n // 2]) / 2
    p95 = ms[min(n - 1, -(-int(n * 95) // 100) - 1)]
    return {"median_ms": median, "p95_ms": p95}


def quantiles(xs):
    xs = sorted(xs)
    n = len(xs)
    median = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    return median, xs[min(n - 1, -(-int(n * 95) // 100) - 1)]


def paired(args, tc, x):
    """Interleaves our served passes with PyTorch's, one of each per pair."""
    cmd = [args.binary, "bench", "engine", "--config", args.config, "--threads", str(args.threads),
           "--warmup", str(max(args.warmup, 1)), "--serve", "--serve-path", args.path] + args.ours_arg
    load_before = os.getloadavg()
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        line = child.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"{' '.join(cmd)}: expected 'ready', got {line!r} (exit {child.poll()})")

        def ours():
            child.stdin.write("\n")
            child.stdin.flush()
            out = child.stdout.readline()
            if not out:
                raise SystemExit(f"{' '.join(cmd)} stopped (exit {child.wait()})")
            return float(out)

        def theirs():
            with torch.no_grad():
                t0 = time.perf_counter()
                tc(input_ids=x)
                return (time.perf_counter() - t0) * 1e3

        for _ in range(args.warmup):
            theirs()
        pairs = []
        for i in range(args.repeats):
            if i % 2 == 0:
                a = ours(); time.sleep(args.gap_ms / 1e3); b = theirs()
            else:
                b = theirs(); time.sleep(args.gap_ms / 1e3); a = ours()
            time.sleep(args.gap_ms / 1e3)
            pairs.append((a, b))
        child.stdin.write("q\n")
        child.stdin.flush()
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    ratios = [a / b for a, b in pairs]
    summary = {k: dict(zip(("median", "p95"), quantiles(v))) for k, v in
               (("ours_ms", [a for a, _ in pairs]), ("torch_ms", [b for _, b in pairs]), ("ratio", ratios))}
    load = os.getloadavg()
    report = {"config": args.config, "threads": args.threads, "torch": torch.__version__, "path": args.path,
              "batch": 1, "tokens": 128, "pairs": [{"ours_ms": a, "torch_ms": b, "ratio": a / b} for a, b in pairs],
              "summary": summary, "loadavg_before": load_before, "loadavg_after": load}
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    print(f"bench_torch.py --paired --config {args.config} (threads {args.threads}, torch {torch.__version__}, "
          f"ours: {args.path}, B1xT128, load average {load_before[0]:.2f} before, {load[0]:.2f} after)")
    print(f"{'pair':>4s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>6s}")
    for i, (a, b) in enumerate(pairs):
        print(f"{i:4d} {a:9.2f} {b:9.2f} {a / b:6.3f}")
    for k in ("ours_ms", "torch_ms", "ratio"):
        print(f"{k:8s} median {summary[k]['median']:8.3f}  p95 {summary[k]['p95']:8.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small", choices=SHAPES)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--inference-only", action="store_true")
    ap.add_argument("--batch1-only", action="store_true")
    ap.add_argument("--paired", action="store_true", help="interleave with `smaller bench engine --serve` (batch 1)")
    ap.add_argument("--binary", default=".build/release/smaller", help="--paired: our executable")
    ap.add_argument("--path", default="split", choices=["model", "encoder", "packed", "split"],
                    help="--paired: our inference path")
    ap.add_argument("--ours-arg", action="append", default=[], help="--paired: extra argument for ours (repeatable)")
    ap.add_argument("--gap-ms", type=float, default=50.0,
                    help="--paired: pause between passes; after a B1 pass torch's OpenMP threads burn ~10 ms of CPU "
                         "spinning, over up to ~20 ms (measured), which would run beside our next pass")
    ap.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True,
                    help="inference: also time torch.ao.quantization.quantize_dynamic on the Linear layers")
    ap.add_argument("--compress-json", help="our `smaller bench compress --json` output: print the ratio of the int8 "
                                            "speedups (ours / PyTorch's)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, T = 32, 128
    config = XLMRobertaConfig(**SHAPES[args.config], max_position_embeddings=514, type_vocab_size=1,
                              layer_norm_eps=1e-5, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    ids = torch.randint(4, config.vocab_size - 1, (B, T))
    ids[:, 0] = 0
    ids[:, -1] = 2
    if args.paired:
        tc = XLMRobertaForTokenClassification(XLMRobertaConfig(**SHAPES[args.config], max_position_embeddings=514,
                                                               type_vocab_size=1, layer_norm_eps=1e-5, num_labels=9))
        return paired(args, tc.eval(), ids[:1])
    results = {}
    if not args.inference_only:
        model = XLMRobertaForMaskedLM(config).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        for name, fraction in [("train_step_mlm15", 0.15), ("train_step_all_rows", 1.0)]:
            labels = torch.where(torch.rand(B, T) < fraction, ids, torch.full_like(ids, -100))

            def step():
                opt.zero_grad(set_to_none=True)
                loss = model(input_ids=ids, labels=labels).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
            results[name] = stat(step, args.warmup, args.repeats)
        results["adamw_only"] = stat(opt.step, args.warmup, args.repeats)
    tc_config = XLMRobertaConfig(**SHAPES[args.config], max_position_embeddings=514, type_vocab_size=1,
                                 layer_norm_eps=1e-5, num_labels=9)
    tc = XLMRobertaForTokenClassification(tc_config).eval()
    # PyTorch's dynamic int8 (the peer of our dynamic int8 row): every nn.Linear quantized, weights per tensor,
    # activations per batch at run time, through the quantized engine PyTorch picks for this CPU.
    tc_int8 = None
    if args.int8:
        with warnings.catch_warnings():  # torch.ao.quantization's deprecation notices (it still works in 2.15)
            warnings.simplefilter("ignore")
            tc_int8 = torch.ao.quantization.quantize_dynamic(tc, {torch.nn.Linear}, dtype=torch.qint8)
    for b in (1,) if args.batch1_only else (1, 32):
        x = ids[:b]
        with torch.no_grad():
            results[f"inference_b{b}"] = stat(lambda: tc(input_ids=x), args.warmup, args.repeats)
            if tc_int8 is not None:
                results[f"inference_int8_b{b}"] = stat(lambda: tc_int8(input_ids=x), args.warmup, args.repeats)
    speedups = {f"b{b}": results[f"inference_b{b}"]["median_ms"] / results[f"inference_int8_b{b}"]["median_ms"]
                for b in (1, 32) if f"inference_int8_b{b}" in results}
    ours = ours_int8_speedups(args.compress_json) if args.compress_json else {}
    report = {"config": args.config, "threads": args.threads, "torch": torch.__version__, "batch": B, "tokens": T,
              "quantized_engine": torch.backends.quantized.engine, "results": results,
              "torch_int8_speedup": speedups, "ours_int8_speedup": ours,
              "ratio_of_speedups": {k: ours[k] / v for k, v in speedups.items() if k in ours}}
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(f"bench_torch.py --config {args.config} (threads {args.threads}, torch {torch.__version__}, B{B}xT{T}, "
              f"quantized engine {torch.backends.quantized.engine})")
        for k in sorted(results):
            print(f"{k:24s} {results[k]['median_ms']:11.2f} {results[k]['p95_ms']:11.2f}")
        for k, v in speedups.items():
            line = f"dynamic int8 speedup {k}: torch {v:.2f}x"
            if k in ours:
                line += f", ours {ours[k]:.2f}x (from {args.compress_json}), ours / torch {ours[k] / v:.2f}"
            print(line)


def ours_int8_speedups(path):
    """Our dynamic int8 speedups over our fastest fp32 path, from `smaller bench compress --json` output."""
    with open(path) as f:
        report = json.load(f)
    rows = {r["name"]: r.get("timing") for r in report["rows"]}
    fp32, int8 = rows.get("fp32 inference encoder, pre-packed (split over threads)"), rows.get("dynamic int8")
    if not fp32 or not int8:
        raise SystemExit(f"{path}: no fp32 split or dynamic int8 row")
    return {"b1": fp32["b1P50Ms"] / int8["b1P50Ms"], "b32": fp32["b32MedianMs"] / int8["b32MedianMs"]}


if __name__ == "__main__":
    main()
