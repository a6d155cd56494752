"""
Serving throughput: requests/s and generated tokens/s of serve.py at concurrency 1, 4 and 16, and against
running generate.py once per request (a new process each time: start, load the checkpoint, generate).

    python bench_serve.py                          # the toy's shape, random weights, on the CPU
    python bench_serve.py --out_dir out-tinystories --device cpu --max_tokens 128

Without --out_dir the model has the shape of train.py's defaults (4 layers, 4 heads, width 128, context 256,
vocabulary 2048) with random weights and a byte-level tokenizer, saved as a run in a temporary folder. Every
request is one prompt, greedy, --max_tokens new tokens; both sides are asked for the same requests and
tokens/s counts the tokens the server reports (usage.completion_tokens). serve.py runs in its own process,
as it would in use, and the clients are threads of this one.
"""

import argparse
import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import torch

from data.tokenizer import save_ranks
from model import Phi, PhiConfig

TOY = PhiConfig(vocab_size=2048, block_size=256, n_layer=4, n_head=4, n_embd=128)  # train.py's defaults
PROMPTS = ["Once upon a time, a little {} found a", "The {} was happy because", "One day, Tim and his {} went to",
           "Lily wanted to play with the {}, but"]
THINGS = ["dog", "ball", "tree", "cat", "box", "bird", "car", "hat"]


def random_run(directory):
    """A run folder as train.py writes it: the toy's shape, random weights, a byte-level tokenizer."""
    save_ranks([bytes([i]) for i in range(256)], os.path.join(directory, "bytes.tiktoken"))
    torch.manual_seed(0)
    model = Phi(TOY)
    torch.save({"model": model.state_dict(), "model_config": dataclasses.asdict(TOY),
                "tokenizer": os.path.join(directory, "bytes.tiktoken"), "config": {}, "iter_num": 0,
                "best_val_loss": 0.0}, os.path.join(directory, "ckpt.pt"))
    return directory


def prompt(i):
    return PROMPTS[i % len(PROMPTS)].format(THINGS[i // len(PROMPTS) % len(THINGS)])


def start_server(out_dir, device, slots):
    process = subprocess.Popen([sys.executable, "serve.py", "--out_dir", out_dir, "--port", "0", "--device", device,
                                "--slots", str(slots)], stderr=subprocess.PIPE, text=True,
                               cwd=os.path.dirname(os.path.abspath(__file__)))
    line = process.stderr.readline()
    match = re.search(r"http://\S+/v1", line)
    if not match:
        process.kill()
        raise SystemExit(f"serve.py did not start: {line}{process.stderr.read()}")
    threading.Thread(target=process.stderr.read, daemon=True).start()  # keep its pipe from filling up
    return process, match.group(0)


def complete(url, i, max_tokens):
    body = json.dumps({"model": "nanophi", "prompt": prompt(i), "max_tokens": max_tokens, "temperature": 0})
    request = urllib.request.Request(url + "/completions", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())["usage"]["completion_tokens"]


def bench_server(url, concurrency, requests, max_tokens):
    complete(url, 0, max_tokens)  # warm-up
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        tokens = sum(pool.map(lambda i: complete(url, i, max_tokens), range(requests)))
    seconds = time.perf_counter() - start
    return {"concurrency": concurrency, "requests": requests, "requests_per_s": requests / seconds,
            "tokens_per_s": tokens / seconds}


def bench_generate_py(out_dir, device, requests, max_tokens):
    """Seconds per request when each request is its own `python generate.py` run."""
    start = time.perf_counter()
    for i in range(requests):
        subprocess.run([sys.executable, "generate.py", "--out_dir", out_dir, "--prompt", prompt(i), "--device",
                        device, "--max_new_tokens", str(max_tokens), "--temperature", "0"], check=True,
                       capture_output=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    return (time.perf_counter() - start) / requests


def machine():
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return f"{cpu}, {os.cpu_count()} cores, load average {load}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    parser.add_argument("--out_dir", help="a trained run to serve (default: the toy's shape, random weights)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--concurrency", default="1,4,16", help="clients at once, one measurement each")
    parser.add_argument("--requests", type=int, default=32, help="requests per measurement (at least 8)")
    parser.add_argument("--max_tokens", type=int, default=128, help="new tokens per request")
    parser.add_argument("--baseline_requests", type=int, default=3, help="generate.py runs to time")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.out_dir or random_run(tmp)
        conditions = machine()
        per_request = bench_generate_py(out_dir, args.device, args.baseline_requests, args.max_tokens)
        process, url = start_server(out_dir, args.device, slots=max(levels))
        try:
            rows = [bench_server(url, c, max(args.requests, 8), args.max_tokens) for c in levels]
        finally:
            process.terminate()
            process.wait(30)
    weights = f"the run in {args.out_dir}" if args.out_dir else "the toy's shape, random weights"
    print(f"serve.py on {args.device} ({weights}), {args.max_tokens} greedy tokens per request; {conditions}")
    print(f"generate.py once per request: {per_request:.2f} s per request ({1 / per_request:.2f} requests/s)")
    print("| concurrency | requests/s | generated tokens/s | vs generate.py per request |")
    print("|---|---|---|---|")
    for r in rows:
        r["vs_generate_py"] = r["requests_per_s"] * per_request
        print(f"| {r['concurrency']} | {r['requests_per_s']:.2f} | {r['tokens_per_s']:.0f} | "
              f"{r['vs_generate_py']:.1f}x |")
    print(json.dumps({"benchmark": "serve", "device": args.device, "machine": conditions, "weights": weights,
                      "generate_py_s_per_request": per_request, "rows": rows}))


if __name__ == "__main__":
    main()
