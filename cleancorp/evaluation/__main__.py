"""`python -m cleancorp.evaluation [--family A,B] [--seed N] [--out DIR] [--scale X] [--no-naive] [--list]`"""
from __future__ import annotations

import argparse
import sys

from . import DEFAULT_OUT, DEFAULT_SEED, FAMILIES, EvalError, format_table, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cleancorp.evaluation",
                                description="Score cleancorp (and the naive chain) on generated dirty documents with known answers.")
    p.add_argument("--family", action="append", default=[], metavar="A,B", help="only these families (repeatable)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"generator seed (default {DEFAULT_SEED})")
    p.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR", help=f"where corpus and results.json go (default {DEFAULT_OUT})")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every family's document count")
    p.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    p.add_argument("--list", action="store_true", help="list the families and exit")
    args = p.parse_args(argv)
    if args.list:
        for fam in FAMILIES.values():
            print(f"{fam.name:<16} {fam.count:>3}  {fam.description}")
        return 0
    names = [n.strip() for item in args.family for n in item.split(",") if n.strip()] or None
    if args.scale <= 0:
        print("cleancorp.evaluation: --scale must be positive", file=sys.stderr)
        return 2
    try:
        results = run(names, seed=args.seed, out_dir=args.out, scale=args.scale, naive=not args.no_naive)
    except EvalError as exc:
        print(f"cleancorp.evaluation: {exc}", file=sys.stderr)
        return 2
    print(format_table(results))
    print(f"results: {args.out}/results.json")
    if names is None:
        # The hand-labelled page set of the boilerplate stage, line by line.
        from .boilerplate_set import format_score, load_pages, score_pages

        pages = load_pages()
        if pages:
            print()
            print(format_score(score_pages(pages)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
