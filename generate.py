"""
Sample text from a phi model: a checkpoint of ours, or the official weights.

    python generate.py --out_dir out-tinystories --prompt "Lily found a"
    python generate.py --init_from microsoft/phi-2 --prompt "Instruct: Explain gravity.\\nOutput:" --max_new_tokens 200
    echo "def fib(n):" | python generate.py --init_from path/to/hf_dir --temperature 0
    python generate.py --bench                          # decode speed against transformers (on a GPU)

The prompt comes from --prompt (repeat it for several), --prompt_file (the whole file is one prompt; a .jsonl
file gives one prompt per line, in its "prompt" field) or standard input. Prompts are handled one after
another; the --num_samples samples of one prompt decode together as one batch, since they share the prompt's
length (the model has no padding mask, so prompts of different lengths cannot share a batch).

Decoding is a prefill of the whole prompt, then one token per step on the model's preallocated KV cache, so
a step costs one token of compute. A sample ends at <|endoftext|>, at a --stop string (cut off before it) or
after --max_new_tokens. A single sample is streamed to the terminal as it is produced; several are printed
as each finishes.
"""

import argparse
import functools
import json
import os
import re
import sys
import time

import torch

from files import load_run
from model import Phi, PhiConfig


# ----------------------------------------------------------------------------------------------------------
# Loading

def load_model(out_dir=None, init_from=None, device="cpu", dtype=None):
    """(model in eval mode, tokenizer). out_dir: a training run's ckpt.pt; init_from: official weights (a hub
    name such as microsoft/phi-1 or a local Hugging Face directory), or another run's out_dir. dtype defaults to
    bfloat16 on CUDA and float32 elsewhere."""
    from data.tokenizer import load_tokenizer

    if (out_dir is None) == (init_from is None):
        raise SystemExit("give exactly one of --out_dir (a training run) or --init_from (official weights)")
    dtype = dtype or (torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32)
    if init_from is not None and not os.path.isfile(os.path.join(init_from, "ckpt.pt")):
        try:
            model = Phi.from_pretrained(init_from, dtype=dtype, device=device)
        except (FileNotFoundError, ConnectionError, ValueError) as e:
            raise SystemExit(f"cannot load official weights from {init_from!r}: {e}") from None
        return model.eval(), load_tokenizer("codegen")  # the tokenizer every official phi model ships
    model, tokenizer, _ = load_run(out_dir or init_from, device, dtype)
    return model, tokenizer


# ----------------------------------------------------------------------------------------------------------
# Sampling

