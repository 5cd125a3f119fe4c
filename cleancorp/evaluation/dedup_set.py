"""Scores of the dedup stage on a generated corpus with known duplicates (`make eval-dedup`),
and its throughput and memory on a million short documents (`make bench-dedup`).

Across documents: seeded from the clean sample, originals (a title and a run of paragraphs in a
site's page chrome) are followed, in random order, by copies of earlier originals, each in
another site's chrome:

* ``exact`` — the same article;
* ``near`` — two to six characters edited;
* ``rewrapped`` — the same text cut into other paragraphs;
* ``truncated`` — the first 60–80 % of the article;
* ``traditional`` — the article in traditional script (the default chain converts it back);

and by hard negatives, new articles that must all be kept:

* ``shares-paragraph`` — reuses one paragraph of an earlier article;
* ``quotes`` — quotes a long sentence span of an earlier article.

The corpus goes through the real command (``cleancorp --format jsonl -o DIR --report FILE``);
precision and recall of the ``duplicate`` drops are scored against the truth, and every dropped
copy must name a document of its own family as ``duplicate_of``.

Inside documents: pages holding their article twice (a second copy inside the chrome, with blank
lines between paragraphs; the title and lead repeated; punctuation-width and white-space
variants; a traditional-script second copy) and pages whose article repeats short lines on
purpose. A page scores when every body paragraph comes out exactly as many times as the article
has it.

    python -m cleancorp.evaluation.dedup_set [--seed N] [--originals N] [--pages N] [--out DIR]
    python -m cleancorp.evaluation.dedup_set --bench [N]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import minhash
from . import chrome
from .families import clean_files, round_trips, to_traditional

DEFAULT_SEED = 7
DEFAULT_OUT = Path("out") / "eval-dedup"
COPY_KINDS = ("exact", "near", "rewrapped", "truncated", "traditional")
NEGATIVE_KINDS = ("shares-paragraph", "quotes")
PAGE_KINDS = ("repeat-in-chrome", "title-lead", "width-space", "traditional", "short-repeats")


@dataclass
class Doc:
    """One generated document and its truth."""

    id: str
    text: str
    kind: str  # "original", a copy kind or a negative kind
    family: str  # id of the original it copies (its own id otherwise)
    duplicate: bool
    body: tuple[str, ...] = ()  # the article's paragraphs (pages of the in-document set)


# -- material ---------------------------------------------------------------------------------

class Articles:
    """Disjoint runs of consecutive clean paragraphs that survive a traditional round trip."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.runs: list[list[str]] = []
        for lines in clean_files():
            run: list[str] = []
            for p in lines:
                if 10 <= len(p) <= 600 and round_trips(p):
                    run.append(p)
                    continue
                self._cut(run)
                run = []
            self._cut(run)
        rng.shuffle(self.runs)

    def _cut(self, run: list[str]) -> None:
        i = 0
        while len(run) - i >= 3:
            size = self.rng.randint(3, 6)
            self.runs.append(run[i : i + size])
            i += size

    def take(self, min_chars: int = 250) -> list[str]:
        """An article of at least ``min_chars`` characters (short runs are joined)."""
        body: list[str] = []
        while self.runs:
            body += self.runs.pop()
            if sum(map(len, body)) >= min_chars:
                return body
        raise RuntimeError("the clean sample has too few paragraphs for this corpus")


def title_of(rng: random.Random, body: list[str]) -> str:
    """A headline that is not one of the article's paragraphs (a title equal to the opening
    sentence would make the title and the first paragraph one paragraph to compare)."""
    keys = {paragraph_key(p) for p in body}
    while True:
        title = chrome.headline(rng)
        if paragraph_key(title) not in keys:
            return title


