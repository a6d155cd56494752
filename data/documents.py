"""Reading the documents of input files, for the BPE trainer (tokenizer.py) and prepare.py alike.

    report = SourceReport("stories.jsonl")
    for text in iter_documents(report):   # .jsonl: one object per line; anything else: EOT-separated text
        ...
    print(report.describe())              # documents read, what was skipped and the first few problems

A reader yields (line number, text) pairs; `checked` turns them into documents and counts what it drops, so
a new input format is one more reader. The formats and what is skipped: data/README.md.
"""
import dataclasses
import hashlib
import json
import re

EOT = "<|endoftext|>"  # the document separator: a line of its own in plain text, a special token after training

MAX_PROBLEM_EXAMPLES = 5
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclasses.dataclass
class SourceReport:
    """What reading one input file found; filled in while its documents stream past, stored in meta.json."""
    path: str
    format: str = ""
    bytes: int = 0
    sha256: str = ""
    documents: int = 0
    empty_documents: int = 0  # nothing but whitespace: not written
    bad_lines: int = 0  # JSONL lines that are not an object with a string text field: not written
    non_utf8_lines: int = 0  # invalid UTF-8 (or lone surrogate escapes): kept, with U+FFFD in their place
    problems: list = dataclasses.field(default_factory=list)  # the first few, as "path:line: what"

    def problem(self, line_no, what):
        if len(self.problems) < MAX_PROBLEM_EXAMPLES:
            self.problems.append(f"{self.path}:{line_no}: {what}")

    def describe(self):
        line = f"{self.path}: {self.documents:,} documents"
        for n, what in [(self.bad_lines, "skipped unreadable lines"),
                        (self.empty_documents, "skipped empty documents"),
                        (self.non_utf8_lines, "lines with invalid UTF-8 (kept, as U+FFFD)")]:
            line += f"; {what}: {n}" if n else ""
        return "\n  ".join([line] + self.problems)


def iter_sources(reports, text_field="text", separator=EOT):
    """Yield (document, bytes read so far) over the files of `reports` in turn; the byte count is for a
    progress bar."""
    done = 0  # bytes of the files already read
    for report in reports:
        for text in iter_documents(report, text_field, separator):
            yield text, done + report.bytes
        done += report.bytes


def iter_documents(report, text_field="text", separator=EOT):
    """Yield the non-empty documents of the file report.path, counting what it skips into `report`."""
    report.format = "jsonl" if report.path.endswith(".jsonl") else "text"
    lines = read_lines(report)
    if report.format == "jsonl":
        yield from checked(jsonl_documents(lines, report, text_field), report)
    else:
        yield from checked(text_documents(lines, separator), report)


def checked(documents, report):
    """The texts of (line number, text) pairs from any reader, made encodable and without empty ones; what
    this repairs or drops is counted in `report`, and so is every document kept."""
    for line_no, text in documents:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a JSON escape such as "\ud800": not a character, not encodable
            report.non_utf8_lines += 1
            report.problem(line_no, "lone surrogate escape, replaced by U+FFFD")
            text = LONE_SURROGATE.sub("\ufffd", text)
        if not text.strip():
            report.empty_documents += 1
            report.problem(line_no, "empty document")
            continue
        report.documents += 1
        yield text


def read_lines(report):
    """Yield (line number, text) of a file read as bytes, so a bad byte costs one replaced character, not the
    run; the checksum and byte count in `report` are complete once the generator is exhausted."""
    digest = hashlib.sha256()
    with open(report.path, "rb") as f:
        for line_no, raw in enumerate(f, 1):
            digest.update(raw)
            report.bytes += len(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                report.non_utf8_lines += 1
                report.problem(line_no, f"invalid UTF-8 byte {raw[e.start:e.start + 1]!r}, replaced by U+FFFD")
                line = raw.decode("utf-8", "replace")
            if line_no == 1:
                line = line.removeprefix("\ufeff")  # a byte-order mark is not part of the text
            yield line_no, line
    report.sha256 = digest.hexdigest()


def jsonl_documents(lines, report, text_field):
    for line_no, line in lines:
        if not line.strip():
            continue  # blank lines hold no record
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            report.bad_lines += 1
            report.problem(line_no, f"not JSON ({e.msg})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            report.bad_lines += 1
            report.problem(line_no, f"not a JSON object with a string {text_field!r} field")
            continue
        yield line_no, record[text_field]


def text_documents(lines, separator):
    doc, line_no = [], 0
    for line_no, line in lines:
        if line.strip() == separator:
            yield line_no, "".join(doc).strip("\r\n")
            doc = []
        else:
            doc.append(line)
    if doc:  # the last document needs no separator after it
        yield line_no, "".join(doc).strip("\r\n")
