import base64
import os
import random
import subprocess
import sys
from collections import Counter

import pytest
import regex
from hypothesis import given, settings, strategies as st

import data.tokenizer as T
from data.tokenizer import (CODEGEN_WHITESPACE_IDS, EOT, GPT2_SPLIT_PATTERN, count_words, load_tokenizer,
                            read_ranks, save_ranks, train_bpe)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CORPUS = """Once upon a time, a little fox found a shiny red ball. "Can I play?" asked the bird.
They're happy; we'll see. 12345 apples cost $3.50!  Two  spaces,\tand\ttabs.
def add(a, b):
    return a + b

class Tree:
    def __init__(self):
        self.children = []   # 漢字 テキスト 😀 naïve café e\u0301
"""


def naive_bpe(word_counts, vocab_size):
    """Reference BPE: recount every pair from scratch before each merge. Same tie rule as train_bpe: the most
    frequent pair, then the smallest (left id, right id). Returns token bytes by rank and each word's tokens."""
    words = {w: list(w) for w in word_counts}
    tokens = [bytes([i]) for i in range(256)]
    while len(tokens) + 1 < vocab_size:
        counts = Counter()
        for w, ids in words.items():
            for pair in zip(ids, ids[1:]):
                counts[pair] += word_counts[w]
        if not counts:
            break
        (a, b), _ = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        tokens.append(tokens[a] + tokens[b])
        words = {w: T.merge_pair(ids, a, b, len(tokens) - 1) for w, ids in words.items()}
    return tokens, words


def text_corpus():
    rng = random.Random(0)
    words = ["the", "fox", "ball", "tree", "def", "return", "self", "漢字", "😀", "naïve", "12", "3.5", "x"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(40)] + [CORPUS]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "small.tiktoken"
    save_ranks(train_bpe(count_words(text_corpus()), 400), path)
    return str(path)


@pytest.fixture(scope="module")
def fake_gpt2_ranks(tmp_path_factory):
    """A small stand-in for GPT-2's rank file (the real one needs the network)."""
    path = tmp_path_factory.mktemp("gpt2") / "fake_gpt2.tiktoken"
    save_ranks(train_bpe(count_words(text_corpus() + [CORPUS * 3]), 700), path)
    return str(path)


@pytest.fixture(scope="module")
def codegen(fake_gpt2_ranks):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(T.GPT2_RANKS_ENV, fake_gpt2_ranks)
        return load_tokenizer("codegen")


# ---------------------------------------------------------------------------------------------- BPE trainer

SMALL_CORPORA = [
    {b"aaaa": 3, b"aaa": 2, b"aa": 1},  # overlapping merges of one byte: "aaa" with (a, a) is [aa, a]
    {b"abab": 2, b"baba": 2, b"abba": 1, b"bab": 3},  # many equal counts: the tie rule decides
    {b"low": 5, b"lower": 2, b"newest": 6, b"widest": 3},  # Sennrich et al.'s example
]


@pytest.mark.parametrize("word_counts", SMALL_CORPORA)
def test_trainer_equals_naive_reference_merge_by_merge(word_counts):
    expected, _ = naive_bpe(word_counts, 10_000)  # until the words run out of pairs
    assert train_bpe(word_counts, 10_000) == expected
    assert len(expected) > 256


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.binary(min_size=1, max_size=10).map(lambda b: bytes(c % 4 + 97 for c in b)),
                       st.integers(1, 6), min_size=1, max_size=12),
       st.integers(257, 300))
def test_trainer_equals_naive_reference_on_random_words(word_counts, vocab_size):
    assert train_bpe(word_counts, vocab_size) == naive_bpe(word_counts, vocab_size)[0]


def test_trainer_equals_naive_reference_on_text():
    word_counts = count_words(text_corpus())
    assert train_bpe(word_counts, 420) == naive_bpe(word_counts, 420)[0]


