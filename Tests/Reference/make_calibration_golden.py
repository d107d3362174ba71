#!/usr/bin/env python3
"""Golden calibration errors (torchmetrics) and Jensen-Shannon distances (scipy) for Evaluation's Calibration and
Loyalty (run by hand; CI has neither library).

Writes fixtures/calibration/golden.json:
  - calibration: cases of (probabilities (n, C), targets) with torchmetrics' CalibrationError(task="multiclass",
    n_bins=15) for norm="l1" (ECE) and norm="max" (MCE), and its bins. The cases: random distributions; real-shaped
    ones (peaked softmax rounded to float32, so many top probabilities are exactly 1.0, as a trained NER model
    gives); confidences exactly on every bin edge; and confidences of exactly 1.0 mixed with the last bin.
    `ece`, `mce` and `bins` come from torchmetrics' own binning and norm code (`_ce_compute`,
    `_binning_bucketize`) run on float64 tensors, because its public metric casts confidences to float32 and the
    Swift test compares at 1e-9 in double. The bin edges are passed in as m/15 correctly rounded in double (what
    Calibration.edges computes): torch.linspace(0, 1, 16, dtype=float64) differs from them by one ulp at 11/15
    (its vectorised kernel accumulates steps), which only matters for a confidence exactly on that edge.
    `api_ece` / `api_mce` are the public CalibrationError(task="multiclass")'s float32 results, kept to show the
    two agree to float32 precision (the generator checks it wherever the cast to float32 leaves every confidence
    in its bin; in the "ones" case 1 − 2⁻⁵³ becomes 1.0 in float32 and moves).
    Without torchmetrics (torch is large), the same numbers come from a transcription of that code in numpy
    (bucketize(right=True) = searchsorted(side="right")), and `generator` says which produced the file.
  - jensenshannon: pairs (p, q) with scipy.spatial.distance.jensenshannon(p, q, base=2).
Usage: python3 Tests/Reference/make_calibration_golden.py   (PYTHONPATH may point at a torchmetrics install)
"""
import json, os
import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "calibration")
BINS = 15

try:
    import torch
    import torchmetrics
    from torchmetrics import CalibrationError
    from torchmetrics.functional.classification.calibration_error import _binning_bucketize, _ce_compute
    GENERATOR = f"torchmetrics {torchmetrics.__version__} (torch {torch.__version__}), scipy {scipy.__version__}"
except ImportError:
    torch = None
    GENERATOR = f"numpy transcription of torchmetrics' binning (torchmetrics not installed), scipy {scipy.__version__}"


def edges():
    """The bin edges m/15, m = 0..15, each correctly rounded."""
    return np.arange(BINS + 1, dtype=np.float64) / BINS


