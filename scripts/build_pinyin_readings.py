"""Regenerate cleancorp/data/pinyin_readings.tsv: the readings of every Han character.

Source: the single-character reading table shipped with the `pypinyin` package (needed only to
run this script: `pip install pypinyin`). Covered: CJK Unified Ideographs, Extension A and the
compatibility ideographs, simplified and traditional alike. Each line is a character, a tab, and
its readings as tone-number syllables (`區	gou1 kou4 ou1 qiu1 qu1`), normalised with the same
function the glued-pinyin fix applies to the text, so the two always agree.

Usage: python scripts/build_pinyin_readings.py [OUTPUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cleancorp.fixes.pinyin import DATA_FILE, syllable_key  # noqa: E402

RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


def build(output: Path) -> int:
    try:
        from pypinyin.pinyin_dict import pinyin_dict
    except ImportError:
        sys.exit("build_pinyin_readings: needs the pypinyin package (pip install pypinyin)")
    lines = []
    for code in sorted(pinyin_dict):
        if not any(lo <= code <= hi for lo, hi in RANGES):
            continue
        keys = set()
        for written in pinyin_dict[code].split(","):
            key = syllable_key(written.strip())
            if key is None:
                continue
            # Toneless readings in the source are neutral-tone readings.
            keys.add(key if key[-1].isdigit() else key + "5")
        if keys:
            lines.append(f"{chr(code)}\t{' '.join(sorted(keys))}\n")
    output.write_text("".join(lines), encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_FILE
    n = build(out)
    print(f"{out}: {n} characters, {out.stat().st_size} bytes")
