"""The filter's classifier: features of a document and a small regressor that predicts its 0-5 score.

Features, as in phi-1 and its successors:
- hashed n-grams (the default; DCLM found a fastText classifier on hashed n-grams the best filter it tried):
  the extract is cut into words, numbers, punctuation runs and line breaks with their indentation; tokens and
  token pairs are hashed into BUCKETS slots, weighted 1 + log(count) and scaled to unit length. No model, fast
  on a CPU, and they see comments, docstrings, names and layout alike;
- an embedding model (`--embed`), as phi-1 did with CodeGen and FineWeb-Edu with an embedding model: the
  mean of the last hidden state (after the final LayerNorm) of a nanophi run or an official phi checkpoint,
  over all tokens of the extract, in chunks of the model's context (at most 1024 tokens).

The regressor is trained with mean squared error against the labels (FineWeb-Edu's regression head): linear on
hashed n-grams, as fastText is (an EmbeddingBag over the slots that training documents use), and with one
hidden layer, score = w . gelu(W x + b) + c, on embeddings. `agreement` measures it against held-out labels
(accuracy of the rounded score, F1 of score >= threshold, Spearman correlation); the classifier file holds the
weights, the feature settings, those numbers and the held-out scores, and loads with weights_only=True.
"""
import math
import os
import re
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from data.rubric import extract

FORMAT = "nanophi-filter"
VERSION = 1
BUCKETS = 1 << 20
TOKEN = re.compile(r"[^\W\d]\w*|\d+|[^\w\s]+|\n[ \t]*")


# ----------------------------------------------------------------------------------------------------------
# Hashed n-gram features

_token_ids = {}  # token -> crc32, per process: the vocabulary of code is small, so most tokens hit the cache


def token_id(token):
    if token[0].isdigit():
        token = "0" * min(len(token), 4)  # numbers by their length only: a table of them is one pattern
    return zlib.crc32(token.encode("utf-8", "replace"))


def hashed_features(text):
    """(slot indices int64, weights float32) of a document's unigrams and bigrams, over BUCKETS slots."""
    if len(_token_ids) > 2_000_000:
        _token_ids.clear()
    tokens = TOKEN.findall(extract(text))
    ids = np.fromiter((_token_ids.get(t) or _token_ids.setdefault(t, token_id(t)) for t in tokens),
                      dtype=np.uint64, count=len(tokens))
    pairs = ids[:-1] * np.uint64(0x9E3779B1) + ids[1:] + np.uint64(1)  # the order of a pair matters
    slots, counts = np.unique(np.concatenate([ids, pairs]) % np.uint64(BUCKETS), return_counts=True)
    weights = 1 + np.log(counts.astype(np.float32))
    return slots.astype(np.int64), weights / max(1e-6, float(np.linalg.norm(weights)))


def sparse_batch(features):
    """EmbeddingBag inputs (indices, offsets, weights) of a list of hashed_features."""
    lengths = [len(slots) for slots, _ in features]
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    slots = np.concatenate([s for s, _ in features]) if features else np.zeros(0, np.int64)
    weights = np.concatenate([w for _, w in features]) if features else np.zeros(0, np.float32)
    return torch.from_numpy(slots), torch.from_numpy(offsets), torch.from_numpy(weights.astype(np.float32))


# ----------------------------------------------------------------------------------------------------------
# Embedding features

