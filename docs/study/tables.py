# Every table and number of docs/study.md's first section, recomputed from the study's run directory: its
# results.jsonl and the report's CSVs (`smaller report RUN --out RUN --format csv` writes report.csv,
# report-long.csv and report-entities.csv there), the previous run's committed report.csv for the comparison
# (session 13's D1: `git show 37228e6:docs/study/report.csv`), and the raw text folder (its sizes).
# usage: python3 docs/study/tables.py RUN_DIR PREVIOUS_REPORT_CSV TEXT_DIR
import csv, json, sys, math, collections, os
run, prev_csv, text_dir = sys.argv[1], sys.argv[2], sys.argv[3]
langs = ["amh","hau","ibo","kin","lug","luo","pcm","swa","wol","yor"]
settings = ["prune sparsity=0.1 when=after", "prune sparsity=0.3 when=after", "prune sparsity=0.5 when=after",
            "prune sparsity=0.7 when=after", "prune sparsity=0.9 when=after", "prune sparsity=0.5 when=before",
            "prune sparsity=0.5 structure=heads", "prune sparsity=0.5 structure=neurons", "distill layers=2 epochs=4",
            "distill layers=1 epochs=4", "quantize scheme=dynamic", "quantize scheme=llm-int8", "quantize scheme=static",
            "quantize scheme=int4", "quantize scheme=dynamic embeddings=true", "quantize scheme=llm-int8 embeddings=true"]
V = collections.defaultdict(dict)   # (lang, setting, seed) -> metric -> value
task_seconds = collections.Counter()   # kind:family -> seconds, from each task's own `<kind>.seconds`
for r in csv.DictReader(open(os.path.join(run, "report-long.csv"))):
    key = (r["language"], r["setting"], r["seed"])
    try: V[key][r["metric"]] = float(r["value"])
    except ValueError: continue
    if r["metric"] in ("pretrain.seconds", "finetune.seconds", "compress.seconds"):
        family = r["setting"].split(" ")[0] + ("/before" if "when=before" in r["setting"] else "")
        task_seconds[r["kind"] + ":" + family] += float(r["value"])
seeds = sorted({k[2] for k in V if k[1] == "dense"})
def g(l, s, seed, m):
    return V.get((l, s, seed), {}).get(m)
def sign_p(k, n):   # two-sided sign test
    if n == 0: return float("nan")
    c = sum(math.comb(n, i) for i in range(0, min(k, n - k) + 1)) / 2**n
    return min(1.0, 2 * c)

rows = list(csv.DictReader(open(os.path.join(run, "report.csv"))))
base = {"amh":52.08,"hau":83.52,"ibo":80.02,"kin":62.97,"lug":74.67,"luo":65.98,"pcm":67.67,"swa":78.24,"wol":59.7,"yor":67.44}
xlmr = {"amh":70.62,"hau":89.5,"ibo":84.78,"kin":73.32,"lug":79.69,"luo":74.86,"pcm":87.26,"swa":87.37,"wol":63.86,"yor":78.26}
d1 = {"amh":41.6,"hau":72.1,"ibo":68.0,"kin":48.7,"lug":58.4,"luo":43.0,"pcm":52.2,"swa":66.1,"wol":49.2,"yor":51.7}
cell = {(r["language"], r["setting"]): r for r in rows}
epochs = collections.defaultdict(dict)
for line in open(os.path.join(run, "results.jsonl")):
    x = json.loads(line)
    if x["spec"].get("kind") == "finetune":
        epochs[x["spec"]["language"]][x["spec"].get("seed")] = x["metrics"].get("finetune.best_epoch")
