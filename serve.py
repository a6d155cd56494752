"""
Serve a phi model over the OpenAI API, so that synth.py, the `openai` client, lm-evaluation-harness and chat
front ends can use it.

    python serve.py --out_dir out-tinystories                  # a training run's checkpoint
    python serve.py --init_from microsoft/phi-2 --port 8000    # official weights (or a local HF directory)
    python synth.py tinystories --teacher http://127.0.0.1:8000/v1 --model nanophi --n 1000 --out s.jsonl
    python bench_serve.py                                      # requests/s and tokens/s at concurrency 1, 4, 16

Endpoints: GET /v1/models, POST /v1/completions, POST /v1/chat/completions, and the tokenizer endpoints
lm-evaluation-harness's `tokenizer_backend=remote` reads (GET /tokenizer_info, POST /tokenize, /detokenize).
Fields: prompt (a string, a list of strings, token ids, or a list of token-id lists), messages, max_tokens
(max_completion_tokens), temperature, top_p, top_k (an extension; 0 is no limit), n, stop, seed, stream
(server-sent events ending with `data: [DONE]`, stream_options.include_usage), and for completions logprobs
(0..20) and echo, in the legacy format: tokens, token_logprobs, top_logprobs, text_offset. Log-probabilities
are the model's own (a log-softmax before temperature, top_k and top_p). Penalties, logit_bias and best_of are
accepted only at their neutral values; any other field is refused, never silently ignored. Text in a prompt
is ordinary text: "<|endoftext|>" in it is not the end-of-text token (send token ids for that).

Chat messages become phi-2's prompt formats. One user message is a question: "Instruct: {user}\\nOutput:",
answered up to a new "\\nInstruct:". A conversation (assistant messages, or several user messages) is
"Alice: {user}\\nBob: {assistant}\\n...\\nAlice: {user}\\nBob:", answered up to "\\nAlice:". System (and
developer) messages come first, each on a line of its own. The last message must be the user's; the reply
has its leading whitespace removed.

A request's prompts are decoded together with every other request's (batching.py): `--slots` samples at a
time, more waiting in a queue of `--max_queue` prompts. At temperature 0 the text equals generate.py's for the
same prompt and settings, and so does a seeded sample (`seed`, or generate.py's --seed).

Refused, in OpenAI's error shape {"error": {"message", "type", "param", "code"}}: malformed JSON, fields of the
wrong type or range, a prompt plus max_tokens beyond the context, n beyond --slots (400); a body beyond
--max_body_bytes (413); a missing or wrong API key, when --api_key or NANOPHI_API_KEY sets one (401); an
unknown model name or path (404); a full queue (429, with Retry-After). A client that disconnects, even while
waiting for a non-streamed answer, has its rows freed before the next decode step; a client silent for
--timeout seconds is dropped. Ctrl-C or SIGTERM cancels what is in flight (503 to its clients) and exits.
The server listens on 127.0.0.1 unless --host says otherwise.
"""

import argparse
import hmac
import json
import os
import queue
import select
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

from batching import Engine, Job, QueueFull, ShuttingDown
from generate import check_prompt, load_model

EOT_TEXT = "<|endoftext|>"
MAX_LOGPROBS = 20
MAX_STOPS = 16
# accepted when absent, null, or at the value that changes nothing
NEUTRAL = {"presence_penalty": 0, "frequency_penalty": 0, "logit_bias": {}, "suffix": "", "tools": [],
           "tool_choice": "none", "response_format": {"type": "text"}}
IGNORED = {"user", "metadata", "store", "service_tier", "parallel_tool_calls"}
SAMPLING_FIELDS = {"model", "max_tokens", "temperature", "top_p", "top_k", "n", "stop", "seed", "stream",
                   "stream_options", "best_of"} | NEUTRAL.keys() | IGNORED
COMPLETION_FIELDS = SAMPLING_FIELDS | {"prompt", "logprobs", "echo"}
CHAT_FIELDS = SAMPLING_FIELDS | {"messages", "max_completion_tokens", "logprobs", "top_logprobs"}


class APIError(Exception):
    def __init__(self, status, message, param=None, code=None, type="invalid_request_error", headers=None):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type
        self.headers = headers or {}

    def body(self):
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class ClientGone(Exception):
    pass