def test_tiktoken_encoding_equals_trainer_segmentation(tmp_path):
    """tiktoken merges by rank of the merged bytes; the trainer applied merges in order: same tokens."""
    docs = text_corpus()
    word_counts = count_words(docs)
    tokens, segmented = naive_bpe(word_counts, 420)
    save_ranks(tokens, tmp_path / "v.tiktoken")
    tok = load_tokenizer(tmp_path / "v.tiktoken")
    split = regex.compile(GPT2_SPLIT_PATTERN)
    for doc in docs:
        assert tok.encode(doc) == [t for w in split.findall(doc) for t in segmented[w.encode()]]


def test_rank_file_layout_and_vocab_size(trained, monkeypatch):
    ranks = read_ranks(trained)
    assert [ranks[bytes([b])] for b in range(256)] == list(range(256))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken's own reader, uncached: the format is tiktoken's
    import tiktoken.load
    assert tiktoken.load.load_tiktoken_bpe(trained) == ranks
    tok = load_tokenizer(trained)
    assert tok.vocab_size == 400 and tok.eot == 399 == len(ranks)
    assert tok.decode([tok.eot]) == EOT


def test_retrained_rank_file_is_reread(tmp_path):
    path = tmp_path / "v.tiktoken"
    save_ranks(train_bpe(count_words(["aaaa bbbb"]), 260), path)
    assert load_tokenizer(path).vocab_size == 260
    save_ranks(train_bpe(count_words(["aaaa bbbb"]), 262), path)
    assert load_tokenizer(path).vocab_size == 262


def test_training_stops_when_pairs_run_out():
    assert len(train_bpe({b"ab": 1}, 1000)) == 257


def test_too_small_vocab_is_rejected():
    with pytest.raises(ValueError, match="257"):
        train_bpe({b"ab": 1}, 100)


# ---------------------------------------------------------------------------------------------- round trips

FRAGMENTS = ["漢字かな", "한국어", "😀👩‍👩‍👧🏳️‍🌈", "e\u0301", "a\u0308\u0323", "\x00\x07\x1b\x7f\u200b\ufeff",
             " " * 40, "\t" * 13, " \t \t", "\r\n\r\n", "\n\n\n", EOT, "<|endoftext", "'s 'll", "x = 1"]
texts = st.lists(st.one_of(st.text(), st.sampled_from(FRAGMENTS)), max_size=8).map("".join)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_round_trip_trained(trained, text):
    tok = load_tokenizer(trained)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.eot not in ids


@settings(max_examples=150, deadline=None)
@given(texts)
def test_round_trip_codegen(codegen, text):
    ids = codegen.encode(text)
    assert codegen.decode(ids) == text
    assert codegen.eot not in ids and all(0 <= i < 50295 for i in ids)


def test_separator_string_is_plain_text(trained, codegen):
    for tok in (load_tokenizer(trained), codegen):
        ids = tok.encode(f"a{EOT}b")
        assert tok.eot not in ids and tok.decode(ids) == f"a{EOT}b"


def test_decode_padding_and_out_of_range_ids(codegen):
    hi = codegen.encode("hi")
    assert codegen.decode(hi + [51000] + hi) == "hi\ufffdhi"  # padding rows of the embedding
    assert codegen.decode([51199]) == "\ufffd"
    with pytest.raises(ValueError, match="51200"):
        codegen.decode([51200])
    with pytest.raises(ValueError, match="-1"):
        codegen.decode([-1])


# ---------------------------------------------------------------------------------------------- codegen


def test_codegen_ids_and_sizes(codegen):
    assert codegen.eot == 50256 and codegen.vocab_size == 51200
    assert CODEGEN_WHITESPACE_IDS[" " * 31] == 50257 and CODEGEN_WHITESPACE_IDS[" " * 2] == 50286
    assert CODEGEN_WHITESPACE_IDS["\t" * 9] == 50287 and CODEGEN_WHITESPACE_IDS["\t" * 2] == 50294
    assert sorted(CODEGEN_WHITESPACE_IDS.values()) == list(range(50257, 50295))
    for run, i in CODEGEN_WHITESPACE_IDS.items():
        assert codegen.encode(run) == [i] and codegen.decode([i]) == run


