"""The chain a user would write from cleancorp's dependencies alone, scored as the baseline:
charset-normalizer → ``ftfy.fix_text`` with its defaults → OpenCC t2s. No boilerplate removal
and no deduplication (so it keeps every duplicate).

>>> naive_clean("中國共產黨".encode("big5"))
'中国共产党'
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def naive_clean(raw: bytes) -> str:
    """Detect the encoding, let ftfy fix what it sees, convert to simplified."""
    import ftfy
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    text = str(best) if best is not None else raw.decode("utf-8", "replace")
    return _t2s().convert(ftfy.fix_text(text))