def page(rng: random.Random, title: str, body: list[str], *, blank_lines: bool | None = None) -> str:
    """The article inside a random site's chrome."""
    site = chrome.Site.make(rng)
    sep = "\n\n" if (rng.random() < 0.4 if blank_lines is None else blank_lines) else "\n"
    lines = site.header(rng) + [title, site.byline(rng)]
    text = "\n".join(lines) + "\n" + sep.join(body) + "\n"
    tail = chrome.share_bar(rng) + [chrome.editor_line(rng)] + site.footer
    return text + "\n".join(tail) + "\n"


# -- transformations ---------------------------------------------------------------------------

FILLER = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府"


def near_copy(rng: random.Random, body: list[str]) -> list[str]:
    """Two to six single-character edits (replace, delete, insert) at random places."""
    out = list(body)
    for _ in range(rng.randint(2, 6)):
        k = rng.randrange(len(out))
        p = out[k]
        i = rng.randrange(len(p))
        op = rng.randrange(3)
        c = rng.choice(FILLER)
        out[k] = p[:i] + c + p[i + 1 :] if op == 0 else p[:i] + p[i + 1 :] if op == 1 else p[:i] + c + p[i:]
    return out


def rewrap(rng: random.Random, body: list[str]) -> list[str]:
    """The same text cut into other paragraphs (at sentence ends, two to four sentences each)."""
    sentences: list[str] = []
    for p in body:
        start = 0
        for i, ch in enumerate(p):
            if ch in "。！？；":
                sentences.append(p[start : i + 1])
                start = i + 1
        if start < len(p):
            sentences.append(p[start:])
    out: list[str] = []
    while sentences:
        k = rng.randint(2, 4)
        out.append("".join(sentences[:k]))
        sentences = sentences[k:]
    return out if out != body else [body[0] + body[1]] + body[2:]


def truncate(rng: random.Random, body: list[str]) -> list[str]:
    """The first 60–80 % of the article, ending at a sentence end when there is one."""
    goal = int(sum(map(len, body)) * rng.uniform(0.6, 0.8))
    out: list[str] = []
    size = 0
    for p in body:
        if size + len(p) <= goal:
            out.append(p)
            size += len(p)
            continue
        part = p[: goal - size]
        end = max(part.rfind(c) for c in "。！？；")
        part = part[: end + 1] if end > 0 else part
        if part:
            out.append(part)
        break
    return out


def quotation(rng: random.Random, body: list[str]) -> str:
    """A 50–120 character sentence span of an article."""
    p = max(body, key=len)
    start = rng.randrange(max(1, len(p) - 50))
    return p[start : start + rng.randint(50, 120)]


# -- the corpora -------------------------------------------------------------------------------

def cross_corpus(seed: int = DEFAULT_SEED, originals: int = 100) -> list[Doc]:
    """Originals, their copies and hard negatives, in a random order (a copy after its original)."""
    rng = random.Random(seed)
    articles = Articles(rng)
    docs: list[Doc] = []
    made: list[tuple[str, str, list[str]]] = []  # (id, title, body) of originals emitted so far
    serial = 0
    while len(docs) < 3 * originals:
        serial += 1
        did = f"d{serial:05d}"
        roll = rng.random()
        if len(made) < originals and (not made or roll < 0.4):
            body = articles.take()
            title = title_of(rng, body)
            made.append((did, title, body))
            docs.append(Doc(did, page(rng, title, body), "original", did, False))
        elif roll < 0.88:
            oid, title, body = rng.choice(made)
            kind = rng.choice(COPY_KINDS)
            if kind == "exact":
                text = page(rng, title, body)
            elif kind == "near":
                text = page(rng, title, near_copy(rng, body))
            elif kind == "rewrapped":
                text = page(rng, title, rewrap(rng, body))
            elif kind == "truncated":
                text = page(rng, title, truncate(rng, body))
            else:
                text = page(rng, to_traditional(title), [to_traditional(p) for p in body])
            docs.append(Doc(did, text, kind, oid, True))
        else:
            oid, _, old = rng.choice(made)
            body = articles.take(min_chars=600)
            kind = rng.choice(NEGATIVE_KINDS)
            if kind == "shares-paragraph":
                fits = [p for p in old if len(p) <= 0.4 * sum(map(len, body))] or [min(old, key=len)]
                body.insert(rng.randrange(1, len(body)), rng.choice(fits))
            else:
                k = rng.randrange(len(body))
                body[k] = body[k] + f"正如有关文章所说：“{quotation(rng, old)}”"
            docs.append(Doc(did, page(rng, title_of(rng, body), body), kind, did, False))
    return docs


