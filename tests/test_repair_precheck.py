"""The repair stage's whole-document precheck and how it hands lines to the fixes: the grouped
regex matches exactly where the plain alternation of the parts does (also on the edge
characters of every part's classes and beyond the BMP), the places it finds name every fix
that could act there, and the stage gives the same text and record as one that runs every
fix's own precheck on every hit line; a hit line goes only to the fixes named for it."""
from __future__ import annotations

import random
import re

import pytest

from cleancorp.document import Document
from cleancorp.evaluation.families import generate
from cleancorp.fixes import _first_ranges, cjk_mojibake, fast_precheck, part_finder, phase_shift, precheck_pattern
from cleancorp.opencc_fast import converter
from cleancorp.stages.decode import Decode
from cleancorp.stages.repair import FIXES, Repair, chars_changed

from conftest import FIXTURES

ALL_PARTS = tuple(part for fix in FIXES for part in fix.precheck_parts)


def _edge_lines(count: int, seed: int) -> list[str]:
    """Random lines of the characters where the parts' first-character classes begin and end
    (and their neighbours), what follows them in the rests, and everyday text."""
    alphabet = set("中文的是“”‘’（）()？?。，…·—©&#amp;a Zé\t\u3000\ufffd\U000f0000\U0010ffff\U00020000")
    for first, _ in ALL_PARTS:
        for lo, hi in _first_ranges(first):
            for c in (lo - 1, lo, hi, hi + 1):
                if 0 < c <= 0x10FFFF and c != 0x0A and not 0xD800 <= c <= 0xDFFF:
                    alphabet.add(chr(c))
    chars = sorted(alphabet)
    rng = random.Random(seed)
    return ["".join(rng.choice(chars) for _ in range(rng.randint(0, 12))) for _ in range(count)]


@pytest.mark.parametrize("parts", [ALL_PARTS, cjk_mojibake._GARBLE2_PARTS, cjk_mojibake._GARBLE3_PARTS] + [f.precheck_parts for f in FIXES])
def test_grouped_precheck_matches_like_the_plain_alternation_on_edge_characters(parts):
    plain = re.compile(precheck_pattern(parts))
    fast = fast_precheck(parts)
    for line in _edge_lines(4000, seed=len(parts)):
        assert [m.span() for m in fast.finditer(line)] == [m.span() for m in plain.finditer(line)], ascii(line)


def test_part_finder_finds_every_place_and_names_every_part_that_matches_there(clean_lines):
    finder, group_parts = part_finder(ALL_PARTS)
    plain_parts = [re.compile(first + rest) for first, rest in ALL_PARTS]
    some = re.compile(precheck_pattern(ALL_PARTS))
    lines = _edge_lines(3000, seed=7) + clean_lines[:300]
    named_more = 0
    for line in lines:
        places = [m.start() for m in finder.finditer(line)]
        assert places == [p for p in range(len(line)) if some.match(line, p)], ascii(line)
        for m in finder.finditer(line):
            matching = {i for i, part in enumerate(plain_parts) if part.match(line, m.start())}
            assert matching and matching <= group_parts[m.lastgroup], ascii(line)
            named_more += matching != group_parts[m.lastgroup]
    assert named_more  # a group may name a part whose rest does not follow: the fix checks again


def test_lead_class_reaching_beyond_the_bmp_is_written_as_its_complement():
    rx = fast_precheck((("[?\U000f0000-\U0010ffff]", ""),))
    assert rx.pattern.startswith("[^")
    assert [m.start() for m in rx.finditer("a?b\U000f0001c\U00020000\U0010ffff")] == [1, 3, 6]


def _one_precheck_per_fix(stage: Repair, doc: Document) -> None:
    """The stage as it would be without the shared scan: every fix's own precheck on every line."""
    text = doc.text or ""
    lines = text.split("\n")
    if not any(fix.precheck.search(line) for line in lines for fix in stage.fixes):
        return
    rec = doc.record(stage.name)
    changed = 0
    for i, line in enumerate(lines):
        new = line
        for fix in stage.fixes:
            if fix.precheck.search(new):
                new = fix.apply(new, rec)
        if new != line:
            changed += chars_changed(line, new)
            lines[i] = new
    if changed:
        rec.chars_changed += changed
        doc.text = "\n".join(lines)


