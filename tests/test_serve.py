"""serve.py with the real `openai` client: a tiny random model on 127.0.0.1, an ephemeral port."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from argparse import Namespace
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import openai
import pytest
import torch

import synth
from batching import Engine
from conftest import save_random_run
from data.tokenizer import count_words, save_ranks, train_bpe
from generate import complete, load_model
from model import PhiConfig
from serve import APIError, chat_prompt, make_server
from synthdata.teacher import generate_with_teacher

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = PhiConfig(vocab_size=320, block_size=512, n_layer=2, n_head=2, n_embd=32)  # a 300-token BPE, padded
CORPUS = ["Once upon a time there was a little cat. She liked to play in the sun with her friends. " * 3,
          "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n", "Instruct: Write a story.\nOutput: The dog ran."]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A training run's folder, as train.py writes it: random weights and a BPE trained here."""
    out = tmp_path_factory.mktemp("out-serve")
    save_ranks(train_bpe(count_words(CORPUS * 4), 300), out / "tok.tiktoken")
    return save_random_run(out, CONFIG, out / "tok.tiktoken")


@contextmanager
def serving(run_dir, step_delay=0.0, slots=4, max_queue=16, **options):
    """serve.py's server in a thread; step_delay slows every decode step down (for tests of timing)."""
    model, tokenizer = load_model(out_dir=run_dir)
    server = make_server(model, tokenizer, port=0, slots=slots, max_queue=max_queue, **options)
    engine = server.engine
    if step_delay:
        engine.step = lambda: (time.sleep(step_delay), Engine.step(engine))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        engine.stop()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def served(run_dir):
    with serving(run_dir, max_body_bytes=64 << 10) as (server, url):
        yield server, url


@pytest.fixture(scope="module")
def reference(run_dir):
    """generate.py's model and tokenizer, loaded separately from the server's."""
    return load_model(out_dir=run_dir)


def client(url, **kw):
    return openai.OpenAI(base_url=url, api_key=kw.pop("api_key", "none"), timeout=kw.pop("timeout", 20),
                         max_retries=0, **kw)


def post(url, body=None, raw=None, headers=None):
    """(status, JSON body, headers) of a POST, errors included."""
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# ---- what it answers ---------------------------------------------------------------------------------------

def test_greedy_completions_equal_generate_py(served, reference):
    server, url = served
    model, tokenizer = reference
    c = client(url)
    [card] = c.models.list().data
    assert card.id == "nanophi" and card.max_model_len == CONFIG.block_size
    for prompt, stop in (("Once upon a time", []), ("def add(a, b):", []), ("The cat", ["e"])):
        r = c.completions.create(model="nanophi", prompt=prompt, max_tokens=24, temperature=0, stop=stop)
        assert r.choices[0].text == complete(model, tokenizer, prompt, 24, temperature=0, stop=stop)[0]
        assert r.usage.prompt_tokens == len(tokenizer.encode(prompt))
        assert 1 <= r.usage.completion_tokens <= 24 and r.choices[0].finish_reason in ("stop", "length")
    r = c.completions.create(model="nanophi", prompt="Once upon a time", max_tokens=5, temperature=0, echo=True)
    assert r.choices[0].text == "Once upon a time" + complete(model, tokenizer, "Once upon a time", 5,
                                                             temperature=0)[0]


def test_seeded_samples_equal_generate_py(served, reference):
    server, url = served
    model, tokenizer = reference
    c = client(url)

    def served_samples(seed):
        r = c.completions.create(model="nanophi", prompt="The cat", max_tokens=20, n=3, temperature=1.0,
                                 top_p=0.9, seed=seed, extra_body={"top_k": 50})
        assert [choice.index for choice in r.choices] == [0, 1, 2]
        return [choice.text for choice in r.choices]

    expected = complete(model, tokenizer, "The cat", 20, num_samples=3, temperature=1.0, top_k=50, top_p=0.9,
                        generator=torch.Generator().manual_seed(7))
    assert served_samples(7) == expected == served_samples(7) != served_samples(8)
    assert len(set(expected)) > 1  # the three samples differ from each other


