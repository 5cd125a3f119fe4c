"""Stages by name: the CLI, TOML configs and the Python API all build chains from here."""
from __future__ import annotations

import inspect
from typing import Any, Iterable

from .document import Document

_REGISTRY: dict[str, type["Stage"]] = {}


class OptionError(ValueError):
    """A stage was given an option it does not have, or a value it cannot use."""


class Stage:
    """Base class of every stage.

    A stage looks at one document at a time (``apply``): it rewrites ``doc.text``, records what
    it did in ``doc.record(self.name)``, or drops the document with ``doc.drop(reason, self.name)``.
    Corpus-level stages keep bounded state across the documents of one run.

    Subclasses declare their options as keyword arguments of ``__init__`` with defaults; the
    registry checks option names against that signature, so a typo in a config file is an error.
    """

    name: str = ""
    summary: str = ""
    #: keeps state across documents (cross-document dedup, corpus line statistics)
    corpus_level: bool = False
    #: works on raw bytes rather than text (only the decoder)
    needs_bytes: bool = False

    def apply(self, doc: Document) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def apply_batch(self, docs: list[Document]) -> None:
        """``apply`` on each of ``docs`` in order, with exactly the same result: the same texts,
        records and drops, and the same state left for later documents. A stage overrides it
        only to do the same work for fewer calls (dedup sketches a batch at once).

        >>> class Upper(Stage):
        ...     name = "upper"
        ...     def apply(self, doc): doc.text = doc.text.upper()
        >>> docs = [Document("a", text="abc"), Document("b", text="de")]
        >>> Upper().apply_batch(docs); [d.text for d in docs]
        ['ABC', 'DE']
        """
        for doc in docs:
            self.apply(doc)

    def warm_up(self) -> None:
        """Load now what the stage otherwise loads when a document first needs it (a model, a
        dictionary). A one-page run never pays for tables its page does not need; a run that
        forks workers calls this first, so that they share one copy."""

    def close(self) -> None:
        """Called once when the pipeline has seen every document (save indexes etc.)."""

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        sig = inspect.signature(cls.__init__)
        return {
            n: p.default
            for n, p in sig.parameters.items()
            if n != "self" and p.default is not inspect.Parameter.empty
        }


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator: make a stage available under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"stage name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin() -> None:
    # Importing the package registers every built-in stage.
    from . import stages  # noqa: F401


def stage_names() -> list[str]:
    _load_builtin()
    return list(_REGISTRY)


def get_stage_class(name: str) -> type[Stage]:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise OptionError(f"unknown stage {name!r} (known: {known})") from None


def create_stage(name: str, options: dict[str, Any] | None = None) -> Stage:
    """Build a stage by name, checking its options against what the stage accepts."""
    cls = get_stage_class(name)
    options = dict(options or {})
    defaults = cls.option_defaults()
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise OptionError(f"stage {name!r} has no option {', '.join(unknown)} (options: {allowed})")
    for key, value in options.items():
        default = defaults[key]
        options[key] = _coerce(name, key, value, default)
    try:
        return cls(**options)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"stage {name!r}: {exc}") from None


def _coerce(stage: str, key: str, value: Any, default: Any) -> Any:
    """Turn CLI strings into the type of the option's default (bool, int, float, list)."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    text = value.strip()
    try:
        if isinstance(default, bool):
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, (list, tuple)):
            return [part.strip() for part in text.split(",") if part.strip()]
    except ValueError:
        raise OptionError(
            f"stage {stage!r}: option {key} wants a {type(default).__name__}, got {value!r}"
        ) from None
    return value


def describe_stages() -> Iterable[tuple[str, str]]:
    for name in stage_names():
        cls = _REGISTRY[name]
        yield name, cls.summary

