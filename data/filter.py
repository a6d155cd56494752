"""Filter real code by its educational value, as phi-1 filtered The Stack: annotate a sample, learn it, score all.

    python data/filter.py annotate --input SRC... --out labels.jsonl [--n 20000] [--teacher URL --model NAME]
    python data/filter.py train    --labels labels.jsonl --out filter.pt [--embed CKPT_OR_HF_DIR]
    python data/filter.py score    --input SRC... --out scores.jsonl [--classifier filter.pt]
    python data/filter.py keep     --input SRC... --out kept.jsonl (--threshold T | --keep_fraction F)

phi-1 had GPT-4 judge ~100k files of The Stack and StackOverflow for "educational value for a student whose
goal is to learn basic coding concepts", trained a random forest on a code model's embeddings of them, and
kept what it scored high: ~6B of ~35B tokens. FineWeb-Edu and SmolLM's Python-Edu did the same with open
models (an LLM annotates ~500k samples, a head on an embedding model scores the rest, keep >= 3 of 5).

1. annotate: a random sample of --n documents (the smallest hashes of their paths), judged 0-5 by a teacher
   LLM behind any OpenAI-compatible endpoint, or offline by data/rubric.py, a transparent stand-in for it.
2. train: features (data/features.py: hashed n-grams, or --embed a model's mean hidden state) -> a small
   regressor; a held-out split measures its agreement with the labels.
3. score / keep: every document, streaming, in worker processes, resumable, and split across machines by
   --num_shards/--shard_index (the shards' outputs, concatenated in order, are the single-process output).
   `keep` writes {"text", "path", "score", "bytes"} lines, ready for data/prepare.py.

SRC is a folder (every *.py below it), a .py file, a .jsonl file (--text_field), a .parquet file (the format
of The Stack; --text_field content) or a plain text file (documents separated by a line <|endoftext|>); the
names `stdlib` and `site-packages` stand for the running Python's own. Without --classifier, score and keep
build a default one on first use: the rubric annotates this Python's standard library and site-packages, and
the result is saved under data/code/.

Outputs are appended one batch of lines at a time, each batch flushed and fsynced; a rerun of the same command
cuts a torn last line and goes on after the last document written. One bad input file never stops a run:
binary, undecodable, empty and oversized documents and unreadable files are skipped and counted.
"""
import argparse
import dataclasses
import hashlib
import heapq
import json
import multiprocessing
import os
import site
import sys
import sysconfig
import time
import tokenize
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

# OpenMP threads that spin while they wait slow everything down on a machine whose cores are busy (train.py
# measured 11x); waiting passively costs nothing. Set before torch starts OpenMP; a setting of your own wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if __package__ in (None, ""):  # run as `python data/filter.py`: the imports need the repository root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from data.documents import EOT, SourceReport, jsonl_documents, read_lines, text_documents
from data.rubric import PROMPT, extract, parse_answer, rubric
from files import REPO, append_jsonl, iter_jsonl

DEFAULT_CLASSIFIER = REPO / "data" / "code" / "filter.pt"
DEFAULT_LABELS = REPO / "data" / "code" / "filter_labels.jsonl"
DEFAULT_SAMPLE = 6000  # files of the default pool the rubric annotates for the default classifier
POOL = ("stdlib", "site-packages")
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


def python_files(folder, exclude):
    """(path, size) of every *.py below folder, in sorted order; hidden folders, __pycache__, the `exclude`
    folders (site-packages below the standard library, this repository) and symlinked folders are skipped."""
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
    exclude = {os.path.realpath(p) for p in pool["site-packages"]} | {str(REPO)}
    for source in inputs:
        folders = pool.get(source, [source])
        for path in folders:
            if not os.path.exists(path):
                raise SystemExit(f"input {path} does not exist")
            if os.path.isdir(path):
                found = [Unit(p, "py", size) for p, size in python_files(path, exclude - {os.path.realpath(path)})]
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
            encoding, _ = tokenize.detect_encoding(iter(raw.splitlines(keepends=True)).__next__)
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


# ----------------------------------------------------------------------------------------------------------
# Work in worker processes (or threads, for a teacher), results in input order

