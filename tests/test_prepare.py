import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from data.documents import SourceReport, iter_documents
from data import loader as loader_module
from data.loader import TokenLoader
from data.prepare import prepare
from data.tokenizer import count_words, load_tokenizer, save_ranks, train_bpe
from test_documents import write_damaged_corpus

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """test_documents' damaged JSONL and text files, and a small BPE trained on their documents."""
    root = tmp_path_factory.mktemp("corpus")
    corpus = write_damaged_corpus(root)
    tok_path = root / "tok.tiktoken"
    save_ranks(train_bpe(count_words(corpus["expected"]), 320), tok_path)
    return corpus | {"tokenizer": str(tok_path)}


@pytest.fixture(scope="module")
def prepared(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared")
    meta = prepare(corpus["inputs"], corpus["tokenizer"], out, val_fraction=0.1, workers=2, batch_docs=16)
    return out, meta


def read_shard(out, split):
    return np.fromfile(out / f"{split}.bin", dtype=np.uint16)


def documents_in(tokens, tok):
    """The documents of a shard: the text before each <|endoftext|>."""
    return [tok.decode(d[:-1]) for d in np.split(tokens, np.flatnonzero(tokens == tok.eot) + 1)[:-1]]


def test_meta_counts_match_shards(corpus, prepared):
    out, meta = prepared
    tok = load_tokenizer(corpus["tokenizer"])
    assert meta == json.loads((out / "meta.json").read_text())
    assert meta["dtype"] == "uint16" and meta["vocab_size"] == 320 and meta["eot"] == tok.eot
    for split in ("train", "val"):
        tokens = read_shard(out, split)
        assert len(tokens) == meta[split]["tokens"]
        assert int((tokens == tok.eot).sum()) == meta[split]["documents"]
        assert tokens[-1] == tok.eot
    assert meta["train"]["documents"] + meta["val"]["documents"] == len(corpus["expected"])
    assert meta["val"]["documents"] > 0 and meta["train"]["documents"] > meta["val"]["documents"]


def test_every_document_arrives_once(corpus, prepared):
    out, _ = prepared
    tok = load_tokenizer(corpus["tokenizer"])
    train, val = documents_in(read_shard(out, "train"), tok), documents_in(read_shard(out, "val"), tok)
    assert sorted(train + val) == sorted(corpus["expected"])
    assert train == [d for d in corpus["expected"] if d not in val]  # input order is kept
    assert not set(train) & set(val)  # the duplicated document sits on one side only


def test_meta_records_what_reading_each_source_found(corpus, prepared):
    _, meta = prepared
    reports = [SourceReport(path) for path in corpus["inputs"]]
    for report in reports:
        list(iter_documents(report))
    assert meta["sources"] == [dataclasses.asdict(r) for r in reports]
    assert meta["sources"][0]["bad_lines"] == 4  # the damage was there to record


def test_same_input_same_bytes(corpus, prepared, tmp_path):
    out, _ = prepared
    prepare(corpus["inputs"], corpus["tokenizer"], tmp_path, val_fraction=0.1, workers=1, batch_docs=7)
    for name in ("train.bin", "val.bin", "meta.json"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    assert sorted(os.listdir(tmp_path)) == ["meta.json", "train.bin", "val.bin"]  # no temporary files left


def test_command_line_gives_the_same_bytes(corpus, prepared, tmp_path):
    out, _ = prepared
    result = subprocess.run([sys.executable, "data/prepare.py", "--input", *corpus["inputs"], "--tokenizer",
                             corpus["tokenizer"], "--out_dir", str(tmp_path), "--val_fraction", "0.1",
                             "--workers", "2"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "skipped unreadable lines: 4" in result.stdout
    for name in ("train.bin", "val.bin", "meta.json"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_small_corpus_still_gets_a_val_document(corpus, tmp_path):
    (tmp_path / "two.jsonl").write_text('{"text": "first doc"}\n{"text": "second doc"}\n')
    meta = prepare([tmp_path / "two.jsonl"], corpus["tokenizer"], tmp_path, val_fraction=0.0, workers=1)
    assert (meta["train"]["documents"], meta["val"]["documents"]) == (1, 1)
    tok = load_tokenizer(corpus["tokenizer"])
    assert tok.decode(read_shard(tmp_path, "val")[:-1]) == "second doc"
    assert tok.decode(read_shard(tmp_path, "train")[:-1]) == "first doc"
    assert meta["train"]["tokens"] == len(read_shard(tmp_path, "train"))


def test_no_documents_is_a_clear_error(corpus, tmp_path):
    (tmp_path / "bad.jsonl").write_text("nope\n")
    with pytest.raises(SystemExit, match="no documents"):
        prepare([tmp_path / "bad.jsonl"], corpus["tokenizer"], tmp_path, workers=1)
    assert os.listdir(tmp_path) == ["bad.jsonl"]


# ---------------------------------------------------------------------------------------------- loader


def test_loader_windows_are_shifted_slices(prepared):
    out, _ = prepared
    tokens = read_shard(out, "train")
    loader = TokenLoader(out / "train.bin", block_size=16, batch_size=4, seed=1)
    x, y = loader.next_batch()
    assert x.dtype == y.dtype == torch.int64 and x.shape == y.shape == (4, 16)
    assert torch.equal(x[:, 1:], y[:, :-1])
    for o, row in zip(loader.window_offsets(0, 4), x):
        assert row.tolist() == tokens[o:o + 16].tolist()


def test_loader_ranks_split_one_stream(prepared):
    """One process, 4 calls == 2 ranks x 2 calls with the same batch size: the same windows, step by step."""
    out, _ = prepared
    single = TokenLoader(out / "train.bin", 8, batch_size=3, seed=5)
    ranks = [TokenLoader(out / "train.bin", 8, batch_size=3, rank=r, world_size=2, seed=5) for r in (0, 1)]
    single_batches = [single.next_batch()[0] for _ in range(4)]
    for step in range(2):
        rank_batches = [r.next_batch()[0] for r in ranks]
        assert torch.equal(torch.cat(rank_batches), torch.cat(single_batches[2 * step:2 * step + 2]))
    assert not torch.equal(rank_batches[0], rank_batches[1])  # ranks see different data
    # the stream depends on (seed, window index) only: other batch sizes read the same windows
    other = TokenLoader(out / "train.bin", 8, batch_size=4, seed=5)
    assert torch.equal(torch.cat([other.next_batch()[0] for _ in range(3)]), torch.cat(single_batches))
    assert not torch.equal(TokenLoader(out / "train.bin", 8, batch_size=3, seed=6).next_batch()[0],
                           single_batches[0])


def test_loader_state_resumes_exact_stream(prepared):
    out, _ = prepared
    loader = TokenLoader(out / "train.bin", 8, batch_size=2, rank=1, world_size=2, seed=3)
    for _ in range(1500):  # past a block of drawn offsets
        loader.next_batch()
    state = loader.state_dict()
    assert all(type(v) is int for v in state.values())
    expected = [loader.next_batch() for _ in range(3)]
    resumed = TokenLoader(out / "train.bin", 8, batch_size=2, rank=1, world_size=2, seed=0)
    resumed.load_state_dict(json.loads(json.dumps(state)))
    for x, y in expected:
        rx, ry = resumed.next_batch()
        assert torch.equal(x, rx) and torch.equal(y, ry)


def test_loader_errors_are_clear(prepared, tmp_path):
    out, meta = prepared
    with pytest.raises(ValueError, match="fewer than block_size"):
        TokenLoader(out / "val.bin", block_size=meta["val"]["tokens"], batch_size=1)
    (tmp_path / "train.bin").write_bytes(b"\0" * 10)
    with pytest.raises(FileNotFoundError, match="prepare.py"):
        TokenLoader(tmp_path / "train.bin", 4, 1)


def test_aligned_windows_start_only_where_documents_do(tmp_path, monkeypatch):
    eot = 99
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 50, size=n).tolist() + [eot] for n in rng.integers(1, 30, size=60)]
    tokens = np.array([t for d in docs for t in d], dtype=np.uint16)
    tokens.tofile(tmp_path / "train.bin")
    (tmp_path / "meta.json").write_text(json.dumps({"dtype": "uint16"}))
    block = 12
    # brute force: offset 0 and every offset after a separator, where a whole window still fits
    expected = {0} | {i + 1 for i, t in enumerate(tokens) if t == eot and i + 1 + block + 1 <= len(tokens)}
    monkeypatch.setattr(loader_module, "SCAN_CHUNK", 7)  # chunk edges fall inside documents and on separators
    loader = TokenLoader(tmp_path / "train.bin", block, batch_size=16, seed=2, align_to=eot)
    seen = set()
    for _ in range(200):
        first = loader.next_window
        x, _ = loader.next_batch()
        offsets = loader.window_offsets(first, 16)
        seen |= set(offsets.tolist())
        assert all(row.tolist() == tokens[o:o + block].tolist() for o, row in zip(offsets, x))
    assert seen == expected  # every document start, and nothing else
    unaligned = TokenLoader(tmp_path / "train.bin", block, batch_size=64, seed=2)
    assert not set(unaligned.window_offsets(0, 64).tolist()) <= expected
