#!/usr/bin/env python3
"""Golden ids for XLMRTokenizer (run by hand; CI has no Python ML stack).

1. Generates multi-script text (Latin with tone diacritics, Ge'ez, Cyrillic-like, agglutinative words) with a
   fixed seed and trains a small unigram SentencePiece model on it (committable: no third-party text).
2. Encodes with transformers' XLMRobertaTokenizer loaded from a folder holding the model as
   sentencepiece.bpe.model (transformers 5 needs exactly that name; see platform-notes).
3. Writes fixtures/tokenizer/:
   - xlmr_small.model             the model
   - generated_golden.json        200 generated sentences with their ids (<s> ... </s>)
   - real_golden.json             for ~20 lines of each ../shared/data/text/<lang>.txt: file, line number and an
                                  FNV-1a-64 hash of the ids (the CC BY-NC text itself is never committed; the
                                  Swift test reads the lines from ../shared/data at test time).
Usage: python3 Tests/Reference/make_tokenizer_golden.py
"""
import json, os, random, shutil, tempfile
import sentencepiece as spm
from transformers import XLMRobertaTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "tokenizer")
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "text"))

SYLLABLES = ["ka", "lo", "mi", "ne", "sù", "ta", "gbé", "wa", "yo", "ri", "ọ", "ṣe", "ba", "dù", "fi", "ŋa", "ɛ", "ɔ",
             "ku", "zi", "ntu", "mba", "sha", "nyi", "kwa"]
GEEZ = ["ሰ", "ላ", "ም", "ኢ", "ት", "ዮ", "ጵ", "ያ", "አ", "ዲ", "ስ", "በ", "ባ"]
SUFFIXES = ["", "", "ni", "wa", "ko", "eni", "ile"]
CAPS = ["Ade", "Kampala", "Nairobi", "Ọlá", "Musa", "Abuja", "Dakar"]


def generated_lines(count, seed):
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        words = []
        for _ in range(rng.randint(3, 14)):
            r = rng.random()
            if r < 0.15:
                words.append("".join(rng.choice(GEEZ) for _ in range(rng.randint(1, 4))))
            elif r < 0.25:
                words.append(rng.choice(CAPS))
            elif r < 0.3:
                words.append(str(rng.randint(1, 2030)))
            elif r < 0.34:
                words.append(rng.choice([",", ".", "?", "!", "(", ")", "\"", "-"]))
            else:
                words.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) + rng.choice(SUFFIXES))
        lines.append(" ".join(words))
    return lines


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def main():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp()
    train_lines = generated_lines(3000, seed=11)
    train_path = os.path.join(tmp, "train.txt")
    with open(train_path, "w", encoding="utf-8") as f:
        f.write("\n".join(train_lines) + "\n")
    # The same trainer flags as SentencePieceTrainingOptions: <unk>=0, <s>=1, </s>=2, no <pad>, seeded.
    spm.set_random_generator_seed(1)
    spm.SentencePieceTrainer.train(input=train_path, model_prefix=os.path.join(tmp, "m"), vocab_size=400,
                                   model_type="unigram", character_coverage=0.9995, num_threads=1,
                                   unk_id=0, bos_id=1, eos_id=2, pad_id=-1, hard_vocab_limit=False,
                                   minloglevel=2)
    model = os.path.join(OUT, "xlmr_small.model")
    shutil.copy(os.path.join(tmp, "m.model"), model)
    folder = os.path.join(tmp, "hf")
    os.makedirs(folder)
    shutil.copy(model, os.path.join(folder, "sentencepiece.bpe.model"))
    tok = XLMRobertaTokenizer.from_pretrained(folder)

    sp = spm.SentencePieceProcessor(model_file=model)
    test_lines = generated_lines(200, seed=12)
    # A few hand-made edge cases: several spaces, tabs, empty text, unseen characters, NFD diacritics.
    test_lines += ["  two  spaces  ", "tab\tseparated", "", "ẹ̀ɖɛ́ NFD: e\u0301", "漢字 and Ωμέγα", "Ade   Kampala."]
    generated = [{"text": t, "ids": tok(t)["input_ids"]} for t in test_lines]
    meta = {"vocab_size": len(tok), "mask_id": tok.mask_token_id, "sp_pieces": sp.get_piece_size()}
    with open(os.path.join(OUT, "generated_golden.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "sentences": generated}, f, ensure_ascii=False)

    real = []
    if os.path.isdir(SHARED):
        rng = random.Random(7)
        for name in sorted(os.listdir(SHARED)):
            if not name.endswith(".txt"):
                continue
            with open(os.path.join(SHARED, name), encoding="utf-8") as f:
                lines = f.read().split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            for n in sorted(rng.sample(range(len(lines)), 20)):
                ids = tok(lines[n])["input_ids"]
                real.append({"file": name, "line": n + 1, "count": len(ids), "fnv1a64": fnv1a64(",".join(map(str, ids)))})
    with open(os.path.join(OUT, "real_golden.json"), "w", encoding="utf-8") as f:
        json.dump(real, f)
    print(f"wrote {len(generated)} generated and {len(real)} real-text goldens; vocab {len(tok)}, mask {tok.mask_token_id}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
