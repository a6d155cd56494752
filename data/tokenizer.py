"""Tokenizers: a from-scratch byte-level BPE trainer, and one loader for every vocabulary nanophi uses.

    tok = load_tokenizer("codegen" | "gpt2" | "path/to/vocab.tiktoken")
    tok.encode(text) -> list[int]; tok.decode(ids) -> str; tok.eot; tok.vocab_size

    python data/tokenizer.py train --input FILE [FILE ...] --vocab_size N --out PATH.tiktoken

The trainer writes tiktoken's rank-file format, so tiktoken (Rust) does all the encoding at run time; this
file only trains ranks and wraps tiktoken. The specs, their ids and sizes, and the trainer: data/README.md.
"""
import argparse
import base64
import functools
import heapq
import os
import re
import sys
import time
from collections import Counter, defaultdict

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tqdm import tqdm

if __package__ in (None, ""):  # run as `python data/tokenizer.py`: the imports need the repository root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from data.documents import EOT, SourceReport, iter_sources  # noqa: E402
from files import write_bytes  # noqa: E402

# GPT-2's pre-tokenisation regex, as tiktoken writes it (possessive quantifiers: same splits, faster). The
# trainer splits words with this pattern and tiktoken encodes with it, so both see the same words.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""

# phi's extra tokens (CodeGen's `add_tokens`): 31..2 spaces are ids 50257..50286, 9..2 tabs are 50287..50294.
CODEGEN_WHITESPACE_IDS = {" " * n: 50257 + 31 - n for n in range(31, 1, -1)} | {
    "\t" * n: 50287 + 9 - n for n in range(9, 1, -1)}
# Greedy quantifiers take the longest run first, exactly like Hugging Face's leftmost-longest match:
# 33 spaces are [31 spaces][2 spaces], 32 spaces are [31 spaces] and a single space left to BPE.
CODEGEN_WHITESPACE_RUN = re.compile(r" {2,31}|\t{2,9}")
GPT2_EOT_ID = 50256
CODEGEN_VOCAB_SIZE = 51200  # phi's embedding has 51200 rows; ids 50295..51199 are padding, never produced

GPT2_RANKS_ENV = "NANOPHI_GPT2_RANKS"  # a local gpt2 rank file, for machines without network access


# ----------------------------------------------------------------------------------------------------------
# Training


def count_words(texts):
    """Count GPT-2 pre-tokenised words (as UTF-8 bytes) over an iterable of documents."""
    import regex  # tiktoken's own dependency; Python's `re` has no \p{L}

    split = regex.compile(GPT2_SPLIT_PATTERN)
    counts = Counter()
    for text in texts:
        counts.update(split.findall(text))
    return {word.encode("utf-8"): n for word, n in counts.items()}


