#!/usr/bin/env python3
"""Golden fixture for token type ids (the word shapes of `model.word_shape`), from Hugging Face transformers (run by
hand; CI never runs this).

Writes Tests/Reference/fixtures/golden_types/: a tiny random XLMRobertaForTokenClassification with
type_vocab_size 8 and our `word_shape_types` marker in config.json (transformers keeps and ignores it),
expected.json (ids, attention mask, labels, token_type_ids, logits, loss) and grads.safetensors (every parameter's
gradient, transformers' names), so the engine's logits and gradients with types are checked against transformers.

Usage: python3 Tests/Reference/make_token_type_golden.py   (torch + transformers; writes ~40 KB)
"""
import torch
from transformers import XLMRobertaForTokenClassification

from make_golden import B, T, batch, grads_by_name, perturb, tc_config, write

TYPES = 8


def main():
    gen = torch.Generator().manual_seed(4321)
    torch.manual_seed(4321)
    labels_n = 5
    config = tc_config(labels_n)
    config.type_vocab_size = TYPES
    config.word_shape_types = True
    model = XLMRobertaForTokenClassification(config)
    perturb(model, gen)
    ids, mask = batch(gen, 40)
    # Specials and padding keep type 0, as the engine's word shapes give them; words take 1..7.
    types = torch.randint(1, TYPES, (B, T), generator=gen)
    types[(ids == 0) | (ids == 1) | (ids == 2)] = 0
    labels = torch.randint(0, labels_n, (B, T), generator=gen)
    labels[:, 0] = -100
    labels[1, T - 2:] = -100
    model.train()
    out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels)
    out.loss.backward()
    expected = {
        "ids": ids.flatten().tolist(), "attention_mask": mask.flatten().tolist(), "labels": labels.flatten().tolist(),
        "token_type_ids": types.flatten().tolist(), "batch": B, "tokens": T,
        "logits": out.logits.detach().flatten().tolist(), "loss": out.loss.item(),
    }
    write("golden_types", model, expected, grads_by_name(model))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
    print("wrote golden_types")
