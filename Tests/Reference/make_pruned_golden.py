#!/usr/bin/env python3
"""Golden fixture for structured pruning, from Hugging Face transformers (run by hand; CI never runs this).

transformers 5.24 no longer has `prune_heads`, so the reference prunes physically by hand: it slices each layer's
query/key/value rows and attention-output columns of the removed heads (the attention reshapes with -1 heads,
so fewer heads just work) and the intermediate rows / output columns of the removed FFN neurons, then runs the
smaller model. The Swift test loads the FULL checkpoint, removes the same units with
StructuredPruning.removing, and compares logits.

Writes Tests/Reference/fixtures/golden_pruned/: config.json + model.safetensors (the full model as transformers
saves it) and expected.json (ids, mask, heads and neurons removed per layer, the pruned model's logits).

Usage: python3 Tests/Reference/make_pruned_golden.py   (torch + transformers; writes ~40 KB)
"""
import json
import os

import torch
from transformers import XLMRobertaConfig, XLMRobertaForTokenClassification

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "golden_pruned")
B, T = 2, 7
HEADS = [[1, 3], [0]]          # current head indices removed per layer (4 heads of size 4)
NEURONS = [[0, 5, 6, 31], [2, 17]]  # FFN neurons removed per layer (of 32)


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(11)
    config = XLMRobertaConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=32,
        max_position_embeddings=24, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.3,
        num_labels=5, attn_implementation="eager")
    model = XLMRobertaForTokenClassification(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
        model.roberta.embeddings.word_embeddings.weight[1].zero_()
        model.roberta.embeddings.position_embeddings.weight[1].zero_()
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)

    ids = torch.randint(3, config.vocab_size, (B, T), generator=gen)
    ids[:, 0] = 0
    ids[0, T - 1] = 2
    ids[1, T - 3] = 2
    ids[1, T - 2:] = 1
    mask = (ids != 1).long()

    hs = config.hidden_size // config.num_attention_heads
    with torch.no_grad():
        for l, layer in enumerate(model.roberta.encoder.layer):
            keep = [h for h in range(config.num_attention_heads) if h not in HEADS[l]]
            rows = torch.tensor([h * hs + i for h in keep for i in range(hs)])
            att = layer.attention
            for lin in (att.self.query, att.self.key, att.self.value):
                w, b = lin.weight[rows].clone(), lin.bias[rows].clone()
                new = torch.nn.Linear(config.hidden_size, len(rows))
                new.weight.copy_(w); new.bias.copy_(b)
                setattr(att.self, [n for n, m in att.self.named_children() if m is lin][0], new)
            dense = att.output.dense
            new = torch.nn.Linear(len(rows), config.hidden_size)
            new.weight.copy_(dense.weight[:, rows]); new.bias.copy_(dense.bias)
            att.output.dense = new
            att.self.num_attention_heads = len(keep)
            att.self.all_head_size = len(rows)
            kept = torch.tensor([n for n in range(config.intermediate_size) if n not in NEURONS[l]])
            inter = layer.intermediate.dense
            new = torch.nn.Linear(config.hidden_size, len(kept))
            new.weight.copy_(inter.weight[kept]); new.bias.copy_(inter.bias[kept])
            layer.intermediate.dense = new
            out = layer.output.dense
            new = torch.nn.Linear(len(kept), config.hidden_size)
            new.weight.copy_(out.weight[:, kept]); new.bias.copy_(out.bias)
            layer.output.dense = new
        logits = model(input_ids=ids, attention_mask=mask).logits

    expected = {"ids": ids.flatten().tolist(), "attention_mask": mask.flatten().tolist(), "batch": B, "tokens": T,
                "heads": HEADS, "neurons": NEURONS, "logits": logits.flatten().tolist()}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