def reference(probs, targets):
    conf = probs.max(axis=1)
    acc = (probs.argmax(axis=1) == targets).astype(np.float64)
    if torch is not None:
        c, a = torch.tensor(conf, dtype=torch.float64), torch.tensor(acc, dtype=torch.float64)
        e = torch.tensor(edges(), dtype=torch.float64)
        ece = _ce_compute(c, a, e, norm="l1").item()
        mce = _ce_compute(c, a, e, norm="max").item()
        acc_bin, conf_bin, prop_bin = (t.numpy() for t in _binning_bucketize(c, a, e))
        count = np.rint(prop_bin * len(conf)).astype(int)
        p, t = torch.tensor(probs, dtype=torch.float32), torch.tensor(targets)
        api = [CalibrationError(task="multiclass", num_classes=probs.shape[1], n_bins=BINS, norm=n)(p, t).item()
               for n in ("l1", "max")]
        # Casting to float32 can move a confidence into another bin (1 − 2⁻⁵³ becomes 1): compare only when not.
        bins64 = np.searchsorted(edges(), conf, side="right")
        bins32 = np.searchsorted(edges().astype(np.float32), conf.astype(np.float32), side="right")
        if np.array_equal(bins64, bins32):
            assert abs(api[0] - ece) < 1e-5 and abs(api[1] - mce) < 1e-5, (api, ece, mce)
    else:
        idx = np.searchsorted(edges(), conf, side="right") - 1
        count = np.bincount(idx, minlength=BINS + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            conf_bin = np.nan_to_num(np.bincount(idx, weights=conf, minlength=BINS + 1) / count)
            acc_bin = np.nan_to_num(np.bincount(idx, weights=acc, minlength=BINS + 1) / count)
        prop_bin = count / count.sum()
        ece = float(np.sum(np.abs(acc_bin - conf_bin) * prop_bin))
        mce = float(np.max(np.abs(acc_bin - conf_bin)))
        api = [None, None]
    return {"ece": ece, "mce": mce, "api_ece": api[0], "api_mce": api[1],
            "bins": {"count": [int(x) for x in count], "confidence": [float(x) for x in conf_bin],
                     "accuracy": [float(x) for x in acc_bin]}}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def case(name, probs, targets):
    probs = np.asarray(probs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    # Ties for the top label would make the predicted class depend on the argmax rule: none in these cases.
    top = np.sort(probs, axis=1)
    assert np.all(top[:, -1] > top[:, -2]), f"{name}: a tie for the top label"
    return {"name": name, "probabilities": probs.tolist(), "targets": targets.tolist(), **reference(probs, targets)}


def cases(rng):
    out = []
    C = 9  # MasakhaNER's labels
    z = rng.normal(0, 2, size=(400, C))
    p = softmax(z)
    t = np.where(rng.random(400) < 0.6, p.argmax(axis=1), rng.integers(0, C, 400))
    out.append(case("random", p, t))

    # Real-shaped: mostly confident `O`, computed in float32 as the engine does, so many top probabilities are 1.0.
    n = 600
    z = rng.normal(0, 1, size=(n, C))
    z[:, 0] += rng.choice([25.0, 12.0, 4.0, 0.5], size=n, p=[0.5, 0.2, 0.2, 0.1])
    p = softmax(z.astype(np.float32)).astype(np.float32).astype(np.float64)
    t = np.where(rng.random(n) < 0.9, p.argmax(axis=1), rng.integers(0, C, n))
    assert (p.max(axis=1) == 1.0).sum() > 50
    out.append(case("real-shaped", p, t))

    # Confidences exactly on every edge, 1.0 among them: 20 classes so the smallest edge, 1/15, is still the top label.
    rows, targets = [], []
    for k, e in enumerate(np.repeat(edges()[1:], 3)):
        row = np.full(20, (1.0 - e) / 19 * 0.999)
        row[k % 20] = e
        rows.append(row)
        targets.append(k % 20 if k % 3 != 1 else (k + 1) % 20)
    out.append(case("bin-edges", rows, targets))

    # Confidence 1.0 beside confidences just below it, in the last bin: torchmetrics bins 1.0 apart.
    rows, targets = [], []
    for k, c in enumerate([1.0, 1.0, 1.0, 0.999, 0.95, 0.94, np.nextafter(1.0, 0), 1.0]):
        row = np.full(9, (1.0 - c) / 8)
        row[k % 9] = c
        rows.append(row)
        targets.append(k % 9 if k % 4 else (k + 1) % 9)
    out.append(case("ones", rows, targets))
    return out


def js_cases(rng):
    out = []
    for _ in range(20):
        p, q = rng.dirichlet(np.ones(9)), rng.dirichlet(np.ones(9) * 0.3)
        out.append((p, q))
    out.append((np.array([1.0, 0, 0]), np.array([0, 1.0, 0])))        # disjoint: distance 1
    out.append((np.array([0.5, 0.5, 0]), np.array([0.5, 0.5, 0])))    # equal: 0
    out.append((np.array([0.9, 0.1, 0]), np.array([0.2, 0.3, 0.5])))  # a zero on one side only
    out.append((np.array([2.0, 1.0, 1.0]), np.array([1.0, 1.0, 2.0])))  # unnormalised: scipy normalises
    p = softmax(rng.normal(0, 3, size=(1, 9)).astype(np.float32)).astype(np.float32).astype(np.float64)[0]
    out.append((p, np.roll(p, 1)))                                    # float32 softmax outputs, as stored
    return [{"p": p.tolist(), "q": q.tolist(), "distance": float(jensenshannon(p, q, base=2))} for p, q in out]


def main():
    rng = np.random.default_rng(13)
    os.makedirs(OUT, exist_ok=True)
    data = {"generator": GENERATOR, "bins": BINS, "calibration": cases(rng), "jensenshannon": js_cases(rng)}
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.join(OUT, "golden.json"), "with", GENERATOR)


if __name__ == "__main__":
    main()
