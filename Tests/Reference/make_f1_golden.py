#!/usr/bin/env python3
"""Golden entity scores from seqeval 1.2.2 for Evaluation.EntityF1 (run by hand; CI has no seqeval).

Writes fixtures/f1/:
  - random_golden.json   fully committed cases: random IOB tag sequences (stray I-, type switches, B-B, empty
                         sentences, all-O) with seqeval's numbers in default and strict (IOB2) mode.
  - masakhaner_golden.json  for a few real MasakhaNER gold files, predictions made by randomly corrupting the gold
                         tags (entities deleted, shifted, retyped, broken into pieces, boundaries moved, spurious
                         entities added). The CC BY-NC text is never committed: each case stores only the file path
                         under ../shared/data/masakhaner and the edits (sentence, token, new label id); the Swift
                         test reads the gold file at test time, applies the edits and compares with these numbers.
Usage: python3 Tests/Reference/make_f1_golden.py
"""
import json, os, random
from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "f1")
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "masakhaner"))
TYPES = ["PER", "ORG", "LOC", "DATE"]
LABELS = ["O"] + [p + t for t in TYPES for p in ("B-", "I-")]  # = LabelSet.masakhaNER's id order


def scores(gold, pred):
    # accuracy_score divides by the token count: no tokens at all gives None here (ours returns 0).
    out = {"accuracy": accuracy_score(gold, pred) if sum(map(len, gold)) else None}
    for mode, kwargs in [("default", {}), ("strict", {"mode": "strict", "scheme": IOB2})]:
        report = classification_report(gold, pred, output_dict=True, zero_division=0, **kwargs)
        per_type = {k: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"], "support": int(v["support"])}
                    for k, v in report.items() if k not in ("micro avg", "macro avg", "weighted avg")}
        out[mode] = {"precision": precision_score(gold, pred, **kwargs), "recall": recall_score(gold, pred, **kwargs),
                     "f1": f1_score(gold, pred, **kwargs), "per_type": per_type}
    return out


def read_conll(path):
    sentences, tags = [], []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            fields = line.split()
            if not fields:
                if tags:
                    sentences.append(tags)
                tags = []
            elif len(fields) >= 2:
                tags.append(fields[-1])
    if tags:
        sentences.append(tags)
    return sentences


def spans(tags):
    """IOB2-ish spans (start, end, type), a stray I- starting a span (as MasakhaNER's quirks need)."""
    out, i = [], 0
    while i < len(tags):
        if tags[i] == "O":
            i += 1
            continue
        t = tags[i][2:]
        j = i + 1
        while j < len(tags) and tags[j] == "I-" + t:
            j += 1
        out.append((i, j, t))
        i = j
    return out


def corrupt(gold, rate, rng):
    pred = [list(s) for s in gold]
    for s, tags in enumerate(pred):
        for (a, b, t) in spans(gold[s]):
            if rng.random() >= rate:
                continue
            kind = rng.choice(["delete", "shift", "retype", "break", "extend", "shrink", "to_inside"])
            if kind == "delete":
                for k in range(a, b): tags[k] = "O"
            elif kind == "shift":
                d = rng.choice([-1, 1])
                for k in range(a, b): tags[k] = "O"
                for k in range(max(0, a + d), min(len(tags), b + d)):
                    tags[k] = ("B-" if k == max(0, a + d) else "I-") + t
            elif kind == "retype":
                u = rng.choice([x for x in TYPES if x != t])
                for k in range(a, b): tags[k] = ("B-" if k == a else "I-") + u
            elif kind == "break" and b - a >= 2:
                k = rng.randrange(a + 1, b)
                tags[k] = rng.choice(["O", "B-" + t, "I-" + rng.choice(TYPES)])
            elif kind == "extend" and b < len(tags):
                tags[b] = "I-" + t
            elif kind == "shrink" and b - a >= 2:
                tags[b - 1] = "O"
            elif kind == "to_inside":
                tags[a] = "I-" + t
        for k in range(len(tags)):  # spurious entities and stray tags on O words
            if gold[s][k] == "O" and rng.random() < rate * 0.05:
                tags[k] = rng.choice(["B-", "I-"]) + rng.choice(TYPES)
    return pred


def random_sequences(rng, n):
    labels = ["O"] * 6 + [p + t for p in ("B-", "I-") for t in TYPES]
    return [[rng.choice(labels) for _ in range(rng.choice([0, 1, 2, 5, 9, 14]))] for _ in range(n)]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(2024)
    cases = []
    for c in range(40):
        n = rng.choice([1, 3, 10, 40])
        gold = random_sequences(rng, n)
        if c % 4 == 0:
            pred = corrupt(gold, 0.5, rng)
        else:
            pred = [[rng.choice([g, g, "O", "B-LOC", "I-LOC", "I-PER"]) for g in s] for s in gold]
        cases.append({"gold": gold, "pred": pred, "scores": scores(gold, pred)})
    cases.append({"gold": [["O", "O"]], "pred": [["O", "O"]], "scores": scores([["O", "O"]], [["O", "O"]])})
    with open(os.path.join(OUT, "random_golden.json"), "w") as f:
        json.dump(cases, f)

    real = []
    files = ["1.0/hau/test.txt", "1.0/yor/dev.txt", "2.0/kin/test.txt", "2.0/xho/test.txt", "2.0/zul/dev.txt"]
    if os.path.isdir(SHARED):
        for path in files:
            gold = read_conll(os.path.join(SHARED, path))
            for rate in (0.1, 0.5):
                pred = corrupt(gold, rate, rng)
                # Edits as one flat list: sentence, token, index of the new tag in LABELS, repeated.
                edits = [x for s in range(len(gold)) for k in range(len(gold[s])) if pred[s][k] != gold[s][k]
                         for x in (s, k, LABELS.index(pred[s][k]))]
                real.append({"file": path, "rate": rate, "edits": edits, "scores": scores(gold, pred)})
    with open(os.path.join(OUT, "masakhaner_golden.json"), "w") as f:
        json.dump(real, f)
    print(f"wrote {len(cases)} random cases and {len(real)} MasakhaNER cases "
          f"({sum(len(r['edits']) // 3 for r in real)} edits)")


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
