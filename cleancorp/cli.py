"""The `cleancorp` command: a Unix filter over documents, plus subcommands.

    cleancorp [OPTIONS] [FILE ...]      clean each FILE (or stdin) as one document
    cleancorp stages                    list the stages
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any, Iterator, NamedTuple

from . import SHORTHANDS as API_SHORTHANDS
from . import __version__
from .compression import DEFAULT_LIMIT as DEFAULT_DECOMPRESS_LIMIT
from .compression import CompressionError, open_decompressed, sniff
from .document import Document
from .io import (
    AtomicWriter,
    InputError,
    document_from_record,
    iter_jsonl,
    jsonl_line,
    read_bytes,
)
from .pipeline import DEFAULT_CHAIN, Pipeline, batched, chain_spec, document_weight
from .registry import OptionError, describe_stages
from .segments import SegmentedDocument

PROG = "cleancorp"
SUBCOMMANDS = {"stages", "corpus", "report"}

# Flags that are shorthands for one stage option; the Python API's clean() takes the same names.
SHORTHANDS = API_SHORTHANDS


class UsageError(Exception):
    pass


MB = 1024 * 1024


def _positive_mb(value: str) -> float:
    try:
        mb = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"wants a number of MB, got {value!r}") from None
    if not mb > 0:
        raise argparse.ArgumentTypeError(f"wants a positive number of MB, got {value!r}")
    return mb


def _split_names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def add_chain_options(p: argparse.ArgumentParser) -> None:
    """The options that build the chain; the filter and `cleancorp corpus` share them."""
    p.add_argument("--text-field", default="text", metavar="NAME", help="JSONL field holding the text")
    p.add_argument("--id-field", default="id", metavar="NAME", help="JSONL field holding the document id")
    p.add_argument("--stages", metavar="NAMES", help=f"comma-separated chain (default: {','.join(DEFAULT_CHAIN)})")
    p.add_argument("--skip", metavar="NAMES", help="comma-separated stages to leave out")
    p.add_argument("--config", metavar="FILE", help="TOML config: stages, skip, and one table per stage")
    p.add_argument("--set", action="append", default=[], metavar="STAGE.OPTION=VALUE", help="set a stage option (repeatable)")
    p.add_argument("--encoding", metavar="NAME", help="force the input encoding (decode stage)")
    p.add_argument("--encodings", metavar="A,B,C", help="restrict detection to these encodings")
    p.add_argument("--convert", metavar="PROFILE", help="t2s (default), tw2s, hk2s, tw2sp, s2t, none, or auto (t2s on documents detected as traditional only)")
    p.add_argument("--rules", metavar="FILE", help="boilerplate rules file replacing the built-in rules")
    p.add_argument("--dedup-index", metavar="PATH", help="dedup index: loaded when it exists, saved at the end, so later batches are checked against earlier ones")
    p.add_argument("--keep-meta", action="store_true", help="JSONL: keep removed source/time/editor lines as fields")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Clean dirty Chinese web and news text: decode → repair → convert → normalize → "
            "boilerplate → dedup. Each FILE (or standard input) is one document; the cleaned "
            "UTF-8 text goes to standard output."
        ),
        epilog=(
            "Subcommands: `cleancorp stages` lists the stages and their options; "
            "`cleancorp corpus IN OUT` cleans a whole tree in parallel (see its --help); "
            "`cleancorp report OUT/_cleancorp/report.jsonl -o report.html` writes a run's HTML audit report."
        ),
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="input files (default: standard input; `-` too)")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="write one output file per input into DIR")
    p.add_argument("--format", choices=("text", "jsonl"), default="text", help="input and output format")
    add_chain_options(p)
    p.add_argument("--report", metavar="FILE", help="write one JSON line per document: what each stage did")
    p.add_argument("--explain", action="store_true", help="print every change and removed line on stderr")
    p.add_argument("--summary", action="store_true", help="print per-stage counters on stderr at the end")
    p.add_argument(
        "--max-doc-mb", type=_positive_mb, default=64.0, metavar="MB",
        help=(
            "a text input larger than this (default 64) is cleaned in segments of a few MB with flat memory "
            "and written as it is cleaned: its encoding is chosen on the first MB, cross-document dedup does "
            "not see it, paragraph dedup still sees its earlier segments"
        ),
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no messages except errors")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return p


def stage_options(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for flag, (stage, key) in SHORTHANDS.items():
        value = getattr(args, flag, None)
        if value:
            options.setdefault(stage, {})[key] = value
    for item in args.set:
        target, sep, value = item.partition("=")
        stage, dot, key = target.partition(".")
        if not sep or not dot or not stage or not key:
            raise UsageError(f"--set wants STAGE.OPTION=VALUE, got {item!r}")
        options.setdefault(stage.strip(), {})[key.strip()] = value
    return options


def build_chain_spec(args: argparse.Namespace) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Stage names and options from --config, --stages/--skip, shorthands and --set."""
    return chain_spec(
        args.config,
        stages=_split_names(args.stages) or None,
        skip=_split_names(args.skip),
        options=stage_options(args),
    )


