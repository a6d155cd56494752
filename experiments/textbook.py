"""Textbooks against ordinary code: one small code model pretrained twice at the same token budget, (a) on
ordinary code (synth.py code: the exercise families' programs without docstrings, examples or explanations, with
boilerplate and a skewed topic mix) and (b) on synthetic textbooks; then each is finetuned on synthetic exercises
(train families only). Every model is scored on the held-out exercise families and on HumanEval (pass@1 greedy,
pass@10 sampled), with the prompts as given and with their trailing whitespace removed (see rstrip_prompts'
caller for why).

    python -m experiments textbook
"""
import json
import os
from collections import defaultdict

from experiments.common import REPO, Results, evaluate, machine_line, make, pyplot, rstrip_prompts, save_figure, \
    shard_tokens, train, val_curve
from files import write_bytes

ARMS = ("code", "textbook")


def ordinary_code(raw_path, out_path, match_path):
    """synth.py's code files without any that hold a held-out exercise family (both arms must leave those
    families unseen), cut at the textbook file's size in words, as synth.py code --match counts them."""
    from synthdata.exercises import split_of
    from synthdata.families import FAMILIES
    from synthdata.quality import tokens

    held_out = {f.name for f in FAMILIES if split_of(f) == "heldout"}
    with open(match_path, encoding="utf-8") as f:
        budget = sum(len(tokens(json.loads(line)["text"])) for line in f)
    kept, words, dropped = [], 0, 0
    with open(raw_path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if held_out & set(record["families"]):
                dropped += 1
                continue
            if words >= budget:
                break
            kept.append(line)
            words += len(tokens(record["text"]))
    if words < budget:
        raise SystemExit(f"{raw_path} has too few files for {budget} words once held-out families are left out: "
                         f"delete it and rerun with a larger --code_n")
    write_bytes(out_path, "".join(kept).encode())
    return {"files": len(kept), "words": words, "textbook_words": budget, "dropped_heldout_files": dropped}


def pass_by_family(results_path, problems_path):
    """{family: fraction of samples that pass} from an eval.py results file."""
    with open(REPO / problems_path, encoding="utf-8") as f:
        family = {r["task_id"]: r["family"] for r in map(json.loads, f)}
    passed = defaultdict(list)
    with open(REPO / results_path, encoding="utf-8") as f:
        for r in map(json.loads, f):
            passed[family[r["task_id"]]].append(r["passed"])
    return {k: round(sum(v) / len(v), 3) for k, v in sorted(passed.items())}


def run(args):
    data, out = args.data_dir, args.out_dir
    model = {"n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd, "block_size": args.block_size,
             "batch_size": args.batch_size, "gradient_accumulation_steps": 1, "dropout": 0.0}
    pretrain = {**model, "learning_rate": args.lr, "min_lr": args.lr / 10, "lr_schedule": "linear",
                "warmup_iters": min(100, args.pretrain_iters // 10), "lr_decay_iters": args.pretrain_iters,
                "weight_decay": 0.1, "eval_interval": max(1, args.pretrain_iters // 10), "eval_iters": 10,
                "log_interval": 25, "num_samples": 0}
    finetune = {**model, "learning_rate": args.finetune_lr, "min_lr": 0.0, "lr_schedule": "linear",
                "warmup_iters": min(20, args.finetune_iters // 10), "lr_decay_iters": args.finetune_iters,
                "weight_decay": 0.01, "eval_interval": max(1, args.finetune_iters // 3), "eval_iters": 10,
                "log_interval": 25, "num_samples": 0, "data_dir": f"{data}/exercises"}
    settings = {"pretrain_iters": args.pretrain_iters, "finetune_iters": args.finetune_iters,
                "tokens_per_step": args.batch_size * args.block_size, "pretrain": pretrain, "finetune": finetune,
                "textbook_n": args.textbook_n, "exercises_n": args.exercises_n, "heldout_n": args.heldout_n,
                "vocab_size": args.vocab_size, "humaneval_limit": args.humaneval_limit,
                "pass10_limit": args.pass10_limit, "max_new_tokens": args.max_new_tokens,
                "finetune_arms": args.finetune_arms, "out_dir": out, "data_dir": data}
    results = Results("textbook", settings, args.results_dir)

    heldout = f"{data}/heldout.jsonl"
    with results.timed("data"):
        make(f"{data}/textbook.jsonl", "synth.py", "textbook", "--n", args.textbook_n, "--seed", 0,
             "--out", f"{data}/textbook.jsonl")
        make(f"{data}/exercises.jsonl", "synth.py", "exercises", "--split", "train", "--n", args.exercises_n,
             "--seed", 0, "--out", f"{data}/exercises.jsonl")
        make(f"{data}/heldout.jsonl", "synth.py", "exercises", "--split", "heldout", "--n", args.heldout_n,
             "--seed", 1, "--out", f"{data}/heldout.jsonl")
        make(f"{data}/code_all.jsonl", "synth.py", "code", "--n", args.code_n, "--seed", 0,
             "--out", f"{data}/code_all.jsonl")
        if not (REPO / data / "code.jsonl").exists():
            results["code_corpus"] = ordinary_code(REPO / data / "code_all.jsonl", REPO / data / "code.jsonl",
                                                   REPO / data / "textbook.jsonl")
        corpora = [f"{data}/{name}.jsonl" for name in ("textbook", "code", "exercises")]
        make(f"{data}/tok.tiktoken", "data/tokenizer.py", "train", "--input", *corpora,
             "--vocab_size", args.vocab_size, "--out", f"{data}/tok.tiktoken")
        for name in ("textbook", "code", "exercises"):
            make(f"{data}/{name}/meta.json", "data/prepare.py", "--input", f"{data}/{name}.jsonl", "--tokenizer",
                 f"{data}/tok.tiktoken", "--out_dir", f"{data}/{name}", "--val_fraction", 0.05)
        # the held-out exercises as one val shard too: their loss moves long before their pass rate does
        make(f"{data}/heldout/meta.json", "data/prepare.py", "--input", heldout, "--tokenizer", f"{data}/tok.tiktoken",
             "--out_dir", f"{data}/heldout", "--val_fraction", 0.999)
        results["tokens"] = {name: shard_tokens(f"{data}/{name}") for name in ("textbook", "code", "exercises")}
    results.save()
    if args.data_only:
        return

    runs = results.setdefault("runs", {})
    for arm in ARMS:
        run_dir = f"{out}/pretrain-{arm}"
        with results.timed(f"pretrain-{arm}"):
            train(run_dir, args.pretrain_iters, {**pretrain, "data_dir": f"{data}/{arm}"})
        runs[f"pretrain-{arm}"] = {"arm": arm, "finetuned": False, "curve": val_curve(run_dir)}
        results.save()
    for arm in args.finetune_arms.split(","):
        run_dir = f"{out}/finetune-{arm}"
        with results.timed(f"finetune-{arm}"):
            train(run_dir, args.finetune_iters, finetune, init_from=f"{out}/pretrain-{arm}")
        runs[f"finetune-{arm}"] = {"arm": arm, "finetuned": True, "curve": val_curve(run_dir)}
        results.save()

    common = ["--max_new_tokens", args.max_new_tokens, "--workers", os.cpu_count()]
    humaneval_limit = ["--limit", args.humaneval_limit] if args.humaneval_limit else []
    pass10_limit = ["--limit", args.pass10_limit] if args.pass10_limit else []
    # Prompts end in a newline, but a BPE trained with GPT-2's pre-tokenizer never ends a token there before an
    # indented line: the training text has '\n   ' + ' return' where the prompt gives '\n' alone, and a small
    # model answers that unseen token with <|endoftext|>. The same problems with the prompt's trailing
    # whitespace removed (tests unchanged) measure the models rather than the prompt's last token.
    stripped = {"heldout": f"{data}/heldout_rstrip.jsonl", "humaneval": f"{data}/humaneval_rstrip.jsonl"}
    rstrip_prompts(heldout, stripped["heldout"])
    rstrip_prompts(None, stripped["humaneval"])
    sampled = ["--n_samples", 10, "--temperature", 0.8, "--batch_size", 10]
    as_given = ["--keep_prompt_whitespace"]  # eval.py strips by default; these two measure the prompts as given
    evals = [("heldout", ["exercises", "--data", heldout, *common, *as_given]),
             ("heldout_loss", ["loss", "--data_dir", f"{data}/heldout", "--eval_iters", 20, "--batch_size", 8]),
             ("exercises_loss", ["loss", "--data_dir", f"{data}/exercises", "--eval_iters", 20, "--batch_size", 8]),
             ("humaneval", ["humaneval", *common, *humaneval_limit, *as_given]),
             ("heldout_rstrip", ["exercises", "--data", stripped["heldout"], *common]),
             ("humaneval_rstrip", ["exercises", "--data", stripped["humaneval"], *common, *humaneval_limit])]
    if args.pass10_limit >= 0:
        evals.append(("heldout_rstrip_pass10", ["exercises", "--data", stripped["heldout"], *common, *sampled]))
        evals.append(("humaneval_rstrip_pass10", ["exercises", "--data", stripped["humaneval"], *common,
                                                  *pass10_limit, *sampled]))
    for key, eval_args in evals:  # each benchmark for every model before the next: the main numbers come first
        for name, entry in runs.items():
            with results.timed(f"eval-{key}"):
                entry[key] = evaluate(f"{out}/{name}", key, *eval_args)
                if key == "heldout_rstrip":
                    entry["heldout_by_family"] = pass_by_family(f"{out}/{name}/eval_heldout_rstrip.jsonl", heldout)
            results.save()
    plot(results)
    print(report(results))


def plot(results):
    plt = pyplot()
    if plt is None:
        return
    runs = results["runs"]
    panels = [("heldout_loss", "loss", "held-out families: loss (nats/token)"),
              ("heldout_rstrip", "pass@1", "held-out families, pass@1 (greedy)"),
              ("heldout_rstrip_pass10", "pass@10", "held-out families, pass@10 (T=0.8)"),
              ("humaneval_rstrip", "pass@1", "HumanEval, pass@1 (greedy)"),
              ("humaneval_rstrip_pass10", "pass@10", "HumanEval, pass@10 (T=0.8)")]
    panels = [p for p in panels if any(p[0] in r for r in runs.values())]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.2), dpi=100, squeeze=False)
    colors = {"code": "tab:gray", "textbook": "tab:green"}
    for ax, (key, metric, title) in zip(axes[0], panels):
        for g, finetuned in enumerate((False, True)):
            for a, arm in enumerate(ARMS):
                entry = runs.get(f"{'finetune' if finetuned else 'pretrain'}-{arm}", {})
                if key in entry:
                    value = entry[key].get(metric, 0) * (1 if metric == "loss" else 100)
                    ax.bar(g * 3 + a, value, color=colors[arm], label=arm if g == 0 else None)
                    ax.text(g * 3 + a, value, f"{value:.2f}" if metric == "loss" else f"{value:.1f}", ha="center",
                            va="bottom", fontsize=8)
        ax.set_xticks([0.5, 3.5], ["pretrained", "+ exercises"])
        ax.set_title(title, fontsize=9)
        if metric != "loss":
            ax.set_ylim(0, max(5.0, ax.get_ylim()[1]))
            ax.set_ylabel("% of problems")
    axes[0][0].legend(title="pretraining data", fontsize=8, title_fontsize=8)
    fig.tight_layout()
    save_figure(fig, results, "textbook_pass.png")


def report(results):
    lines = ["| pretraining data | finetuned on exercises | own val loss | train-family exercises loss | "
             "held-out exercises loss | held-out pass@1 | held-out pass@10 | HumanEval pass@1 | HumanEval pass@10 | "
             "pass@1, prompts as given (held-out / HumanEval) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def pct(entry, key, metric):
        if key not in entry or metric not in entry[key]:
            return "-"
        n = entry[key]["n_tasks"]
        return f"{100 * entry[key][metric]:.1f}% (n={n})"

    for name, entry in sorted(results["runs"].items(), key=lambda item: (item[1]["finetuned"], item[1]["arm"])):
        losses = [entry.get(key, {}).get("loss", "-") for key in ("exercises_loss", "heldout_loss")]
        own = f"{entry['curve'][-1][2]:.3f}" if entry.get("curve") else "-"
        lines.append(f"| {entry['arm']} | {'yes' if entry['finetuned'] else 'no'} | {own} | {losses[0]} | {losses[1]} | "
                     f"{pct(entry, 'heldout_rstrip', 'pass@1')} | {pct(entry, 'heldout_rstrip_pass10', 'pass@10')} | "
                     f"{pct(entry, 'humaneval_rstrip', 'pass@1')} | {pct(entry, 'humaneval_rstrip_pass10', 'pass@10')} | "
                     f"{pct(entry, 'heldout', 'pass@1')} / {pct(entry, 'humaneval', 'pass@1')} |")
    by_family = {name: entry["heldout_by_family"] for name, entry in results["runs"].items()
                 if "heldout_by_family" in entry}
    solved = sorted({f for passes in by_family.values() for f, rate in passes.items() if rate > 0})
    if solved:
        names = sorted(by_family, key=lambda n: (n.startswith("finetune"), n))
        lines += ["", "Held-out families that any model solves (pass@1 per family):", "",
                  "| family | " + " | ".join(names) + " |", "|---" + "|---:" * len(names) + "|"]
        lines += [f"| {f} | " + " | ".join(f"{by_family[n].get(f, 0):.0%}" for n in names) + " |" for f in solved]
    s = results["settings"]
    tokens = results.get("tokens", {})
    lines += ["", f"Pretraining: {s['pretrain_iters']} steps x {s['tokens_per_step']:,} tokens = "
                  f"{s['pretrain_iters'] * s['tokens_per_step'] / 1e6:.1f}M tokens per arm; finetuning: "
                  f"{s['finetune_iters']} steps ({s['finetune_iters'] * s['tokens_per_step'] / 1e6:.1f}M tokens). "
                  "Corpora (BPE tokens, train split): " +
              ", ".join(f"{k} {v['train'] / 1e6:.2f}M" for k, v in tokens.items()) + ".",
              "", machine_line(results)]
    return "\n".join(lines)
