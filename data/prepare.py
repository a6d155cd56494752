"""Tokenise a corpus into train.bin / val.bin token shards and meta.json, for data/loader.py.

    python data/prepare.py --input data/tinystories/stories.jsonl --tokenizer data/tinystories/tok.tiktoken \
        --out_dir data/tinystories

Inputs are `.jsonl` files (one JSON object per line, the text in --text_field) or plain text files, where a
line equal to --separator (default <|endoftext|>, as in the TinyStories .txt files) ends a document.
Files are streamed: only a few batches of documents are in memory at any time.

The shards are the documents' token ids back to back, each followed by <|endoftext|>, as uint16 when the
vocabulary fits (else uint32). A document goes to val when the hash of its text falls under --val_fraction:
deterministic, independent of file order, and exact duplicates never straddle train and val. The same inputs
give the same bytes, whatever the number of workers.
"""
import argparse
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import sys

import numpy as np
from tqdm import tqdm

if __package__ in (None, ""):  # run as `python data/prepare.py`: the `data.` imports need the repository root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from data.tokenizer import EOT, load_tokenizer
from files import write_json

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


def iter_documents(report, text_field="text", separator=EOT):
    """Yield the non-empty documents of the file report.path, counting what it skips into `report`."""
    report.format = "jsonl" if report.path.endswith(".jsonl") else "text"
    lines = _read_lines(report)
    documents = _jsonl_documents(lines, report, text_field) if report.format == "jsonl" else \
        _text_documents(lines, separator)
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


def _read_lines(report):
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


def _jsonl_documents(lines, report, text_field):
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


def _text_documents(lines, separator):
    doc, line_no = [], 0
    for line_no, line in lines:
        if line.strip() == separator:
            yield line_no, "".join(doc).strip("\r\n")
            doc = []
        else:
            doc.append(line)
    if doc:  # the last document needs no separator after it
        yield line_no, "".join(doc).strip("\r\n")


def is_val(text, val_fraction):
    """The split of a document, from a hash of its text (blake2b, 64 bits) compared with val_fraction."""
    h = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(h, "big") < val_fraction * 2**64


# Worker processes each load the tokenizer once, then tokenise batches of documents.
_tokenizer = None
_settings = {}


def _init_worker(tokenizer_spec, dtype, val_fraction):
    global _tokenizer
    _tokenizer = load_tokenizer(tokenizer_spec)
    _settings.update(dtype=dtype, val_fraction=val_fraction)


def _tokenize_batch(batch):
    """(texts, bytes read so far) -> (all ids, each followed by eot; per-document lengths; per-document val
    flags; bytes read so far)."""
    texts, bytes_read = batch
    ids, lengths, val = [], [], []
    for text in texts:
        doc = _tokenizer.encode(text)
        doc.append(_tokenizer.eot)
        ids += doc
        lengths.append(len(doc))
        val.append(is_val(text, _settings["val_fraction"]))
    return np.array(ids, dtype=_settings["dtype"]), np.array(lengths), np.array(val, dtype=bool), bytes_read


def _tokenize_all(batches, settings, workers):
    """Tokenised batches in input order (imap keeps it, so the shards do not depend on the worker count)."""
    if workers <= 1:
        _init_worker(*settings)
        yield from map(_tokenize_batch, batches)
        return
    # forking a parent that may run threads (torch, tqdm's monitor) can deadlock: start workers from a clean one
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with context.Pool(workers, _init_worker, settings) as pool:
        yield from pool.imap(_tokenize_batch, batches)


