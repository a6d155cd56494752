"""eval.py choice: log-likelihood multiple choice, checked against a brute-force per-token log-likelihood."""
import dataclasses
import json

import pytest
import torch

from data.tokenizer import count_words, load_tokenizer, save_ranks, train_bpe
from eval import encode_choice, main, read_choice_records, score_choices, wilson_interval
from model import Phi, PhiConfig

CONFIG = PhiConfig(vocab_size=320, block_size=48, n_layer=2, n_head=2, n_embd=32)
TEXT = "Once upon a time, Lily saw a red ball. Lily ran to the ball, and Tom ran too. "


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(out_dir, model, tokenizer): a random model with a small BPE vocabulary, saved as a training run."""
    out = tmp_path_factory.mktemp("choice")
    vocab = out / "tok.tiktoken"
    save_ranks(train_bpe(count_words([TEXT * 20]), 300), vocab)
    torch.manual_seed(0)
    model = Phi(CONFIG).eval()
    torch.save({"model": model.state_dict(), "model_config": dataclasses.asdict(CONFIG), "tokenizer": str(vocab),
                "config": {}, "iter_num": 0, "best_val_loss": 0.0}, out / "ckpt.pt")
    return out, model, load_tokenizer(str(vocab))


def brute_force_loglikelihood(model, tokenizer, context, continuation):
    """Sum of log p(token | everything before it) over the continuation's tokens, one forward pass per token,
    each on the exact prefix (no batching, no padding), in float64."""
    context_ids, continuation_ids = encode_choice(tokenizer, context, continuation)
    ids = context_ids + continuation_ids
    total = 0.0
    for k in range(len(context_ids), len(ids)):
        prefix = ids[max(0, k - CONFIG.block_size):k]
        logits, _ = model(torch.tensor([prefix]))
        logprobs = logits[0, -1, :tokenizer.n_tokens].double().log_softmax(-1)
        total += logprobs[ids[k]].item()
    return total


def records_file(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


RECORDS = [
    {"context": "Once upon a time, Lily saw a red ball.", "choices": ["Lily", "Tom", "Ravi the very tall"], "label": 0},
    {"context": "Lily ran to the ball, and", "choices": ["Tom ran too.", "Lily"], "label": 1},
    {"context": "", "choices": ["Once", "ball"], "label": 0},  # an empty context is scored after <|endoftext|>
    {"context": ["Lily saw a", "Tom saw a"], "choices": ["red ball.", "red ball."], "label": 1},  # WinoGrande
    {"context": TEXT * 3, "choices": ["Lily", "ball"], "label": 0},  # longer than the window: the start goes
]


def test_scores_match_a_brute_force_loglikelihood_in_any_batching(run, tmp_path):
    _, model, tokenizer = run
    records = read_choice_records(records_file(tmp_path / "mc.jsonl", RECORDS))
    expected = [[brute_force_loglikelihood(model, tokenizer, context, " " + choice)
                 for context, choice in zip(contexts, choices)] for contexts, choices, _ in records]
    for batch_size in (1, 3, 64):
        results, summary = score_choices(model, tokenizer, records, batch_size=batch_size)
        for result, lls in zip(results, expected):
            assert result["loglikelihoods"] == pytest.approx(lls, abs=2e-3)
    # acc takes the likeliest choice, acc_norm the likeliest per byte of the choice
    for result, (contexts, choices, label), lls in zip(results, records, expected):
        assert result["pred"] == max(range(len(lls)), key=lls.__getitem__)
        per_byte = [ll / len(choice.encode()) for ll, choice in zip(lls, choices)]
        assert result["pred_norm"] == max(range(len(lls)), key=per_byte.__getitem__)
        assert result["acc"] == int(result["pred"] == label)
    assert summary["acc"] == pytest.approx(sum(r["acc"] for r in results) / len(results), abs=1e-4)
    assert summary["n"] == len(RECORDS)


def test_the_split_follows_lm_evaluation_harness(run):
    _, _, tokenizer = run
    # the context's trailing space moves to the continuation, so " Lily" is encoded as the text has it
    context_ids, continuation_ids = encode_choice(tokenizer, "Once upon a time, ", "Lily")
    assert tokenizer.decode(context_ids) == "Once upon a time,"
    assert continuation_ids == tokenizer.encode("Once upon a time, Lily")[len(context_ids):]
    assert tokenizer.decode(continuation_ids) == " Lily"
    assert encode_choice(tokenizer, "", "ball")[0] == [tokenizer.eot]


def test_command_line_writes_per_record_results_and_a_summary(run, tmp_path, capsys):
    out_dir, _, _ = run
    data = records_file(tmp_path / "mc.jsonl", RECORDS)
    summary = main(["choice", "--out_dir", str(out_dir), "--data", data, "--batch_size", "2"])
    lines = [json.loads(line) for line in (out_dir / "eval_choice_mc.jsonl").read_text().splitlines()]
    assert [r["index"] for r in lines] == list(range(len(RECORDS)))
    assert summary["benchmark"] == "choice" and summary["n"] == len(RECORDS)
    assert summary["acc"] == sum(r["acc"] for r in lines) / len(RECORDS)
    assert summary["acc_ci95"] == wilson_interval(sum(r["acc"] for r in lines), len(RECORDS))
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == summary


def test_wilson_interval():
    assert wilson_interval(0, 10)[0] == 0.0 and 0.25 < wilson_interval(0, 10)[1] < 0.35
    assert wilson_interval(10, 10)[1] == 1.0
    low, high = wilson_interval(60, 100)
    assert low == pytest.approx(0.502, abs=1e-3) and high == pytest.approx(0.691, abs=1e-3)


@pytest.mark.parametrize("record, message", [
    ({"context": "a", "choices": ["b"], "label": 0}, "at least two"),
    ({"context": "a", "choices": ["b", "c"], "label": 2}, "label must be the index"),
    ({"context": "a", "choices": ["b", "c"], "label": "0"}, "label must be the index"),
    ({"context": ["a"], "choices": ["b", "c"], "label": 0}, "one per choice"),
    ({"context": "a", "choices": "bc", "label": 0}, "list of at least two"),
])
def test_bad_records_are_one_line_errors(tmp_path, record, message):
    with pytest.raises(SystemExit, match=message):
        read_choice_records(records_file(tmp_path / "bad.jsonl", [record]))
