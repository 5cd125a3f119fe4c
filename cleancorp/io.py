"""Reading inputs and writing outputs safely: atomic files, JSONL records, one-line errors."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import IO, Any, Iterator

from .document import Document


class InputError(Exception):
    """An input that cannot be read or parsed; the message is one line naming the problem."""


class AtomicWriter:
    """Write a file under a temporary name beside it and rename it into place on success,
    so a reader never sees half a file and an interrupted run leaves no partial output.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with AtomicWriter(os.path.join(d, "x.txt")) as fh:
    ...     _ = fh.write(b"ok")
    >>> open(os.path.join(d, "x.txt"), "rb").read()
    b'ok'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fh: IO[bytes] | None = None
        self._tmp = ""

    def __enter__(self) -> IO[bytes]:
        if os.path.islink(self.path) or (os.path.exists(self.path) and not os.path.isfile(self.path)):
            # A device, pipe or link (/dev/stdout, a FIFO): never replace it, write through.
            self._fh = open(self.path, "wb")
            return self._fh
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=".cleancorp-", suffix=".tmp", dir=folder)
        self._fh = os.fdopen(fd, "wb")
        return self._fh

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._fh is not None
        if not self._tmp:
            self._fh.close()
            return
        try:
            self._fh.close()
            if exc_type is None:
                os.chmod(self._tmp, 0o644)
                os.replace(self._tmp, self.path)
                return
        finally:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    with AtomicWriter(path) as fh:
        fh.write(data)


def read_bytes(path: str) -> bytes:
    """The whole file as bytes; OSError becomes InputError with a one-line message."""
    try:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory (use `cleancorp corpus` for trees)")
        with open(path, "rb") as fh:
            return fh.read()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None


@dataclass
class JsonlRecord:
    """One input line of a JSONL file: the parsed object, or why it could not be parsed."""

    line_no: int
    obj: dict[str, Any] | None
    error: str = ""


def iter_jsonl(stream: IO[bytes], name: str) -> Iterator[JsonlRecord]:
    """Parse a JSONL stream line by line; a broken line yields an error record, never raises."""
    for n, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("utf-8", "replace")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield JsonlRecord(n, None, f"{name}:{n}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            yield JsonlRecord(n, None, f"{name}:{n}: a JSON {type(obj).__name__}, not an object")
            continue
        yield JsonlRecord(n, obj)


def document_from_record(
    rec: JsonlRecord, name: str, text_field: str, id_field: str
) -> Document:
    assert rec.obj is not None
    obj = rec.obj
    value = obj.get(text_field)
    doc_id = obj.get(id_field)
    doc_id = str(doc_id) if doc_id is not None else f"{name}:{rec.line_no}"
    if not isinstance(value, str):
        what = "missing" if value is None else f"a {type(value).__name__}, not a string"
        raise InputError(f"{name}:{rec.line_no}: field {text_field!r} is {what}")
    meta = {"source": f"{name}:{rec.line_no}", "record": obj}
    return Document(doc_id, text=value, metadata=meta)


def jsonl_line(doc: Document, text_field: str, keep_meta: bool = False) -> bytes:
    obj = dict(doc.metadata.get("record") or {})
    obj[text_field] = doc.text or ""
    if keep_meta:
        for key, value in (doc.metadata.get("boilerplate_meta") or {}).items():
            obj.setdefault(key, value)
    return json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"
