import io
import sys

import pytest
import torch

from conftest import save_random_run
from data.tokenizer import save_ranks
from generate import Completion, bench_decode, complete, generate_tokens, load_model, main, sample_next
from model import Phi, PhiConfig

CONFIG = PhiConfig(vocab_size=320, block_size=48, n_layer=2, n_head=2, n_embd=32)  # 257 tokens, padded to 320


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A training run's directory as train.py writes it, with a byte-level vocabulary (256 bytes + EOT)."""
    out = tmp_path_factory.mktemp("out-tiny")
    save_ranks([bytes([i]) for i in range(256)], out / "bytes.tiktoken")
    return save_random_run(out, CONFIG, out / "bytes.tiktoken")


def greedy_by_recomputing(model, ids, n):
    ids = list(ids)
    for _ in range(n):
        logits, _ = model(torch.tensor([ids]))
        ids.append(int(logits[0, -1].argmax()))
    return ids[-n:]


def test_greedy_with_the_kv_cache_equals_recomputing_the_context(run_dir):
    model, tokenizer = load_model(out_dir=run_dir)
    for prompt in ("a", "Once upon a time", "x" * 30):
        ids = tokenizer.encode(prompt)
        n = CONFIG.block_size - len(ids) + 1  # up to a full context
        cached = torch.stack(list(generate_tokens(model, ids, n, num_samples=3, temperature=0)), dim=1)
        assert cached.shape == (3, n)
        assert (cached == cached[0]).all()  # every row of the batch decodes the same
        assert cached[0].tolist() == greedy_by_recomputing(model, ids, n)
    assert model.layers[0].self_attn.kv_cache is None  # freed afterwards


def test_load_model_reads_the_checkpoint_and_its_tokenizer(run_dir):
    model, tokenizer = load_model(out_dir=run_dir)
    assert not model.training and model.config == CONFIG
    assert tokenizer.eot == 256 and tokenizer.decode(tokenizer.encode("héllo")) == "héllo"
    state = torch.load(run_dir / "ckpt.pt", weights_only=True)["model"]
    assert torch.equal(model.lm_head.weight, state["lm_head.weight"])
    model, _ = load_model(init_from=str(run_dir))  # another run's out_dir works as init_from too
    assert torch.equal(model.lm_head.weight, state["lm_head.weight"])
    model, _ = load_model(out_dir=run_dir, dtype=torch.bfloat16)
    assert model.lm_head.weight.dtype == torch.bfloat16 and model.rope_cos.dtype == torch.float32


def test_sampling_rules():
    torch.manual_seed(0)
    logits = torch.randn(4, 50)
    greedy = logits.argmax(-1)
    assert torch.equal(sample_next(logits, temperature=0), greedy)
    assert torch.equal(sample_next(logits, temperature=1.0, top_k=1), greedy)
    assert torch.equal(sample_next(logits, temperature=1.0, top_p=1e-6), greedy)
    top5 = torch.topk(logits, 5).indices
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        picks = sample_next(logits, temperature=2.0, top_k=5, generator=g)
        assert all(picks[i] in top5[i] for i in range(4))
    # nucleus: with probabilities .5, .3, .15, .05, top_p=0.75 keeps exactly the first two
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    picks = {int(sample_next(probs.log(), top_p=0.75, generator=g)) for _ in range(200)}
    assert picks == {0, 1}


def test_same_seed_same_samples_and_eot_ends_a_sample(run_dir):
    model, tokenizer = load_model(out_dir=run_dir)

    def sample(seed):
        g = torch.Generator().manual_seed(seed)
        return complete(model, tokenizer, "The cat", 20, num_samples=4, temperature=1.0, generator=g)

    assert sample(1) == sample(1) != sample(2)
    c = Completion(tokenizer)
    for token in tokenizer.encode("hi") + [tokenizer.eot] + tokenizer.encode("more"):
        c.add(token)
    assert c.done and c.text == "hi"


