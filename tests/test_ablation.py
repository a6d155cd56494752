"""experiments/ablation.py: its Wilson intervals (eval.py's), how the arms are built, resuming with a fake runner,
the table (budget: a few seconds)."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments import ablation, common
from eval import wilson_interval
from experiments.__main__ import main
from files import read_json, read_jsonl, write_jsonl


def brute_force_wilson(passed, n, z=1.96, steps=200_001):
    """The p in [0, 1] that the score test does not reject, found by scanning a grid."""
    p = np.linspace(0, 1, steps)
    with np.errstate(divide="ignore", invalid="ignore"):
        accepted = np.abs(passed / n - p) <= z * np.sqrt(p * (1 - p) / n)
    accepted |= p == passed / n  # at p = 0 or 1 the test's variance is 0: only p_hat itself is accepted
    return p[accepted].min(), p[accepted].max()


@pytest.mark.parametrize("passed,n", [(0, 10), (1, 10), (5, 10), (10, 10), (3, 2000), (41, 164)])
def test_wilson_matches_the_score_test_it_inverts(passed, n):
    lo, hi = wilson_interval(passed, n)
    want_lo, want_hi = brute_force_wilson(passed, n)
    assert abs(lo - want_lo) < 6e-5 and abs(hi - want_hi) < 6e-5  # rounded to 4 places
    assert lo <= passed / n <= hi


def test_wilson_known_values():
    # Wilson (1927) / Newcombe (1998) method 3: 0 of 10 is [0, 0.2775], 81 of 263 is [0.2553, 0.3662]
    assert wilson_interval(0, 10) == [0.0, 0.2775]
    assert wilson_interval(81, 263) == [0.2553, 0.3662]
    assert wilson_interval(0, 0) == [0.0, 1.0]


def heldout_record(i, name="count_vowels"):
    prompt = f'def {name}(text):\n    """Return how many vowels there are in the text, counting a e i o u once each."""\n'
    solution = "    return sum(1 for letter in text.lower() if letter in 'aeiou' and letter is not None and True)\n"
    return {"task_id": f"heldout/{i}", "prompt": prompt, "canonical_solution": solution, "entry_point": name,
            "family": "count_vowels", "test": f"def check(candidate):\n    assert candidate('ae') == 2\n",
            "text": prompt + solution}


HUMANEVAL = {"HumanEval/0": {"prompt": "def has_close_elements(numbers, threshold):\n    \"\"\" Check if in given list "
                                       "of numbers, are any two numbers closer to each other than given threshold.\n"}}


def test_contamination_finds_benchmark_ngrams_and_held_out_topics(tmp_path):
    write_jsonl(tmp_path / "heldout.jsonl", [heldout_record(0)])
    contamination = ablation.Contamination(tmp_path / "heldout.jsonl", humaneval=HUMANEVAL)
    clean = "def add(a, b):\n    return a + b\n"
    assert contamination(clean) is None and contamination(clean, topics=True) is None
    leaked = "# Check if in given list of numbers, are any two numbers closer to each other than given threshold\n"
    assert contamination(leaked) == "humaneval"
    copied = "x = sum(1 for letter in text.lower() if letter in 'aeiou' and letter is not None and True)"
    assert contamination(copied) == "heldout"
    topic = "Here is how to count vowels.\n\ndef count_vowels(s):\n    return len([c for c in s if c in 'aeiou'])\n"
    assert contamination(topic) is None  # real code may solve a held-out task in its own words
    assert contamination(topic, topics=True) == "heldout_topic"  # a textbook section may not teach it


def code_file(i, words=80):
    return f"def function_{i}(value):\n" + "".join(f"    value = value + {i * 1000 + j}  # step {j}\n"
                                                   for j in range(words // 8)) + "    return value\n"


def test_clean_pool_shuffles_and_drops_duplicate_and_contaminated_files(tmp_path):
    write_jsonl(tmp_path / "heldout.jsonl", [heldout_record(0)])
    contamination = ablation.Contamination(tmp_path / "heldout.jsonl", humaneval=HUMANEVAL)
    near = code_file(1).replace("# step 3", "# step three")
    pool = [{"text": code_file(i), "path": f"pkg/m{i}.py", "score": i} for i in range(20)]
    pool += [{"text": code_file(1), "path": "copy/m1.py"},  # exact duplicate
             {"text": near, "path": "copy/near.py"},  # one word changed
             {"text": "def f():\n" + HUMANEVAL["HumanEval/0"]["prompt"], "path": "leak.py"}]
    write_jsonl(tmp_path / "pool.jsonl", pool)
    counts = ablation.clean_pool(tmp_path / "pool.jsonl", tmp_path / "clean.jsonl", contamination)
    kept = read_jsonl(tmp_path / "clean.jsonl")
    assert counts["files"] == 23 and counts["kept"] == len(kept) == 20
    assert counts["exact"] + counts["near"] == 2 and counts["humaneval"] == 1
    assert sorted(r["text"] for r in kept) == sorted(code_file(i) for i in range(20))
    assert [r["path"] for r in kept] != sorted(r["path"] for r in kept)  # not in the pool's package order
    ablation.clean_pool(tmp_path / "pool.jsonl", tmp_path / "again.jsonl", contamination)
    assert read_jsonl(tmp_path / "again.jsonl") == kept  # the order is fixed


def byte_tokenizer(path):
    """A BPE with no merges: one token per byte, so a text costs len(bytes) + 1 tokens with <|endoftext|>."""
    from data.tokenizer import save_ranks

    save_ranks([bytes([i]) for i in range(256)], path)
    return path


def test_arms_have_equal_budgets_the_mix_ratio_and_nested_filtered_code(tmp_path):
    write_jsonl(tmp_path / "clean.jsonl", [{"text": code_file(i), "path": f"c{i}", "score": 1.0} for i in range(200)])
    write_jsonl(tmp_path / "kept.jsonl", [{"text": code_file(i), "path": f"c{i}", "score": 4.0}
                                          for i in range(0, 200, 2)])
    write_jsonl(tmp_path / "textbook_clean.jsonl", [{"text": f"Lesson {i}: a loop repeats its body.\n" * 3}
                                              for i in range(100)])
    budget, share = 7000, 1 / 7
    arms = ablation.build_arms(tmp_path / "clean.jsonl", tmp_path / "kept.jsonl", tmp_path / "textbook_clean.jsonl",
                               byte_tokenizer(tmp_path / "tok.tiktoken"), budget, share, tmp_path)
    longest = max(len(code_file(i).encode()) + 1 for i in range(200))
    for arm in ablation.ARMS:
        records = read_jsonl(tmp_path / f"{ablation.slug(arm)}.jsonl")
        tokens = sum(len(r["text"].encode()) + 1 for r in records)
        assert tokens == arms[arm]["tokens"] and budget <= tokens < budget + longest  # equal to within a file
    mixed = read_jsonl(tmp_path / "filtered_textbook.jsonl")
    textbook = read_jsonl(tmp_path / "textbook.jsonl")  # the textbook part of the mix
    textbook_tokens = sum(len(r["text"].encode()) + 1 for r in textbook)
    assert textbook_tokens == arms["filtered+textbook"]["textbook_tokens"]
    assert abs(textbook_tokens - budget * share) < 150  # the ratio, to within a section
    filtered = read_jsonl(tmp_path / "filtered.jsonl")
    kept = read_jsonl(tmp_path / "kept.jsonl")
    code = [r for r in mixed if r not in textbook]
    assert filtered == kept[:len(filtered)] and code == kept[:len(code)]  # the same filtered files, in order
    assert arms["filtered"]["mean_filter_score"] == 4.0 and arms["unfiltered"]["mean_filter_score"] == 1.0
    with pytest.raises(SystemExit, match="fewer than"):
        ablation.take(tmp_path / "textbook_clean.jsonl", 10 ** 6, ablation_tokenizer(tmp_path))
    # with fit, a budget larger than the filtered code shrinks to it, for every arm alike
    arms = ablation.build_arms(tmp_path / "clean.jsonl", tmp_path / "kept.jsonl", tmp_path / "textbook_clean.jsonl",
                               tmp_path / "tok.tiktoken", 10 ** 6, share, tmp_path, fit=True)
    all_kept = sum(len(r["text"].encode()) + 1 for r in kept)
    assert arms["filtered"]["tokens"] == all_kept and all_kept <= arms["unfiltered"]["tokens"] < all_kept + longest


def ablation_tokenizer(tmp_path):
    from data.tokenizer import load_tokenizer

    return load_tokenizer(tmp_path / "tok.tiktoken")


# ---- the whole experiment against a fake runner: every command writes what the real one would ----------------

def option(args, name):
    return args[args.index(name) + 1]


class FakeRunner:
    """Stands in for common.run and common.run_json; records every command it was asked to run."""

    def __init__(self):
        self.calls = []

    def run(self, *args):
        args = [str(a) for a in args]
        self.calls.append(args)
        script = args[0]
        if script == "synth.py":
            kind, n, out = args[1], int(option(args, "--n")), option(args, "--out")
            if kind == "exercises":
                records = [heldout_record(i, name=f"task_{i}") for i in range(n)]
            else:
                records = [{"text": f"Section {i}: a loop repeats its body.\n" * 4} for i in range(n)]
            write_jsonl(out, records)
        elif script == "data/filter.py":
            source = option(args, "--input")
            threshold = next(float(a.split("=")[1]) for a in args if a.startswith("--threshold="))
            if source.endswith(".jsonl"):
                records = [r for r in read_jsonl(source) if r["score"] >= threshold]
            else:
                records = [{"text": p.read_text(), "path": str(p), "score": float(p.stem.split("_")[1]) % 5}
                           for p in sorted(Path(source).glob("*.py"))]
            write_jsonl(option(args, "--out"), records)
        elif script == "data/tokenizer.py":
            byte_tokenizer(option(args, "--out"))
        elif script == "data/prepare.py":
            out_dir = Path(option(args, "--out_dir"))
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "train.bin").write_bytes(b"\0\0" * 900)
            (out_dir / "val.bin").write_bytes(b"\0\0" * 100)
            (out_dir / "meta.json").write_text(json.dumps({"dtype": "uint16", "tokenizer": option(args, "--tokenizer")}))
        elif script == "train.py":
            settings = dict(a[2:].split("=", 1) for a in args[1:])
            out_dir = Path(settings["out_dir"])
            out_dir.mkdir(parents=True, exist_ok=True)
            config = {"vocab_size": 320, "block_size": 32, "n_layer": int(settings["n_layer"]), "n_head": 2,
                      "n_embd": int(settings["n_embd"])}
            torch.save({"iter_num": int(settings["max_iters"]), "model_config": config, "config": settings},
                       out_dir / "ckpt.pt")
            (out_dir / "metrics.jsonl").write_text(json.dumps({"iter": int(settings["max_iters"]), "val_loss": 2.5})
                                                   + "\n")
        else:
            raise AssertionError(f"unexpected command {args}")

    def run_json(self, *args):
        args = [str(a) for a in args]
        self.calls.append(args)
        assert args[0] == "eval.py"
        if args[1] == "loss":
            return {"benchmark": "loss", "loss": 1.5}
        n = int(option(args, "--limit")) if "--limit" in args else (3 if args[1] == "exercises" else 164)
        write_jsonl(option(args, "--out"), [{"task_id": str(i), "passed": i == 0} for i in range(n)])
        return {"benchmark": args[1], "n_tasks": n, "n_samples": 1, "pass@1": round(1 / n, 4)}


def test_the_experiment_resumes_where_it_stopped(tmp_path, monkeypatch):
    fake = FakeRunner()
    monkeypatch.setattr(common, "run", fake.run)
    monkeypatch.setattr(common, "run_json", fake.run_json)
    monkeypatch.setattr(ablation, "plot", lambda results: None)
    monkeypatch.setattr(ablation, "SIZES", {"T": {"n_layer": 1, "n_head": 2, "n_embd": 16, "lr": 1e-3,
                                                  "pretrain_iters": 3, "finetune_iters": 2}})
    pool = tmp_path / "pool"
    pool.mkdir()
    for i in range(60):
        (pool / f"module_{i}.py").write_text(code_file(i))
    argv = ["ablation", "--sizes", "T", "--pool", str(pool), "--threshold", "2", "--corpus_tokens", "3000",
            "--heldout_n", "3", "--exercises_n", "4", "--textbook_n", "30", "--humaneval_limit", "5",
            "--data_dir", str(tmp_path / "data"), "--out_dir", str(tmp_path / "out"), "--results_dir", str(tmp_path)]
    main(argv)
    commands = [" ".join(c[:2]) for c in fake.calls]
    assert commands.count("train.py --n_layer=1") == 6  # three arms pretrained, then finetuned
    assert sum(c.startswith("eval.py") for c in commands) == 6 * 6  # six evaluations of six models
    results = read_json(tmp_path / "phi1_ablation.json")
    assert [(e["name"], e["size"]) for e in results["arms"]] == [(arm, "T") for arm in ablation.ARMS]
    for entry in results["arms"]:
        assert entry["pretrain_tokens"] == 3 * 8 * 512 and entry["params"] > 0
        for stage in ("before", "after"):
            heldout, humaneval = entry[stage]["heldout"], entry[stage]["humaneval"]
            assert (heldout["n"], heldout["passed"], heldout["loss"]) == (3, 1, 1.5)
            assert humaneval["n"] == 5 and humaneval["ci95"] == wilson_interval(1, 5)
            assert entry[stage]["loss"] == {"textbook": 1.5, "unfiltered": 1.5}
    assert results["data"]["filter"]["fraction"] < 1 and "git_commit" in results and results["seconds"]

    fake.calls.clear()
    main(argv)
    assert fake.calls == []  # everything was done: nothing runs again

    pretrain = tmp_path / "out" / "T" / "pretrain-filtered" / "ckpt.pt"  # a run stopped early: train.py exits 0
    finished = torch.load(pretrain, weights_only=True)
    torch.save({**finished, "iter_num": 1}, pretrain)
    monkeypatch.setattr(common, "run", lambda *args: None)  # train.py runs and stops short again
    with pytest.raises(SystemExit, match="stopped at step 1 of 3"):
        main(argv)  # no later stage starts from the unfinished checkpoint
    monkeypatch.setattr(common, "run", fake.run)
    torch.save(finished, pretrain)
    fake.calls.clear()

    (tmp_path / "out" / "T" / "finetune-filtered" / "ckpt.pt").unlink()  # as if that run had been cut short
    for summary in (tmp_path / "out" / "T" / "finetune-filtered").glob("eval_*.summary.json"):
        summary.unlink()
    main(argv)
    assert [c[0] for c in fake.calls] == ["train.py"] + ["eval.py"] * 6
    assert f"--out_dir={tmp_path}/out/T/finetune-filtered" in fake.calls[0]
    assert f"--init_from={tmp_path}/out/T/pretrain-filtered" in fake.calls[0]


def test_report_table_lists_every_model_with_intervals():
    machine = {"cpu": "Test CPU", "cores": 2, "threads": 1, "gpu": None, "torch": "2.x", "python": "3.11"}
    numbers = {"heldout": {"n": 2000, "passed": 25, "pass@1": 0.0125, "ci95": [0.0084, 0.0184], "loss": 2.25},
               "humaneval": {"n": 164, "passed": 0, "pass@1": 0.0, "ci95": [0.0, 0.0229], "loss": 3.5},
               "loss": {"textbook": 1.75, "unfiltered": 2.0}}
    results = {"machine": machine, "git_commit": "abc1234", "seconds": {"data": 60.0},
               "arms": [{"name": "filtered", "size": "S", "params": 1_840_000, "pretrain_tokens": 1_228_800,
                         "after": numbers, "before": numbers}]}
    table = ablation.report(results)
    row = next(line for line in table.splitlines() if "| yes |" in line)
    assert row.startswith("| S | 1.84M | 1.23M | filtered | yes | 1.2% [0.8, 1.8] (25/2000) | 0.0% [0.0, 2.3] (0/164) |")
    assert "2.250 | 3.500 | 1.750 | 2.000 |" in row
    assert "commit abc1234" in table and sum("| S |" in line for line in table.splitlines()) == 2
