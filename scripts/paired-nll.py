#!/usr/bin/env python3
"""Sampling errors of the differences in an evaluated grid folder, from the per-image results.

Usage: scripts/paired-nll.py GRID_OUT_DIR
For every evaluated run (CONFIG/seed-S/eval-{test,train}.jsonl): n, mean NLL, per-image sd, se = sd/sqrt(n), the
var gap (NVLB - NLL) with its paired se, the gen gap (test - train NLL: different images, unpaired se). Then, for
each AIWAE configuration against the IWAE run with the same K (and seed, if there), the NLL difference with the
paired se (same images: sd of the per-image differences / sqrt(n)) and the unpaired se (sqrt(se1^2 + se2^2)).
Standard library only; prints Markdown.
"""
import json, math, os, re, statistics, sys


def load(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    return {r["image"]: r for r in lines[1:]}


def se(xs):
    return statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")


def main(root):
    runs = {}
    for d, _, files in os.walk(root):
        if "eval.json" in files and "eval-test.jsonl" in files:
            rel = os.path.relpath(d, root)
            runs[rel] = {s: load(os.path.join(d, f"eval-{s}.jsonl")) for s in ("test", "train")
                         if os.path.exists(os.path.join(d, f"eval-{s}.jsonl"))}
    if not runs:
        sys.exit(f"paired-nll: no evaluated runs under {root}")
    print("| run | n | NLL test (se) | per-image sd | NLL train (se) | var gap (paired se) | gen gap (se) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in sorted(runs):
        t = runs[name]["test"]
        nll = [r["nll"] for r in t.values()]
        vg = [r["nvlb"] - r["nll"] for r in t.values()]
        row = f"| {name} | {len(nll)} | {statistics.fmean(nll):.2f} ({se(nll):.2f}) | {statistics.stdev(nll):.1f} |"
        tr = runs[name].get("train")
        if tr:
            nt = [r["nll"] for r in tr.values()]
            gg = statistics.fmean(nll) - statistics.fmean(nt)
            row += f" {statistics.fmean(nt):.2f} ({se(nt):.2f}) | {statistics.fmean(vg):.2f} ({se(vg):.2f}) |" \
                   f" {gg:.2f} ({math.hypot(se(nll), se(nt)):.2f}) |"
        else:
            row += f" - | {statistics.fmean(vg):.2f} ({se(vg):.2f}) | - |"
        print(row)
    print()
    print("| AIWAE run | against | split | n | NLL difference AIWAE - IWAE | paired se | unpaired se |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name in sorted(runs):
        m = re.match(r"(.*?)([a-z-]*)-aiwae-k(\d+)-t\d+-l\d+/(seed-\d+)$", name)
        if not m:
            continue
        prefix, ds, k, seed = m.groups()
        base = f"{prefix}{ds}-iwae-k{k}/{seed}"
        if base not in runs:
            base = f"{prefix}{ds}-iwae-k{k}/seed-0"
        if base not in runs:
            continue
        for split in ("test", "train"):
            a, b = runs[name].get(split), runs[base].get(split)
            if not a or not b:
                continue
            common = sorted(set(a) & set(b))
            diff = [a[i]["nll"] - b[i]["nll"] for i in common]
            ua, ub = [a[i]["nll"] for i in common], [b[i]["nll"] for i in common]
            print(f"| {name} | {base} | {split} | {len(common)} | {statistics.fmean(diff):+.2f} | {se(diff):.2f} |"
                  f" {math.hypot(se(ua), se(ub)):.2f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/paired-nll.py GRID_OUT_DIR")
    main(sys.argv[1])