class Embedder:
    """Mean-pooled last hidden state of a nanophi run (a folder with ckpt.pt) or an official phi checkpoint
    (a Hugging Face folder or hub name)."""

    def __init__(self, source, device="cpu", max_chunk=1024):
        from generate import load_model

        self.source, self.device = source, device
        self.model, self.tokenizer = load_model(init_from=source, device=device)
        self.model.lm_head = nn.Identity()  # the model now returns the final LayerNorm's output
        self.chunk = min(self.model.config.block_size, max_chunk)
        self.dim = self.model.config.n_embd

    def describe(self):
        """What a classifier must be scored with: the same source and shape of model."""
        config = self.model.config
        return {"kind": "embed", "source": str(self.source), "dim": self.dim,
                "shape": [config.n_layer, config.n_head, config.n_embd, config.vocab_size]}

    @torch.no_grad()
    def __call__(self, texts, batch_chunks=16):
        """(len(texts), dim) float32 array: each text's mean hidden state over all its tokens."""
        chunks, owners = [], []
        for i, text in enumerate(texts):
            ids = self.tokenizer.encode(extract(text)) or [self.tokenizer.eot]
            for start in range(0, len(ids), self.chunk):
                chunks.append(ids[start:start + self.chunk])
                owners.append(i)
        sums = torch.zeros(len(texts), self.dim, dtype=torch.float64)
        counts = torch.zeros(len(texts), dtype=torch.float64)
        order = sorted(range(len(chunks)), key=lambda c: len(chunks[c]))  # similar lengths pad little
        for start in range(0, len(order), batch_chunks):
            group = order[start:start + batch_chunks]
            width = max(len(chunks[c]) for c in group)
            # causal attention: padding on the right changes nothing to the left of it, and is not averaged
            idx = torch.full((len(group), width), self.tokenizer.eot, dtype=torch.long)
            for row, c in enumerate(group):
                idx[row, :len(chunks[c])] = torch.tensor(chunks[c])
            hidden, _ = self.model(idx.to(self.device))
            for row, c in enumerate(group):
                sums[owners[c]] += hidden[row, :len(chunks[c])].double().sum(0).cpu()
                counts[owners[c]] += len(chunks[c])
        return (sums / counts[:, None]).float().numpy()


# ----------------------------------------------------------------------------------------------------------
# The regressor

class Regressor(nn.Module):
    """score = first(x) + bias with hidden=0 (a linear model), else out(gelu(first(x) + bias)). For hashed
    n-grams `first` is an EmbeddingBag over the slots seen in at least two training documents (`lookup` maps a
    slot to its row; the others go to a padding row that adds nothing); for embeddings it is a Linear layer
    over the standardised vector."""

    def __init__(self, n_inputs, hidden, sparse):
        super().__init__()
        self.sparse, width = sparse, hidden or 1
        if sparse:
            self.first = nn.EmbeddingBag(n_inputs + 1, width, mode="sum", padding_idx=n_inputs)
            nn.init.normal_(self.first.weight, std=0.1 if hidden else 0.0)
            with torch.no_grad():
                self.first.weight[n_inputs].zero_()
        else:
            self.first = nn.Linear(n_inputs, width, bias=False)
        self.bias = nn.Parameter(torch.zeros(width))
        self.out = nn.Linear(hidden, 1) if hidden else None
        self.register_buffer("lookup", torch.full((BUCKETS if sparse else 0,), n_inputs, dtype=torch.int32))
        self.register_buffer("mean", torch.zeros(0 if sparse else n_inputs))
        self.register_buffer("std", torch.ones(0 if sparse else n_inputs))

    def forward(self, batch):
        if self.sparse:
            slots, offsets, weights = batch
            h = self.first(self.lookup[slots].long(), offsets, per_sample_weights=weights)
        else:
            h = self.first((batch - self.mean) / self.std)
        h = h + self.bias
        return (self.out(F.gelu(h)) if self.out is not None else h).squeeze(-1)


def as_batch(features, sparse):
    return sparse_batch(features) if sparse else torch.from_numpy(np.asarray(features, dtype=np.float32))


