#!/usr/bin/env python3
"""Golden fixtures for the engine, from Hugging Face transformers (run by hand; CI never runs this).

Writes, under Tests/Reference/fixtures/:
  golden_mlm/  a tiny random XLMRobertaForMaskedLM (config.json + model.safetensors as transformers saves it),
               expected.json (ids, attention mask, labels, logits, loss, the 10-step AdamW loss curve and its
               hyperparameters) and grads.safetensors (the gradient of every parameter, transformers' names).
  golden_tc/   the same for XLMRobertaForTokenClassification (5 labels), without the training curve.

Usage: python3 Tests/Reference/make_golden.py   (torch + transformers; writes ~100 KB)
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaForTokenClassification

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

B, T = 2, 7
STEPS, LR, WD, WARMUP, CLIP = 10, 1e-2, 0.01, 2, 1.0


def tiny_config(**extra):
    return XLMRobertaConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=24, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.2,
        attn_implementation="eager", **extra)


def perturb(model, gen):
    # Non-trivial biases and LayerNorm parameters, so that every parameter's path is exercised.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
        emb = model.roberta.embeddings
        emb.word_embeddings.weight[1].zero_()  # padding rows stay zero, as at initialisation
        emb.position_embeddings.weight[1].zero_()


def batch(gen, vocab):
    ids = torch.randint(3, vocab, (B, T), generator=gen)
    ids[:, 0] = 0
    ids[0, T - 1] = 2
    ids[1, T - 3] = 2
    ids[1, T - 2:] = 1  # padding
    mask = (ids != 1).long()
    return ids, mask


def grads_by_name(model):
    out = {}
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        if name == "lm_head.decoder.bias":
            name = "lm_head.bias"
        if name == "lm_head.decoder.weight":  # tied: the one parameter is the word embedding table
            name = "roberta.embeddings.word_embeddings.weight"
        out[name] = p.grad.detach().clone().contiguous()
    return out


def write(folder, model, expected, grads):
    path = os.path.join(OUT, folder)
    os.makedirs(path, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    save_file(grads, os.path.join(path, "grads.safetensors"))
    with open(os.path.join(path, "expected.json"), "w") as f:
        json.dump(expected, f)


def mlm():
    gen = torch.Generator().manual_seed(1234)
    torch.manual_seed(1234)
    model = XLMRobertaForMaskedLM(tiny_config())
    perturb(model, gen)
    ids, mask = batch(gen, 40)
    labels = torch.full((B, T), -100)
    for (b, t) in [(0, 1), (0, 3), (0, 5), (1, 2), (1, 3)]:
        labels[b, t] = int(torch.randint(3, 40, (1,), generator=gen))
    model.train()
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    expected = {
        "ids": ids.flatten().tolist(), "attention_mask": mask.flatten().tolist(), "labels": labels.flatten().tolist(),
        "batch": B, "tokens": T, "logits": out.logits.detach().flatten().tolist(), "loss": out.loss.item(),
    }
    grads = grads_by_name(model)
    snapshot = {k: v.detach().clone() for k, v in model.state_dict().items()}

    # 10 AdamW steps on the same batch: linear warmup then linear decay, grad-norm clipping.
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=WD)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / max(1, WARMUP) if s < WARMUP else max(0.0, (STEPS - s) / max(1, STEPS - WARMUP)))
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        sched.step()
    with torch.no_grad():
        losses.append(model(input_ids=ids, attention_mask=mask, labels=labels).loss.item())
    expected["adamw"] = {"steps": STEPS, "lr": LR, "weight_decay": WD, "warmup": WARMUP, "clip": CLIP,
                         "betas": [0.9, 0.999], "eps": 1e-8, "losses": losses}
    model.load_state_dict(snapshot)
    write("golden_mlm", model, expected, grads)


def tc_config(labels_n):
    return tiny_config(num_labels=labels_n, id2label={i: f"L{i}" for i in range(labels_n)},
                       label2id={f"L{i}": i for i in range(labels_n)}, classifier_dropout=0.0)


def token_classification():
    gen = torch.Generator().manual_seed(99)
    torch.manual_seed(99)
    labels_n = 5
    model = XLMRobertaForTokenClassification(tc_config(labels_n))
    perturb(model, gen)
    ids, mask = batch(gen, 40)
    labels = torch.randint(0, labels_n, (B, T), generator=gen)
    labels[:, 0] = -100
    labels[1, T - 2:] = -100
    labels[0, 4] = -100
    model.train()
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    expected = {
        "ids": ids.flatten().tolist(), "attention_mask": mask.flatten().tolist(), "labels": labels.flatten().tolist(),
        "batch": B, "tokens": T, "logits": out.logits.detach().flatten().tolist(), "loss": out.loss.item(),
    }
    write("golden_tc", model, expected, grads_by_name(model))


if __name__ == "__main__":
    torch.set_num_threads(1)
    mlm()
    token_classification()
    print("wrote", OUT)
