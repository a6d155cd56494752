"""The inputs of data/filter.py: what its SRC arguments name, read as documents, split into shards, resumed.

- SRC is a folder (every *.py below it, sorted; hidden folders and __pycache__ skipped), a .py file, a .jsonl
  file (the text in --text_field), a .parquet file (read with pyarrow, row group by row group) or a plain text
  file (documents separated by a line <|endoftext|>, read by data/documents.py like JSONL). The names `stdlib`
  and `site-packages` stand for the running Python's standard library and site-packages folders.
- Each input becomes units: a file, or a parquet row group. Shard i of N takes the units that start in the
  i-th of N equal parts of all the inputs' bytes, so N jobs split a corpus with no coordination and their
  outputs, concatenated in order, are the single-process output.
- A document is (label, text): the label is the file, or file:line (JSONL and text; the line that ends the
  document) or file:row (parquet, from 1). Python files are decoded as Python does (PEP 263: a coding line,
  else UTF-8); binary, undecodable, empty and oversized documents and unreadable files are skipped and
  counted, never fatal; a missing path, a folder without *.py files or a parquet file without the column stop
  before any work with a one-line message.
- Outputs are appended in batches, one fsync each; `resume_point` reads only the end of an output, cuts a
  torn last line, and names the document to go on after.
"""
import dataclasses
import io
import json
import os
import site
import sysconfig
import tokenize
from collections import Counter

from data.documents import EOT, SourceReport, jsonl_documents, read_lines, text_documents
from files import REPO, append_jsonl

MAX_BYTES = 1_000_000  # The Stack keeps no file over 1 MB; bigger ones are data, not code
BATCH_DOCS, BATCH_BYTES = 64, 4 << 20
MAX_PROBLEMS = 5


# ----------------------------------------------------------------------------------------------------------
# Inputs: what the SRC arguments name, cut into units (a file, or a parquet row group) for sharding

@dataclasses.dataclass
class Unit:
    path: str
    kind: str  # py | jsonl | text | parquet
    size: int  # bytes, to balance the shards
    row_group: int = 0  # parquet: which row group, its first row (from 1) and its number of rows
    first_row: int = 1
    rows: int = 0


def pool_folders():
    """The running Python's standard library and every site-packages folder, without repeats."""
    stdlib = sysconfig.get_paths()["stdlib"]
    sites = [*site.getsitepackages(), site.getusersitepackages(), sysconfig.get_paths()["purelib"]]
    folders = {"stdlib": [stdlib], "site-packages": [p for p in sites if os.path.isdir(p)]}
    return {name: list(dict.fromkeys(os.path.realpath(p) for p in paths)) for name, paths in folders.items()}


