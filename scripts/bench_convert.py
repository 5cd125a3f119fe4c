#!/usr/bin/env python3
"""Throughput of the convert engine beside the library it reproduces, on the same text.

    .venv/bin/python scripts/bench_convert.py [--repeat N]

Texts: fixtures/clean (simplified) and its OpenCC s2t conversion (traditional). For each
profile and text it prints MB/s (UTF-8 input bytes per second, best of N runs) of the library's
``OpenCC(profile).convert`` and of ``cleancorp.opencc_fast``, their ratio, and whether the two
outputs are identical; then the time to load each profile's tables and the throughput of the
whole convert stage (detection included) on documents of one paragraph each.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opencc import OpenCC  # noqa: E402

from cleancorp import opencc_fast  # noqa: E402
from cleancorp.document import Document  # noqa: E402
from cleancorp.stages.convert import Convert  # noqa: E402

RUNS = [("t2s", "traditional"), ("t2s", "simplified"), ("tw2sp", "traditional"), ("hk2s", "traditional"), ("s2t", "simplified")]


def best_seconds(fn, text: str, repeat: int) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(text)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    args = ap.parse_args(argv)

    simplified = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures" / "clean").glob("*.txt")))
    texts = {"simplified": simplified, "traditional": OpenCC("s2t").convert(simplified)}

    print("load time of the tables (first use in a process):")
    for profile in dict.fromkeys(p for p, _ in RUNS):
        t0 = time.perf_counter()
        opencc_fast.converter(profile)
        print(f"  {profile:<6} {1000 * (time.perf_counter() - t0):7.1f} ms")

    print(f"\n{'profile':<7} {'text':<12} {'MB':>5} {'library MB/s':>13} {'cleancorp MB/s':>15} {'ratio':>7}  identical")
    ok = True
    for profile, kind in RUNS:
        text = texts[kind]
        mb = len(text.encode("utf-8")) / 1e6
        ref_s, ref_out = best_seconds(OpenCC(profile).convert, text, max(1, args.repeat // 2))
        fast_s, fast_out = best_seconds(opencc_fast.converter(profile).convert, text, args.repeat * 3)
        same = ref_out == fast_out
        ok &= same
        print(f"{profile:<7} {kind:<12} {mb:5.2f} {mb / ref_s:13.2f} {mb / fast_s:15.1f} {ref_s / fast_s:6.1f}x  {'yes' if same else 'NO'}")

    print("\nconvert stage (script detection included), one document per paragraph:")
    for profile, kind in [("t2s", "traditional"), ("t2s", "simplified"), ("auto", "traditional"), ("auto", "simplified")]:
        docs = [p for p in texts[kind].split("\n") if p]
        mb = sum(len(p.encode("utf-8")) for p in docs) / 1e6
        stage = Convert(profile)
        best = float("inf")
        for _ in range(args.repeat):
            batch = [Document(str(i), text=p) for i, p in enumerate(docs)]
            t0 = time.perf_counter()
            for doc in batch:
                stage.apply(doc)
            best = min(best, time.perf_counter() - t0)
        print(f"  {profile:<5} on {kind:<12} {len(docs):5d} docs  {mb / best:7.1f} MB/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
