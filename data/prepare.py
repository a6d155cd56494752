"""Tokenise a corpus into train.bin / val.bin token shards and meta.json, for data/loader.py.

    python data/prepare.py --input data/tinystories/stories.jsonl --tokenizer data/tinystories/tok.tiktoken \
        --out_dir data/tinystories

The inputs are read by data/documents.py and streamed: only a few batches of documents are in memory at any
time. Worker processes tokenise the batches and imap hands them back in input order, so the shards are the same
bytes whatever the number of workers. The shard layout, the split rule and meta.json: data/README.md.
"""
import argparse
import dataclasses
import hashlib
import multiprocessing
import os
import sys

import numpy as np
from tqdm import tqdm

if __package__ in (None, ""):  # run as `python data/prepare.py`: the `data.` imports need the repository root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from data.documents import EOT, SourceReport, iter_sources
from data.tokenizer import load_tokenizer
from files import atomic_write, file_sha256, write_json


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
    total = sum(os.path.getsize(r.path) for r in reports)

    def batches():
        texts = []
        for text, bytes_read in iter_sources(reports, text_field, separator):
            texts.append(text)
            if len(texts) == batch_docs:
                yield texts, bytes_read
                texts = []
        if texts:
            yield texts, total

    os.makedirs(out_dir, exist_ok=True)
    final = {split: os.path.join(out_dir, f"{split}.bin") for split in ("train", "val")}
    meta_path = os.path.join(out_dir, "meta.json")
    counts = {split: {"documents": 0, "tokens": 0} for split in final}
    last_train_doc = 0  # its length in tokens, in case val ends up empty and it has to move there
    with atomic_write(final["train"], "w+b") as train_file, atomic_write(final["val"], "w+b") as val_file:
        files = {"train": train_file, "val": val_file}
        results = _tokenize_all(batches(), (tokenizer, dtype, val_fraction), workers)
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
            _move_tail(train_file, val_file, last_train_doc * itemsize)
            for split, sign in (("train", -1), ("val", 1)):
                counts[split]["documents"] += sign
                counts[split]["tokens"] += sign * last_train_doc
        if os.path.exists(meta_path):  # a crash between here and the new meta.json must not pair old and new
            os.remove(meta_path)

    meta = {
        "tokenizer": str(tokenizer),
        "tokenizer_sha256": file_sha256(tokenizer) if os.path.isfile(str(tokenizer)) else None,
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
