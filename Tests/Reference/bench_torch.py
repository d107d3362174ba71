#!/usr/bin/env python3
"""The PyTorch peer of `smaller bench engine`: the same shapes, the same measurements (run by hand).

Training step B32xT128: XLMRobertaForMaskedLM forward + backward + clip_grad_norm_ + AdamW step, dropout 0.1,
with 15% of positions labelled (transformers computes the MLM logits on every position regardless) and with
every position labelled. Inference: XLMRobertaForTokenClassification (9 labels), eval + no_grad, batch 1 and 32.
Times in milliseconds: median and p95 over --repeats after --warmup.

Usage: python3 Tests/Reference/bench_torch.py --config small --threads 2 [--json]
"""
import argparse
import json
import time

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small", choices=SHAPES)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--inference-only", action="store_true")
    ap.add_argument("--batch1-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, T = 32, 128
    config = XLMRobertaConfig(**SHAPES[args.config], max_position_embeddings=514, type_vocab_size=1,
                              layer_norm_eps=1e-5, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    ids = torch.randint(4, config.vocab_size - 1, (B, T))
    ids[:, 0] = 0
    ids[:, -1] = 2
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
    for b in (1,) if args.batch1_only else (1, 32):
        x = ids[:b]
        with torch.no_grad():
            results[f"inference_b{b}"] = stat(lambda: tc(input_ids=x), args.warmup, args.repeats)
    report = {"config": args.config, "threads": args.threads, "torch": torch.__version__, "batch": B, "tokens": T,
              "results": results}
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(f"bench_torch.py --config {args.config} (threads {args.threads}, torch {torch.__version__}, B{B}xT{T})")
        for k in sorted(results):
            print(f"{k:24s} {results[k]['median_ms']:11.2f} {results[k]['p95_ms']:11.2f}")


if __name__ == "__main__":
    main()
