"""Compressed input (gzip, bzip2, xz, zstd when the `zstandard` module is installed), recognised
by magic bytes or file name and decompressed with a size cap against decompression bombs.

>>> import gzip
>>> decompress(gzip.compress("中文".encode("gbk")))
b'\\xd6\\xd0\\xce\\xc4'
>>> decompress(b"plain text")
b'plain text'
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
from typing import IO, Callable

#: Default largest decompressed size of one input: big enough for any page or JSONL shard a
#: scrape produces, small enough that a crafted bomb cannot take the machine's memory.
DEFAULT_LIMIT = 1 << 30

try:  # optional: zstd is common for large scrape dumps but not in the standard library
    import zstandard as _zstd
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None


class CompressionError(ValueError):
    """Compressed input that cannot be read: truncated, corrupt, too large, or no codec."""


def _open_zstd(fh: IO[bytes]) -> IO[bytes]:
    if _zstd is None:
        raise CompressionError("zstd-compressed input (install the zstandard module to read it)")
    return _zstd.ZstdDecompressor().stream_reader(fh, read_across_frames=True)


# (magic bytes, file suffix, name, opener of a decompressing stream over a binary stream)
FORMATS: tuple[tuple[bytes, str, str, Callable[[IO[bytes]], IO[bytes]]], ...] = (
    (b"\x1f\x8b", ".gz", "gzip", lambda fh: gzip.GzipFile(fileobj=fh, mode="rb")),
    (b"BZh", ".bz2", "bzip2", lambda fh: bz2.BZ2File(fh, mode="rb")),
    (b"\xfd7zXZ\x00", ".xz", "xz", lambda fh: lzma.LZMAFile(fh, mode="rb")),
    (b"\x28\xb5\x2f\xfd", ".zst", "zstd", _open_zstd),
)


def sniff(head: bytes, name: str = "") -> str | None:
    """The compression format of data starting with ``head`` (or named ``name``), else None.

    Magic bytes decide; the suffix only counts when the magic agrees, so a plain file that
    happens to be called `x.gz` is read as it is.

    >>> sniff(b"BZh91AY&SY")
    'bzip2'
    >>> sniff(b"\\xe4\\xb8\\xad", "page.gz") is None
    True
    """
    for magic, _suffix, kind, _opener in FORMATS:
        if head.startswith(magic):
            if kind == "bzip2" and not (len(head) > 3 and 0x31 <= head[3] <= 0x39):
                continue  # "BZh" + a block-size digit; plain text may start with "BZh"
            return kind
    return None


def _opener(kind: str) -> Callable[[IO[bytes]], IO[bytes]]:
    for _magic, _suffix, name, opener in FORMATS:
        if name == kind:
            return opener
    raise KeyError(kind)


class _CappedReader(io.RawIOBase):
    """A decompressing stream that raises CompressionError once more than ``limit`` bytes
    have come out of it."""

    def __init__(self, inner: IO[bytes], kind: str, limit: int) -> None:
        self.inner = inner
        self.kind = kind
        self.limit = limit
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self.inner.read(len(buffer))
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise CompressionError(f"corrupt {self.kind} data ({exc})") from None
        except Exception as exc:  # zstandard raises its own error class
            raise CompressionError(f"corrupt {self.kind} data ({exc})") from None
        self.total += len(data)
        if self.total > self.limit:
            raise CompressionError(
                f"{self.kind} input decompresses to more than {self.limit} bytes "
                "(raise decode.max_decompressed to allow it)"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def open_decompressed(fh: IO[bytes], limit: int = DEFAULT_LIMIT) -> IO[bytes]:
    """Wrap a binary stream: decompressed and capped when it is compressed, else as it is.

    The stream must support ``peek`` (files opened with ``open(path, "rb")`` and
    ``sys.stdin.buffer`` do).
    """
    head = fh.peek(8)[:8] if hasattr(fh, "peek") else b""
    kind = sniff(head)
    if kind is None:
        return fh
    inner = _opener(kind)(fh)
    return io.BufferedReader(_CappedReader(inner, kind, limit), buffer_size=1 << 16)


def decompress(data: bytes, limit: int = DEFAULT_LIMIT) -> bytes:
    """``data`` decompressed when it starts with a known compression magic, else unchanged.

    Concatenated members (``cat a.gz b.gz``) are read through. Raises CompressionError with a
    one-line reason on corrupt data, a missing codec, or output larger than ``limit``.
    """
    kind = sniff(data[:8])
    if kind is None:
        return data
    reader = open_decompressed(io.BufferedReader(io.BytesIO(data)), limit)
    try:
        return reader.read()
    finally:
        reader.close()
