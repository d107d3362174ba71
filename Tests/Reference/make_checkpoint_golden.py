#!/usr/bin/env python3
"""Pretrained-checkpoint fixtures: a tiny random XLMRobertaForMaskedLM saved by transformers both ways (run by hand;
CI never runs this).

Writes, under Tests/Reference/fixtures/checkpoint/:
  safetensors/  config.json + model.safetensors (save_pretrained) + sentencepiece.bpe.model
  pytorch/      config.json + pytorch_model.bin (save_pretrained(safe_serialization=False), a torch.save zip)
                + sentencepiece.bpe.model
  half/         the same weights as fp16, torch.save'd (HalfStorage), for the storage-type path
  expected.json ids, attention mask and the MLM logits transformers computes (fp32 weights)
  malicious.bin a torch.save-shaped zip whose data.pkl calls os.system: a reader must refuse it
  short-storage.bin  pytorch/pytorch_model.bin with its first storage cut to half its bytes (a consistent zip)
The tokenizer is a small unigram SentencePiece model trained here on generated text (identity normalisation, so
it stays a few KB); its vocabulary + 2 (<pad>, <mask>) is the model's vocabulary, as in XLM-R.

Usage: python3 Tests/Reference/make_checkpoint_golden.py   (torch, transformers, sentencepiece)
       python3 Tests/Reference/make_checkpoint_golden.py --afriberta-small-shape DIR
           a random model of AfriBERTa-small's shape (4 x 768, 6 heads, FFN 3072, vocab 70006; 333 MB) saved as
           DIR/safetensors and DIR/pytorch (torch.save), for timing the two loaders (docs/benchmarks.md); not committed
"""
import io
import json
import os
import pickle
import random
import shutil
import sys
import tempfile
import zipfile

import sentencepiece as spm
import torch
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

from make_golden import perturb  # non-trivial biases and LayerNorms, padding rows zero (this folder is on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "checkpoint")
PIECES = 120
B, T = 2, 9
SYLLABLES = ["ka", "lo", "mi", "ne", "ta", "wa", "yo", "ri", "ba", "fi", "ku", "zi", "sha", "nyi", "kwa", "da", "go"]


def tokenizer(folder):
    rng = random.Random(7)
    lines = [" ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(3, 12)))
             for _ in range(3000)]
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "text.txt")
        with open(text, "w") as f:
            f.write("\n".join(lines))
        spm.SentencePieceTrainer.train(input=text, model_prefix=os.path.join(tmp, "sp"), vocab_size=PIECES,
                                       model_type="unigram", normalization_rule_name="identity", character_coverage=1.0,
                                       bos_id=1, eos_id=2, unk_id=0, pad_id=-1, seed_sentencepiece_size=10000,
                                       minloglevel=2)
        shutil.copy(os.path.join(tmp, "sp.model"), os.path.join(folder, "sentencepiece.bpe.model"))


def model():
    torch.manual_seed(2026)
    config = XLMRobertaConfig(
        vocab_size=PIECES + 2, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=66, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, initializer_range=0.2)
    m = XLMRobertaForMaskedLM(config)
    gen = torch.Generator().manual_seed(5)
    perturb(m, gen)
    m.eval()
    return m, gen


def malicious(path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    data = pickle.dumps({"roberta.embeddings.word_embeddings.weight": Evil()}, protocol=2)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data)
        z.writestr("archive/version", "3\n")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    m, gen = model()
    folders = {name: os.path.join(OUT, name) for name in ["safetensors", "pytorch", "half"]}
    for folder in folders.values():
        os.makedirs(folder)
    m.save_pretrained(folders["safetensors"], safe_serialization=True)
    # transformers 5 writes safetensors whatever safe_serialization says; transformers 4 wrote pytorch_model.bin as
    # torch.save of the state dict (tied weights included, sharing one storage), which is what is done here then.
    m.save_pretrained(folders["pytorch"], safe_serialization=False)
    bin_path = os.path.join(folders["pytorch"], "pytorch_model.bin")
    if not os.path.exists(bin_path):
        os.remove(os.path.join(folders["pytorch"], "model.safetensors"))
        torch.save(m.state_dict(), bin_path)
    reloaded = XLMRobertaForMaskedLM.from_pretrained(folders["pytorch"])
    assert all(torch.equal(v, reloaded.state_dict()[k]) for k, v in m.state_dict().items())
    m.config.save_pretrained(folders["half"])
    torch.save({k: v.half() for k, v in m.state_dict().items()}, os.path.join(folders["half"], "pytorch_model.bin"))
    tokenizer(folders["safetensors"])
    for name in ["pytorch", "half"]:
        shutil.copy(os.path.join(folders["safetensors"], "sentencepiece.bpe.model"), folders[name])

    ids = torch.randint(3, PIECES + 2, (B, T), generator=gen)
    ids[:, 0] = 0
    ids[0, T - 1] = 2
    ids[1, T - 4] = 2
    ids[1, T - 3:] = 1
    mask = (ids != 1).long()
    with torch.no_grad():
        logits = m(input_ids=ids, attention_mask=mask).logits
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"ids": ids.flatten().tolist(), "attention_mask": mask.flatten().tolist(), "batch": B, "tokens": T,
                   "logits": logits.flatten().tolist()}, f)
    malicious(os.path.join(OUT, "malicious.bin"))
    with zipfile.ZipFile(os.path.join(folders["pytorch"], "pytorch_model.bin")) as src, \
            zipfile.ZipFile(os.path.join(OUT, "short-storage.bin"), "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, data[:len(data) // 2] if info.filename.endswith("/data/0") else data)
    print("wrote", OUT, sorted(os.listdir(folders["pytorch"])))


def afriberta_small_shape(out):
    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=70006, hidden_size=768, num_hidden_layers=4, num_attention_heads=6,
                              intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5,
                              pad_token_id=1)
    m = XLMRobertaForMaskedLM(config).eval()
    m.save_pretrained(os.path.join(out, "safetensors"))
    os.makedirs(os.path.join(out, "pytorch"), exist_ok=True)
    m.config.save_pretrained(os.path.join(out, "pytorch"))
    torch.save(m.state_dict(), os.path.join(out, "pytorch", "pytorch_model.bin"))


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) == 3 and sys.argv[1] == "--afriberta-small-shape":
        afriberta_small_shape(sys.argv[2])
    else:
        main()
