"""The training data loader: random windows of a memory-mapped token shard (train.bin / val.bin).

    loader = TokenLoader("data/tinystories/train.bin", block_size, batch_size, rank, world_size, seed)
    x, y = loader.next_batch()   # int64 (batch_size, block_size); y is x shifted by one token

Window i of the stream starts at an offset drawn from (seed, i) alone, and a call on rank r of W takes its slice
of the next W*batch_size windows; why that makes the stream resumable on any number of ranks: data/README.md.
With align_to=<the end-of-text id> a window starts only where a document does (the shard's first token, or the
one after a separator), so every window opens with a document's beginning: what a prompt looks like.
"""
import os

import numpy as np
import torch

from files import read_json

WINDOWS_PER_DRAW = 1024  # offsets are drawn this many at a time, from one generator seeded by (seed, block)
SCAN_CHUNK = 1 << 24  # tokens read at a time when looking for document starts (a bounded bool array)


def document_starts(tokens, separator, last_start):
    """Offsets <= last_start where a document begins: 0 and every position right after a separator."""
    found = [np.zeros(1, dtype=np.int64)]
    for begin in range(0, last_start, SCAN_CHUNK):
        chunk = np.asarray(tokens[begin:min(begin + SCAN_CHUNK, last_start)])
        found.append(np.flatnonzero(chunk == separator).astype(np.int64) + begin + 1)
    return np.concatenate(found)


class TokenLoader:
    def __init__(self, bin_path, block_size, batch_size, rank=0, world_size=1, seed=0, align_to=None):
        meta_path = os.path.join(os.path.dirname(os.path.abspath(bin_path)), "meta.json")
        if not os.path.isfile(meta_path):
            raise FileNotFoundError(f"no meta.json beside {bin_path}; make the shards with python data/prepare.py")
        if not os.path.isfile(bin_path):
            raise FileNotFoundError(f"{bin_path} does not exist; make the shards with python data/prepare.py")
        dtype = np.dtype(read_json(meta_path)["dtype"])
        n_bytes = os.path.getsize(bin_path)
        if n_bytes % dtype.itemsize:
            raise ValueError(f"{bin_path} is {n_bytes} bytes, not a whole number of {dtype} tokens: "
                             "a truncated or foreign file; run data/prepare.py again")
        n_tokens = n_bytes // dtype.itemsize
        if n_tokens < block_size + 1:
            raise ValueError(f"{bin_path} holds {n_tokens} tokens, fewer than block_size + 1 = {block_size + 1}: "
                             "use a smaller block_size or more data (for val.bin: a larger --val_fraction)")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in 0..{world_size - 1}")
        if seed < 0:
            raise ValueError(f"seed {seed} must be >= 0")
        self.tokens = np.memmap(bin_path, dtype=dtype, mode="r")
        self.block_size, self.batch_size = block_size, batch_size
        self.rank, self.world_size = rank, world_size
        self.seed = seed
        self.next_window = 0
        last_start = n_tokens - block_size - 1  # a window is block_size + 1 tokens
        self._starts = None if align_to is None else document_starts(self.tokens, align_to, last_start)
        self._n_starts = last_start + 1 if self._starts is None else len(self._starts)
        self._draw = (None, None)  # (block index, its offsets): consecutive calls mostly reuse one draw

    def window_offsets(self, first, count):
        """Start offsets of windows first .. first+count-1 of the stream."""
        offsets = np.empty(count, dtype=np.int64)
        for k, i in enumerate(range(first, first + count)):
            block, j = divmod(i, WINDOWS_PER_DRAW)
            if self._draw[0] != block:
                rng = np.random.default_rng([self.seed, block])
                drawn = rng.integers(0, self._n_starts, size=WINDOWS_PER_DRAW)
                self._draw = (block, drawn if self._starts is None else self._starts[drawn])
            offsets[k] = self._draw[1][j]
        return offsets

    def next_batch(self):
        first = self.next_window + self.rank * self.batch_size
        self.next_window += self.world_size * self.batch_size
        span = self.block_size + 1
        windows = np.stack([self.tokens[o:o + span] for o in self.window_offsets(first, self.batch_size)])
        windows = torch.from_numpy(windows.astype(np.int64))
        return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()

    def state_dict(self):
        return {"seed": self.seed, "next_window": self.next_window}

    def load_state_dict(self, state):
        self.seed = int(state["seed"])  # the stream is defined by its seed: resuming continues that stream
        self.next_window = int(state["next_window"])
        self._draw = (None, None)