HALF_WIDTH = str.maketrans({"，": ",", "。": ".", "：": ":", "；": ";", "？": "?", "！": "!", "（": "(", "）": ")"})


def width_variant(rng: random.Random, p: str) -> str:
    """Half-width punctuation and stray white space: the same paragraph to a reader."""
    out = p.translate(HALF_WIDTH)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(out))
        out = out[:i] + rng.choice([" ", "\u3000", "  "]) + out[i:]
    return out


def page_corpus(seed: int = DEFAULT_SEED, pages: int = 60) -> list[Doc]:
    """Pages holding their article twice (or repeating short lines on purpose)."""
    rng = random.Random(seed + 1)
    articles = Articles(rng)
    docs = []
    for n in range(pages):
        kind = PAGE_KINDS[n % len(PAGE_KINDS)]
        body = articles.take()
        if kind == "title-lead":
            while len(body[0]) < 40:  # a lead is a real paragraph, not a list item
                body = articles.take()
        title = title_of(rng, body)
        site = chrome.Site.make(rng)
        if kind == "short-repeats":
            opener = rng.choice(["全会强调，", "会议指出：", "他说：", "一是", "与此同时，"])
            body = [b for p in body for b in (opener, p)]
        first = [title, site.byline(rng)] + body
        if kind == "title-lead":
            lines = site.header(rng) + [title, body[0]] + chrome.share_bar(rng) + first
        else:
            if kind == "width-space":
                again = [width_variant(rng, p) for p in [title] + body]
            elif kind == "traditional":
                again = [to_traditional(p) for p in [title] + body]
            else:
                again = [title] + body
            second = [again[0], site.byline(rng)] + [x for p in again[1:] for x in ("", p)]
            lines = site.header(rng) + first + chrome.share_bar(rng) + site.menu_lines() + second
            if kind == "short-repeats":
                lines = site.header(rng) + first  # the article once: its own repeats must stay
        text = "\n".join(lines + [chrome.editor_line(rng)] + site.footer) + "\n"
        docs.append(Doc(f"p{n:04d}", text, kind, f"p{n:04d}", False, tuple(body)))
    return docs


# -- running and scoring -----------------------------------------------------------------------

