"""experiments/: resuming, the numbers it derives from runs, its measures and its tables (budget: < 30 s)."""
import json

import torch

from experiments import common, textbook, tinystories
from experiments.__main__ import main


def test_train_skips_a_finished_run_and_resumes_a_partial_one(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(common, "run", lambda *args: calls.append(args))
    out_dir = tmp_path / "run"
    assert common.train(out_dir, 100, {"n_layer": 2}, init_from="other-run") is True
    assert calls[-1][-1] == "--init_from=other-run" and "--max_iters=100" in calls[-1] and "--n_layer=2" in calls[-1]
    out_dir.mkdir()
    torch.save({"iter_num": 60, "model": {}}, out_dir / "ckpt.pt")
    assert common.train(out_dir, 100, {}, init_from="other-run") is True
    assert calls[-1][-1] == "--init_from=resume"  # a run cut short goes on from its own checkpoint
    torch.save({"iter_num": 100, "model": {}}, out_dir / "ckpt.pt")
    assert common.train(out_dir, 100, {}) is False
    assert len(calls) == 2


def test_val_curve_counts_step_time_across_a_resume(tmp_path):
    entries = [{"iter": 0, "val_loss": 8.0},
               {"iter": 10, "loss": 6.0, "ms_per_iter": 100.0},
               {"iter": 20, "loss": 5.0, "ms_per_iter": 200.0, "val_loss": 5.5, "minutes": 0.1},
               # resumed from step 20: the clock of the new process restarts, the curve's does not
               {"iter": 30, "loss": 4.5, "ms_per_iter": 300.0, "val_loss": 4.8, "minutes": 0.05}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert common.val_curve(tmp_path) == [(0, 0.0, 8.0), (20, 3.0, 5.5), (30, 6.0, 4.8)]


def test_story_measures():
    bigrams = {("the", "cat"), ("cat", "sat"), ("sat", "down")}
    assert tinystories.well_formed("The cat sat down.", bigrams)
    assert not tinystories.well_formed("The sat cat down.", bigrams)  # word salad
    assert not tinystories.well_formed("the cat sat down.", bigrams)
    assert not tinystories.well_formed("The cat sat down", bigrams)
    assert tinystories.sentences("Pip ran. Pip sat! And then Pip") == ["Pip ran.", "Pip sat!"]
    names = {"Pip", "Coco"}
    kept = "Pip had a ball. Pip played with Coco. The sun was hot. The end came. At home Pip slept."
    assert tinystories.hero_kept(kept, names)
    assert not tinystories.hero_kept("Pip had a ball. Coco took it. Coco ran. Coco hid it. Coco slept.", names)
    assert not tinystories.hero_kept("A dog had a ball.", names)


def test_ordinary_code_leaves_out_held_out_families_and_matches_the_size(tmp_path):
    from synthdata.exercises import split_of
    from synthdata.families import FAMILIES

    held_out = next(f.name for f in FAMILIES if split_of(f) == "heldout")
    kept = next(f.name for f in FAMILIES if split_of(f) == "train")
    raw = tmp_path / "raw.jsonl"
    records = [{"text": "x = 1 + 2", "families": [kept]}, {"text": "y = 3", "families": [kept, held_out]}] * 10
    raw.write_text("".join(json.dumps(r) + "\n" for r in records))
    match = tmp_path / "match.jsonl"
    match.write_text(json.dumps({"text": "one two three four five six seven eight nine ten eleven"}) + "\n")
    out = tmp_path / "code.jsonl"
    counts = textbook.ordinary_code(raw, out, match)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(held_out not in r["families"] for r in written)
    assert counts["words"] >= counts["textbook_words"] == 11 and len(written) == 3  # 5 words a file


def test_report_tables_from_a_results_file(tmp_path, monkeypatch, capsys):
    machine = {"cpu": "Test CPU", "cores": 2, "threads": 1, "gpu": None, "torch": "2.x", "python": "3.11"}
    run = {"heldout": {"n_tasks": 20, "pass@1": 0.0}, "humaneval": {"n_tasks": 164, "pass@1": 0.0},
           "heldout_rstrip": {"n_tasks": 20, "pass@1": 0.25}, "humaneval_rstrip": {"n_tasks": 164, "pass@1": 0.0},
           "humaneval_rstrip_pass10": {"n_tasks": 40, "pass@1": 0.0, "pass@10": 0.025},
           "exercises_loss": {"loss": 1.23}, "heldout_loss": {"loss": 0.98}, "curve": [[0, 0.0, 9.0], [10, 1.0, 2.5]],
           "heldout_by_family": {"gcd": 0.5, "fibonacci": 0.0}}
    textbook = {"experiment": "textbook", "machine": machine, "git_commit": "abc1234", "seconds": {"data": 60.0},
                "settings": {"pretrain_iters": 100, "finetune_iters": 10, "tokens_per_step": 4096},
                "tokens": {"textbook": {"train": 1_000_000, "val": 10}},
                "runs": {"finetune-textbook": {"arm": "textbook", "finetuned": True, **run}}}
    stories = {"experiment": "tinystories", "machine": machine, "git_commit": "abc1234", "seconds": {"train": 120.0},
               "tokens_per_step": 4096, "curve": [[0, 0.0, 8.3], [50, 30.0, 3.1]],
               "checkpoints": {"50": {"well_formed_sentences": 0.5, "hero_kept": 0.25, "texts": ["Once | upon"]}},
               "reference": {"well_formed_sentences": 0.97, "hero_kept": 0.9}}
    for name, results in (("textbook", textbook), ("tinystories", stories)):
        (tmp_path / f"{name}.json").write_text(json.dumps(results))
    main(["report", "--results_dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert ("| textbook | yes | 2.500 | 1.23 | 0.98 | 25.0% (n=20) | - | 0.0% (n=164) | 2.5% (n=40) | "
            "0.0% (n=20) / 0.0% (n=164) |") in out
    assert "| gcd | 50% |" in out and "fibonacci" not in out  # only families some model solves
    assert "| 50 | 0.20M | 0.5 min | 3.100 | 50% | 25% | Once \\| upon |" in out
    assert "Test CPU, 2 cores" in out and "commit abc1234" in out
