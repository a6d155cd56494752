"""Filter real code by its educational value, as phi-1 filtered The Stack: annotate a sample, learn it, score all.

    python data/filter.py annotate --input SRC... --out labels.jsonl [--n 20000] [--teacher URL --model NAME]
    python data/filter.py train    --labels labels.jsonl --out filter.pt [--embed CKPT_OR_HF_DIR]
    python data/filter.py score    --input SRC... --out scores.jsonl [--classifier filter.pt]
    python data/filter.py keep     --input SRC... --out kept.jsonl (--threshold T | --keep_fraction F) \
        [--decontaminate]

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
   `keep` writes {"text", "path", "score", "bytes"} lines, ready for data/prepare.py; --decontaminate drops
   the ones that share a word 13-gram with a HumanEval prompt.

SRC is a folder (every *.py below it), a .py file, a .jsonl file (--text_field), a .parquet file (the format
of The Stack; --text_field content) or a plain text file (documents separated by a line <|endoftext|>); the
names `stdlib` and `site-packages` stand for the running Python's own (data/sources.py reads them all).
Without --classifier, score and keep build a default one on first use: the rubric annotates this Python's
standard library and site-packages, a linear model on hashed n-grams learns it, and both are saved under
data/code/ (delete data/code/filter.pt to build it again).

Outputs are appended one batch of lines at a time, each batch flushed and fsynced; a rerun of the same command
cuts a torn last line and goes on after the last document written. One bad input file never stops a run:
binary, undecodable, empty and oversized documents and unreadable files are skipped and counted.
"""
import argparse
import hashlib
import heapq
import json
import multiprocessing
import os
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from tqdm import tqdm

# OpenMP threads that spin while they wait slow everything down on a machine whose cores are busy (train.py
# measured 11x); waiting passively costs nothing. Set before torch starts OpenMP; a setting of your own wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if __package__ in (None, ""):  # run as `python data/filter.py`: the imports need the repository root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from data.documents import EOT
from data.rubric import PROMPT, extract, parse_answer, rubric
from data.sources import (BATCH_DOCS, MAX_BYTES, Counts, Reader, append_records, batched, expand, resume_point,
                          shard)
from files import REPO, iter_jsonl

DEFAULT_CLASSIFIER = REPO / "data" / "code" / "filter.pt"
DEFAULT_LABELS = REPO / "data" / "code" / "filter_labels.jsonl"
DEFAULT_SAMPLE = 6000  # files of the default pool the rubric annotates for the default classifier
POOL = ("stdlib", "site-packages")


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


_scorer = {}  # per worker process: the classifier, the embedding model of --embed ones, the decontaminator


def init_scorer(classifier_path, device, decontaminate_from=None):
    from data.features import Embedder, load_classifier
    from synthdata.quality import Decontaminator

    model, checkpoint = load_classifier(classifier_path)
    features = checkpoint["features"]
    if features["kind"] == "hashed":
        import torch
        torch.set_num_threads(1)  # tiny matrices: threads cost more than they save, and workers share the cores
    _scorer.update(model=model, embedder=Embedder(features["source"], device) if features["kind"] == "embed"
                   else None, decontaminator=Decontaminator() if decontaminate_from is not None else None,
                   decontaminate_from=decontaminate_from)
    if _scorer["embedder"] is not None and _scorer["embedder"].describe() != features:
        raise SystemExit(f"{classifier_path} was trained on embeddings of a different model than the one now at "
                         f"{features['source']}: train it again")