def test_concurrent_requests_equal_sequential_ones(served):
    server, url = served
    c = client(url)
    requests = [dict(prompt=p, max_tokens=m, temperature=t, seed=i, n=n, stop=s)
                for i, (p, m, t, n, s) in enumerate([
                    ("Once upon a time", 30, 0, 1, []), ("def", 7, 1.0, 2, []), ("She liked", 18, 0.8, 1, ["a"]),
                    ("print(", 40, 0, 1, []), ("The dog ran", 12, 1.2, 3, []), ("a", 25, 0, 1, ["\n"]),
                    ("Instruct: hi", 9, 1.0, 1, []), ("x" * 40, 33, 0, 2, [])])]

    def ask(request):
        r = c.completions.create(model="nanophi", **request)
        return [(choice.text, choice.finish_reason) for choice in r.choices]

    sequential = [ask(r) for r in requests]
    rows_in_use, step = [], server.engine.step
    server.engine.step = lambda: (rows_in_use.append(len(server.engine.rows)), step())
    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            concurrent = list(pool.map(ask, requests))
    finally:
        del server.engine.step
    assert concurrent == sequential
    assert max(rows_in_use) > 1  # requests were decoded together


def test_streaming_equals_the_whole_answer(served):
    server, url = served
    c = client(url)
    settings = dict(model="nanophi", prompt="Once upon", max_tokens=16, n=2, temperature=1.0, seed=3)
    whole = c.completions.create(**settings)
    pieces, finish = {0: "", 1: ""}, {}
    for chunk in c.completions.create(stream=True, **settings):
        for choice in chunk.choices:
            pieces[choice.index] += choice.text
            if choice.finish_reason:
                finish[choice.index] = choice.finish_reason
    assert pieces == {ch.index: ch.text for ch in whole.choices}
    assert finish == {ch.index: ch.finish_reason for ch in whole.choices}
    messages = [{"role": "user", "content": "Tell me a story."}]
    answer = c.chat.completions.create(model="nanophi", messages=messages, max_tokens=12, seed=1)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in c.chat.completions.create(
        model="nanophi", messages=messages, max_tokens=12, seed=1, stream=True))
    assert streamed == answer.choices[0].message.content
    # the wire format itself: events, a usage chunk when asked for, then [DONE]
    request = urllib.request.Request(url + "/completions", data=json.dumps(
        {"prompt": "a", "max_tokens": 3, "stream": True, "stream_options": {"include_usage": True}}).encode())
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        events = [line for line in response.read().decode().split("\n\n") if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    assert json.loads(events[-2][6:])["usage"]["prompt_tokens"] == 1


def test_chat_messages_become_phi2_prompts(served, reference):
    assert chat_prompt([{"role": "user", "content": "What is 2+2?"}]) == ("Instruct: What is 2+2?\nOutput:",
                                                                          ["\nInstruct:"])
    assert chat_prompt([{"role": "system", "content": "Be brief."},
                        {"role": "user", "content": [{"type": "text", "text": "Hi"}]}])[0] == \
        "Be brief.\nInstruct: Hi\nOutput:"
    assert chat_prompt([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
                        {"role": "user", "content": "How are you?"}]) == (
        "Alice: Hi\nBob: Hello.\nAlice: How are you?\nBob:", ["\nAlice:"])
    for bad in ([], [{"role": "assistant", "content": "x"}], [{"role": "user", "content": 3}],
                [{"role": "robot", "content": "x"}], [{"role": "user", "content": [{"type": "image_url"}]}]):
        with pytest.raises(APIError) as e:
            chat_prompt(bad)
        assert e.value.status == 400
    server, url = served
    model, tokenizer = reference
    r = client(url).chat.completions.create(model="nanophi", temperature=0, max_tokens=20,
                                            messages=[{"role": "user", "content": "Hi"}])
    expected = complete(model, tokenizer, "Instruct: Hi\nOutput:", 20, temperature=0, stop=["\nInstruct:"])[0]
    assert r.choices[0].message.content == expected.lstrip() and r.choices[0].message.role == "assistant"


def test_logprobs_and_echo_are_the_models_log_softmax(served, reference):
    """What lm-evaluation-harness's local-completions sends for log-likelihoods: token ids, echo, logprobs."""
    server, url = served
    model, tokenizer = reference
    c = client(url)
    contexts = [tokenizer.encode("Once upon a time there was"), tokenizer.encode("def add(a, b):")]
    with torch.no_grad():
        expected = [model(torch.tensor([ids]))[0][0, :-1, :tokenizer.n_tokens].float().log_softmax(-1)
                    .gather(1, torch.tensor(ids[1:])[:, None])[:, 0] for ids in contexts]
    for max_tokens in (0, 1):  # older harnesses ask for no new token, newer ones for one
        r = c.completions.create(model="nanophi", prompt=contexts, echo=True, max_tokens=max_tokens, logprobs=1,
                                 temperature=0)
        assert [choice.index for choice in r.choices] == [0, 1]
        for choice, ids, reference_logprobs in zip(r.choices, contexts, expected):
            lp = choice.logprobs
            assert len(lp.token_logprobs) == len(ids) + max_tokens and lp.token_logprobs[0] is None
            assert lp.top_logprobs[0] is None
            torch.testing.assert_close(torch.tensor(lp.token_logprobs[1:len(ids)]), reference_logprobs,
                                       atol=1e-4, rtol=0)
            assert all(len(top) == 1 and max(top.values()) >= logprob - 1e-6
                       for top, logprob in zip(lp.top_logprobs[1:], lp.token_logprobs[1:]))
            assert "".join(lp.tokens) == choice.text and choice.text.startswith(tokenizer.decode(ids))
            assert lp.text_offset == [len("".join(lp.tokens[:i])) for i in range(len(lp.tokens))]
    # generated tokens: greedy picks the most likely token, and without echo the offsets follow the prompt
    r = c.completions.create(model="nanophi", prompt="The cat", max_tokens=6, logprobs=3, temperature=0)
    lp = r.choices[0].logprobs
    assert "".join(lp.tokens) == r.choices[0].text and lp.text_offset[0] == len("The cat")
    assert all(len(top) <= 3 and abs(max(top.values()) - logprob) < 1e-6
               for top, logprob in zip(lp.top_logprobs, lp.token_logprobs))


def test_tokenizer_endpoints_for_lm_eval_remote_backend(served, reference):
    server, url = served
    _, tokenizer = reference
    root = url.removesuffix("/v1")
    with urllib.request.urlopen(root + "/tokenizer_info", timeout=20) as response:
        info = json.loads(response.read())
    assert info["eos_token"] == "<|endoftext|>" and info["model_max_length"] == CONFIG.block_size
    status, body, _ = post(root + "/tokenize", {"prompt": "Once upon<|endoftext|>", "add_special_tokens": False})
    assert status == 200 and body["tokens"] == tokenizer.encode("Once upon") + [tokenizer.eot]
    status, body, _ = post(root + "/detokenize", {"tokens": tokenizer.encode("Once upon")})
    assert status == 200 and body["prompt"] == "Once upon"


# ---- what it refuses --------------------------------------------------------------------------------------

def is_error(status, body, expected_status, param=None):
    assert status == expected_status, body
    assert set(body["error"]) == {"message", "type", "param", "code"} and body["error"]["message"]
    assert param is None or body["error"]["param"] == param


@pytest.mark.parametrize("body, status, param", [
    ({"prompt": "a", "max_tokens": "ten"}, 400, "max_tokens"),
    ({"prompt": "a", "temperature": 5}, 400, "temperature"),
    ({"prompt": "a", "stream": 1}, 400, "stream"),
    ({"prompt": "a", "frobnicate": True}, 400, "frobnicate"),
    ({"prompt": "a", "presence_penalty": 0.5}, 400, "presence_penalty"),
    ({"prompt": "a", "n": 99}, 400, "n"),
    ({"prompt": "a", "max_tokens": 10_000}, 400, "max_tokens"),
    ({"prompt": "x" * 3000}, 400, "prompt"),
    ({"prompt": ""}, 400, "prompt"),
    ({"prompt": [1, 2, 100_000]}, 400, "prompt"),
    ({"prompt": {"text": "a"}}, 400, "prompt"),
    ({"prompt": "a", "model": "gpt-4"}, 404, "model"),
])
def test_bad_requests_get_openai_errors(served, body, status, param):
    server, url = served
    is_error(*post(url + "/completions", body)[:2], status, param)


def test_malformed_bodies_and_paths(served):
    server, url = served
    is_error(*post(url + "/completions", raw=b'{"prompt": "a",')[:2], 400)
    is_error(*post(url + "/completions", raw=b'["a"]')[:2], 400)
    is_error(*post(url + "/completions", raw=json.dumps({"prompt": "a" * (100 << 10)}).encode())[:2], 413)
    is_error(*post(url + "/embeddings", {"input": "a"})[:2], 404)
    is_error(*post(url + "/chat/completions", {"messages": [{"role": "assistant", "content": "x"}]})[:2], 400)
    with pytest.raises(openai.NotFoundError):
        client(url).completions.create(model="nope", prompt="a", max_tokens=1)
    # none of it disturbed the server
    assert client(url).completions.create(model="nanophi", prompt="a", max_tokens=2).usage.completion_tokens >= 1


def test_api_key(run_dir):
    with serving(run_dir, api_key="s3cret") as (server, url):
        status, body, _ = post(url + "/completions", {"prompt": "a", "max_tokens": 1})
        is_error(status, body, 401)
        with pytest.raises(openai.AuthenticationError):
            client(url, api_key="wrong").models.list()
        assert client(url, api_key="s3cret").completions.create(model="nanophi", prompt="a", max_tokens=1).choices


def test_a_full_queue_answers_429_with_retry_after(run_dir):
    with serving(run_dir, step_delay=0.02, slots=1, max_queue=1) as (server, url):
        c, engine = client(url), server.engine
        with ThreadPoolExecutor(2) as pool:
            running = pool.submit(c.completions.create, model="nanophi", prompt="a", max_tokens=100)
            assert wait_until(lambda: engine.rows)
            waiting = pool.submit(c.completions.create, model="nanophi", prompt="b", max_tokens=2)
            assert wait_until(lambda: engine.waiting)
            with pytest.raises(openai.RateLimitError) as e:
                c.completions.create(model="nanophi", prompt="c", max_tokens=2)
            assert e.value.response.headers["retry-after"] == "1"
            assert e.value.body["code"] == "rate_limit_exceeded"
            assert running.result(timeout=20).choices and waiting.result(timeout=20).choices


def test_a_client_that_goes_frees_its_slot_at_once(run_dir):
    with serving(run_dir, step_delay=0.05, slots=1) as (server, url):
        engine = server.engine
        # streaming: read the first event, then hang up; 300 steps would take 15 s
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=20)
        connection.request("POST", "/v1/completions", json.dumps({"prompt": "a", "max_tokens": 300, "stream": True}))
        response = connection.getresponse()
        assert response.fp.readline().startswith(b"data: ")
        response.close()
        connection.close()
        assert wait_until(lambda: not engine.rows, timeout=2)
        # not streaming: the client gives up waiting
        with pytest.raises(openai.APITimeoutError):
            client(url, timeout=0.5).completions.create(model="nanophi", prompt="a", max_tokens=300)
        assert wait_until(lambda: not engine.rows, timeout=2)
        assert client(url).completions.create(model="nanophi", prompt="b", max_tokens=3).choices