def python_files(folder, exclude=frozenset()):
    """(path, size) of every *.py below folder, in sorted order; hidden folders, __pycache__ and the `exclude`
    folders are skipped, and symlinked folders are not followed."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__"
                         and os.path.realpath(os.path.join(root, d)) not in exclude)
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith(".py") and os.path.isfile(path):
                yield path, os.path.getsize(path)


def expand(inputs, text_field, problems):
    """The units of the inputs, in order. A missing path, a folder without *.py files or a parquet file
    without the text column stops here with a one-line message, before any work; a parquet file that cannot
    be read is counted in `problems` and skipped."""
    units = []
    pool = pool_folders()
    # the pool is code no one here wrote: not the site-packages below the standard library (they are the
    # other name), and not this repository, wherever it is installed
    pool_exclude = set(pool["site-packages"]) | {str(REPO)}
    for source in inputs:
        folders = pool.get(source, [source])
        for path in folders:
            if not os.path.exists(path):
                raise SystemExit(f"input {path} does not exist")
            if os.path.isdir(path):
                exclude = pool_exclude - {path} if source in pool else frozenset()
                found = [Unit(p, "py", size) for p, size in python_files(path, exclude)]
                if not found:
                    raise SystemExit(f"no *.py files under {path}")
                units += found
            elif path.endswith(".parquet"):
                units += parquet_units(path, text_field, problems)
            else:
                kind = "py" if path.endswith(".py") else "jsonl" if path.endswith(".jsonl") else "text"
                units.append(Unit(path, kind, os.path.getsize(path)))
    return units


def import_pyarrow():
    try:
        import pyarrow.parquet
    except ImportError:
        raise SystemExit("reading .parquet files needs pyarrow: pip install pyarrow") from None
    return pyarrow.parquet


def parquet_units(path, text_field, problems):
    parquet = import_pyarrow()
    try:
        metadata = parquet.ParquetFile(path).metadata
    except Exception as e:  # pyarrow raises its own errors for files that are not parquet
        problems["unreadable_files"] += 1
        problems.note(f"{path}: not a readable parquet file ({str(e)[:100]})")
        return []
    columns = metadata.schema.names
    if text_field not in columns:
        hint = " (The Stack's text is in `content`: --text_field content)" if "content" in columns else ""
        raise SystemExit(f"{path} has no column {text_field!r}; its columns are {', '.join(columns)}{hint}")
    units, first = [], 1
    for group in range(metadata.num_row_groups):
        info = metadata.row_group(group)
        units.append(Unit(path, "parquet", info.total_byte_size, group, first, info.num_rows))
        first += info.num_rows
    return units


def shard(units, num_shards, shard_index):
    """Shard i gets the units that start in the i-th of num_shards equal parts of the inputs' bytes: contiguous
    runs, so the shards' outputs concatenated in order are the single-process output."""
    total = sum(u.size for u in units) or 1
    chosen, start = [], 0
    for unit in units:
        if start * num_shards // total == shard_index:
            chosen.append(unit)
        start += unit.size
    return chosen


# ----------------------------------------------------------------------------------------------------------
# Reading documents: (label, text), label = the file, or file:line (JSONL, text) / file:row (parquet)

class Counts(Counter):
    """What a run did and skipped, with the first few problems spelled out."""

    def __init__(self):
        super().__init__()
        self.problems = []

    def note(self, problem):
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def skip(self, label, why):
        self["skipped_" + why.split(" ")[0]] += 1
        self.note(f"{label}: skipped, {why}")