def build_pipeline(args: argparse.Namespace) -> Pipeline:
    chain, options = build_chain_spec(args)
    return Pipeline(chain, options)


class Run:
    """One invocation: reads inputs, streams them through the pipeline, writes outputs."""

    def __init__(self, args: argparse.Namespace, pipeline: Pipeline) -> None:
        self.args = args
        self.pipeline = pipeline
        self.failed = 0
        self.stdout = sys.stdout.buffer
        self.report_fh: IO[bytes] | None = None

    # -- messages --------------------------------------------------------------------------

    def error(self, message: str) -> None:
        self.failed += 1
        print(f"{PROG}: {message}", file=sys.stderr)

    def report(self, doc: Document) -> None:
        if self.report_fh is not None:
            self.report_fh.write(json.dumps(doc.report(), ensure_ascii=False).encode("utf-8") + b"\n")
        if self.args.explain:
            explain(doc, sys.stderr)

    def rejected_record(self, doc_id: str, source: str, reason: str) -> None:
        if self.report_fh is not None:
            line = {"id": doc_id, "source": source, "kept": False, "drop_reason": reason, "rejected": True, "stages": {}}
            self.report_fh.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")

    # -- inputs ----------------------------------------------------------------------------

    def inputs(self) -> list[str]:
        return self.args.files or ["-"]

    def text_inputs(self) -> Iterator[tuple[str, Document | LargeInput | Rejection]]:
        """Each input as one document read whole; an input over --max-doc-mb comes as a
        LargeInput instead (its first block and the open stream), to be cleaned in segments;
        one that cannot be read as a Rejection, to be reported when its turn comes."""
        limit = int(self.args.max_doc_mb * MB)
        for name in self.inputs():
            label = "<stdin>" if name == "-" else name
            try:
                if name == "-":
                    stream = sys.stdin.buffer
                    blocks = read_blocks(stream, limit + 1)
                    big = sum(map(len, blocks)) > limit
                elif os.path.isfile(name) and os.path.getsize(name) > limit:
                    stream = open(name, "rb")
                    blocks = [stream.read(MB)]
                    big = True
                else:
                    stream, blocks, big = None, [read_bytes(name)], False
                if big and sniff(blocks[0][:8]):
                    # Compressed input is decompressed by the decoder, whole (within its cap).
                    blocks.append(stream.read())
                    if stream is not sys.stdin.buffer:
                        stream.close()
                    big = False
            except (InputError, OSError) as exc:
                message = str(exc) if isinstance(exc, InputError) else f"{name}: {exc.strerror or exc}"
                yield name, Rejection(message, name, message.split(": ", 1)[-1])
                continue
            if big:
                yield name, LargeInput(label, blocks, stream)
            else:
                raw = blocks[0] if len(blocks) == 1 else b"".join(blocks)
                blocks.clear()
                yield name, Document(label, raw=raw, metadata={"source": label})

    def run_large(self, name: str, big: LargeInput) -> None:
        """Clean one input over --max-doc-mb segment by segment, writing as it goes."""
        # Segments of at most 256K characters: the stages' working memory is tens of bytes per
        # character, so this, not the input, bounds the peak.
        segment_chars = min(int(self.args.max_doc_mb * MB), 2 * MB) // 8
        cleaner = SegmentedDocument(self.pipeline, big.label, segment_chars)
        writer = None
        sink = self.stdout
        if self.args.output_dir:
            writer = AtomicWriter(os.path.join(self.args.output_dir, output_name(name, "txt")))
            sink = writer.__enter__()
        try:
            doc = cleaner.clean(big.blocks, big.stream, sink.write)
        except BaseException as exc:
            if writer is not None:
                writer.__exit__(type(exc), exc, exc.__traceback__)
            raise
        finally:
            big.close()
        if writer is not None:
            # A dropped document leaves no output file, as when it is cleaned whole.
            failed = doc.dropped is not None
            writer.__exit__(ValueError if failed else None, None, None)
        if doc.dropped is not None and doc.rejected:
            self.error(f"{big.label}: {doc.dropped}")
        self.report(doc)

    def jsonl_documents(self, name: str) -> Iterator[Document | Rejection]:
        """The documents of one JSONL input, in order, and in their places what could not be
        read (a broken line, a record without text, an unreadable file) as a Rejection, to be
        reported when its turn comes."""
        label = "<stdin>" if name == "-" else name
        try:
            source = sys.stdin.buffer if name == "-" else open(name, "rb")
        except OSError as exc:
            yield Rejection(f"{name}: {exc.strerror or exc}", name, exc.strerror or str(exc))
            return
        try:
            # Compressed JSONL (`.jsonl.gz`, `.xz`, ...) is read through; magic bytes decide.
            stream = open_decompressed(source, self.decompress_limit())
            for rec in iter_jsonl(stream, label):
                where = f"{label}:{rec.line_no}"
                if rec.obj is None:
                    yield Rejection(rec.error, where, rec.error.split(": ", 1)[-1])
                    continue
                try:
                    doc = document_from_record(rec, label, self.args.text_field, self.args.id_field)
                except InputError as exc:
                    yield Rejection(str(exc), where, str(exc).split(": ", 1)[-1])
                    continue
                yield doc
        except CompressionError as exc:
            yield Rejection(f"{label}: {exc}", label, str(exc))
        finally:
            if source is not sys.stdin.buffer:
                source.close()

    def decompress_limit(self) -> int:
        """The decode stage's cap on decompressed input, also applied to compressed JSONL."""
        try:
            return self.pipeline.stage("decode").max_decompressed  # type: ignore[attr-defined]
        except (KeyError, AttributeError):
            return DEFAULT_DECOMPRESS_LIMIT

    # -- processing ------------------------------------------------------------------------

    def settle(self, doc: Document) -> None:
        """Report a cleaned document (and name the input if it was rejected)."""
        if doc.dropped is not None and doc.rejected:
            self.error(f"{doc.metadata.get('source', doc.id)}: {doc.dropped}")
        self.report(doc)

    def run_text(self) -> None:
        # Files go through the chain in batches, as JSONL records do; an input over
        # --max-doc-mb is cleaned on its own, in segments, when its turn comes.
        for batch in batched(self.text_inputs(), _text_batch_weight):
            docs = [doc for _, doc in batch if isinstance(doc, Document)]
            if docs:
                self.pipeline.process_batch(docs)
            for name, item in batch:
                if isinstance(item, LargeInput):
                    self.run_large(name, item)
                elif isinstance(item, Rejection):
                    self.error(item.message)
                    self.rejected_record(item.where, item.where, item.reason)
                else:
                    self.settle(item)
                    if item.dropped is None:
                        self.write_text(name, item)

    def write_text(self, name: str, doc: Document) -> None:
        data = (doc.text or "").encode("utf-8") + b"\n"
        if self.args.output_dir:
            with AtomicWriter(os.path.join(self.args.output_dir, output_name(name, "txt"))) as fh:
                fh.write(data)
        else:
            self.stdout.write(data)

    def run_jsonl(self) -> None:
        out_dir = self.args.output_dir
        for name in self.inputs():
            writer = None
            sink = self.stdout
            if out_dir:
                writer = AtomicWriter(os.path.join(out_dir, output_name(name, "jsonl")))
                sink = writer.__enter__()
            try:
                # Records go through the chain in batches (dedup sketches a batch at once);
                # each is then reported and written in input order, as one at a time would.
                for batch in batched(self.jsonl_documents(name), _batch_weight):
                    self.pipeline.process_batch([item for item in batch if isinstance(item, Document)])
                    for item in batch:
                        if isinstance(item, Rejection):
                            self.error(item.message)
                            self.rejected_record(item.where, item.where, item.reason)
                            continue
                        self.settle(item)
                        if item.dropped is None:
                            sink.write(jsonl_line(item, self.args.text_field, self.args.keep_meta))
            except BaseException as exc:
                if writer is not None:
                    writer.__exit__(type(exc), exc, exc.__traceback__)
                raise
            if writer is not None:
                writer.__exit__(None, None, None)

    def execute(self) -> int:
        report_writer = AtomicWriter(self.args.report) if self.args.report else None
        if report_writer is not None:
            self.report_fh = report_writer.__enter__()
        try:
            if self.args.format == "jsonl":
                self.run_jsonl()
            else:
                self.run_text()
            self.stdout.flush()
        finally:
            self.pipeline.close()
            if report_writer is not None:
                report_writer.__exit__(None, None, None)
            if self.args.summary and not self.args.quiet:
                print(self.pipeline.format_summary(), file=sys.stderr)
        return 1 if self.failed else 0