def merge_pair(tokens, a, b, new_id):
    """Replace every (a, b) in `tokens` by new_id, left to right (so "aaa" with (a, a) gives [aa, a])."""
    out, i = [], 0
    while i < len(tokens):
        if i + 1 < len(tokens) and tokens[i] == a and tokens[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


def train_bpe(word_counts, vocab_size, show_progress=False):
    """Learn byte-level BPE merges from {word bytes: count}; returns the token bytes, index = rank.

    Ranks 0..255 are the single bytes in byte order, then one rank per merge, so the vocabulary including
    <|endoftext|> has `vocab_size` entries (fewer if the words run out of pairs to merge).
    Each step merges the most frequent adjacent pair; equal counts go to the pair with the smallest
    (left id, right id), so training is deterministic.

    Only the words that contain the merged pair are touched per step (pair -> words index), and the best pair
    comes from a heap whose stale entries are fixed when they surface. That works because a merge only ever
    lowers the counts of existing pairs and creates new pairs (those holding the new token): every heap entry
    stays an upper bound of its pair's true count, so an entry that is still exact when popped is the best.
    """
    if vocab_size < 257:
        raise ValueError(f"vocab_size {vocab_size} is too small: 256 byte tokens + <|endoftext|> need 257")
    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    pair_counts = defaultdict(int)
    words_with_pair = defaultdict(set)
    for wi, (word, freq) in enumerate(zip(words, freqs)):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += freq
            words_with_pair[pair].add(wi)
    heap = [(-count, a, b) for (a, b), count in pair_counts.items()]
    heapq.heapify(heap)

    tokens = [bytes([i]) for i in range(256)]
    known = set(tokens)
    n_merges = vocab_size - 257
    bar = tqdm(total=n_merges, desc="merges", disable=not show_progress, dynamic_ncols=True)
    while len(tokens) - 256 < n_merges and heap:
        neg_count, a, b = heapq.heappop(heap)
        count = pair_counts.get((a, b), 0)
        if count != -neg_count:  # stale: re-queue with the true count (if the pair still exists)
            if count > 0:
                heapq.heappush(heap, (-count, a, b))
            continue
        new_token = tokens[a] + tokens[b]
        # tiktoken ranks tokens by their bytes, so two merges making the same bytes could not both be written.
        # Never seen (the tests check the trainer against tiktoken), but refuse rather than write a wrong file.
        if new_token in known:
            raise RuntimeError(f"BPE produced the token {new_token!r} twice; the rank file would be ambiguous")
        new_id = len(tokens)
        tokens.append(new_token)
        known.add(new_token)

        created = set()
        for wi in words_with_pair.pop((a, b)):
            old, freq = words[wi], freqs[wi]
            new = merge_pair(old, a, b, new_id)
            words[wi] = new
            old_pairs, new_pairs = list(zip(old, old[1:])), list(zip(new, new[1:]))
            for pair in old_pairs:
                pair_counts[pair] -= freq
            for pair in new_pairs:
                pair_counts[pair] += freq
            old_set, new_set = set(old_pairs), set(new_pairs)
            for pair in old_set - new_set:
                if pair in words_with_pair:
                    words_with_pair[pair].discard(wi)
                if pair_counts[pair] == 0:
                    del pair_counts[pair]
                    words_with_pair.pop(pair, None)
            for pair in new_set - old_set:
                words_with_pair[pair].add(wi)
                created.add(pair)
        for pair in sorted(created):  # pairs with the new token: pushed once, with their complete count
            heapq.heappush(heap, (-pair_counts[pair], *pair))
        bar.update(1)
    bar.close()
    return tokens


def save_ranks(tokens, path):
    """Write tiktoken's rank file (base64 token bytes, space, rank; one per line), atomically."""
    lines = "".join(f"{base64.b64encode(token).decode()} {rank}\n" for rank, token in enumerate(tokens))
    write_bytes(path, lines.encode())


def read_ranks(path):
    """Read a tiktoken rank file into {token bytes: rank}.

    Parsed here rather than with tiktoken.load.load_tiktoken_bpe: that function caches every path it reads
    under the path's name, so a vocabulary retrained to the same file would silently load the old ranks.
    """
    ranks = {}
    with open(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
            except ValueError:
                raise SystemExit(f"{path}:{line_no} is not a tiktoken rank line ('<base64 bytes> <rank>'): "
                                 f"{line[:60]!r}") from None
    _check_ranks(ranks, path)
    return ranks


def _check_ranks(ranks, source):
    # byte-level BPE must be able to spell any byte, and ranks must be the ids 0..n-1
    if sorted(ranks.values()) != list(range(len(ranks))):
        raise SystemExit(f"{source}: ranks are not exactly 0..{len(ranks) - 1}; not a byte-level BPE rank file")
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise SystemExit(f"{source}: {len(missing)} single bytes have no rank (e.g. {bytes([missing[0]])!r}); "
                         "not a byte-level BPE rank file")


# ----------------------------------------------------------------------------------------------------------
# Loading


class Tokenizer:
    """A tiktoken Encoding plus nanophi's conventions: no special tokens are ever parsed from text (the string
    "<|endoftext|>" in a document is ordinary text), documents are separated by the id `eot`, and
    `vocab_size` is the number of embedding rows the model needs (ids >= n_tokens are padding)."""

    def __init__(self, encoding, eot, vocab_size, whitespace_ids=None):
        self.encoding = encoding
        self.eot = eot
        self.n_tokens = encoding.max_token_value + 1
        self.vocab_size = vocab_size
        self.whitespace_ids = whitespace_ids  # codegen only: runs of spaces/tabs matched before BPE

    def encode(self, text):
        if self.whitespace_ids is None:
            return self.encoding.encode_ordinary(text)
        ids, start = [], 0
        for run in CODEGEN_WHITESPACE_RUN.finditer(text):
            if run.start() > start:
                ids += self.encoding.encode_ordinary(text[start:run.start()])
            ids.append(self.whitespace_ids[run.group()])
            start = run.end()
        if start < len(text):
            ids += self.encoding.encode_ordinary(text[start:])
        return ids

    def decode(self, ids):
        ids = [int(i) for i in ids]
        if not ids or (min(ids) >= 0 and max(ids) < self.n_tokens):
            return self.encoding.decode(ids)
        bad = next((i for i in ids if not 0 <= i < self.vocab_size), None)
        if bad is not None:
            raise ValueError(f"token id {bad} is outside this tokenizer's vocabulary (0..{self.vocab_size - 1})")
        # padding rows of the embedding (a model may still sample them): shown as U+FFFD, like invalid bytes
        pieces, real = [], []
        for i in ids:
            if i < self.n_tokens:
                real.append(i)
            else:
                pieces.append(self.encoding.decode_bytes(real) + "\ufffd".encode())
                real = []
        pieces.append(self.encoding.decode_bytes(real))
        return b"".join(pieces).decode("utf-8", errors="replace")


def load_tokenizer(spec):
    """spec: "codegen" (phi's tokenizer), "gpt2", or the path of a rank file made by `train`."""
    spec = str(spec)
    if spec == "gpt2":
        encoding = tiktoken.Encoding("gpt2", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=gpt2_ranks(),
                                     special_tokens={EOT: GPT2_EOT_ID})
        return Tokenizer(encoding, eot=GPT2_EOT_ID, vocab_size=GPT2_EOT_ID + 1)
    if spec == "codegen":
        specials = {EOT: GPT2_EOT_ID} | CODEGEN_WHITESPACE_IDS  # special only so that tiktoken decodes them
        encoding = tiktoken.Encoding("codegen", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=gpt2_ranks(),
                                     special_tokens=specials)
        return Tokenizer(encoding, eot=GPT2_EOT_ID, vocab_size=CODEGEN_VOCAB_SIZE,
                         whitespace_ids=CODEGEN_WHITESPACE_IDS)
    if not os.path.isfile(spec):
        raise SystemExit(f"tokenizer {spec!r} is neither 'codegen', 'gpt2' nor an existing rank file; train one "
                         "with: python data/tokenizer.py train --input FILE --vocab_size N --out PATH.tiktoken")
    ranks = read_ranks(spec)
    eot = len(ranks)
    encoding = tiktoken.Encoding(os.path.basename(spec), pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks,
                                 special_tokens={EOT: eot})
    return Tokenizer(encoding, eot=eot, vocab_size=eot + 1)


def gpt2_ranks():
    """GPT-2's 50256 BPE ranks: from $NANOPHI_GPT2_RANKS if set, else through tiktoken (download, then cache)."""
    return _gpt2_ranks(os.environ.get(GPT2_RANKS_ENV) or None)


@functools.lru_cache(maxsize=4)
def _gpt2_ranks(local_path):
    if local_path is not None:
        if os.path.isdir(local_path):  # a Hugging Face gpt2/codegen/phi tokenizer folder
            vocab, merges = os.path.join(local_path, "vocab.json"), os.path.join(local_path, "merges.txt")
            if not (os.path.isfile(vocab) and os.path.isfile(merges)):
                raise SystemExit(f"${GPT2_RANKS_ENV}={local_path} is a folder without vocab.json and merges.txt")
            try:
                ranks = data_gym_to_mergeable_bpe_ranks(merges, vocab)
            except AssertionError:
                raise SystemExit(f"{local_path}: vocab.json and merges.txt disagree; not a GPT-2 BPE") from None
            _check_ranks(ranks, local_path)
            return ranks
        if not os.path.isfile(local_path):
            raise SystemExit(f"${GPT2_RANKS_ENV}={local_path} does not exist")
        return read_ranks(local_path)
    from tiktoken_ext.openai_public import gpt2

    try:
        return gpt2()["mergeable_ranks"]
    except Exception as e:  # no network and no cache: tiktoken's own error would be a requests traceback
        raise SystemExit(
            f"GPT-2 BPE ranks are not available ({type(e).__name__}): run once with network access (tiktoken "
            f"caches them; set TIKTOKEN_CACHE_DIR to keep the cache somewhere lasting), or set {GPT2_RANKS_ENV} "
            "to a gpt2 .tiktoken rank file or a Hugging Face tokenizer folder with vocab.json and merges.txt"
        ) from None


# ----------------------------------------------------------------------------------------------------------
# Command line


def train_command(inputs, vocab_size, out, text_field="text"):
    reports = [SourceReport(path) for path in inputs]
    t0 = time.perf_counter()
    with tqdm(total=sum(os.path.getsize(p) for p in inputs), unit="B", unit_scale=True,
              desc="counting words", dynamic_ncols=True) as bar:
        def documents():
            for text, bytes_read in iter_sources(reports, text_field=text_field):
                bar.update(bytes_read - bar.n)
                yield text

        word_counts = count_words(documents())
    t1 = time.perf_counter()
    for report in reports:
        print(report.describe())
    tokens = train_bpe(word_counts, vocab_size, show_progress=True)
    t2 = time.perf_counter()
    save_ranks(tokens, out)
    print(f"{len(word_counts):,} distinct words; counting took {t1 - t0:.1f}s, merging {t2 - t1:.1f}s")
    if len(tokens) + 1 < vocab_size:
        print(f"note: the text ran out of pairs to merge: {len(tokens) + 1} tokens instead of {vocab_size}")
    print(f"wrote {out}: {len(tokens)} ranks + {EOT} = {len(tokens) + 1} tokens")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a byte-level BPE vocabulary")
    train.add_argument("--input", nargs="+", required=True,
                       help="JSONL files (.jsonl: one JSON object per line) or plain text files (documents "
                            f"separated by {EOT} lines)")
    train.add_argument("--vocab_size", type=int, required=True, help="tokens including <|endoftext|>")
    train.add_argument("--out", required=True, help="rank file to write (.tiktoken)")
    train.add_argument("--text_field", default="text", help="JSONL field holding the text")
    args = parser.parse_args(argv)
    for path in args.input:
        if not os.path.isfile(path):
            parser.error(f"input {path} does not exist")
    if args.vocab_size < 257:
        parser.error(f"--vocab_size {args.vocab_size} is too small: 256 byte tokens + {EOT} need 257")
    train_command(args.input, args.vocab_size, args.out, args.text_field)


if __name__ == "__main__":
    main()