# ----------------------------------------------------------------------------------------------------------
# Request fields

def field(body, name, types, default, what):
    """body[name] if it has one of `types` (a bool is not a number here), default when absent or null."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise APIError(400, f"'{name}' must be {what}, not {json.dumps(value)[:40]}", param=name)
    return value


def integer(body, name, default, lo, hi=None):
    value = field(body, name, (int,), default, "an integer")
    if value is not None and not (lo <= value and (hi is None or value <= hi)):
        limits = f"at least {lo}" + (f" and at most {hi}" if hi is not None else "")
        raise APIError(400, f"'{name}' is {value}; it must be {limits}", param=name)
    return value


def number(body, name, default, lo, hi, lo_open=False):
    value = float(field(body, name, (int, float), default, "a number"))
    if not ((lo < value if lo_open else lo <= value) and value <= hi):
        raise APIError(400, f"'{name}' is {value}; it must be in {'(' if lo_open else '['}{lo}, {hi}]", param=name)
    return value


def check_fields(body, known):
    for name in body:
        if name not in known:
            raise APIError(400, f"unrecognized request argument supplied: {name}", param=name)
    for name, neutral in NEUTRAL.items():
        if body.get(name) not in (None, neutral):
            raise APIError(400, f"'{name}' is not supported (only {json.dumps(neutral)})", param=name)


def stop_strings(body):
    stop = body.get("stop")
    stop = [stop] if isinstance(stop, str) else stop or []
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop) or len(stop) > MAX_STOPS:
        raise APIError(400, f"'stop' must be a string or a list of at most {MAX_STOPS} strings", param="stop")
    return stop


def chat_prompt(messages):
    """OpenAI chat messages -> (phi-2 prompt, stop strings that end the reply); see the module docstring."""
    if not isinstance(messages, list) or not messages:
        raise APIError(400, "'messages' must be a non-empty list of {role, content} objects", param="messages")
    system, turns = [], []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("system", "developer", "user", "assistant"):
            raise APIError(400, f"messages[{i}] needs a role of system, user or assistant", param=f"messages[{i}]")
        content = message.get("content")
        if isinstance(content, list):  # content parts: only text ones
            if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                       for p in content):
                raise APIError(400, f"messages[{i}]: only text content parts are supported",
                               param=f"messages[{i}].content")
            content = "\n".join(p["text"] for p in content)
        if not isinstance(content, str):
            raise APIError(400, f"messages[{i}].content must be a string", param=f"messages[{i}].content")
        (system if role in ("system", "developer") else turns).append((role, content))
    if not turns or turns[-1][0] != "user":
        raise APIError(400, "the last message must be the user's: the model answers it", param="messages")
    preamble = "".join(content + "\n" for _, content in system)
    if len(turns) == 1:
        return f"{preamble}Instruct: {turns[0][1]}\nOutput:", ["\nInstruct:"]
    lines = [f"{'Alice' if role == 'user' else 'Bob'}: {content}" for role, content in turns]
    return preamble + "\n".join(lines) + "\nBob:", ["\nAlice:"]


# ----------------------------------------------------------------------------------------------------------
# Responses

def token_text(tokenizer, token_id):
    """A token's own text; a token holding part of a character shows U+FFFD for that part."""
    return tokenizer.encoding.decode_single_token_bytes(token_id).decode("utf-8", errors="replace")


def token_offsets(tokenizer, ids, start=0):
    """The character offset where each token starts in the text of them all, counting from `start`: the
    number of UTF-8 lead bytes before it (a token that begins inside a character starts within it)."""
    offsets, position = [], start
    for token_id in ids:
        offsets.append(position)
        position += sum((byte & 0xC0) != 0x80 for byte in tokenizer.encoding.decode_single_token_bytes(token_id))
    return offsets