def test_codegen_whitespace_runs_are_matched_before_bpe(codegen):
    bpe = codegen.encoding.encode_ordinary
    ws = CODEGEN_WHITESPACE_IDS
    assert codegen.encode("    def") == [ws["    "]] + bpe("def")  # not BPE's ["   ", " def"]
    assert bpe("    def") != [ws["    "]] + bpe("def")
    assert codegen.encode("x  = 1") == bpe("x") + [ws["  "]] + bpe("= 1")
    assert codegen.encode("a b") == bpe("a b")  # one space is left to BPE
    assert codegen.encode(" " * 33) == [50257, 50286]  # longest first, then the rest
    assert codegen.encode(" " * 32 + "x") == [50257] + bpe(" x")  # a lone leftover space joins the next word
    assert codegen.encode(" " * 62) == [50257, 50257]
    assert codegen.encode("\t" * 11 + "y") == [50287, 50294] + bpe("y")
    assert codegen.encode(" \t\t ") == bpe(" ") + [50294] + bpe(" ")
    assert codegen.encode("if a:\n\t\treturn  b\n") == (
        bpe("if a:\n") + [50294] + bpe("return") + [50286] + bpe("b\n"))


def test_codegen_matches_hugging_face_added_tokens(codegen, fake_gpt2_ranks):
    """The same vocabulary as a Hugging Face tokenizer with CodeGen's added tokens: same tokens."""
    tokenizers = pytest.importorskip("tokenizers")
    ranks = read_ranks(fake_gpt2_ranks)
    by_rank = sorted(ranks, key=ranks.get)
    byte_char = _gpt2_byte_chars()
    as_chars = lambda b: "".join(byte_char[x] for x in b)  # noqa: E731
    merges = [tuple(as_chars(part) for part in _split_in_two(ranks, token)) for token in by_rank[256:]]
    hf = tokenizers.Tokenizer(tokenizers.models.BPE({as_chars(t): r for t, r in ranks.items()}, merges))
    hf.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    hf.add_tokens([" " * n for n in range(31, 1, -1)] + ["\t" * n for n in range(9, 1, -1)])
    assert hf.get_vocab_size() == len(ranks) + 38
    rng = random.Random(0)
    pieces = [" ", "\t", "\n", "def", "x", "=", "(", "é", "中", " \t", "\r\n", "return"]
    cases = ["    def", " " * 33 + "x", "a\n    b"] + [
        "".join(rng.choice(pieces) * rng.choice([1, 1, 2, 3, 5, 17, 40]) for _ in range(rng.randint(1, 10)))
        for _ in range(300)]
    ws_rank = {i: len(ranks) + k for k, i in enumerate(range(50257, 50295))}  # HF numbers added tokens next
    for text in cases:
        assert [ws_rank.get(i, i) for i in codegen.encode(text)] == hf.encode(text).ids, repr(text)


def _split_in_two(ranks, token):
    """The pair a merged token was made from: BPE of its bytes with only the ranks below its own."""
    parts = [bytes([b]) for b in token]
    while len(parts) > 2:
        rank, i = min((ranks.get(parts[i] + parts[i + 1], 1 << 30), i) for i in range(len(parts) - 1))
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def _gpt2_byte_chars():
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    others = [b for b in range(256) if b not in printable]
    return {**{b: chr(b) for b in printable}, **{b: chr(256 + k) for k, b in enumerate(others)}}


def test_gpt2_from_local_ranks(fake_gpt2_ranks, monkeypatch):
    monkeypatch.setenv(T.GPT2_RANKS_ENV, fake_gpt2_ranks)
    tok = load_tokenizer("gpt2")
    assert tok.eot == 50256 and tok.vocab_size == 50257
    assert tok.encode("    def") == tok.encoding.encode_ordinary("    def")


