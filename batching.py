"""
Continuous batching for serve.py: one thread owns the model and decodes every request in flight together.

The KV cache has one row per slot (--slots). A request ("job": one prompt, n samples) joins as soon as n rows
are free: its prompt is prefilled alone, in one forward pass, into a free row (exactly generate.py's prefill),
and that row is copied to the job's other n - 1 rows. Then every step decodes one token for all rows at once,
each row at its own position (model.py's KV cache takes start_pos as a (B,) tensor for this). Rows are kept
packed at the front of the cache: when a job finishes, the last rows move into its place, so a step computes
only the rows in use. A job's samples keep decoding until all of them are done, as generate.py's batch does,
so that a seed gives the same samples here as there.

Sampling reuses generate.py's sample_next (with a torch.Generator per job) and its Completion, which ends a
sample at <|endoftext|> or a stop string and holds back text that may still become one.
"""

import copy
import threading
from collections import deque
from contextlib import contextmanager

import torch

from generate import Completion, sample_next


class QueueFull(Exception):
    """More jobs wait than the queue holds: the client should retry later."""


class ShuttingDown(Exception):
    """The engine takes no more jobs."""


class Sample:
    """One of a job's n continuations, in one cache row."""

    def __init__(self, job, choice, row, position):
        self.job, self.choice, self.row, self.position = job, choice, row, position
        self.completion = Completion(job.tokenizer, job.stop)
        self.last = None  # the token sampled last, fed at `position` by the next step
        self.tokens = []  # (token id, logprob, top logprobs) of each generated token, when logprobs are asked for
        self.n_generated = 0
        self.finish_reason = None

    def add(self, token_id, logprobs=None, top=None):
        self.last = token_id
        if self.finish_reason is not None:
            return  # a finished sample of an unfinished job: its tokens are not shown
        self.n_generated += 1
        self.completion.add(token_id)
        if self.job.logprobs is not None and token_id != self.job.tokenizer.eot:
            self.tokens.append((token_id, logprobs, top))
        if self.completion.done:
            self.finish_reason = "stop"
        elif self.n_generated == self.job.max_tokens:
            self.finish_reason = "length"
            self.completion.done = True  # shows the text held back for stop strings
        if self.job.stream and (piece := self.completion.new_text()):
            self.job.events.put(("text", self.job.index, self.choice, piece))


class Job:
    """One prompt's request to the engine. Its outcome arrives on `events` (shared by the jobs of one HTTP
    request): ("text", index, choice, piece) while streaming, then ("end", index) or ("error", index, status,
    message). After "end", `samples` and `prompt_logprobs` are the engine's no more and may be read."""

    def __init__(self, events, index, tokenizer, prompt_ids, max_tokens, n=1, temperature=1.0, top_k=None,
                 top_p=1.0, seed=None, stop=(), logprobs=None, echo=False, stream=False, device="cpu"):
        self.events, self.index, self.tokenizer = events, index, tokenizer
        self.prompt_ids, self.max_tokens, self.n = prompt_ids, max_tokens, n
        self.temperature, self.top_k, self.top_p, self.stop = temperature, top_k, top_p, stop
        self.logprobs, self.echo, self.stream = logprobs, echo, stream  # logprobs: how many top ones, or None
        self.generator = torch.Generator(device=device)
        if seed is None:
            self.generator.seed()  # a fresh random seed, independent of every other request
        else:
            self.generator.manual_seed(seed)
        self.rows_needed = n if max_tokens else 0
        self.samples = []
        self.prompt_logprobs = None  # [(logprob, top)] for prompt tokens 1.., when echo and logprobs
        self.cancelled = False  # set by the client's thread; the engine drops the job before its next step