def run_cli(docs: list[Doc], work: Path, extra: tuple[str, ...] = ()) -> tuple[dict[str, str], dict[str, dict]]:
    """Clean the documents with the real command; return outputs and report lines by id."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = work / "input.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n")
    report = work / "report.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "cleancorp", "-q", "--format", "jsonl", "-o", str(work / "cleaned"),
         "--report", str(report), *extra, str(src)],
        capture_output=True,
    )
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"cleancorp failed (exit {proc.returncode}): {last}")
    outputs = {}
    for line in (work / "cleaned" / "input.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        outputs[rec["id"]] = rec["text"]
    records = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        records[rec["id"]] = rec
    return outputs, records


def score_cross(docs: list[Doc], records: dict[str, dict]) -> dict:
    """Precision/recall of duplicate drops, per kind, and whether duplicate_of names the family."""
    family = {d.id: d.family for d in docs}
    kinds: dict[str, Counter] = {}
    tp = fp = fn = wrong_of = 0
    for d in docs:
        rec = records.get(d.id, {})
        dropped = rec.get("drop_reason") == "duplicate"
        c = kinds.setdefault(d.kind, Counter())
        c["docs"] += 1
        c["dropped"] += dropped
        if dropped and d.duplicate:
            tp += 1
            of = rec.get("stages", {}).get("dedup", {}).get("duplicate_of")
            wrong_of += family.get(of) != d.family
        elif dropped:
            fp += 1
        elif d.duplicate:
            fn += 1
    return {
        "docs": len(docs),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "wrong_duplicate_of": wrong_of,
        "kinds": {k: dict(v) for k, v in kinds.items()},
    }


def paragraph_key(line: str) -> bytes:
    return minhash.comparison_key(line).tobytes()


def score_pages(docs: list[Doc], outputs: dict[str, str]) -> dict:
    """Per kind: pages whose every body paragraph comes out as many times as the article has it."""
    kinds: dict[str, Counter] = {}
    for d in docs:
        want = Counter(paragraph_key(p) for p in d.body)
        got = Counter(paragraph_key(line) for line in outputs.get(d.id, "").split("\n") if line.strip())
        c = kinds.setdefault(d.kind, Counter())
        c["pages"] += 1
        missing = sum(max(0, n - got[k]) for k, n in want.items())
        extra = sum(max(0, got[k] - n) for k, n in want.items())
        c["paragraphs"] += sum(want.values())
        c["missing"] += missing
        c["repeated"] += extra
        c["ok"] += not (missing or extra)
    return {k: dict(v) for k, v in kinds.items()}


def evaluate(seed: int = DEFAULT_SEED, originals: int = 100, pages: int = 60, out: Path = DEFAULT_OUT) -> dict:
    cross = cross_corpus(seed, originals)
    _, records = run_cli(cross, out / "cross")
    inside = page_corpus(seed, pages)
    outputs, _ = run_cli(inside, out / "pages")
    results = {"seed": seed, "cross": score_cross(cross, records), "pages": score_pages(inside, outputs)}
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return results


def format_results(results: dict) -> str:
    cross = results["cross"]
    lines = ["dedup across documents (generated corpus, real CLI)",
             f"{'kind':<18} {'docs':>5} {'dropped':>8}"]
    order = ("original",) + COPY_KINDS + NEGATIVE_KINDS
    for kind in order:
        c = cross["kinds"].get(kind)
        if c:
            want = "all" if kind in COPY_KINDS else "none"
            lines.append(f"{kind:<18} {c['docs']:>5} {c['dropped']:>8}   (should drop {want})")
    lines.append(
        f"precision {cross['precision']:.4f}  recall {cross['recall']:.4f}  "
        f"(TP {cross['true_positives']}, FP {cross['false_positives']}, FN {cross['false_negatives']}; "
        f"duplicate_of outside the family: {cross['wrong_duplicate_of']})"
    )
    lines += ["", "dedup inside documents (every body paragraph kept exactly once)",
              f"{'kind':<18} {'pages':>5} {'ok':>4} {'paragraphs':>10} {'missing':>8} {'repeated':>9}"]
    total = Counter()
    for kind in PAGE_KINDS:
        c = results["pages"].get(kind)
        if c:
            total.update(c)
            lines.append(f"{kind:<18} {c['pages']:>5} {c['ok']:>4} {c['paragraphs']:>10} {c['missing']:>8} {c['repeated']:>9}")
    lines.append(f"{'all':<18} {total['pages']:>5} {total['ok']:>4} {total['paragraphs']:>10} {total['missing']:>8} {total['repeated']:>9}")
    return "\n".join(lines)


# -- throughput --------------------------------------------------------------------------------

def short_documents(n: int, seed: int = DEFAULT_SEED, dup_rate: float = 0.1) -> list[str]:
    """``n`` short documents (two to five random sentences of the clean sample, about 50–300
    characters), ``dup_rate`` of them copies of earlier ones with one character edited."""
    rng = random.Random(seed)
    sentences = [s for lines in clean_files() for p in lines for s in _sentences(p) if 8 <= len(s) <= 90]
    docs: list[str] = []
    for _ in range(n):
        if docs and rng.random() < dup_rate:
            d = rng.choice(docs)
            i = rng.randrange(len(d))
            docs.append(d[:i] + rng.choice(FILLER) + d[i + 1 :])
        else:
            docs.append("".join(rng.choice(sentences) for _ in range(rng.randint(2, 5))))
    return docs


def _sentences(p: str) -> list[str]:
    out, start = [], 0
    for i, ch in enumerate(p):
        if ch in "。！？；":
            out.append(p[start : i + 1])
            start = i + 1
    return out


def bench(n_docs: int = 1_000_000, seed: int = DEFAULT_SEED) -> dict:
    """Throughput of the dedup stage and index memory per document over ``n_docs`` short
    generated documents (one process, documents handed to the stage one at a time)."""
    from ..document import Document
    from ..stages.dedup import Dedup

    texts = short_documents(n_docs, seed)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    minhash.key_table()
    stage = Dedup()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    dropped = 0
    for i, t in enumerate(texts):
        doc = Document(f"b{i}", text=t)
        stage.apply(doc)
        dropped += doc.dropped is not None
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    ix = stage.index
    kept = len(ix)
    index_bytes = ix.signatures[:kept].nbytes + ix.sizes[:kept].nbytes + ix.table.keys.nbytes + ix.table.values.nbytes
    ids_bytes = sum(sys.getsizeof(x) for x in ix.ids) + sys.getsizeof(ix.ids)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "docs": n_docs,
        "mb": nbytes / 1e6,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "docs_per_s": n_docs / seconds,
        "mb_per_s": nbytes / 1e6 / seconds,
        "dropped": dropped,
        "kept": kept,
        "index_bytes_per_doc": index_bytes / max(kept, 1),
        "ids_bytes_per_doc": ids_bytes / max(kept, 1),
        "rss_growth_mb": (rss1 - rss0) / 1024,
    }


def format_bench(b: dict) -> str:
    return (
        f"dedup bench: {b['docs']:,} short documents ({b['mb']:.1f} MB) in {b['seconds']:.1f} s "
        f"(cpu {b['cpu_seconds']:.1f} s): {b['docs_per_s']:,.0f} docs/s, {b['mb_per_s']:.2f} MB/s wall; "
        f"{b['docs'] / b['cpu_seconds']:,.0f} docs/s, {b['mb'] / b['cpu_seconds']:.2f} MB/s per cpu second; "
        f"{b['dropped']:,} dropped as duplicates, {b['kept']:,} kept\n"
        f"index: {b['index_bytes_per_doc']:.0f} bytes per kept document in NumPy arrays "
        f"+ {b['ids_bytes_per_doc']:.0f} bytes of id strings; peak RSS grew {b['rss_growth_mb']:.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cleancorp.evaluation.dedup_set", description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--originals", type=int, default=100, help="originals in the cross-document corpus")
    p.add_argument("--pages", type=int, default=60, help="pages in the in-document set")
    p.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR")
    p.add_argument("--bench", nargs="?", type=int, const=1_000_000, metavar="N",
                   help="measure throughput and memory on N short documents instead (default 1,000,000)")
    args = p.parse_args(argv)
    if args.bench is not None:
        if args.bench < 1:
            print("dedup_set: --bench wants a positive number of documents", file=sys.stderr)
            return 2
        print(format_bench(bench(args.bench, args.seed)))
        return 0
    if args.originals < 1 or args.pages < 1:
        print("dedup_set: --originals and --pages must be positive", file=sys.stderr)
        return 2
    try:
        results = evaluate(args.seed, args.originals, args.pages, Path(args.out))
    except (RuntimeError, OSError) as exc:
        print(f"dedup_set: {exc}", file=sys.stderr)
        return 1
    print(format_results(results))
    print(f"results: {args.out}/results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