def test_gpt2_from_hugging_face_folder(tmp_path, monkeypatch):
    """vocab.json + merges.txt (GPT-2's own format, as in the phi checkpoints) work as the local GPT-2 ranks."""
    import json

    byte_char = _gpt2_byte_chars()
    single = sorted(range(256), key=lambda b: ord(byte_char[b]))  # GPT-2 ranks single bytes in this order
    merged = [b"th", b"the", b" the", b"in"]
    vocab = {byte_char[b]: rank for rank, b in enumerate(single)}
    vocab |= {"".join(byte_char[x] for x in m): 256 + k for k, m in enumerate(merged)} | {EOT: 260}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\nt h\nth e\nĠ the\ni n\n")
    monkeypatch.setenv(T.GPT2_RANKS_ENV, str(tmp_path))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken would otherwise cache these local files
    expected = {bytes([b]): rank for rank, b in enumerate(single)} | {m: 256 + k for k, m in enumerate(merged)}
    assert T.gpt2_ranks() == expected
    assert load_tokenizer("codegen").encode("    the") == [50284, 257]  # [4 spaces] ["the"]
    (tmp_path / "merges.txt").write_text("#version: 0.2\nt h\n")
    T._gpt2_ranks.cache_clear()
    with pytest.raises(SystemExit, match="disagree"):
        load_tokenizer("gpt2")


def test_gpt2_unavailable_offline_is_one_clear_line(monkeypatch):
    import tiktoken_ext.openai_public

    def offline():
        raise ConnectionError("Failed to resolve 'openaipublic.blob.core.windows.net'")

    monkeypatch.delenv(T.GPT2_RANKS_ENV, raising=False)
    monkeypatch.setattr(tiktoken_ext.openai_public, "gpt2", offline)
    T._gpt2_ranks.cache_clear()
    for spec in ("gpt2", "codegen"):
        with pytest.raises(SystemExit) as e:
            load_tokenizer(spec)
        message = str(e.value)
        assert "\n" not in message and T.GPT2_RANKS_ENV in message and "network" in message
    T._gpt2_ranks.cache_clear()


def test_bad_specs_are_clear(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match="data/tokenizer.py train"):
        load_tokenizer(tmp_path / "missing.tiktoken")
    (tmp_path / "junk.tiktoken").write_text("not a rank file\n")
    with pytest.raises(SystemExit, match="rank line"):
        load_tokenizer(tmp_path / "junk.tiktoken")
    (tmp_path / "short.tiktoken").write_text(f"{base64.b64encode(b'a').decode()} 0\n")
    with pytest.raises(SystemExit, match="single bytes"):
        load_tokenizer(tmp_path / "short.tiktoken")
    monkeypatch.setenv(T.GPT2_RANKS_ENV, str(tmp_path / "nowhere.tiktoken"))
    with pytest.raises(SystemExit, match="does not exist"):
        load_tokenizer("codegen")


# ---------------------------------------------------------------------------------------------- command line


def test_train_command_line(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "the cat sat on the mat"}\n{"oops": 1}\n{"text": "the cat ran"}\n')
    (tmp_path / "b.txt").write_text(f"the dog sat\n{EOT}\nthe dog ran away\n")
    out = tmp_path / "v.tiktoken"
    result = subprocess.run([sys.executable, "data/tokenizer.py", "train", "--input", str(tmp_path / "a.jsonl"),
                             str(tmp_path / "b.txt"), "--vocab_size", "270", "--out", str(out)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "skipped unreadable lines: 1" in result.stdout and "270 tokens" in result.stdout
    assert len(read_ranks(out)) == 269
    tok = load_tokenizer(out)
    assert tok.decode(tok.encode("the cat")) == "the cat" and len(tok.encode(" the cat")) < len(" the cat")
    # a separator line is a boundary, never text: nothing learned from it
    assert b"endoftext" not in read_ranks(out) and b"<|" not in read_ranks(out)


def test_train_command_line_errors(tmp_path):
    result = subprocess.run([sys.executable, "data/tokenizer.py", "train", "--input", str(tmp_path / "none.txt"),
                             "--vocab_size", "300", "--out", str(tmp_path / "v.tiktoken")],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