def test_a_stalled_client_is_dropped(run_dir):
    with serving(run_dir, client_timeout=0.5) as (server, url):
        stalled = socket.create_connection(server.server_address[:2], timeout=20)
        stalled.sendall(b"POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"prompt\"")
        assert client(url).completions.create(model="nanophi", prompt="a", max_tokens=2).choices  # not held up
        start = time.monotonic()
        assert stalled.recv(100) == b""  # the server closed the connection
        assert time.monotonic() - start < 5
        stalled.close()


def test_stopping_cancels_what_is_in_flight(run_dir):
    with serving(run_dir, step_delay=0.05, slots=2) as (server, url):
        c = client(url)
        with ThreadPoolExecutor(1) as pool:
            # greedy: a sampled continuation could reach <|endoftext|> and end before the stop
            waiting = pool.submit(c.completions.create, model="nanophi", prompt="a", max_tokens=300, temperature=0)
            stream = c.completions.create(model="nanophi", prompt="b", max_tokens=300, stream=True, temperature=0)
            next(iter(stream))
            server.engine.stop()
            with pytest.raises(openai.APIError):  # the stream ends with an error event
                for _ in stream:
                    pass
            with pytest.raises(openai.InternalServerError) as e:
                waiting.result(timeout=20)
            assert e.value.status_code == 503
        assert not server.engine.thread.is_alive()
        is_error(*post(url + "/completions", {"prompt": "a"})[:2], 503)