class Rejection(NamedTuple):
    """An input record that could not be read: the error line, where it was, the reason."""

    message: str
    where: str
    reason: str


def _batch_weight(item: Document | Rejection) -> int | None:
    return document_weight(item) if isinstance(item, Document) else None


def _text_batch_weight(entry: tuple[str, Document | LargeInput | Rejection]) -> int | None:
    item = entry[1]
    if isinstance(item, LargeInput):
        return MB * 1024  # over any batch's bytes: it closes the batch it joins
    return _batch_weight(item)


class LargeInput:
    """An input too large to read whole: its first block and the rest of the stream."""

    def __init__(self, label: str, blocks: list[bytes], stream: IO[bytes]) -> None:
        self.label = label
        self.blocks = blocks  # read already; consumed (emptied) as they are cleaned
        self.stream = stream

    def close(self) -> None:
        self.blocks.clear()
        if self.stream is not sys.stdin.buffer:
            self.stream.close()


def read_blocks(stream: IO[bytes], limit: int) -> list[bytes]:
    """Up to ``limit`` bytes of ``stream`` as a list of blocks of at most 1 MB (never one
    buffer of ``limit`` bytes built by doubling, which would need twice the memory)."""
    blocks: list[bytes] = []
    size = 0
    while size < limit:
        block = stream.read(min(MB, limit - size))
        if not block:
            break
        blocks.append(block)
        size += len(block)
    return blocks