def test_stop_strings_and_streaming_split_characters(run_dir):
    _, tokenizer = load_model(out_dir=run_dir)
    text = "déjà vu\ndef next(): pass"
    c, pieces = Completion(tokenizer, stop=["\ndef"]), []
    for token in tokenizer.encode(text):  # one byte per token: é and à arrive in halves
        c.add(token)
        pieces.append(c.new_text())
    assert c.done and c.text == "déjà vu"
    assert "".join(pieces) == "déjà vu" and not any("\ufffd" in p for p in pieces)
    assert "\n" not in "".join(pieces)  # the start of the stop string was held back, never shown


def test_streamed_text_is_the_completion(run_dir):
    model, tokenizer = load_model(out_dir=run_dir)
    streamed = []
    texts = complete(model, tokenizer, "Lily found a", 30, temperature=0, stop=["e"],
                     on_text=lambda i, piece: streamed.append(piece))
    assert "".join(streamed) == texts[0] and "e" not in texts[0]


def test_command_line_prompt_stdin_and_file(run_dir, tmp_path, capsys, monkeypatch):
    args = ["--out_dir", str(run_dir), "--max_new_tokens", "8", "--temperature", "0", "--device", "cpu"]
    main(args + ["--prompt", "Lily found a"])
    from_flag = capsys.readouterr().out
    assert from_flag.startswith("Lily found a") and from_flag.endswith("---------------\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Lily found a"))
    main(args)
    assert capsys.readouterr().out == from_flag
    (tmp_path / "prompts.jsonl").write_text('{"prompt": "Lily found a"}\n{"prompt": "x\\ny"}\n')
    main(args + ["--prompt_file", str(tmp_path / "prompts.jsonl")])
    out = capsys.readouterr().out
    assert out.startswith(from_flag) and "x\ny" in out
    main(args + ["--prompt", "two\\nlines", "--num_samples", "2", "--temperature", "1"])
    assert capsys.readouterr().out.count("two\nlines") == 2


@pytest.mark.parametrize("args, message", [
    (["--out_dir", "does-not-exist", "--prompt", "a"], "no checkpoint at does-not-exist"),
    (["--prompt", "a"], "exactly one of --out_dir"),
    (["--init_from", "not/a-real-model-dir/x", "--prompt", "a"], "cannot load official weights"),
    (["--out_dir", "RUN", "--prompt", ""], "the prompt is empty"),
    (["--out_dir", "RUN", "--prompt", "x" * 100], "longer than the model's context of 48"),
])
def test_clear_errors(run_dir, args, message):
    args = [str(run_dir) if a == "RUN" else a for a in args] + ["--device", "cpu"]
    with pytest.raises(SystemExit, match=message):
        main(args)


def test_a_full_context_still_gives_one_token(run_dir):
    model, tokenizer = load_model(out_dir=run_dir)
    assert len(list(generate_tokens(model, [1] * CONFIG.block_size, 10, temperature=0))) == 1


def test_bench_runs_on_cpu_and_matches_transformers_greedy():
    rows = bench_decode(shapes=("phi-toy",), batch_sizes=(1, 2), prompt_len=8, new_tokens=4, device="cpu",
                        dtype=torch.float32)
    assert [(r["shape"], r["batch"]) for r in rows] == [("phi-toy", 1), ("phi-toy", 2)]
    assert all(r["ours_tok_s"] > 0 and r["transformers_tok_s"] > 0 and r["bandwidth_fraction"] is None
               for r in rows)
    # the transformers twin the benchmark compares against decodes the very same tokens
    from generate import _transformers_twin

    torch.manual_seed(0)
    model = Phi(PhiConfig.from_name("phi-toy")).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4)
    hf = _transformers_twin(model, "cpu", torch.float32)
    prompt = list(range(1, 9))
    ours = [int(t) for t in generate_tokens(model, prompt, 12, temperature=0)]
    theirs = hf.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, 8, dtype=torch.long),
                         max_new_tokens=12, min_new_tokens=12, do_sample=False, pad_token_id=0)
    assert ours == theirs[0, 8:].tolist()