print("## Dense models beside the MasakhaNER 1.0 baselines")
print("| lang | seeds | test F1 | dev F1 | best epoch | D1 (BIO decoding, session 13) | CNN-BiLSTM-CRF | XLM-R-base |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
tm = []
for l in langs:
    r = cell[(l, "dense")]
    t, ts = 100*float(r["test.f1.mean"]), 100*float(r["test.f1.std"] or 0)
    d, ds = 100*float(r["dev.f1.mean"]), 100*float(r["dev.f1.std"] or 0)
    tm.append(t)
    ep = ", ".join(str(epochs[l][s]) for s in sorted(epochs[l]))
    print(f"| {l} | {r['n']} | {t:.1f} ± {ts:.1f} | {d:.1f} ± {ds:.1f} | {ep} | {d1[l]} | {base[l]} | {xlmr[l]} |")
print(f"| **mean** | | **{sum(tm)/len(tm):.1f}** | | | 55.1 | 69.23 | 78.95 |")
print()
print("## ΔF1 per language and setting (points)")
print("| setting | " + " | ".join(langs) + " | mean |")
print("|---|" + "---:|" * (len(langs) + 1))
for s in settings:
    vals = []
    for l in langs:
        r = cell.get((l, s)); v = r and r["test.f1.delta"]
        vals.append(100*float(v) if v not in (None, "") else None)
    got = [v for v in vals if v is not None]
    print(f"| {s} | " + " | ".join("–" if v is None else f"{v:+.1f}" for v in vals) + f" | **{sum(got)/len(got):+.2f}** |")

print("## Task seconds by kind")
for k, v in sorted(task_seconds.items()): print(f"  {k}: {v:.0f} s")
print(f"  sum {sum(task_seconds.values()):.0f} s")

print("\n## Robustness, calibration, loyalty and efficiency (paired over language x seed cells; means)")
cols = ["ΔF1", "Δ drop typos 10 %", "Δ drop typos 20 %", "Δ drop diacritics", "Δ OOD F1", "Δ OOD gap",
        "Δ token ECE (pts)", "Δ entity ECE (pts)", "label agreement", "correct→wrong", "params", "non-zeros", "bytes",
        "latency B1", "throughput B32"]
print("| setting | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None
def dense_row():
    out = []
    out.append(mean([g(l, "dense", s, "test.f1") for l in langs for s in seeds]) * 100)
    out += [None] * 3
    out.append(mean([g(l, "dense", s, "ood.f1") for l in langs for s in seeds if g(l, "dense", s, "ood.f1") is not None]) * 100)
    out.append(mean([g(l, "dense", s, "ood.gap") for l in langs for s in seeds if g(l, "dense", s, "ood.gap") is not None]) * 100)
    out.append(mean([g(l, "dense", s, "calibration.token.ece") for l in langs for s in seeds]) * 100)
    out.append(mean([g(l, "dense", s, "calibration.entity.ece") for l in langs for s in seeds]) * 100)
    return out
d = dense_row()
def fm(x, nd=2, sign=True):
    if x is None: return "–"
    return f"{x:+.{nd}f}" if sign else f"{x:.{nd}f}"
dp = lambda m: mean([g(l, "dense", s, m) for l in langs for s in seeds])
print(f"| dense | {d[0]:.1f} | – | – | – | {d[4]:.1f} | {d[5]:.1f} | {d[6]:.1f} | {d[7]:.1f} | – | – | "
      f"{dp('params')/1e6:.2f} M | {dp('nonzeros')/1e6:.2f} M | {dp('bytes')/1e6:.2f} MB | {dp('latency.b1.p50_ms'):.2f} ms | {dp('throughput.b32'):.0f}/s |")
def pair(s, f):
    xs = []
    for l in langs:
        for seed in seeds:
            a, b = V.get((l, s, seed)), V.get((l, "dense", seed))
            if a is None or b is None: continue
            try:
                x = f(a, b)
            except (KeyError, TypeError, ZeroDivisionError):
                continue
            if x is not None: xs.append(x)
    return xs
drop = lambda m, key: m["test.f1"] - m[key]
rel = lambda key: (lambda a, b: (a[key] / b[key] - 1) * 100)
for s in settings:
    r = []
    r.append(mean(pair(s, lambda a, b: (a["test.f1"] - b["test.f1"]) * 100)))
    for key in ("robust.typos@0.1.f1", "robust.typos@0.2.f1", "robust.diacritics.f1"):
        r.append(mean(pair(s, lambda a, b, key=key: (drop(a, key) - drop(b, key)) * 100)))
    r.append(mean(pair(s, lambda a, b: (a["ood.f1"] - b["ood.f1"]) * 100)))
    r.append(mean(pair(s, lambda a, b: (a["ood.gap"] - b["ood.gap"]) * 100)))
    r.append(mean(pair(s, lambda a, b: (a["calibration.token.ece"] - b["calibration.token.ece"]) * 100)))
    r.append(mean(pair(s, lambda a, b: (a["calibration.entity.ece"] - b["calibration.entity.ece"]) * 100)))
    la = mean(pair(s, lambda a, b: a.get("loyalty.label")))
    cw = mean(pair(s, lambda a, b: a.get("loyalty.flips.correct_to_wrong")))
    pcts = [mean(pair(s, rel(k))) for k in ("params", "nonzeros", "bytes", "latency.b1.p50_ms", "throughput.b32")]
    txt = [fm(x) for x in r] + ["–" if la is None else f"{la:.3f}", "–" if cw is None else f"{cw:.3f}"]
    txt += ["–" if p is None else f"{p:+.0f} %" for p in pcts]
    if s.startswith("quantize"): txt[10] = "–"
    print(f"| {s} | " + " | ".join(txt) + " |")

print("\n## Latency and throughput against the 10 % pruning of the same cell (mean over cells)")
ctl = "prune sparsity=0.1 when=after"
for s in ["dense"] + settings:
    lat, thr = [], []
    for l in langs:
        for seed in seeds:
            a, c = V.get((l, s, seed)), V.get((l, ctl, seed))
            if a and c and "latency.b1.p50_ms" in a and "latency.b1.p50_ms" in c:
                lat.append((a["latency.b1.p50_ms"] / c["latency.b1.p50_ms"] - 1) * 100)
                thr.append((a["throughput.b32"] / c["throughput.b32"] - 1) * 100)
    if lat: print(f"  {s}: B1 latency {mean(lat):+.0f} %, B32 throughput {mean(thr):+.0f} % (n={len(lat)})")

print("\n## Per setting: cells below dense (sign test), language spread, languages within 1 point, cells >= +0.5")
for s in settings:
    ds = pair(s, lambda a, b: (a["test.f1"] - b["test.f1"]) * 100)
    below = sum(1 for x in ds if x < 0); above = sum(1 for x in ds if x > 0)
    perlang = {}
    for l in langs:
        xs = [(g(l, s, sd, "test.f1") - g(l, "dense", sd, "test.f1")) * 100 for sd in seeds if g(l, s, sd, "test.f1") is not None and g(l, "dense", sd, "test.f1") is not None]
        if xs: perlang[l] = mean(xs)
    lo = min(perlang, key=perlang.get); hi = max(perlang, key=perlang.get)
    within = [l for l in langs if l in perlang and perlang[l] >= -1]
    good = [f"{l} {perlang[l]:+.1f}" for l in langs if l in perlang and perlang[l] >= 0.5]
    print(f"  {s}: mean {mean(ds):+.2f}; below {below}/{len(ds)}, above {above}, p={sign_p(below, below + above):.3g}; "
          f"spread {perlang[hi]-perlang[lo]:.1f} ({lo} {perlang[lo]:+.1f} .. {hi} {perlang[hi]:+.1f}); >=-1: {len(within)} langs; >=+0.5: {good}")

print("\n## Fragility at 90 % against raw text size (Spearman)")
def ranks(xs):
    o = sorted(range(len(xs)), key=lambda i: xs[i]); r = [0] * len(xs)
    for k, i in enumerate(o): r[i] = k
    return r
sizes = [os.path.getsize(os.path.join(text_dir, f"{l}.txt")) for l in langs]
d90 = [mean([(g(l, "prune sparsity=0.9 when=after", sd, "test.f1") - g(l, "dense", sd, "test.f1")) * 100 for sd in seeds]) for l in langs]
rs, rd = ranks(sizes), ranks(d90); n = len(langs)
rho = 1 - 6 * sum((a - b) ** 2 for a, b in zip(rs, rd)) / (n * (n * n - 1))
print(f"  rho(size, dF1@90) = {rho:+.2f}")

print("\n## Dense robustness per language (test F1 -> typos 10 % / diacritics; OOD)")
for l in langs:
    t = mean([g(l, "dense", s, "test.f1") for s in seeds]) * 100
    ty = mean([g(l, "dense", s, "robust.typos@0.1.f1") for s in seeds]) * 100
    di = mean([g(l, "dense", s, "robust.diacritics.f1") for s in seeds]) * 100
    oo = mean([g(l, "dense", s, "ood.f1") for s in seeds])
    te = mean([g(l, "dense", s, "calibration.token.ece") for s in seeds]) * 100
    ee = mean([g(l, "dense", s, "calibration.entity.ece") for s in seeds]) * 100
    print(f"  {l}: test {t:.1f}, typos10 {ty:.1f} ({ty-t:+.1f}), diacritics {di:.1f} ({di-t:+.1f}), OOD {'–' if oo is None else f'{oo*100:.1f}'}, ECE tok {te:.1f} ent {ee:.1f}")
nine = [l for l in langs if l != "amh"]
print(f"  typo-10 drop mean {mean([(g(l,'dense',s,'test.f1')-g(l,'dense',s,'robust.typos@0.1.f1'))*100 for l in langs for s in seeds]):.2f}")
print(f"  OOD mean (nine) {mean([g(l,'dense',s,'ood.f1')*100 for l in nine for s in seeds]):.1f} vs in-dist same nine {mean([g(l,'dense',s,'test.f1')*100 for l in nine for s in seeds]):.1f}")

print("\n## Outlier fractions (LLM.int8())")
of = [g(l, "quantize scheme=llm-int8", s, "quantize.outlier_fraction") for l in langs for s in seeds]
of = [x for x in of if x is not None]
if of: print(f"  max {max(of):.6f}, mean {mean(of):.6f}")
same = sum(1 for l in langs for s in seeds if g(l, "quantize scheme=llm-int8", s, "test.f1") == g(l, "quantize scheme=dynamic", s, "test.f1"))
print(f"  llm-int8 test F1 == dynamic test F1 in {same} of {len(langs)*len(seeds)} cells")

print("\n## Compression-identified entities (share of gold entities, mean over languages)")
ent = collections.defaultdict(list)
for r in csv.DictReader(open(os.path.join(run, "report-entities.csv"))):
    ent[r["setting"]].append(float(r["share"]))
for s in settings:
    if ent.get(s): print(f"  {s}: {mean(ent[s])*100:.2f} %")

print("\n## Against the previous study (D1, committed report)")
prev = {(r["language"], r["setting"]): r for r in csv.DictReader(open(prev_csv))}
print("| setting | ΔF1, D1 | ΔF1, D1T | Δ bytes, D1 | Δ bytes, D1T |")
print("|---|---:|---:|---:|---:|")
for s in settings:
    pv = mean([100 * float(prev[(l, s)]["test.f1.delta"]) for l in langs if (l, s) in prev and prev[(l, s)]["test.f1.delta"]])
    pb = mean([100 * float(prev[(l, s)]["bytes.relative"]) for l in langs if (l, s) in prev and prev[(l, s)]["bytes.relative"]])
    nv = mean(pair(s, lambda a, b: (a["test.f1"] - b["test.f1"]) * 100))
    nb = mean(pair(s, rel("bytes")))
    print(f"| {s} | {fm(pv)} | {fm(nv)} | {'–' if pb is None else f'{pb:+.0f} %'} | {'–' if nb is None else f'{nb:+.0f} %'} |")
