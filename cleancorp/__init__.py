"""cleancorp: turn dirty Chinese web and news text into a clean corpus.

>>> import cleancorp
>>> cleancorp.clean("????全會由區委常委會主持。\\n分享到: 微信 微博")
'全会由区委常委会主持。'
"""
from __future__ import annotations

from typing import Any, Mapping

__version__ = "0.1.0"

from .document import Document, StageRecord  # noqa: E402
from .pipeline import DEFAULT_CHAIN, Pipeline, StageStats  # noqa: E402
from .registry import OptionError, Stage, create_stage, register, stage_names  # noqa: E402

#: Keyword shorthands of clean(): name → (stage, option). The CLI flags of the same names agree.
SHORTHANDS: dict[str, tuple[str, str]] = {
    "encoding": ("decode", "encoding"),
    "encodings": ("decode", "encodings"),
    "convert": ("convert", "profile"),
    "rules": ("boilerplate", "rules"),
    "dedup_index": ("dedup", "index"),
}


class RejectedInput(ValueError):
    """The input is not text cleancorp can decode (binary, for instance)."""


def clean(
    data: str | bytes,
    *,
    stages: list[str] | None = None,
    skip: list[str] | tuple[str, ...] = (),
    config: str | None = None,
    **options: Any,
) -> str:
    """Clean one document and return its text ("" when nothing is left).

    ``options`` are shorthands (``convert="tw2s"``, ``encoding="gbk"``, ``rules=path``) or a
    stage name with a dict of that stage's options (``normalize={"blank_lines": "keep"}``).
    Raises RejectedInput for input that is not text (binary data).
    """
    opts: dict[str, dict[str, Any]] = {}
    for key, value in options.items():
        if key in SHORTHANDS:
            stage, opt = SHORTHANDS[key]
            opts.setdefault(stage, {})[opt] = value
        elif isinstance(value, Mapping):
            opts.setdefault(key, {}).update(value)
        else:
            raise TypeError(f"clean() got an unexpected option {key!r}")
    pipeline = Pipeline.from_config(config, stages=stages, skip=skip, options=opts)
    doc = pipeline.process(data)
    pipeline.close()
    if doc.dropped is not None:
        if doc.rejected:
            raise RejectedInput(doc.dropped)
        if doc.dropped == "empty":
            return ""
    return doc.text or ""


__all__ = [
    "DEFAULT_CHAIN",
    "Document",
    "OptionError",
    "Pipeline",
    "RejectedInput",
    "Stage",
    "StageRecord",
    "StageStats",
    "clean",
    "create_stage",
    "register",
    "stage_names",
]