def sample_next(logits, temperature=1.0, top_k=None, top_p=1.0, generator=None):
    """One token per row from (B, V) logits: greedy when temperature is 0, else from the softmax at that
    temperature, restricted to the top_k most likely tokens and to the smallest set whose probability
    reaches top_p (nucleus sampling)."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        # drop a token when the more likely ones before it already reach top_p (the first always stays)
        drop = probs.cumsum(dim=-1) - probs >= top_p
        logits = logits.scatter(-1, order, sorted_logits.masked_fill(drop, float("-inf")))
    return torch.multinomial(logits.softmax(dim=-1), 1, generator=generator).squeeze(-1)


def check_prompt(prompt_ids, block_size):
    if not prompt_ids:
        raise ValueError("the prompt is empty: give some text for the model to continue")
    if len(prompt_ids) > block_size:
        raise ValueError(f"the prompt is {len(prompt_ids)} tokens, longer than the model's context of {block_size}: "
                         "shorten it")


@torch.no_grad()
def generate_tokens(model, prompt_ids, max_new_tokens, num_samples=1, temperature=1.0, top_k=None, top_p=1.0,
                    generator=None, n_real_tokens=None, compile=False):
    """Yield the next token of each of num_samples continuations of prompt_ids, a (num_samples,) tensor per
    step, for at most max_new_tokens steps (the caller stops early by leaving the loop). Logits past
    n_real_tokens (the padding rows of an embedding rounded up in size) are never sampled."""
    block_size = model.config.block_size
    check_prompt(prompt_ids, block_size)
    # the last sampled token is never fed back, so a full context still yields one more token
    max_new_tokens = min(max_new_tokens, block_size - len(prompt_ids) + 1)
    if max_new_tokens <= 0:
        return
    device = model.lm_head.weight.device
    model.setup_kv_cache(num_samples, len(prompt_ids) + max_new_tokens - 1)
    step, position = model, int
    if compile:
        # Compiled decode runs the static-shape cache path (start_pos as a tensor: every step has the same
        # shapes), so on CUDA "reduce-overhead" can replay the whole step as one CUDA graph instead of paying
        # a launch per kernel, which otherwise dominates a batch-1 step.
        mode = "reduce-overhead" if device.type == "cuda" else None
        step = torch.compile(model, mode=mode, fullgraph=True)
        position = functools.partial(torch.tensor, device=device)
    try:
        idx = torch.tensor(prompt_ids, dtype=torch.long, device=device).expand(num_samples, -1)
        logits, _ = model(idx, start_pos=0)  # prefill: the whole prompt at once
        for i in range(max_new_tokens):
            next_ids = sample_next(logits[:, -1, :n_real_tokens], temperature, top_k, top_p, generator)
            yield next_ids
            if i + 1 < max_new_tokens:
                logits, _ = step(next_ids[:, None], start_pos=position(len(prompt_ids) + i))
    finally:
        model.clear_kv_cache()


class Completion:
    """The text of one sample as it grows. It ends at <|endoftext|> or at a stop string (cut off before it);
    `new_text()` returns what can be shown so far: a tail that may still become a stop string, or half of a
    multi-byte character (decoded as U+FFFD), waits for the next token."""

    def __init__(self, tokenizer, stop=()):
        self.tokenizer, self.stop = tokenizer, [s for s in stop if s]
        self.ids, self.text, self.done, self.shown = [], "", False, 0

    def add(self, token_id):
        if self.done:
            return
        if token_id == self.tokenizer.eot:
            self.done = True
            return
        self.ids.append(token_id)
        # decoding the whole sample each time keeps characters split across tokens right
        self.text = self.tokenizer.decode(self.ids)
        cuts = [self.text.find(s) for s in self.stop if s in self.text]
        if cuts:
            self.text, self.done = self.text[:min(cuts)], True

    def new_text(self):
        end = len(self.text)
        if not self.done:
            end = len(self.text.rstrip("\ufffd"))
            if self.stop:
                end = min(end, len(self.text) - (max(map(len, self.stop)) - 1))
        end = max(end, self.shown)
        new, self.shown = self.text[self.shown:end], end
        return new


def complete(model, tokenizer, prompt, max_new_tokens, num_samples=1, temperature=1.0, top_k=None, top_p=1.0,
             stop=(), generator=None, on_text=None, compile=False):
    """The num_samples completions (strings, without the prompt) of one prompt. on_text(i, text) is called
    with each new piece of sample i as soon as it can be shown."""
    completions = [Completion(tokenizer, stop) for _ in range(num_samples)]
    tokens = generate_tokens(model, tokenizer.encode(prompt), max_new_tokens, num_samples, temperature, top_k,
                             top_p, generator, n_real_tokens=tokenizer.n_tokens, compile=compile)
    for next_ids in tokens:
        for i, token_id in enumerate(next_ids.tolist()):
            completions[i].add(token_id)
        if all(c.done for c in completions):
            tokens.close()  # frees the KV cache now
            break
        if on_text is not None:
            for i, c in enumerate(completions):
                if piece := c.new_text():
                    on_text(i, piece)
    for c in completions:
        c.done = True
    if on_text is not None:
        for i, c in enumerate(completions):
            if piece := c.new_text():
                on_text(i, piece)
    return [c.text for c in completions]


# ----------------------------------------------------------------------------------------------------------
# Decode benchmark: tokens/s at batch 1 and 16, ours against transformers' generate, and as a fraction of the
# memory-bandwidth limit. At batch 1 a decode step must read every weight once, so tokens/s can never exceed
# bandwidth / bytes of weights.

PEAK_BANDWIDTH = (  # bytes/s by GPU name, first match wins (the vendors' data sheets)
    ("H100 PCIe", 2.0e12), ("H100 NVL", 3.9e12), ("H100", 3.35e12), ("H200", 4.8e12), ("GH200", 4.0e12),
    ("A100-SXM4-80GB", 2.039e12), ("A100 80GB PCIe", 1.935e12), ("A100", 1.555e12),
)


def peak_bandwidth(device):
    if torch.device(device).type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((bw for key, bw in PEAK_BANDWIDTH if key in name), None)


def decode_steps_per_second(token_times):
    """Steps per second between the first and the last new token: the prefill (before the first) is left out."""
    return (len(token_times) - 1) / (token_times[-1] - token_times[0])


def bench_decode(shapes=("phi-1.5", "phi-2"), batch_sizes=(1, 16), prompt_len=128, new_tokens=256,
                 device="cuda", dtype=torch.bfloat16, compile=False, transformers=True):
    """Rows of a table: greedy decode tokens/s (all rows of the batch, new tokens after the first) for random
    weights of each shape, ours and transformers' generate. Both bring every token to the host as it is made,
    as streaming needs; each measurement is warmed up once, then timed once."""
    rows = []
    bandwidth = peak_bandwidth(device)
    for shape in shapes:
        config = PhiConfig.from_name(shape, resid_pdrop=0.0)
        torch.manual_seed(0)
        with torch.device(device):
            model = Phi(config).cast_weights(dtype).eval()
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        hf_model = _transformers_twin(model, device, dtype) if transformers else None
        for batch in batch_sizes:
            prompt = torch.randint(0, config.vocab_size, (prompt_len,)).tolist()

            def ours():
                times = []
                for next_ids in generate_tokens(model, prompt, new_tokens, batch, temperature=0, compile=compile):
                    next_ids.tolist()  # on the host, as complete() needs it
                    times.append(time.perf_counter())
                return times

            ours()  # warm-up (and compilation)
            steps_per_s = decode_steps_per_second(ours())
            row = {"shape": shape, "batch": batch, "ours_tok_s": batch * steps_per_s,
                   # a step reads every weight once (and the KV cache, a little more): the limit is
                   # bandwidth / weight_bytes steps per second
                   "bandwidth_fraction": steps_per_s * weight_bytes / bandwidth if bandwidth else None}
            if hf_model is not None:
                row["transformers_tok_s"] = batch * _transformers_steps_per_second(hf_model, prompt, batch,
                                                                                    new_tokens, device)
            rows.append(row)
        del model, hf_model
    return rows


def _transformers_steps_per_second(hf_model, prompt, batch, new_tokens, device):
    from transformers.generation.streamers import BaseStreamer

    class TokenClock(BaseStreamer):  # generate() hands it the prompt, then each new token as it is made
        def __init__(self):
            self.times = []

        def put(self, value):
            self.times.append(time.perf_counter())

        def end(self):
            pass

    idx = torch.tensor([prompt] * batch, device=device)
    for _ in range(2):  # warm-up, then timed
        clock = TokenClock()
        hf_model.generate(idx, attention_mask=torch.ones_like(idx), max_new_tokens=new_tokens,
                          min_new_tokens=new_tokens, do_sample=False, pad_token_id=0, streamer=clock)
    return decode_steps_per_second(clock.times[1:])


def _transformers_twin(model, device, dtype):
    """transformers' PhiForCausalLM with the same weights, through the HF files our model writes."""
    import tempfile

    from transformers import AutoModelForCausalLM

    with tempfile.TemporaryDirectory() as directory:
        model.save_pretrained(directory)
        hf = AutoModelForCausalLM.from_pretrained(directory)
    return hf.to(device=device, dtype=dtype).eval()