def _both(texts: list[str], **options: bool) -> None:
    for apply in (None, _one_precheck_per_fix):
        phase_shift._decisions.clear()
        cjk_mojibake._fits.clear()
        stage = Repair(**options)
        out = []
        for text in texts:
            doc = Document("d", text=text)
            stage.apply(doc) if apply is None else apply(stage, doc)
            rec = doc.log.get("repair")
            out.append((doc.text, rec.to_json() if rec is not None else None))
        if apply is None:
            staged = out
    for text, a, b in zip(texts, staged, out):
        assert a == b, ascii(text[:200])


def _decoded(raws: list[bytes]) -> list[str]:
    texts = []
    for raw in raws:
        doc = Document("d", raw=raw)
        Decode().apply(doc)
        texts.append(doc.text or "")
    return texts


def test_stage_equals_every_fix_checking_every_line(clean_lines):
    rng = random.Random(2)
    clean = rng.sample(clean_lines, min(400, len(clean_lines)))
    traditional = converter("s2t").convert("\n".join(clean)).split("\n")
    pages = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "clean").glob("*.txt"))]
    cases = generate(None, seed=3)
    dirty = _decoded([c.raw for c in cases])
    edges = _edge_lines(600, seed=4)
    mixed = ["\n".join(rng.sample(clean + traditional + dirty + edges, 6)) for _ in range(150)]
    texts = clean + traditional + pages + dirty + edges + mixed
    _both(texts)
    _both(texts, ftfy=False, artefacts=False)


def test_stage_equals_every_fix_checking_every_line_on_shared_material(shared):
    texts = _decoded([p.read_bytes() for p in sorted((shared / "samples").glob("*.txt"))])
    rng = random.Random(6)
    for path in sorted((shared / "corpora").rglob("*.txt")):
        lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln]
        picked = rng.sample(lines, min(150, len(lines)))
        texts.append("\n".join(picked))
        texts.append(converter("s2t").convert("\n".join(picked)))
    assert texts
    _both(texts)


class _CountingPattern:
    def __init__(self, pattern: re.Pattern[str], counts: dict[str, int], name: str) -> None:
        self.pattern, self.counts, self.name = pattern, counts, name

    def search(self, *args):
        self.counts[self.name] += 1
        return self.pattern.search(*args)


def test_hit_line_goes_only_to_the_fixes_named_for_it(clean_lines):
    """Traditional lines whose only hits are family-2 start characters reach cjk_mojibake alone,
    and the stage runs no fix's precheck on a line no fix has changed."""
    stage = Repair()
    searched = {fix.name: 0 for fix in stage.fixes}
    called = {fix.name: 0 for fix in stage.fixes}

    def counting(fix):
        def apply(line, record):
            called[fix.name] += 1
            return fix.apply(line, record)

        return fix._replace(apply=apply, precheck=_CountingPattern(fix.precheck, searched, fix.name))

    stage.fixes = [counting(f) for f in stage.fixes]
    traditional = converter("s2t").convert("\n".join(clean_lines[:400])).split("\n")
    family2_only = [
        ln for ln in traditional
        if cjk_mojibake._FAMILY2_HINT.search(ln) and not any(f.precheck.search(ln) for f in FIXES if f.name != "cjk_mojibake")
    ][:30]
    assert len(family2_only) >= 10
    doc = Document("a", text="\n".join(family2_only))
    stage.apply(doc)
    assert called == {"ftfy": 0, "cjk_mojibake": len(family2_only), "phase_shift": 0, "glued_pinyin": 0, "artefacts": 0}
    assert sum(searched.values()) == 0


def test_first_characters_without_the_regex_parser_are_the_same():
    # Should the standard library's parser move, the classes are read by scanning code points.
    from cleancorp.fixes import _first_ranges, _first_ranges_by_scan
    from cleancorp.stages.repair import FIXES

    def merged(ranges):
        out = []
        for lo, hi in sorted(ranges):
            if out and lo <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(hi, out[-1][1]))
            else:
                out.append((lo, hi))
        return out

    for fix in FIXES:
        for first, _ in fix.precheck_parts:
            assert _first_ranges_by_scan(first) == merged(_first_ranges(first)), (fix.name, first)