def in_order(fn, items, workers, threads=False, initializer=None, initargs=()):
    """(item, fn(item)) for each item, in input order, with at most 2 x workers items in flight, so memory stays
    flat however many items there are."""
    if workers <= 1 and not threads:
        if initializer:
            initializer(*initargs)
        for item in items:
            yield item, fn(item)
        return
    if threads:
        pool = ThreadPoolExecutor(workers)
    else:  # workers start from a clean process: forking one that runs threads (torch, tqdm) can deadlock
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs)
    pending = deque()
    try:
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= 2 * workers:
                item, future = pending.popleft()
                yield item, future.result()
        while pending:
            item, future = pending.popleft()
            yield item, future.result()
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)


def rubric_batch(batch):
    return [rubric(text, label) for label, text in batch]


_scorer = {}  # per worker process: the classifier and, for --embed ones, the embedding model


def init_scorer(classifier_path, device):
    from data.features import Embedder, load_classifier

    model, checkpoint = load_classifier(classifier_path)
    features = checkpoint["features"]
    if features["kind"] == "hashed":
        import torch
        torch.set_num_threads(1)  # tiny matrices: threads cost more than they save, and workers share the cores
    _scorer.update(model=model, embedder=Embedder(features["source"], device) if features["kind"] == "embed"
                   else None)
    if _scorer["embedder"] is not None and _scorer["embedder"].describe() != features:
        raise SystemExit(f"{classifier_path} was trained on embeddings of a different model than the one now at "
                         f"{features['source']}: train it again")


def score_batch(batch):
    from data.features import hashed_features, predict

    texts = [text for _, text in batch]
    features = _scorer["embedder"](texts) if _scorer["embedder"] else [hashed_features(t) for t in texts]
    return [round(float(s), 4) for s in predict(_scorer["model"], list(features))]


def features_batch(texts):
    from data.features import hashed_features

    return [hashed_features(text) for text in texts]


# ----------------------------------------------------------------------------------------------------------
# annotate

def label_hash(seed, label):
    return int.from_bytes(hashlib.blake2b(f"{seed}:{label}".encode(), digest_size=8).digest(), "big")


def sample_labels(documents, n, seed):
    """The labels of the n documents with the smallest hash of (seed, label): a uniform random sample, the
    same on every machine, found in one pass that holds only n labels."""
    heap = []  # (-hash, label): the largest of the n smallest on top
    for label, _ in documents:
        h = label_hash(seed, label)
        if len(heap) < n:
            heapq.heappush(heap, (-h, label))
        elif h < -heap[0][0]:
            heapq.heapreplace(heap, (-h, label))
    return {label for _, label in heap}


def teacher_judge(base_url, model, timeout, retries, counts):
    """A function (label, text) -> (score, reason), or None when the answer is unusable (counted)."""
    from synthdata.teacher import Malformed, RequestFailed, chat

    def judge(document):
        label, text = document
        try:
            answer = chat(base_url, model, PROMPT.format(extract=extract(text)), timeout, retries,
                          temperature=0.0, max_tokens=200, counts=counts)
        except RequestFailed:
            return "failed_requests"
        except Malformed:
            return "malformed_answers"
        return parse_answer(answer) or "malformed_answers"
    return judge