def legacy_logprobs(tokenizer, job, sample, prompt_text):
    """The completions API's logprobs object: echoed prompt tokens first (the first one has no logprob), then
    the generated tokens that are part of the returned text."""
    prompt_entries = []
    if job.echo:
        prompt_entries = [(job.prompt_ids[0], None, None)] + [
            (token_id, logprob, top) for token_id, (logprob, top) in zip(job.prompt_ids[1:], job.prompt_logprobs)]
    # a stop string cuts the text short: the tokens that start past its end are not part of it
    offsets = token_offsets(tokenizer, [t for t, _, _ in sample.tokens])
    entries = prompt_entries + sample.tokens[:sum(o < len(sample.completion.text) for o in offsets)]

    def top_dict(top):
        return None if top is None else {token_text(tokenizer, t): logprob for t, logprob in top}

    return {"tokens": [token_text(tokenizer, t) for t, _, _ in entries],
            "token_logprobs": [logprob for _, logprob, _ in entries],
            "top_logprobs": [top_dict(top) for _, _, top in entries],
            "text_offset": token_offsets(tokenizer, [t for t, _, _ in entries], 0 if job.echo else len(prompt_text))}


def usage(jobs):
    prompt = sum(len(job.prompt_ids) for job in jobs)
    completion = sum(s.n_generated for job in jobs for s in job.samples)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


# ----------------------------------------------------------------------------------------------------------
# HTTP

