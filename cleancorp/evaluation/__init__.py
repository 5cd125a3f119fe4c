"""Quality on dirty documents with known clean answers (`make eval`).

A seeded generator (:mod:`.families`) turns the clean sample into dirty documents, each with its
answer and labelled lines; :func:`run` writes them under ``out/eval/``, cleans every family with
the real ``cleancorp`` command (one run per family, so duplicates are judged across the family),
scores the output (:mod:`.score`) and scores the naive chain (:mod:`.naive`) the same way.

    >>> import tempfile
    >>> from cleancorp.evaluation import run
    >>> rows = run(["enc-gbk"], scale=0.2, out_dir=tempfile.mkdtemp(), naive=False)
    >>> rows["families"][0]["family"], rows["families"][0]["cleancorp"]["docs"]
    ('enc-gbk', 2)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .families import FAMILIES, Case, generate
from .score import cer, fold, line_outcomes, summarise

DEFAULT_SEED = 20240
DEFAULT_OUT = Path("out") / "eval"

__all__ = ["FAMILIES", "generate", "run", "EvalError", "format_table"]


class EvalError(Exception):
    """The evaluation could not run (unknown family, the cleancorp command failed to start)."""


def write_corpus(cases: list[Case], out_dir: Path) -> dict[str, list[Path]]:
    """Write inputs (bytes as generated), answers and labels; return the input files by family."""
    by_family: dict[str, list[Path]] = {}
    for case in cases:
        fam_dir = out_dir / case.family
        if case.family not in by_family:
            shutil.rmtree(fam_dir, ignore_errors=True)
            (fam_dir / "input").mkdir(parents=True)
            (fam_dir / "answer").mkdir()
            by_family[case.family] = []
        path = fam_dir / "input" / f"{case.id}.txt"
        path.write_bytes(case.raw)
        (fam_dir / "answer" / f"{case.id}.txt").write_text(case.answer + "\n", encoding="utf-8")
        by_family[case.family].append(path)
    for fam in by_family:
        with open(out_dir / fam / "cases.jsonl", "w", encoding="utf-8") as fh:
            for case in cases:
                if case.family == fam:
                    fh.write(json.dumps(case.to_json(), ensure_ascii=False) + "\n")
    return by_family


def clean_with_cli(files: list[Path], fam_dir: Path) -> tuple[dict[str, str], dict[str, dict]]:
    """Run `cleancorp -o DIR --report FILE files...`; return outputs and report lines by case id."""
    cleaned = fam_dir / "cleaned"
    report = fam_dir / "report.jsonl"
    shutil.rmtree(cleaned, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-m", "cleancorp", "-q", "-o", str(cleaned), "--report", str(report), *map(str, files)],
        capture_output=True,
    )
    if proc.returncode not in (0, 1) or not report.exists():
        first = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        raise EvalError(f"cleancorp failed on {fam_dir.name} (exit {proc.returncode}): {first}")
    outputs = {}
    for f in files:
        out = cleaned / f.name
        outputs[f.stem] = out.read_text(encoding="utf-8") if out.exists() else ""
    records = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        records[Path(rec.get("source") or rec["id"]).stem] = rec
    return outputs, records


def score_document(case: Case, output: str, record: dict | None, groups: dict[str, str]) -> dict:
    """Everything measured on one document."""
    record = record or {}
    dropped_dup = record.get("drop_reason") == "duplicate"
    # The stage that dropped the document keeps `duplicate_of` among its report fields.
    stage_info = record.get("stages", {}).get(record.get("dropped_by") or "", {})
    first = Path(str(record.get("duplicate_of") or stage_info.get("duplicate_of") or "")).stem
    true_dup = case.duplicate_of is not None
    same_group = dropped_dup and groups.get(first, first) == groups.get(case.id, case.id)
    return {
        "id": case.id,
        "note": case.note,
        "cer": cer(output, case.answer),
        "exact": fold(output) == fold(case.answer),
        "lines": line_outcomes(case.lines, output),
        "true_dup": true_dup,
        "dropped_dup": dropped_dup,
        "dup_correct": bool(true_dup and same_group),
        "drop_reason": record.get("drop_reason"),
    }


def run(families: list[str] | None = None, seed: int = DEFAULT_SEED, out_dir: str | os.PathLike = DEFAULT_OUT,
        scale: float = 1.0, naive: bool = True) -> dict:
    """Generate, clean with the real CLI, score; return (and write) the results.

    ``families``: names from :data:`FAMILIES` (default all); ``scale`` multiplies each family's
    document count; ``naive``: also score the baseline chain. Results go to
    ``out_dir/results.json``: one row per family (``cleancorp`` and ``naive`` numbers), the
    summary over all documents, and every document's numbers.
    """
    try:
        cases = generate(families, seed=seed, scale=scale)
    except KeyError as exc:
        raise EvalError(exc.args[0]) from None
    except (OSError, RuntimeError) as exc:  # no clean sample, no pypinyin, too little material
        raise EvalError(str(exc)) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = write_corpus(cases, out)
    groups = {c.id: c.duplicate_of or c.id for c in cases}
    rows, docs_all = [], {"cleancorp": [], "naive": []}
    documents = []
    for fam, paths in files.items():
        fam_cases = [c for c in cases if c.family == fam]
        outputs, records = clean_with_cli(paths, out / fam)
        ours = [score_document(c, outputs[c.id], records.get(c.id), groups) for c in fam_cases]
        row = {"family": fam, "description": FAMILIES[fam].description, "cleancorp": summarise(ours)}
        docs_all["cleancorp"] += ours
        if naive:
            from .naive import naive_clean

            theirs = [score_document(c, naive_clean(c.raw), None, groups) for c in fam_cases]
            row["naive"] = summarise(theirs)
            docs_all["naive"] += theirs
        else:
            theirs = []
        rows.append(row)
        for k, d in enumerate(ours):
            entry = {"family": fam, **d}
            if theirs:
                entry["naive"] = {"cer": theirs[k]["cer"], "exact": theirs[k]["exact"]}
            documents.append(entry)
    results = {
        "seed": seed,
        "scale": scale,
        "families": rows,
        "summary": {name: summarise(d) for name, d in docs_all.items() if d},
        "documents": documents,
    }
    with open(out / "results.json", "w", encoding="utf-8") as fh:
        json.dump(results, fh, ensure_ascii=False, indent=1)
    return results


def _num(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.3f}"


COLUMNS = [("cer", "CER"), ("exact", "exact"), ("content_kept", "kept"), ("chrome_removed", "chrome-rm"),
           ("dup_precision", "dup-P"), ("dup_recall", "dup-R")]


def format_table(results: dict) -> str:
    """The results as a text table: per family, cleancorp / naive side by side, then a summary."""
    has_naive = "naive" in results["summary"]
    width = max([len(r["family"]) for r in results["families"]] + [7])
    cell = 15 if has_naive else 9
    head = f"{'family':<{width}} {'docs':>4} " + " ".join(f"{title:>{cell}}" for _, title in COLUMNS)
    lines = [head + ("   (cleancorp / naive)" if has_naive else ""), "-" * len(head)]

    def cells(row: dict) -> str:
        out = []
        for key, _ in COLUMNS:
            ours = _num(row["cleancorp"][key])
            out.append(f"{ours} / {_num(row['naive'][key])}" if has_naive else f"{ours:>{cell}}")
        return " ".join(f"{c:>{cell}}" for c in out)

    for row in results["families"]:
        lines.append(f"{row['family']:<{width}} {row['cleancorp']['docs']:>4} {cells(row)}")
    s = results["summary"]
    lines.append("-" * len(head))
    lines.append(f"{'all':<{width}} {s['cleancorp']['docs']:>4} {cells({'cleancorp': s['cleancorp'], 'naive': s.get('naive')})}")
    ours = s["cleancorp"]
    line = (f"summary: cleancorp CER {_num(ours['cer']).strip()}, exact {_num(ours['exact']).strip()}, "
            f"content kept {_num(ours['content_kept']).strip()}, chrome removed {_num(ours['chrome_removed']).strip()}, "
            f"dup P/R {_num(ours['dup_precision']).strip()}/{_num(ours['dup_recall']).strip()}")
    if has_naive:
        n = s["naive"]
        line += (f" | naive CER {_num(n['cer']).strip()}, exact {_num(n['exact']).strip()}, "
                 f"content kept {_num(n['content_kept']).strip()}, chrome removed {_num(n['chrome_removed']).strip()}, "
                 f"dup P/R {_num(n['dup_precision']).strip()}/{_num(n['dup_recall']).strip()}")
    lines.append(line)
    return "\n".join(lines)