def output_name(name: str, ext: str) -> str:
    return f"stdin.{ext}" if name == "-" else os.path.basename(name)


def explain(doc: Document, fh: IO[str]) -> None:
    """Print what each stage did to ``doc``, one change or removed line per line."""
    for stage, rec in doc.log.items():
        for ch in rec.changes:
            detail = f"  ({ch.detail})" if ch.detail else ""
            print(f"{doc.id}: {stage}/{ch.fix}: {ch.before!r} → {ch.after!r}{detail}", file=fh)
        for rm in rec.removed:
            where = f" line {rm.line_no}" if rm.line_no else ""
            print(f"{doc.id}: {stage}/{rm.rule}{where}: removed {rm.text!r}", file=fh)
    if doc.dropped:
        print(f"{doc.id}: dropped by {doc.dropped_by}: {doc.dropped}", file=fh)


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse runs that would overwrite an input or write two inputs to one output."""
    if not args.output_dir:
        return
    if os.path.exists(args.output_dir) and not os.path.isdir(args.output_dir):
        raise UsageError(f"-o {args.output_dir}: exists and is not a directory")
    seen: dict[str, str] = {}
    ext = "jsonl" if args.format == "jsonl" else "txt"
    for name in args.files or ["-"]:
        target = os.path.abspath(os.path.join(args.output_dir, output_name(name, ext)))
        if name != "-" and os.path.exists(name) and os.path.abspath(name) == target:
            raise UsageError(f"-o {args.output_dir}: would overwrite the input {name}")
        if target in seen:
            raise UsageError(f"{seen[target]} and {name} would both be written to {target}")
        seen[target] = name
    if args.report:
        for name in args.files:
            if os.path.abspath(name) == os.path.abspath(args.report):
                raise UsageError(f"--report {args.report}: would overwrite an input")


def cmd_stages(argv: list[str]) -> int:
    from .registry import get_stage_class

    p = argparse.ArgumentParser(prog=f"{PROG} stages", description="List the stages and their options.")
    p.parse_args(argv)
    for name, summary in describe_stages():
        mark = "*" if name in DEFAULT_CHAIN else " "
        print(f"{mark} {name:<12} {summary}")
        defaults = get_stage_class(name).option_defaults()
        if defaults:
            opts = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
            print(f"  {'':<12} options: {opts}")
    print("* in the default chain, in this order: " + " → ".join(DEFAULT_CHAIN))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            if argv and argv[0] == "stages":
                return cmd_stages(argv[1:])
            if argv and argv[0] == "corpus":
                from .corpus import main as corpus_main

                return corpus_main(argv[1:])
            if argv and argv[0] == "report":
                from .report_html import main as report_main

                return report_main(argv[1:])
            args = build_parser().parse_args(argv)
            check_outputs(args)
            pipeline = build_pipeline(args)
        except (UsageError, OptionError) as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 2
        return Run(args, pipeline).execute()
    except BrokenPipeError:
        # The reader went away (`cleancorp big.txt | head -1`): stop quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: out of memory", file=sys.stderr)
        return 1
    except OSError as exc:
        # Output-side failures (disk full, unwritable -o dir): one line, no traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{PROG}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