class Server(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection never holds up exit

    def __init__(self, address, engine, model_name="nanophi", api_key=None, max_body_bytes=4 << 20,
                 client_timeout=60.0, verbose=False):
        super().__init__(address, Handler)
        self.engine, self.tokenizer, self.model_name = engine, engine.tokenizer, model_name
        self.block_size = engine.model.config.block_size
        self.api_key, self.max_body_bytes, self.client_timeout, self.verbose = (api_key, max_body_bytes,
                                                                                client_timeout, verbose)
        self.in_flight, self.idle = 0, threading.Condition()

    def wait_idle(self, timeout):
        """Until every request being answered has been answered (or `timeout`)."""
        with self.idle:
            self.idle.wait_for(lambda: self.in_flight == 0, timeout)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects
    server_version = "nanophi"

    def setup(self):
        self.timeout = self.server.client_timeout  # socket timeout: a stalled client cannot hold a thread
        super().setup()

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self.answer("GET")

    def do_POST(self):
        self.answer("POST")

    def answer(self, method):
        with self.server.idle:
            self.server.in_flight += 1
        self.body_read = False
        try:
            self.check_api_key()
            path = self.path.split("?", 1)[0].rstrip("/")
            routes = {("GET", "/v1/models"): self.models, ("POST", "/v1/completions"): self.completions,
                      ("POST", "/v1/chat/completions"): self.chat_completions,
                      ("GET", "/tokenizer_info"): self.tokenizer_info, ("POST", "/tokenize"): self.tokenize,
                      ("POST", "/detokenize"): self.detokenize}
            if path == f"/v1/models/{self.server.model_name}" and method == "GET":
                return self.send_json(200, self.model_card())
            if (method, path) not in routes:
                raise APIError(404, f"no such endpoint: {method} {path}", code="unknown_url")
            if method == "GET":
                routes[method, path]()
            else:
                routes[method, path](self.read_body())
        except APIError as e:
            if method == "POST" and not self.body_read:  # the unread body would be taken for the next request
                self.close_connection = True
                e.headers["Connection"] = "close"
            self.send_json(e.status, e.body(), e.headers)
        except (ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as e:  # a bug answers 500 and leaves the server up
            self.close_connection = True
            self.send_json(500, APIError(500, f"internal error: {e}", type="server_error").body())
        finally:
            with self.server.idle:
                self.server.in_flight -= 1
                self.server.idle.notify_all()

    def check_api_key(self):
        key = self.server.api_key
        if key is None:
            return
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
            raise APIError(401, "missing or incorrect API key: send the header Authorization: Bearer <key>",
                           code="invalid_api_key")

    def read_body(self):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise APIError(400, "the request needs a Content-Length header and a JSON body")
        if int(length) > self.server.max_body_bytes:
            raise APIError(413, f"the body is {length} bytes; the limit is {self.server.max_body_bytes}",
                           code="request_too_large")
        data = self.rfile.read(int(length))
        self.body_read = True
        try:
            body = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise APIError(400, f"the body is not valid JSON ({e})") from None
        if not isinstance(body, dict):
            raise APIError(400, "the body must be a JSON object")
        return body

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)),
                                **(headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def client_gone(self):
        """The client closed its side (readable with nothing to read), checked without blocking."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except (OSError, ValueError):
            return True

    # ---- models and the tokenizer

    def model_card(self):
        return {"id": self.server.model_name, "object": "model", "created": 0, "owned_by": "nanophi",
                "max_model_len": self.server.block_size}

    def models(self):
        self.send_json(200, {"object": "list", "data": [self.model_card()]})

    def tokenizer_info(self):
        self.send_json(200, {"eos_token": EOT_TEXT, "bos_token": EOT_TEXT, "pad_token": None,
                             "model_max_length": self.server.block_size,
                             "vocab_size": self.server.tokenizer.n_tokens})

    def tokenize(self, body):
        text = field(body, "prompt", (str,), None, "a string")
        if text is None:
            raise APIError(400, "'prompt' is required", param="prompt")
        # as a Hugging Face tokenizer does, the text "<|endoftext|>" is the end-of-text token here
        tokenizer, ids = self.server.tokenizer, []
        for i, part in enumerate(text.split(EOT_TEXT)):
            ids += ([tokenizer.eot] if i else []) + tokenizer.encode(part)
        self.send_json(200, {"tokens": ids, "count": len(ids), "max_model_len": self.server.block_size})

    def detokenize(self, body):
        ids = self.token_ids(body.get("tokens"), "tokens")
        self.send_json(200, {"prompt": self.server.tokenizer.decode(ids)})

    def token_ids(self, ids, param):
        n = self.server.tokenizer.n_tokens
        if not (isinstance(ids, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in ids)):
            raise APIError(400, f"'{param}' must be a list of token ids", param=param)
        if any(not 0 <= t < n for t in ids):
            raise APIError(400, f"'{param}' holds a token id outside the vocabulary (0..{n - 1})", param=param)
        return ids

    # ---- completions

    def check_model(self, body):
        name = field(body, "model", (str,), self.server.model_name, "a string")
        if name != self.server.model_name:
            raise APIError(404, f"the model '{name}' does not exist; this server serves '{self.server.model_name}'",
                           param="model", code="model_not_found")

    def prompts(self, prompt):
        """[(text, token ids)] of a completions prompt: a string, a list of strings, a list of token ids, or a
        list of lists of token ids."""
        tokenizer = self.server.tokenizer
        if isinstance(prompt, str):
            return [(prompt, tokenizer.encode(prompt))]
        if isinstance(prompt, list) and prompt:
            if all(isinstance(p, str) for p in prompt):
                return [(p, tokenizer.encode(p)) for p in prompt]
            if all(isinstance(p, int) for p in prompt):
                prompt = [prompt]
            if all(isinstance(p, list) for p in prompt):
                return [(tokenizer.decode(self.token_ids(ids, "prompt")), ids) for ids in prompt]
        raise APIError(400, "'prompt' must be a string, a list of strings, a list of token ids or a list of such "
                       "lists", param="prompt")

    def completions(self, body):
        check_fields(body, COMPLETION_FIELDS)
        logprobs = integer(body, "logprobs", None, 0, MAX_LOGPROBS)
        echo = field(body, "echo", (bool,), False, "true or false")
        prompts = self.prompts(body.get("prompt"))
        jobs = self.make_jobs(body, prompts, stop_strings(body), max_tokens=integer(body, "max_tokens", 16, 0),
                              logprobs=logprobs, echo=echo)
        texts = [text for text, _ in prompts]
        if jobs[0].stream and logprobs is not None:
            raise APIError(400, "logprobs are only given without streaming", param="logprobs")

        def choice(job, s, piece=None, finish_reason=None):
            """A choice of the answer (piece None: the whole text) or of a streamed chunk."""
            whole, prompt = piece is None, texts[job.index]
            return {"index": job.index * job.n + s.choice, "finish_reason": finish_reason,
                    "text": (prompt if echo else "") + s.completion.text if whole else piece,
                    "logprobs": legacy_logprobs(self.server.tokenizer, job, s, prompt)
                    if whole and logprobs is not None else None}

        def opening(job, s):  # with echo, a stream starts with the prompt
            return choice(job, s, texts[job.index]) if echo else None

        self.respond(body, jobs, "text_completion", "cmpl", choice, choice, opening)

    def chat_completions(self, body):
        check_fields(body, CHAT_FIELDS)
        if body.get("logprobs") or body.get("top_logprobs"):
            raise APIError(400, "chat logprobs are not supported; use /v1/completions", param="logprobs")
        prompt, stops = chat_prompt(body.get("messages"))
        max_tokens = integer(body, "max_completion_tokens", None, 1) or integer(body, "max_tokens", None, 1)
        ids = self.server.tokenizer.encode(prompt)
        jobs = self.make_jobs(body, [(prompt, ids)], stops + stop_strings(body),
                              max_tokens=max_tokens or max(1, self.server.block_size - len(ids)))
        started = set()  # the choices whose reply has begun: the leading whitespace before it is dropped

        def choice(job, s, finish_reason=None):
            return {"index": s.choice, "message": {"role": "assistant", "content": s.completion.text.lstrip()},
                    "logprobs": None, "finish_reason": finish_reason}

        def chunk(job, s, piece, finish_reason=None):
            if s.choice not in started:
                piece = piece.lstrip()
                if piece:
                    started.add(s.choice)
            return {"index": s.choice, "delta": {"content": piece} if piece else {}, "logprobs": None,
                    "finish_reason": finish_reason}

        def opening(job, s):
            return {"index": s.choice, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                    "finish_reason": None}

        self.respond(body, jobs, "chat.completion", "chatcmpl", choice, chunk, opening)

    def make_jobs(self, body, prompts, stop, max_tokens, logprobs=None, echo=False):
        self.check_model(body)
        engine = self.server.engine
        n = integer(body, "n", 1, 1, engine.slots)
        if integer(body, "best_of", n, 1) != n:
            raise APIError(400, "'best_of' is not supported (only equal to n)", param="best_of")
        if len(prompts) > engine.max_queue:
            raise APIError(400, f"{len(prompts)} prompts in one request; the limit is {engine.max_queue}",
                           param="prompt")
        settings = dict(n=n, temperature=number(body, "temperature", 1.0, 0.0, 2.0),
                        top_p=number(body, "top_p", 1.0, 0.0, 1.0, lo_open=True),
                        top_k=integer(body, "top_k", 0, -1) or None, seed=integer(body, "seed", None, -2 ** 63),
                        stream=field(body, "stream", (bool,), False, "true or false"),
                        stop=stop, logprobs=logprobs, echo=echo, device=engine.device)
        if settings["top_k"] == -1:  # vLLM's spelling of "no limit"
            settings["top_k"] = None
        if settings["seed"] is not None:
            settings["seed"] %= 2 ** 64  # torch.Generator seeds are unsigned
        events, block_size = queue.Queue(), self.server.block_size
        for _, ids in prompts:
            try:
                check_prompt(ids, block_size)
            except ValueError as e:
                raise APIError(400, str(e), param="prompt") from None
            if len(ids) + max_tokens > block_size:
                raise APIError(400, f"the model's context is {block_size} tokens, but the prompt has {len(ids)} "
                               f"and max_tokens asks for {max_tokens} more: lower max_tokens or shorten the prompt",
                               param="max_tokens", code="context_length_exceeded")
        tokenizer = self.server.tokenizer
        return [Job(events, i, tokenizer, ids, max_tokens, **settings) for i, (_, ids) in enumerate(prompts)]

    def respond(self, body, jobs, kind, id_prefix, choice, chunk, opening):
        """Queue the jobs and answer: one JSON object of choice(job, sample, finish_reason=...) for each
        sample, or a stream of server-sent events: opening(job, sample) if not None, then chunk(job, sample,
        piece) for each new piece of text, then chunk(job, sample, "", finish_reason)."""
        stream_options = field(body, "stream_options", (dict,), {}, "an object")
        try:
            self.server.engine.submit(jobs)
        except QueueFull as e:
            raise APIError(429, f"too many requests waiting ({e}): retry shortly", type="rate_limit_error",
                           code="rate_limit_exceeded", headers={"Retry-After": "1"}) from None
        except ShuttingDown as e:
            raise APIError(503, str(e), type="server_error") from None
        head = {"id": f"{id_prefix}-{uuid.uuid4().hex}", "object": kind, "created": int(time.time()),
                "model": self.server.model_name}
        try:
            if not jobs[0].stream:
                self.wait(jobs)
                self.send_json(200, {**head, "choices": [choice(job, s, finish_reason=s.finish_reason)
                                                         for job in jobs for s in job.samples],
                                     "usage": usage(jobs)})
                return
            if kind == "chat.completion":
                head["object"] = "chat.completion.chunk"
            self.stream(jobs, head, chunk, opening, stream_options.get("include_usage"))
        finally:
            for job in jobs:  # gone, failed or done: the engine drops what is left before its next step
                job.cancelled = True

    def wait(self, jobs, on_text=None, on_end=None):
        """Until every job has ended, passing on streamed text; raises if the client goes or a job fails."""
        events, remaining = jobs[0].events, len(jobs)
        while remaining:
            try:
                event = events.get(timeout=0.1)
            except queue.Empty:
                event = None
            if self.client_gone():
                raise ClientGone()
            if event is None:
                continue
            job = jobs[event[1]]
            if event[0] == "text":
                on_text(job, job.samples[event[2]], event[3])
            elif event[0] == "end":
                remaining -= 1
                if on_end is not None:
                    on_end(job)
            else:
                raise APIError(event[2], event[3], type="server_error")

    def stream(self, jobs, head, chunk, opening, include_usage):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the stream's end is the connection's
        self.end_headers()
        self.close_connection = True

        def send(obj):
            self.wfile.write(b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n")

        def on_text(job, s, piece):
            if s.choice not in opened[job.index]:
                opened[job.index].add(s.choice)
                if (first := opening(job, s)) is not None:
                    send({**head, "choices": [first]})
            send({**head, "choices": [chunk(job, s, piece)]})

        def on_end(job):
            for s in job.samples:
                if s.choice not in opened[job.index]:
                    on_text(job, s, "")
                send({**head, "choices": [chunk(job, s, "", s.finish_reason)]})

        opened = [set() for _ in jobs]
        try:
            self.wait(jobs, on_text, on_end)
        except APIError as e:  # the status line is sent already: the error goes in the stream
            send(e.body())
        if include_usage:
            send({**head, "choices": [], "usage": usage(jobs)})
        send(b"[DONE]")


# ----------------------------------------------------------------------------------------------------------
# Command line

def make_server(model, tokenizer, host="127.0.0.1", port=8000, slots=16, max_queue=64, **server_options):
    """A Server with its decode thread running; serve_forever() answers requests."""
    server = Server((host, port), Engine(model, tokenizer, slots, max_queue), **server_options)
    server.engine.start()  # once the port is ours
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out_dir", help="a training run's directory (its ckpt.pt)")
    parser.add_argument("--init_from", help="official weights: microsoft/phi-2 (or phi-1, phi-1_5), or a local "
                                            "Hugging Face directory")
    parser.add_argument("--model_name", default="nanophi", help="the name clients ask for ('model')")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 serves other machines too")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--api_key", default=os.environ.get("NANOPHI_API_KEY"),
                        help="require Authorization: Bearer KEY (default: $NANOPHI_API_KEY; none when unset)")
    parser.add_argument("--slots", type=int, default=16, help="samples decoded together (KV cache rows)")
    parser.add_argument("--max_queue", type=int, default=64, help="prompts that may wait for a slot (then 429)")
    parser.add_argument("--max_body_bytes", type=int, default=4 << 20, help="larger request bodies get 413")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a client may stall a read or write")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"],
                        help="default: bfloat16 on CUDA, float32 elsewhere")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    for name in ("slots", "max_queue", "max_body_bytes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}, but CUDA is not available here: use --device cpu")
    model, tokenizer = load_model(args.out_dir, args.init_from, args.device,
                                  getattr(torch, args.dtype) if args.dtype else None)
    try:
        server = make_server(model, tokenizer, args.host, args.port, args.slots, args.max_queue,
                             model_name=args.model_name, api_key=args.api_key or None,
                             max_body_bytes=args.max_body_bytes, client_timeout=args.timeout, verbose=args.verbose)
    except OSError as e:
        raise SystemExit(f"cannot listen on {args.host}:{args.port} ({e.strerror}): pick another --port") from None

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    host, port = server.server_address[:2]
    print(f"serving {args.model_name} on http://{host}:{port}/v1 ({args.slots} slots); Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping: cancelling the requests in flight", file=sys.stderr, flush=True)
    finally:
        server.engine.stop()
        server.wait_idle(timeout=5.0)
        server.server_close()


if __name__ == "__main__":
    main()