def score_batch(batch):
    """(score, shares a 13-gram with a HumanEval prompt) of each document; the second is checked only for
    scores from decontaminate_from up (the ones keep would write), else False."""
    from data.features import hashed_features, predict

    texts = [text for _, text in batch]
    features = _scorer["embedder"](texts) if _scorer["embedder"] else [hashed_features(t) for t in texts]
    decontaminator, start = _scorer["decontaminator"], _scorer["decontaminate_from"]
    scores = [round(float(s), 4) for s in predict(_scorer["model"], list(features))]
    return [(s, bool(decontaminator and s >= start and decontaminator.hits(text))) for s, text in zip(scores, texts)]


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
    """A function (label, text) -> (score, reason), or the name of the count it goes to when the request
    fails or the answer is not in the asked format (it is never guessed)."""
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
    """Label a random sample of the inputs with the rubric or a teacher; returns the counts."""
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
    with tqdm(desc="training", unit="step", dynamic_ncols=True) as bar:
        model = fit([features[i] for i in train_rows], labels[train_rows], sparse=not embed, hidden=hidden,
                    epochs=epochs, seed=seed, progress=bar)
    scores = predict(model, features)
    metrics = {"heldout": agreement(scores[held_rows], labels[held_rows], threshold),
               "train": agreement(scores[train_rows], labels[train_rows], threshold),
               "feature_seconds": round(feature_seconds, 1), "seconds": round(time.time() - start, 1)}
    # --keep_fraction reads its threshold off the held-out scores: the training documents' scores are closer
    # to their labels than an unseen document's would be
    save_classifier(out, model, features_info, threshold, metrics, scores[held_rows],
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
    """`score` (every document's path, score and size) or `keep` (the text too, of those at the threshold)."""
    from data.features import load_classifier, threshold_for_fraction

    classifier = args.classifier or default_classifier(args.workers)
    _, checkpoint = load_classifier(classifier)  # here first: a bad file stops the run before any work
    threshold = None
    if keep:
        threshold = args.threshold if args.threshold is not None else \
            threshold_for_fraction(checkpoint, args.keep_fraction)
        if args.keep_fraction is not None:
            # tied scores (many clipped to 0, say) can put more than the fraction asked for at the threshold
            sample = checkpoint["sample_scores"].numpy()
            print(f"keeping scores >= {threshold:.3f}, which {(sample >= threshold).mean():.1%} of the classifier's "
                  f"{len(sample)} held-out scores reach (--keep_fraction {args.keep_fraction:g})", file=sys.stderr)
    decontaminate = keep and args.decontaminate
    if decontaminate:
        from synthdata.quality import Decontaminator
        decontaminator = Decontaminator()
        if not decontaminator.available:
            print(f"WARNING: {decontaminator.reason}", file=sys.stderr)
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
    start = time.time()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "a", encoding="utf-8") as out:
        try:
            for batch, scores in in_order(score_batch, batched(reader.documents(units, resume)), workers,
                                          initializer=init_scorer,
                                          initargs=(str(classifier), args.device,
                                                    threshold if decontaminate else None)):
                records = []
                for (label, text), (value, contaminated) in zip(batch, scores):
                    size = len(text.encode("utf-8"))
                    counts["bytes_scored"] += size
                    if not keep:
                        records.append({"path": label, "score": value, "bytes": size})
                    elif contaminated:
                        counts["contaminated"] += 1
                    elif value >= threshold:
                        records.append({"text": text, "path": label, "score": value, "bytes": size})
                        counts["kept"] += 1
                        counts["bytes_kept"] += size
                append_records(out, records)
                bar.update(len(batch))
                bar.set_postfix(MB_s=f"{counts['bytes_scored'] / 1e6 / max(1e-9, time.time() - start):.2f}",
                                refresh=False)
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
            local_gpu = f"cuda:{os.environ['LOCAL_RANK']}" if "LOCAL_RANK" in os.environ else "cpu"
            sub.add_argument("--device", default=local_gpu, help="for --embed classifiers: cpu, cuda, cuda:N "
                             "(under torchrun: this rank's GPU)")
        if name == "keep":
            how = sub.add_mutually_exclusive_group(required=True)
            how.add_argument("--threshold", type=float, help="keep documents scoring at least this (0-5)")
            how.add_argument("--keep_fraction", type=float,
                             help="keep about this top fraction (the threshold comes from the classifier's held-out "
                             "sample)")
            sub.add_argument("--decontaminate", action="store_true",
                             help="drop documents sharing a word 13-gram with a HumanEval prompt (synth.py's gate)")
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
