"""The normalize stage: exact outputs, and its quick path agreeing with the full line-by-line pass."""
import random
from pathlib import Path

import pytest

from cleancorp.document import Document
from cleancorp.stages.normalize import Normalize

ROOT = Path(__file__).resolve().parent.parent


def normalized(text: str, **options) -> str:
    doc = Document("t", text=text)
    Normalize(**options).apply(doc)
    return doc.text


def full_pass(text: str, **options) -> str:
    """The line-by-line pass alone (the quick path switched off)."""
    stage = Normalize(**options)
    stage._quick = lambda text: None
    doc = Document("t", text=text)
    stage.apply(doc)
    return doc.text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("第一段。\n第二段。\n", "第一段。\n第二段。"),
        ("来源：新华网  2012-07-03 10:30\n正文。\n\n", "来源：新华网 2012-07-03 10:30\n正文。"),
        ("\u3000\u3000第一段。  \r\n\r\n\r\n第二段。\n", "第一段。\n第二段。"),
        ("甲\u2002\u2002乙\n丙  \u2002丁", "甲\u2002\u2002乙\n丙 丁"),
        ("甲\t乙\n", "甲 乙"),
        ("甲\u00a0乙", "甲\u00a0乙"),
        ("\n\n", ""),
        ("", ""),
    ],
)
def test_exact_outputs(text, expected):
    assert normalized(text) == expected


def test_changed_characters_are_counted_on_the_quick_path():
    doc = Document("t", text="正文。\n")
    Normalize().apply(doc)
    assert doc.log["normalize"].chars_changed == 1
    untouched = Document("u", text="正文。")
    Normalize().apply(untouched)
    assert "normalize" not in untouched.log


ALPHABET = ["中", "文", "a", "1", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2002", "\u202f", "\n", "\n", "\n\n", "\r", "\r\n", "，"]


@pytest.mark.parametrize("options", [{}, {"blank_lines": "keep"}, {"blank_lines": "keep-one"}, {"collapse_spaces": False}])
def test_quick_path_equals_full_pass_on_random_layouts(options):
    rng = random.Random(7)
    for _ in range(4000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24)))
        assert normalized(text, **options) == full_pass(text, **options), repr(text)


def test_quick_path_equals_full_pass_on_the_clean_sample():
    files = sorted((ROOT / "fixtures").rglob("*.txt"))
    assert files, "the fixtures hold text files"
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert normalized(text) == full_pass(text), path