def prepare(inputs, tokenizer, out_dir, text_field="text", separator=EOT, val_fraction=0.005, workers=None,
            batch_docs=256):
    """Write out_dir/{train.bin, val.bin, meta.json}; returns the meta dict."""
    tok = load_tokenizer(tokenizer)  # here first, so a bad spec fails before any work starts
    dtype = "uint16" if tok.vocab_size <= 2**16 else "uint32"
    itemsize = np.dtype(dtype).itemsize
    workers = os.cpu_count() if workers is None else workers
    reports = [SourceReport(str(path)) for path in inputs]

    def batches():
        done, texts = 0, []  # done: bytes of the files already read
        for report in reports:
            for text in iter_documents(report, text_field, separator):
                texts.append(text)
                if len(texts) == batch_docs:
                    yield texts, done + report.bytes
                    texts = []
            done += report.bytes
        if texts:
            yield texts, done

    os.makedirs(out_dir, exist_ok=True)
    final = {split: os.path.join(out_dir, f"{split}.bin") for split in ("train", "val")}
    tmp = {split: f"{path}.tmp{os.getpid()}" for split, path in final.items()}
    files = {split: open(path, "w+b") for split, path in tmp.items()}
    counts = {split: {"documents": 0, "tokens": 0} for split in final}
    last_train_doc = 0  # its length in tokens, in case val ends up empty and it has to move there
    try:
        results = _tokenize_all(batches(), (tokenizer, dtype, val_fraction), workers)
        total = sum(os.path.getsize(r.path) for r in reports)
        with tqdm(total=total, unit="B", unit_scale=True, desc="tokenizing", dynamic_ncols=True) as bar:
            for ids, lengths, val, bytes_read in results:
                token_in_val = np.repeat(val, lengths)
                for split, mask, doc_mask in (("train", ~token_in_val, ~val), ("val", token_in_val, val)):
                    files[split].write(ids[mask].tobytes())
                    counts[split]["documents"] += int(doc_mask.sum())
                    counts[split]["tokens"] += int(mask.sum())
                if not val.all():
                    last_train_doc = int(lengths[~val][-1])
                bar.update(bytes_read - bar.n)
                n_docs = counts["train"]["documents"] + counts["val"]["documents"]
                bar.set_postfix(docs=n_docs, refresh=False)

        n_docs = counts["train"]["documents"] + counts["val"]["documents"]
        if n_docs == 0:
            raise SystemExit(f"no documents found in {', '.join(map(str, inputs))}: "
                             + "; ".join(r.describe() for r in reports))
        if counts["val"]["documents"] == 0 and n_docs >= 2:
            # val_fraction picked nothing (a small corpus): the last train document becomes the val set
            _move_tail(files["train"], files["val"], last_train_doc * itemsize)
            for split, sign in (("train", -1), ("val", 1)):
                counts[split]["documents"] += sign
                counts[split]["tokens"] += sign * last_train_doc
        meta_path = os.path.join(out_dir, "meta.json")
        if os.path.exists(meta_path):  # a crash between here and the new meta.json must not pair old and new
            os.remove(meta_path)
        for split, f in files.items():
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.replace(tmp[split], final[split])
    finally:
        for split, f in files.items():
            f.close()
            if os.path.exists(tmp[split]):
                os.remove(tmp[split])

    meta = {
        "tokenizer": str(tokenizer),
        "tokenizer_sha256": _sha256(tokenizer) if os.path.isfile(str(tokenizer)) else None,
        "vocab_size": tok.vocab_size,
        "eot": tok.eot,
        "dtype": dtype,
        "text_field": text_field,
        "separator": separator,
        "val_fraction": val_fraction,
        "split_rule": "val when blake2b(text, 8 bytes) as a big-endian integer < val_fraction * 2**64; "
                      "the last document when that picks none",
        "train": counts["train"],
        "val": counts["val"],
        "sources": [dataclasses.asdict(r) for r in reports],
    }
    write_json(meta_path, meta)
    for report in reports:
        print(report.describe())
    for split in ("train", "val"):
        print(f"{final[split]}: {counts[split]['documents']:,} documents, {counts[split]['tokens']:,} tokens")
    if n_docs < 2:
        print("warning: a single document: val.bin is empty")
    return meta


def _move_tail(src, dst, n_bytes):
    src.seek(-n_bytes, os.SEEK_END)
    tail = src.read(n_bytes)
    src.seek(-n_bytes, os.SEEK_END)
    src.truncate()
    dst.write(tail)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", nargs="+", required=True, help=".jsonl or plain text files")
    parser.add_argument("--tokenizer", required=True, help="codegen, gpt2, or a .tiktoken rank file")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--text_field", default="text", help="JSONL field holding the text")
    parser.add_argument("--separator", default=EOT, help="plain text: the line that ends a document")
    parser.add_argument("--val_fraction", type=float, default=0.005)
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="tokenizing processes")
    args = parser.parse_args(argv)
    for path in args.input:
        if not os.path.isfile(path):
            parser.error(f"input {path} does not exist")
    if not 0 <= args.val_fraction < 1:
        parser.error(f"--val_fraction {args.val_fraction} must be in [0, 1)")
    prepare(args.input, args.tokenizer, args.out_dir, args.text_field, args.separator, args.val_fraction,
            args.workers)


if __name__ == "__main__":
    main()