class Engine:
    """The decode thread and the jobs it serves; submit() and stop() may be called from any thread."""

    def __init__(self, model, tokenizer, slots=16, max_queue=64):
        self.model, self.tokenizer, self.slots, self.max_queue = model, tokenizer, slots, max_queue
        self.device = model.lm_head.weight.device
        model.setup_kv_cache(slots)  # every row holds a whole context
        self.caches = [block.self_attn.kv_cache for block in model.layers]
        self.rows = []  # rows[i]: the Sample decoding in cache row i
        self.waiting = deque()
        self.wakeup = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self.run, name="decode", daemon=True)

    # ---- the clients' side (any thread)

    def start(self):
        self.thread.start()
        return self

    def submit(self, jobs):
        """Queue all of `jobs` or none of them (QueueFull)."""
        with self.wakeup:
            if self.stopping:
                raise ShuttingDown("the server is shutting down")
            if len(self.waiting) + len(jobs) > self.max_queue:
                raise QueueFull(f"{len(self.waiting)} requests are already waiting")
            self.waiting.extend(jobs)
            self.wakeup.notify()

    def stop(self, timeout=10.0):
        """Cancel every job, queued or in flight (each gets a 503), and end the decode thread."""
        with self.wakeup:
            self.stopping = True
            self.wakeup.notify()
        if self.thread.is_alive():
            self.thread.join(timeout)

    # ---- the decode thread

    @torch.no_grad()
    def run(self):
        while True:
            with self.wakeup:
                while not (self.waiting or self.rows or self.stopping):
                    self.wakeup.wait()
                if self.stopping:
                    break
            try:
                self.admit()
                if self.rows:
                    self.step()
            except Exception as e:  # a failed forward pass fails the jobs in it, never the server
                for job in self.active_jobs():
                    self.fail(job, 500, f"decoding failed: {e}")
                self.rows = []
        with self.wakeup:
            dropped = list(self.waiting) + self.active_jobs()
            self.waiting.clear()
        for job in dropped:
            self.fail(job, 503, "the server is shutting down")
        self.rows = []

    def active_jobs(self):
        return list({id(s.job): s.job for s in self.rows}.values())

    def admit(self):
        """Start the waiting jobs, first come first served, while there are rows for them."""
        while True:
            with self.wakeup:
                if not self.waiting or self.waiting[0].rows_needed > self.slots - len(self.rows):
                    return
                job = self.waiting.popleft()
            if job.cancelled:
                continue
            try:
                self.prefill(job)
            except Exception as e:
                self.release(job)
                self.fail(job, 500, f"prefill failed: {e}")

    def prefill(self, job):
        ids = torch.tensor([job.prompt_ids], device=self.device)
        if job.max_tokens == 0:  # scoring only (echo with logprobs): no cache rows, nothing generated
            logits, _ = self.model(ids)
            self.set_prompt_logprobs(job, logits[0])
            job.samples = [Sample(job, i, None, len(job.prompt_ids)) for i in range(job.n)]
            for s in job.samples:
                s.finish_reason = "length"
            job.events.put(("end", job.index))
            return
        first = len(self.rows)
        with self.cache_row(first):
            logits, _ = self.model(ids, start_pos=0)
        self.set_prompt_logprobs(job, logits[0])
        length = len(job.prompt_ids)
        for cache in self.caches:  # the other samples start from the same prompt
            for tensor in (cache.k, cache.v):
                tensor[first + 1:first + job.n, :, :length] = tensor[first, :, :length]
        job.samples = [Sample(job, i, first + i, length) for i in range(job.n)]
        self.rows.extend(job.samples)
        self.sample(job, logits[0, -1:].expand(job.n, -1))

    def step(self):
        for job in self.active_jobs():
            if job.cancelled:
                self.release(job)
        if not self.rows:
            return
        tokens = torch.tensor([[s.last] for s in self.rows], device=self.device)
        positions = torch.tensor([s.position for s in self.rows], device=self.device)
        logits = self.model(tokens, start_pos=positions)[0][:, -1]
        for s in self.rows:
            s.position += 1
        # every job's rows are picked out first: sampling may end a job, and releasing it moves rows
        for job, job_logits in [(job, logits[[s.row for s in job.samples]]) for job in self.active_jobs()]:
            self.sample(job, job_logits)

    def sample(self, job, logits):
        """The next token of each of the job's samples, from their (n, V) logits; the job ends when all are."""
        logits = logits[:, :self.tokenizer.n_tokens]  # the padding rows of the vocabulary are never sampled
        next_ids = sample_next(logits, job.temperature, job.top_k, job.top_p, job.generator).tolist()
        logprobs, top = self.token_logprobs(job, logits, next_ids)
        for i, (s, token_id) in enumerate(zip(job.samples, next_ids)):
            s.add(token_id, logprobs[i] if logprobs else None, top[i] if top else None)
        if all(s.finish_reason is not None for s in job.samples):
            self.release(job)
            job.events.put(("end", job.index))

    def token_logprobs(self, job, logits, next_ids):
        """log-softmax of the model's own logits (before temperature and top-k/top-p) for the chosen tokens,
        and the job.logprobs most likely (id, logprob) of each row."""
        if job.logprobs is None:
            return None, None
        logprobs = logits.float().log_softmax(dim=-1)
        chosen = logprobs.gather(1, torch.tensor(next_ids, device=logprobs.device)[:, None])[:, 0].tolist()
        return chosen, self.top_logprobs(logprobs, job.logprobs)

    @staticmethod
    def top_logprobs(logprobs, k):
        if k == 0:
            return [[] for _ in range(logprobs.size(0))]
        values, ids = logprobs.topk(k, dim=-1)
        return [list(zip(i, v)) for i, v in zip(ids.tolist(), values.tolist())]

    def set_prompt_logprobs(self, job, logits):
        """Prompt token t's log-probability given tokens < t, from the prefill's (T, V) logits."""
        if not (job.echo and job.logprobs is not None):
            return
        logprobs = logits[:-1, :self.tokenizer.n_tokens].float().log_softmax(dim=-1)
        targets = torch.tensor(job.prompt_ids[1:], device=logprobs.device)
        chosen = logprobs.gather(1, targets[:, None])[:, 0].tolist()
        job.prompt_logprobs = list(zip(chosen, self.top_logprobs(logprobs, job.logprobs)))

    def release(self, job):
        """Free the job's rows, moving the last rows into the holes so that the rows in use stay packed."""
        for row in sorted((s.row for s in job.samples if self.rows[s.row:s.row + 1] == [s]), reverse=True):
            last = self.rows.pop()
            if last.row != row:
                for cache in self.caches:
                    cache.k[row, :, :last.position] = cache.k[last.row, :, :last.position]
                    cache.v[row, :, :last.position] = cache.v[last.row, :, :last.position]
                last.row = row
                self.rows[row] = last

    def fail(self, job, status, message):
        job.events.put(("error", job.index, status, message))

    @contextmanager
    def cache_row(self, row):
        """Let the model see cache row `row` alone, as a batch of one: a prefill runs exactly as in generate.py
        and writes into that row (the views share the cache's memory)."""
        for block, cache in zip(self.model.layers, self.caches):
            view = copy.copy(cache)
            view.k, view.v = cache.k[row:row + 1], cache.v[row:row + 1]
            block.self_attn.kv_cache = view
        try:
            yield
        finally:
            for block, cache in zip(self.model.layers, self.caches):
                block.self_attn.kv_cache = cache