def test_sigterm_exits_cleanly(run_dir):
    process = subprocess.Popen([sys.executable, "serve.py", "--out_dir", str(run_dir), "--port", "0",
                                "--device", "cpu"], cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert "serving nanophi on http://127.0.0.1:" in line, line + process.stderr.read()
        url = line.split(" on ")[1].split()[0]
        assert client(url).completions.create(model="nanophi", prompt="a", max_tokens=2).choices
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "stopping" in process.stderr.read()
    finally:
        process.kill()


# ---- synth.py's teacher mode against it ---------------------------------------------------------------------

def test_synth_teacher_mode_and_topics_against_serve(served, tmp_path):
    """A random model writes junk, so nothing passes the story checks; what is tested is the plumbing."""
    server, url = served
    args = Namespace(teacher=url, model="nanophi", n=4, seed=0, out=str(tmp_path / "stories.jsonl"), workers=4,
                     timeout=30.0, retries=0, temperature=1.0, max_tokens=24, near_dup=1.0)
    counts = generate_with_teacher("tinystories", args)
    assert counts["failed_requests"] == 0 and counts["malformed"] + counts["written"] == 4
    synth.main(["topics", "--teacher", url, "--model", "nanophi", "--n", "6", "--out", str(tmp_path / "t.jsonl"),
                "--workers", "4", "--max_tokens", "24", "--subjects", "2", "--retries", "0"])
    assert (tmp_path / "t.jsonl").exists()