def fit(features, labels, sparse, hidden=0, epochs=8, batch_size=64, lr=None, seed=0, progress=None,
        min_steps=1000):
    """A Regressor trained on (features, labels) with mean squared error, the learning rate falling linearly to
    0, for `epochs` passes but at least min_steps steps (a few hundred labels need more passes). Hashed n-grams
    train with SGD and momentum, as fastText does: with Adam, whose step is as large for a rare slot as for a
    common one, rare slots memorised their documents (held-out Spearman 0.83 against 0.875 on the default
    pool's 6,000 rubric labels). Embeddings train with AdamW."""
    torch.manual_seed(seed)
    if sparse:
        slots, document_counts = np.unique(np.concatenate([s for s, _ in features]), return_counts=True)
        seen = slots[document_counts >= 2]  # a slot of one document is that document's name, not a pattern
        model = Regressor(len(seen), hidden, sparse)
        model.lookup[torch.from_numpy(seen)] = torch.arange(len(seen), dtype=torch.int32)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr or (0.3 if hidden else 1.0), momentum=0.9)
    else:
        x = np.asarray(features, dtype=np.float32)
        model = Regressor(x.shape[1], hidden, sparse)
        model.mean.copy_(torch.from_numpy(x.mean(0)))
        model.std.copy_(torch.from_numpy(x.std(0) + 1e-6))
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr or 3e-3, weight_decay=0.01)
    targets = torch.tensor(labels, dtype=torch.float32)
    rng = np.random.default_rng(seed)
    per_epoch = math.ceil(len(labels) / batch_size)
    epochs = max(epochs, math.ceil(min_steps / per_epoch))
    steps = epochs * per_epoch
    if progress is not None:
        progress.reset(total=steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / max(1, steps))
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            loss = F.mse_loss(model(as_batch([features[i] for i in rows], sparse)), targets[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if progress is not None:
                progress.update(1)
                progress.set_postfix(mse=f"{loss.item():.3f}", refresh=False)
    return model.eval()


@torch.no_grad()
def predict(model, features, batch_size=256):
    """Scores of a list of features, clipped to the 0-5 scale of the labels."""
    out = [model(as_batch(features[i:i + batch_size], model.sparse)) for i in range(0, len(features), batch_size)]
    return torch.cat(out).clamp(0, 5).numpy() if out else np.zeros(0, np.float32)


# ----------------------------------------------------------------------------------------------------------
# Agreement with the labels

def ranks(values):
    """Ranks from 1, ties sharing their average rank (as Spearman's coefficient needs)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    average = (starts + ends + 1) / 2  # ranks starts+1 .. ends, averaged
    result = np.empty(len(values))
    result[order] = np.repeat(average, ends - starts)
    return result


def agreement(predictions, labels, threshold):
    """accuracy of the rounded score, precision/recall/F1 of score >= threshold, Spearman correlation."""
    predictions, labels = np.asarray(predictions, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    predicted, actual = predictions >= threshold, labels >= threshold
    true_positives = float(np.sum(predicted & actual))
    precision = true_positives / max(1, int(predicted.sum()))  # plain floats: the file loads with weights_only
    recall = true_positives / max(1, int(actual.sum()))
    rp, rl = ranks(predictions), ranks(labels)
    spread = rp.std() * rl.std()
    return {"documents": len(labels),
            "accuracy": float(np.mean(np.round(predictions) == np.round(labels))),
            "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "spearman": float(np.mean((rp - rp.mean()) * (rl - rl.mean())) / spread) if spread else 0.0,
            "label_share_at_threshold": float(actual.mean()) if len(labels) else 0.0}


# ----------------------------------------------------------------------------------------------------------
# The classifier file

def save_classifier(path, model, features, threshold, metrics, sample_scores, labels_info):
    from files import atomic_write

    n_inputs = model.first.weight.shape[0] - 1 if model.sparse else model.first.weight.shape[1]
    config = {"n_inputs": n_inputs, "hidden": model.out.in_features if model.out else 0, "sparse": model.sparse}
    with atomic_write(path) as f:
        torch.save({"format": FORMAT, "version": VERSION, "features": features, "model_config": config,
                    "model": model.state_dict(), "threshold": threshold, "metrics": metrics,
                    "sample_scores": torch.tensor(np.sort(sample_scores), dtype=torch.float32),
                    "labels": labels_info}, f)


def load_classifier(path):
    """(model, the checkpoint without its weights); a one-line SystemExit when the file is missing, damaged,
    of another kind or of another version."""
    retrain = "train one with: python data/filter.py train --labels LABELS.jsonl --out " + str(path)
    if not os.path.isfile(path):
        raise SystemExit(f"no classifier at {path}: {retrain}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, not a torch file, pickled objects: all unusable here
        raise SystemExit(f"cannot read the classifier {path} ({str(e).splitlines()[0][:120]}): it is damaged or "
                         f"not a classifier; {retrain}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise SystemExit(f"{path} is not a data/filter.py classifier; {retrain}")
    if checkpoint.get("version") != VERSION:
        raise SystemExit(f"{path} was made by another version of data/filter.py (file version "
                         f"{checkpoint.get('version')}, this one reads {VERSION}); {retrain}")
    model = Regressor(**checkpoint["model_config"])
    model.load_state_dict(checkpoint.pop("model"))
    return model.eval(), checkpoint


def threshold_for_fraction(checkpoint, keep_fraction):
    """The score that the top keep_fraction of the classifier's held-out sample reaches."""
    scores = checkpoint["sample_scores"].numpy()
    return float(np.quantile(scores, 1 - keep_fraction)) if len(scores) else 0.0