class Reader:
    """The documents of units, with what it skips counted in `counts`."""

    def __init__(self, text_field="text", separator=EOT, max_bytes=MAX_BYTES, counts=None):
        self.text_field, self.separator, self.max_bytes = text_field, separator, max_bytes
        self.counts = counts if counts is not None else Counts()

    def documents(self, units, resume_after=None):
        """The documents of the units in order; with resume_after, only those after that label."""
        start = 0
        if resume_after is not None:
            start = unit_of(units, resume_after)
        for i, unit in enumerate(units[start:]):
            try:
                documents = self.read_py(unit) if unit.kind == "py" else self.read_parquet(unit) \
                    if unit.kind == "parquet" else self.read_lines(unit)
                for label, text in documents:
                    if resume_after is not None and i == 0:
                        resume_after = None if label == resume_after else resume_after
                        continue
                    text = self.checked(label, text)
                    if text is not None:
                        self.counts["documents"] += 1
                        yield label, text
            except OSError as e:  # unreadable (permissions, a file removed mid-run): counted, never fatal
                self.counts["unreadable_files"] += 1
                self.counts.note(f"{unit.path}: unreadable ({e.strerror or e})")

    def read_py(self, unit):
        with open(unit.path, "rb") as f:
            raw = f.read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            self.counts.skip(unit.path, f"too_large (over {self.max_bytes:,} bytes)")
            return
        try:  # Python source says its encoding (PEP 263: a coding line, else UTF-8)
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
            yield unit.path, raw.decode(encoding).removeprefix("\ufeff")
        except (SyntaxError, LookupError, UnicodeDecodeError) as e:
            self.counts.skip(unit.path, f"undecodable ({str(e)[:80]})")

    def read_lines(self, unit):
        report = SourceReport(unit.path)
        lines = read_lines(report)
        documents = jsonl_documents(lines, report, self.text_field) if unit.kind == "jsonl" else \
            text_documents(lines, self.separator)
        for line_no, text in documents:
            yield f"{unit.path}:{line_no}", text
        self.counts["skipped_bad_lines"] += report.bad_lines
        self.counts["repaired_non_utf8_lines"] += report.non_utf8_lines
        for problem in report.problems:
            self.counts.note(problem)

    def read_parquet(self, unit):
        parquet = import_pyarrow()
        try:
            batches = parquet.ParquetFile(unit.path).iter_batches(batch_size=256, row_groups=[unit.row_group],
                                                                  columns=[self.text_field])
            row = unit.first_row
            for batch in batches:
                for text in batch.column(0).to_pylist():
                    yield f"{unit.path}:{row}", text
                    row += 1
        except OSError:
            raise
        except Exception as e:  # pyarrow's errors for damaged files
            self.counts["unreadable_files"] += 1
            self.counts.note(f"{unit.path}: row group {unit.row_group} unreadable ({str(e)[:100]})")

    def checked(self, label, text):
        """The text, or None (counted) when it is not a usable document."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                return self.counts.skip(label, "undecodable (not UTF-8)")
        if not isinstance(text, str) or not text.strip():
            return self.counts.skip(label, "empty")
        if "\x00" in text:
            return self.counts.skip(label, "binary (NUL bytes)")
        if len(text) > self.max_bytes // 4 and len(text.encode("utf-8", "replace")) > self.max_bytes:
            return self.counts.skip(label, f"too_large (over {self.max_bytes:,} bytes)")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return self.counts.skip(label, "undecodable (lone surrogates)")
        return text


def unit_of(units, label):
    """Index of the unit holding the document `label`."""
    path, _, row = label.rpartition(":")
    for i, unit in enumerate(units):
        if unit.path == label and unit.kind == "py":
            return i
        if unit.path == path and (unit.kind != "parquet" or unit.first_row <= int(row) < unit.first_row + unit.rows):
            return i
    raise LookupError(label)


def batched(documents):
    batch, size = [], 0
    for label, text in documents:
        batch.append((label, text))
        size += len(text)
        if len(batch) == BATCH_DOCS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# ----------------------------------------------------------------------------------------------------------
# Outputs: appended in batches, resumed after the last complete line

def resume_point(path, units, shard_text):
    """The label of the last document in the output `path` (None if there is none), after cutting a torn last
    line; reads only the end of the file, however large."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, "rb+") as f:
        end = f.seek(0, os.SEEK_END)
        tail, block = b"", 1 << 16
        while True:  # read backwards until the tail holds a whole last line (or the whole file)
            start = max(0, end - len(tail) - block)
            f.seek(start)
            tail = f.read(end - start)
            complete = tail[:tail.rfind(b"\n") + 1]
            if complete.count(b"\n") >= 2 or start == 0:
                break
        if len(complete) != len(tail):  # a crash mid-write left half a line: cut it, so appending is clean
            f.truncate(end - (len(tail) - len(complete)))
    lines = complete.splitlines()
    if not lines:
        return None
    try:
        label = json.loads(lines[-1])["path"]
    except (ValueError, KeyError, TypeError):
        raise SystemExit(f"{path} does not end with an output line of data/filter.py: remove it or choose "
                         f"another --out") from None
    try:
        unit_of(units, label)
    except (LookupError, ValueError):
        raise SystemExit(f"{path} ends with {label}, which is not among the inputs{shard_text}: another run "
                         f"wrote it; remove it or choose another --out") from None
    return label


def append_records(file, records):
    """Append records as lines; one flush and fsync for the batch (append_jsonl's, on the last line)."""
    for record in records[:-1]:
        file.write(json.dumps(record, ensure_ascii=False) + "\n")
    if records:
        append_jsonl(file, records[-1])