def print_bench(rows, device):
    name = torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" else "CPU"
    print(f"decode tokens/s on {name} (random weights, greedy, new tokens only)")
    print("| shape | batch | nanophi tok/s | transformers tok/s | speedup | fraction of bandwidth limit |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        hf = r.get("transformers_tok_s")
        theirs, speedup = (f"{hf:.0f}", f"{r['ours_tok_s'] / hf:.2f}x") if hf else ("n/a", "n/a")
        fraction = f"{r['bandwidth_fraction']:.0%}" if r["bandwidth_fraction"] is not None else "n/a"
        print(f"| {r['shape']} | {r['batch']} | {r['ours_tok_s']:.0f} | {theirs} | {speedup} | {fraction} |")
    print(json.dumps({"benchmark": "decode", "device": name, "rows": rows}))


# ----------------------------------------------------------------------------------------------------------
# Command line

def unescape(text):
    """A shell passes "\\n" in --prompt as backslash and n: read \\n and \\t as a newline and a tab (and \\\\ as
    one backslash), so that "Instruct: ...\\nOutput:" works as written."""
    return re.sub(r"\\([nt\\])", lambda m: {"n": "\n", "t": "\t", "\\": "\\"}[m.group(1)], text)


def read_prompts(args):
    if args.prompt is not None and args.prompt_file is not None:
        raise SystemExit("give --prompt or --prompt_file, not both")
    if args.prompt is not None:
        return [unescape(p) for p in args.prompt]
    if args.prompt_file is not None:
        if not os.path.isfile(args.prompt_file):
            raise SystemExit(f"--prompt_file {args.prompt_file} does not exist")
        with open(args.prompt_file, encoding="utf-8") as f:
            if not args.prompt_file.endswith(".jsonl"):
                return [f.read()]
            try:
                return [json.loads(line)["prompt"] for line in f if line.strip()]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise SystemExit(f"{args.prompt_file}: every line must be a JSON object with a \"prompt\"") from None
    if sys.stdin.isatty():
        raise SystemExit("no prompt: give --prompt TEXT, --prompt_file FILE, or pipe the prompt into standard input")
    return [sys.stdin.read()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out_dir", help="a training run's directory (its ckpt.pt)")
    parser.add_argument("--init_from", help="official weights: microsoft/phi-1, microsoft/phi-1_5, microsoft/phi-2, "
                                            "or a local Hugging Face directory")
    parser.add_argument("--prompt", action="append",
                        help="text to continue (\\n and \\t are a newline and a tab); repeat for several prompts")
    parser.add_argument("--prompt_file", help="a file holding the prompt (.jsonl: one {\"prompt\": ...} per line)")
    parser.add_argument("--num_samples", type=int, default=1, help="samples per prompt, decoded as one batch")
    parser.add_argument("--max_new_tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.8, help="0 is greedy")
    parser.add_argument("--top_k", type=int, default=200, help="0 for no limit")
    parser.add_argument("--top_p", type=float, default=1.0, help="nucleus sampling; 1.0 for no limit")
    parser.add_argument("--stop", action="append", default=[], help="end a sample at this string; repeatable")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"],
                        help="default: bfloat16 on CUDA, float32 elsewhere")
    parser.add_argument("--compile", action="store_true", help="compile the decode step (CUDA)")
    parser.add_argument("--bench", action="store_true", help="measure decode speed against transformers instead")
    parser.add_argument("--bench_shapes", default="phi-1.5,phi-2", help="model presets for --bench")
    parser.add_argument("--bench_tokens", type=int, default=256, help="new tokens per --bench measurement")
    args = parser.parse_args(argv)
    for name in ("num_samples", "max_new_tokens", "bench_tokens"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.temperature < 0 or args.top_k < 0 or not 0 < args.top_p <= 1:
        parser.error("--temperature and --top_k must be >= 0 and --top_p in (0, 1]")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}, but CUDA is not available here: use --device cpu")
    dtype = getattr(torch, args.dtype) if args.dtype else None

    if args.bench:
        rows = bench_decode(args.bench_shapes.split(","), device=args.device, dtype=dtype or torch.bfloat16,
                            new_tokens=args.bench_tokens, compile=args.compile)
        print_bench(rows, args.device)
        return

    prompts = read_prompts(args)
    model, tokenizer = load_model(args.out_dir, args.init_from, args.device, dtype)
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    stream = args.num_samples == 1

    def show(i, piece):
        sys.stdout.write(piece)
        sys.stdout.flush()

    for number, prompt in enumerate(prompts, 1):  # all of them checked before any work starts
        try:
            check_prompt(tokenizer.encode(prompt), model.config.block_size)
        except ValueError as e:
            raise SystemExit(str(e) if len(prompts) == 1 else f"prompt {number}: {e}") from None
    for prompt in prompts:
        if stream:
            sys.stdout.write(prompt)
        texts = complete(model, tokenizer, prompt, args.max_new_tokens, args.num_samples, args.temperature,
                         args.top_k or None, args.top_p, args.stop, generator, on_text=show if stream else None,
                         compile=args.compile)
        if stream:
            sys.stdout.write("\n---------------\n")
        else:
            for text in texts:
                sys.stdout.write(prompt + text + "\n---------------\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