def annotate(args):
    from synthdata.teacher import TeacherError

    counts = Counts()
    units = expand(args.input, args.text_field, counts)
    print(f"choosing {args.n:,} documents at random from {len(units):,} input units", file=sys.stderr)
    chosen = sample_labels(Reader(args.text_field, args.separator, args.max_bytes).documents(units), args.n,
                           args.seed)
    mine = [u for u in shard(units, args.num_shards, args.shard_index) if u.kind != "py" or u.path in chosen]
    resume = resume_point(args.out, mine, shard_text(args))
    documents = (d for d in Reader(args.text_field, args.separator, args.max_bytes, counts).documents(mine, resume)
                 if d[0] in chosen)
    if args.teacher:
        annotator = args.model
        results = in_order(teacher_judge(args.teacher, args.model, args.timeout, args.retries, counts),
                           documents, args.workers, threads=True)
    else:
        annotator = "rubric"
        results = ((doc, judged) for batch, judgements in in_order(rubric_batch, batched(documents), args.workers)
                   for doc, judged in zip(batch, judgements))
    fresh = args.num_shards == 1 and resume is None
    bar = tqdm(total=len(chosen) if fresh else None, desc=f"annotate ({annotator})", unit="file", dynamic_ncols=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    start = time.time()
    with open(args.out, "a", encoding="utf-8") as out:
        pending = []
        try:
            for (label, text), judged in results:
                bar.update(1)
                if isinstance(judged, str):
                    counts[judged] += 1
                    continue
                pending.append({"path": label, "score": judged[0], "reason": judged[1], "annotator": annotator,
                                "bytes": len(text.encode("utf-8")), "text": extract(text)})
                counts["labelled"] += 1
                if len(pending) == BATCH_DOCS:
                    append_records(out, pending)
                    pending = []
        except KeyboardInterrupt:
            raise SystemExit(f"interrupted: the labels so far are safe in {args.out}; rerun to continue")
        except TeacherError as e:  # the endpoint refuses the request itself (bad URL, model or key)
            raise SystemExit(str(e)) from None
        finally:
            append_records(out, pending)
            bar.close()
    if args.teacher and counts["failed_requests"] and not counts["labelled"] and not counts["malformed_answers"]:
        raise SystemExit(f"no answer from {args.teacher} for any request: is the server running and is the URL "
                         f"its /v1 base (e.g. http://127.0.0.1:8000/v1)?")
    summarize(counts, start, args.out)
    return counts


# ----------------------------------------------------------------------------------------------------------
# train

def read_labels(path):
    records = []
    for record in iter_jsonl(path, required=("path", "score", "text"), what="label"):
        score = record["score"]
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 5:
            raise SystemExit(f"{path}: the score of {record['path']} is {score!r}, not a number from 0 to 5")
        records.append((record["path"], float(score), record["text"]))
    if len(records) < 20:
        raise SystemExit(f"{path} holds {len(records)} labels: train needs at least 20 (annotate more with --n)")
    return records


def train(labels_path, out, embed=None, threshold=3.0, heldout=0.1, hidden=None, epochs=None, workers=1, seed=0,
          device="cpu"):
    """Learn the labels, report agreement on a held-out split, save the classifier; returns its metrics.
    hidden and epochs default to 0 and 8 on hashed n-grams (a linear model), 32 and 30 on embeddings."""
    import numpy as np
    import torch

    from data.features import Embedder, agreement, fit, predict, save_classifier

    hidden = (32 if embed else 0) if hidden is None else hidden
    epochs = (30 if embed else 8) if epochs is None else epochs
    if not embed:
        torch.set_num_threads(1)  # a linear model on sparse rows: more threads only wait on each other

    start = time.time()
    records = read_labels(labels_path)
    texts = [text for _, _, text in records]
    if embed:
        embedder = Embedder(embed, device)
        features_info = embedder.describe()
        features = []
        for i in tqdm(range(0, len(texts), 32), desc=f"embedding with {embed}", unit="batch"):
            features.extend(embedder(texts[i:i + 32]))
    else:
        features_info = {"kind": "hashed"}
        features = [f for _, result in in_order(features_batch, (texts[i:i + 256] for i in range(0, len(texts), 256)),
                                                workers) for f in result]
    feature_seconds = time.time() - start
    held = np.array([label_hash("heldout", path) < heldout * 2**64 for path, _, _ in records])
    if held.all() or not held.any():
        held[:max(1, len(held) // 10)] = True  # a tiny label set: hold out the first tenth
        held[max(1, len(held) // 10):] = False
    labels = np.array([score for _, score, _ in records], dtype=np.float32)
    train_rows, held_rows = np.flatnonzero(~held), np.flatnonzero(held)
    with tqdm( desc="training", unit="step", dynamic_ncols=True) as bar:
        model = fit([features[i] for i in train_rows], labels[train_rows], sparse=not embed, hidden=hidden,
                    epochs=epochs, seed=seed, progress=bar)
    scores = predict(model, features)
    metrics = {"heldout": agreement(scores[held_rows], labels[held_rows], threshold),
               "train": agreement(scores[train_rows], labels[train_rows], threshold),
               "feature_seconds": round(feature_seconds, 1), "seconds": round(time.time() - start, 1)}
    save_classifier(out, model, features_info, threshold, metrics, scores,
                    {"path": str(labels_path), "documents": len(records)})
    h = metrics["heldout"]
    print(f"{out}: held-out agreement on {h['documents']} documents: accuracy {h['accuracy']:.3f} (rounded "
          f"score), F1 {h['f1']:.3f} at score >= {threshold:g}, Spearman {h['spearman']:.3f}; "
          f"{metrics['seconds']:.0f} s", file=sys.stderr)
    return metrics


# ----------------------------------------------------------------------------------------------------------
# score and keep

def default_classifier(workers):
    """data/code/filter.pt, built (once) from the rubric's labels of the default pool when missing."""
    if DEFAULT_CLASSIFIER.is_file():
        return DEFAULT_CLASSIFIER
    DEFAULT_CLASSIFIER.parent.mkdir(parents=True, exist_ok=True)
    with open(DEFAULT_CLASSIFIER.with_suffix(".lock"), "w") as lock:
        try:  # two jobs starting together build it once
            import fcntl
            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:
            pass
        if DEFAULT_CLASSIFIER.is_file():
            return DEFAULT_CLASSIFIER
        print(f"no --classifier: building the default one (once, a few minutes): the offline rubric labels "
              f"{DEFAULT_SAMPLE:,} files of this Python's standard library and site-packages, and a hashed "
              f"n-gram regressor learns them -> {DEFAULT_CLASSIFIER}", file=sys.stderr)
        annotate(parse_args(["annotate", "--input", *POOL, "--out", str(DEFAULT_LABELS), "--n", str(DEFAULT_SAMPLE),
                             "--workers", str(workers)]))
        train(DEFAULT_LABELS, DEFAULT_CLASSIFIER, workers=workers)
    return DEFAULT_CLASSIFIER


def score(args, keep=False):
    from data.features import load_classifier, threshold_for_fraction

    classifier = args.classifier or default_classifier(args.workers)
    _, checkpoint = load_classifier(classifier)  # here first: a bad file stops the run before any work
    threshold = None
    if keep:
        threshold = args.threshold if args.threshold is not None else \
            threshold_for_fraction(checkpoint, args.keep_fraction)
        if args.keep_fraction is not None:
            print(f"keeping scores >= {threshold:.3f}: the top {args.keep_fraction:.1%} of the classifier's "
                  f"annotated sample", file=sys.stderr)
    workers = args.workers
    if checkpoint["features"]["kind"] == "embed" and workers > 1:
        workers = 1  # one model per process; split big jobs with --num_shards (one process per GPU) instead
    counts = Counts()
    units = shard(expand(args.input, args.text_field, counts), args.num_shards, args.shard_index)
    resume = resume_point(args.out, units, shard_text(args))
    reader = Reader(args.text_field, args.separator, args.max_bytes, counts)
    known_total = all(u.kind == "py" for u in units) and resume is None
    bar = tqdm(total=len(units) if known_total else None, desc="keep" if keep else "score", unit="file",
               dynamic_ncols=True)
    start, read_bytes = time.time(), 0
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "a", encoding="utf-8") as out:
        try:
            for batch, scores in in_order(score_batch, batched(reader.documents(units, resume)), workers,
                                          initializer=init_scorer, initargs=(str(classifier), args.device)):
                records = []
                for (label, text), value in zip(batch, scores):
                    size = len(text.encode("utf-8"))
                    read_bytes += size
                    counts["bytes_scored"] += size
                    if not keep:
                        records.append({"path": label, "score": value, "bytes": size})
                    elif value >= threshold:
                        records.append({"text": text, "path": label, "score": value, "bytes": size})
                        counts["kept"] += 1
                        counts["bytes_kept"] += size
                append_records(out, records)
                bar.update(len(batch))
                bar.set_postfix(MB_s=f"{read_bytes / 1e6 / max(1e-9, time.time() - start):.2f}", refresh=False)
        except KeyboardInterrupt:
            raise SystemExit(f"interrupted: what is done is safe in {args.out}; rerun the same command to continue")
        finally:
            bar.close()
    summarize(counts, start, args.out, resume)
    return counts


def summarize(counts, start, out, resume=None):
    seconds = time.time() - start
    summary = {key: counts[key] for key in sorted(counts)}
    summary.update(seconds=round(seconds, 1), files_per_second=round(counts["documents"] / max(seconds, 1e-9), 1))
    if resume:
        summary["resumed_after"] = resume
    print(json.dumps(summary), file=sys.stderr)
    for problem in counts.problems:
        print("  " + problem, file=sys.stderr)
    print(f"-> {out}", file=sys.stderr)


def shard_text(args):
    return f" of shard {args.shard_index} of {args.num_shards}" if args.num_shards > 1 else ""


# ----------------------------------------------------------------------------------------------------------
# Command line

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:2]))
    commands = parser.add_subparsers(dest="command", required=True)
    world = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))  # torchrun: one shard a rank
    for name, help_text in [("annotate", "label a random sample 0-5 (rubric, or a teacher LLM)"),
                            ("score", "score every document"), ("keep", "write the documents that score high")]:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--input", nargs="+", required=True, help="folders, .py, .jsonl, .parquet or text files; "
                         "`stdlib` and `site-packages` for this Python's own")
        sub.add_argument("--out", required=True, help="output .jsonl (appended to; a rerun resumes)")
        sub.add_argument("--text_field", default="text", help="JSONL field or parquet column with the text")
        sub.add_argument("--separator", default=EOT, help="plain text: the line that ends a document")
        sub.add_argument("--max_bytes", type=int, default=MAX_BYTES, help="larger documents are skipped")
        sub.add_argument("--num_shards", type=int, default=world[0], help="split the inputs into this many parts")
        sub.add_argument("--shard_index", type=int, default=world[1], help="the part this process does")
        if name == "annotate":
            sub.add_argument("--n", type=int, default=20000, help="documents to annotate")
            sub.add_argument("--seed", type=int, default=0, help="which random sample")
            sub.add_argument("--teacher", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
            sub.add_argument("--model", help="the model the teacher endpoint serves")
            sub.add_argument("--timeout", type=float, default=120.0, help="seconds per teacher request")
            sub.add_argument("--retries", type=int, default=5, help="retries on 429/5xx/timeouts, with backoff")
            sub.add_argument("--workers", type=int, default=None,
                             help="rubric processes (default: every core) or concurrent teacher requests (8)")
        else:
            sub.add_argument("--classifier", help="from `train` (default: data/code/filter.pt, built on first use)")
            sub.add_argument("--workers", type=int, default=os.cpu_count(), help="scoring processes")
            sub.add_argument("--device", default="cuda" if world[0] > 1 and os.environ.get("LOCAL_RANK") else "cpu",
                             help="for --embed classifiers: cpu, cuda, cuda:N")
        if name == "keep":
            how = sub.add_mutually_exclusive_group(required=True)
            how.add_argument("--threshold", type=float, help="keep documents scoring at least this (0-5)")
            how.add_argument("--keep_fraction", type=float, help="keep the top fraction, by the classifier's sample")
    sub = commands.add_parser("train", help="learn the labels: a regressor on hashed n-grams or embeddings")
    sub.add_argument("--labels", required=True, help="from annotate")
    sub.add_argument("--out", required=True, help="the classifier file, e.g. filter.pt")
    sub.add_argument("--embed", help="features from this model: a nanophi run's out_dir or a phi checkpoint")
    sub.add_argument("--threshold", type=float, default=3.0, help="the score that counts as educational (F1)")
    sub.add_argument("--heldout", type=float, default=0.1, help="fraction of labels held out for agreement")
    sub.add_argument("--hidden", type=int, help="hidden layer width, 0 for linear (default: 0 hashed, 32 --embed)")
    sub.add_argument("--epochs", type=int, help="passes over the labels (default: 8 hashed, 30 --embed)")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--workers", type=int, default=os.cpu_count(), help="feature processes")
    sub.add_argument("--device", default="cpu", help="for --embed: cpu, cuda, cuda:N")
    args = parser.parse_args(argv)
    if args.command != "train":
        if not 0 <= args.shard_index < args.num_shards:
            parser.error(f"--shard_index {args.shard_index} must be in [0, --num_shards {args.num_shards})")
        if "{shard_index}" in args.out:
            args.out = args.out.format(shard_index=args.shard_index)
        elif world[0] > 1 and args.num_shards == world[0]:
            parser.error("under torchrun every rank needs its own output: put {shard_index} in --out")
    if args.command == "annotate":
        if args.n < 1:
            parser.error(f"--n must be at least 1, got {args.n}")
        if args.teacher and not args.model:
            parser.error("--teacher needs --model NAME (the model the endpoint serves)")
        args.workers = args.workers or (8 if args.teacher else os.cpu_count())
    if args.command == "keep" and args.keep_fraction is not None and not 0 < args.keep_fraction <= 1:
        parser.error(f"--keep_fraction {args.keep_fraction} must be in (0, 1]")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.command == "annotate":
        annotate(args)
    elif args.command == "train":
        train(args.labels, args.out, args.embed, args.threshold, args.heldout, args.hidden, args.epochs,
              args.workers, args.seed, args.device)
    else:
        score(args, keep=args.command == "keep")


if __name__ == "__main__":
    main()
