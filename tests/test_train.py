"""train.py: settings, presets, schedules, the batch split, and the loop run for real (as subprocesses, on tiny
shapes, on the CPU): 1, 2 and 3 processes alike, bit-for-bit resume, settings changed on resume, the context
rule, crash-safe checkpoints, Ctrl-C, divergence, overfitting one batch."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import train
from model import PRESETS, Phi, PhiConfig

REPO = Path(__file__).resolve().parent.parent
TINY = ["--device=cpu", "--compile=False", "--n_layer=2", "--n_head=2", "--n_embd=32", "--block_size=16",
        "--batch_size=4", "--num_samples=0", "--eval_iters=1", "--log_interval=1", "--warmup_iters=2",
        "--lr_decay_iters=100", "--learning_rate=3e-3"]


def write_data(directory, train_tokens, val_tokens, vocab_size=100):
    """Shards in data/prepare.py's format: uint16 token ids back to back, and meta.json beside them."""
    directory.mkdir(parents=True)
    np.asarray(train_tokens, dtype=np.uint16).tofile(directory / "train.bin")
    np.asarray(val_tokens, dtype=np.uint16).tofile(directory / "val.bin")
    meta = {"tokenizer": "test-tokens", "vocab_size": vocab_size, "dtype": "uint16", "eot": vocab_size - 1}
    (directory / "meta.json").write_text(json.dumps(meta))
    return directory


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A text whose every window is different: a random sequence of 5000 tokens."""
    rng = np.random.default_rng(0)
    return write_data(tmp_path_factory.mktemp("data") / "random", rng.integers(0, 100, 5000),
                      rng.integers(0, 100, 500))


# One thread per process: tiny shapes gain nothing from more, and on a busy machine threads that spin-wait for a
# core make each step ten times slower.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_train(*args, processes=0, timeout=120):
    command = [sys.executable, "train.py"]
    if processes:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
                   "train.py"]
    result = subprocess.run(command + TINY + [str(a) for a in args], cwd=REPO, env=ENV, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def settings(*argv):
    return train.load_settings(list(argv))[0]


def read_metrics(out_dir):
    return [json.loads(line) for line in (Path(out_dir) / "metrics.jsonl").read_text().splitlines()]


def train_losses(out_dir):
    return {m["iter"]: m["loss"] for m in read_metrics(out_dir) if "loss" in m}


def load(out_dir):
    return torch.load(Path(out_dir) / "ckpt.pt", weights_only=True)


# ---- settings

def test_settings_are_parsed_with_their_types():
    s = settings("--max_iters=7", "--learning_rate=1e-3", "--compile=false", "--wandb_log=1", "--n_inner=None",
                 "--rotary_dim=8", "--out_dir=x")
    assert (s["max_iters"], s["learning_rate"], s["compile"], s["wandb_log"]) == (7, 1e-3, False, True)
    assert (s["n_inner"], s["rotary_dim"], s["out_dir"]) == (None, 8, "x")
    assert type(settings("--learning_rate=1")["learning_rate"]) is float


@pytest.mark.parametrize("arg, message", [
    ("--max_iter=5", "unknown setting 'max_iter'.*did you mean max_iters"),
    ("--max_iters=five", "max_iters takes an integer"),
    ("--wandb_log=maybe", "wandb_log takes True or False"),
    ("--max_iters", "give settings as --key=value"),
    ("config/nope.py", "config file config/nope.py not found; the presets are: .*config/phi1.py"),
])
def test_bad_settings_are_clear_errors(arg, message):
    with pytest.raises(SystemExit, match=message):
        train.load_settings([arg])


def test_config_files_are_checked(tmp_path):
    (tmp_path / "typo.py").write_text("batch_size = 4\nlearning_rat = 1e-3\n")
    with pytest.raises(SystemExit, match="unknown setting 'learning_rat'.*did you mean learning_rate"):
        train.load_settings([str(tmp_path / "typo.py")])
    (tmp_path / "wrong_type.py").write_text("batch_size = 4.5\n")
    with pytest.raises(SystemExit, match="batch_size takes an integer, not float"):
        train.load_settings([str(tmp_path / "wrong_type.py")])
    (tmp_path / "derived.py").write_text("import math\n_tokens = 2 ** 20\nbatch_size = 8\n"
                                         "gradient_accumulation_steps = _tokens // (batch_size * block_size)\n")
    s = settings(str(tmp_path / "derived.py"), "--batch_size=2")
    assert (s["batch_size"], s["gradient_accumulation_steps"]) == (2, 2 ** 20 // (8 * 256))


def test_the_toy_config_is_the_default_and_every_preset_is_valid():
    assert settings("config/tinystories.py") == settings()
    presets = sorted((REPO / "config").glob("*.py"))
    assert {p.name for p in presets} >= {"tinystories.py", "textbook.py", "phi1.py", "phi1_small.py",
                                         "phi1_finetune.py", "phi1_5.py", "phi2.py"}
    for preset in presets:
        cfg = SimpleNamespace(**settings(str(preset)))
        train.validate(cfg)
        micro_batch, micro_steps = train.split_batch(cfg, 8)  # 8 GPUs split every recipe's batch
        assert micro_batch * micro_steps * 8 == cfg.batch_size * cfg.gradient_accumulation_steps
    phi1 = SimpleNamespace(**settings("config/phi1.py"))
    assert phi1.gradient_accumulation_steps * phi1.batch_size == 1024 and phi1.block_size == 2048
    assert (phi1.learning_rate, phi1.warmup_iters, phi1.weight_decay, phi1.dropout) == (1e-3, 750, 0.1, 0.1)


SHAPE_FIELDS = ("n_layer", "n_head", "n_embd", "n_inner", "head_dim", "rotary_dim")


@pytest.mark.parametrize("config, preset, shape", [
    ("phi1.py", "phi-1", (24, 32, 2048, 8192, 64, 32)),
    ("phi1_small.py", "phi-1-small", (20, 16, 1024, 4096, 64, 32)),
    ("phi1_5.py", "phi-1.5", (24, 32, 2048, 8192, 64, 32)),
    ("phi2.py", "phi-2", (32, 32, 2560, 10240, 80, 32)),
])
def test_a_config_names_a_preset_and_gets_its_shape(config, preset, shape):
    cfg = SimpleNamespace(**settings(f"config/{config}"))
    assert cfg.model == preset
    model_config = train.new_model_config(cfg, 50295)  # CodeGen's 50295 tokens, padded to the official 51200
    assert model_config.vocab_size == 51200 and model_config.block_size == 2048
    assert tuple(getattr(model_config, k) for k in SHAPE_FIELDS) == shape  # the shape the recipe always had
    from_preset = PhiConfig.from_name(preset)
    assert all(getattr(model_config, k) == getattr(from_preset, k) for k in SHAPE_FIELDS)


def test_shape_settings_override_a_preset_wherever_they_are_given(tmp_path):
    (tmp_path / "c.py").write_text('n_layer = 4\nmodel = "phi-1"\nn_inner = None\n')  # 4 = the default, still given
    cfg = SimpleNamespace(**settings(str(tmp_path / "c.py"), "--n_head=16"))
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.n_inner, cfg.rotary_dim) == (4, 16, 2048, None, 32)
    assert train.new_model_config(cfg, 100).n_inner == 4 * 2048
    s, given = train.load_settings(["--model=phi-2", "--n_layer=2"])
    assert (s["n_layer"], s["n_embd"]) == (2, 2560) and given >= set(train.SHAPE)
    assert train.load_settings([])[1] == set()
    with pytest.raises(SystemExit, match="model='phi-3' is not a preset of model.PRESETS: choose one of phi-1, "):
        train.load_settings(["--model=phi-3"])
    assert set(PRESETS) >= {"phi-1", "phi-1-small", "phi-1.5", "phi-2"}


@pytest.mark.parametrize("batch_size, accumulation, world_size, split", [
    (8, 1, 1, (8, 1)), (8, 1, 2, (4, 1)), (8, 1, 8, (1, 1)),  # the toy: torchrun --nproc_per_node 8 train.py
    (8, 128, 8, (8, 16)), (8, 128, 32, (8, 4)), (8, 128, 256, (4, 1)),  # phi-1 on 8, 32 and 256 GPUs
    (3, 2, 1, (3, 2)), (3, 2, 2, (3, 1)), (3, 2, 3, (2, 1)),  # the DDP test below
    (4, 7, 2, (2, 7)),  # 14 sequences each: 7 micro-steps of 2, since 4 does not divide 14
])
def test_the_batch_is_split_across_any_process_count_that_divides_it(batch_size, accumulation, world_size, split):
    cfg = SimpleNamespace(batch_size=batch_size, gradient_accumulation_steps=accumulation)
    assert train.split_batch(cfg, world_size) == split


def test_a_world_size_that_cannot_split_the_batch_is_refused_with_the_numbers():
    with pytest.raises(SystemExit, match=r"a step's 8 sequences \(batch_size=8 x gradient_accumulation_steps=1\) "
                                         "cannot be split evenly across 3 processes: .* divides 8"):
        train.split_batch(SimpleNamespace(batch_size=8, gradient_accumulation_steps=1), 3)
    with pytest.raises(SystemExit, match="cannot be split evenly across 16 processes"):
        train.split_batch(SimpleNamespace(batch_size=8, gradient_accumulation_steps=1), 16)


@pytest.mark.parametrize("arg, message", [
    ("--dropout=1.0", r"dropout=1.0 must be in \[0, 1\)"),
    ("--batch_size=0", "batch_size=0 must be at least 1"),
    ("--lr_decay_iters=10", "lr_decay_iters=10 must be larger than warmup_iters=30"),
    ("--attn_backend=flash", "attn_backend='flash': choose one of auto, triton, sdpa, math"),
])
def test_bad_values_are_refused_before_anything_starts(arg, message):
    with pytest.raises(SystemExit, match=message):
        train.validate(SimpleNamespace(**settings(arg)))


def test_learning_rate_schedules():
    cfg = SimpleNamespace(learning_rate=1.0, min_lr=0.1, warmup_iters=10, lr_decay_iters=110, cooldown_iters=20)
    at = lambda schedule, it: train.learning_rate_at(it, SimpleNamespace(**vars(cfg), lr_schedule=schedule))
    for schedule in ("cosine", "linear", "constant", "wsd"):
        assert at(schedule, 0) == pytest.approx(0.1) and at(schedule, 9) == pytest.approx(1.0)
    assert [at("cosine", i) for i in (10, 60, 110, 10 ** 6)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    assert [at("linear", i) for i in (10, 35, 60, 110)] == pytest.approx([1.0, 0.775, 0.55, 0.1])
    assert [at("constant", i) for i in (10, 110, 10 ** 6)] == pytest.approx([1.0, 1.0, 1.0])
    assert [at("wsd", i) for i in (10, 90, 100, 110, 200)] == pytest.approx([1.0, 1.0, 0.55, 0.1, 0.1])


def test_missing_data_says_how_to_build_it(tmp_path, monkeypatch):
    result = subprocess.run([sys.executable, "train.py", f"--data_dir={tmp_path / 'none'}"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "has no train.bin, val.bin, meta.json" in result.stderr
    assert f"python data/prepare.py --input FILE.jsonl --tokenizer codegen --out_dir {tmp_path / 'none'}" \
        in result.stderr
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="(?s)python synth.py textbook .*python data/prepare.py"):
        train.ensure_data("data/textbook", build=True)  # only the toy's data is built unasked


def test_unknown_key_on_the_command_line_is_one_clear_line():
    result = subprocess.run([sys.executable, "train.py", "--lerning_rate=0.1"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == ("unknown setting 'lerning_rate' in --lerning_rate=0.1: "
                                     "did you mean learning_rate?")


def test_sampling_is_reproducible_and_leaves_the_training_rng_alone():
    torch.manual_seed(0)
    model = Phi(PhiConfig(vocab_size=128, block_size=24, n_layer=1, n_head=2, n_embd=16))
    tokenizer = SimpleNamespace(eot=99, vocab_size=100, decode=lambda ids: " ".join(map(str, ids)))
    state = torch.get_rng_state()
    first = train.sample_texts(model, tokenizer, 3, train.nullcontext(), None, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    assert first == train.sample_texts(model, tokenizer, 3, train.nullcontext(), None, seed=5)
    assert len(first) == 3 and all(int(t) < 99 for text in first for t in text.split())  # no padded ids, no eot
    assert model.training and model.layers[0].self_attn.kv_cache is None


# ---- the loop

def test_a_tiny_model_overfits_one_batch(tmp_path):
    # 17 tokens = exactly one window of block_size + 1: every batch is that window, over and over
    tokens = np.random.default_rng(1).integers(0, 100, 17)
    data = write_data(tmp_path / "one", tokens, tokens)
    run_train(f"--data_dir={data}", f"--out_dir={tmp_path / 'out'}", "--max_iters=60", "--lr_decay_iters=60",
              "--eval_interval=60", "--learning_rate=1e-2")
    metrics = read_metrics(tmp_path / "out")
    assert metrics[0]["val_loss"] > 4.0  # ln(100) = 4.6 before training
    assert metrics[-1]["loss"] < 0.1 and metrics[-1]["val_loss"] < 0.1
    assert {"iter", "loss", "lr", "tokens_per_sec", "val_loss"} <= metrics[-1].keys()


# The toy's recipe in miniature, so that a checkout without data builds it in a second or two.
SMALL_TOY_RECIPE = [
    "python synth.py tinystories --n 300 --seed 0 --out data/tinystories/stories.jsonl",
    "python data/tokenizer.py train --input data/tinystories/stories.jsonl --vocab_size 300 "
    "--out data/tinystories/tok.tiktoken",
    "python data/prepare.py --input data/tinystories/stories.jsonl --tokenizer data/tinystories/tok.tiktoken "
    "--out_dir data/tinystories --workers 1",
]


def test_one_two_and_three_processes_take_the_same_steps_from_a_checkout_without_data(tmp_path):
    checkout, launcher = tmp_path / "checkout", tmp_path / "small_toy.py"
    checkout.mkdir()
    launcher.write_text(f"import sys\nsys.path.insert(0, {str(REPO)!r})\nimport train\n"
                        f"train.DATA_RECIPES[train.TOY_DATA] = {SMALL_TOY_RECIPE!r}\ntrain.main(sys.argv[1:])\n")
    # 6 sequences a step: 2 micro-steps of 3 on one process, 1 of 3 on each of two, 1 of 2 on each of three
    common = [*TINY, "--batch_size=3", "--gradient_accumulation_steps=2", "--max_iters=4", "--eval_interval=4"]
    outputs = {}
    for processes in (3, 2, 1):  # the first run finds no data: its rank 0 builds it while the others wait
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        command = [*(torchrun if processes > 1 else [sys.executable]), str(launcher), *common,
                   f"--out_dir=out-{processes}"]
        result = subprocess.run(command, cwd=checkout, env=ENV, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        outputs[processes] = result.stdout
    assert outputs[3].count("building the toy's data") == 1 and "building" not in outputs[2] + outputs[1]
    assert "6 sequences of 16: 1 micro-step of 2 per process" in outputs[3]
    assert "6 sequences of 16: 2 micro-steps of 3 per process" in outputs[1]
    runs = {n: checkout / f"out-{n}" for n in (1, 2, 3)}
    losses = {n: train_losses(out) for n, out in runs.items()}
    assert losses[1].keys() == {1, 2, 3, 4} and len(set(losses[1].values())) == 4  # every step saw new data
    for n in (2, 3):
        assert [losses[n][i] for i in losses[1]] == pytest.approx([losses[1][i] for i in losses[1]], rel=1e-5)
        one, many = load(runs[1]), load(runs[n])
        meta = json.loads((checkout / "data" / "tinystories" / "meta.json").read_text())
        assert one["tokenizer_sha256"] == many["tokenizer_sha256"] == meta["tokenizer_sha256"] is not None
        assert len(many["rng"]) == n and many["loader"] == one["loader"] == {"seed": 1337, "next_window": 24}
        # not the key biases: softmax cancels them (q.b is the same for every key of a query), so their gradients
        # are rounding noise, which Adam scales up to lr-sized steps that differ with the order of the reduction
        for name, tensor in one["model"].items():
            if not name.endswith("k_proj.bias"):
                torch.testing.assert_close(many["model"][name], tensor, rtol=1e-4, atol=1e-5, msg=name)


def test_resume_continues_bit_for_bit(tmp_path, data_dir):
    common = [f"--data_dir={data_dir}", "--eval_interval=3", "--dropout=0.1"]  # dropout: the RNG state matters
    run_train(*common, f"--out_dir={tmp_path / 'straight'}", "--max_iters=6")
    run_train(*common, f"--out_dir={tmp_path / 'resumed'}", "--max_iters=3")
    assert load(tmp_path / "resumed")["iter_num"] == 3
    run_train(*common, f"--out_dir={tmp_path / 'resumed'}", "--max_iters=6", "--init_from=resume")
    straight, resumed = load(tmp_path / "straight"), load(tmp_path / "resumed")
    assert train_losses(tmp_path / "resumed") == train_losses(tmp_path / "straight")  # exact, all six steps
    assert resumed["iter_num"] == 6 and resumed["loader"] == straight["loader"]
    for name, tensor in straight["model"].items():
        assert torch.equal(resumed["model"][name], tensor), name
    for i, state in straight["optimizer"]["state"].items():
        assert all(torch.equal(resumed["optimizer"]["state"][i][k], v) for k, v in state.items())


def test_settings_changed_on_resume_take_effect_or_are_refused(tmp_path, data_dir):
    common = [f"--data_dir={data_dir}", "--eval_interval=2"]
    run_train(*common, f"--out_dir={tmp_path / 'base'}", "--max_iters=2")
    for name in ("plain", "dropout"):
        (tmp_path / name).mkdir()
        for file in ("ckpt.pt", "metrics.jsonl"):
            (tmp_path / name / file).write_bytes((tmp_path / "base" / file).read_bytes())
    run_train(*common, f"--out_dir={tmp_path / 'plain'}", "--max_iters=3", "--init_from=resume")
    result = run_train(*common, f"--out_dir={tmp_path / 'dropout'}", "--max_iters=3", "--init_from=resume",
                       "--dropout=0.1", "--weight_decay=0.0", "--beta2=0.9")
    assert "dropout 0.0 -> 0.1" in result.stdout and "weight_decay 0.1 -> 0.0" in result.stdout
    plain, dropout = load(tmp_path / "plain"), load(tmp_path / "dropout")
    assert dropout["model_config"]["resid_pdrop"] == dropout["model_config"]["attn_pdrop"] == 0.1
    assert train_losses(tmp_path / "dropout")[3] != train_losses(tmp_path / "plain")[3]  # the masks were drawn
    assert train_losses(tmp_path / "dropout")[2] == train_losses(tmp_path / "plain")[2]  # the same run before
    groups = dropout["optimizer"]["param_groups"]
    assert [g["weight_decay"] for g in groups] == [0.0, 0.0] and groups[0]["betas"] == (0.9, 0.9)
    assert plain["optimizer"]["param_groups"][0]["weight_decay"] == 0.1
    meta = json.loads((data_dir / "meta.json").read_text())
    for arg, message in (("--seed=5", "seed=5, but the run in .* was trained with seed=1337: a resumed run goes on"),
                         ("--n_layer=3", "n_layer=3 given, but the model from .*ckpt.pt has n_layer=2"),
                         ("--block_size=32", r"block_size=32 is longer than the context of the model from "
                                             r".*ckpt.pt \(16 tokens\): use --block_size=16 or less")):
        s, given = train.load_settings([*TINY, *common, f"--out_dir={tmp_path / 'plain'}", "--init_from=resume", arg])
        cfg = SimpleNamespace(**s)
        with pytest.raises(SystemExit, match=message):
            model, _, checkpoint = train.build_model(cfg, meta, given)
            train.restore(checkpoint, cfg, train.make_optimizer(model, cfg, "cpu"), None, None, None)


def test_the_model_context_is_cropped_to_the_training_window_and_recorded(tmp_path, data_dir):
    run_train(f"--data_dir={data_dir}", f"--out_dir={tmp_path / 'base'}", "--max_iters=1", "--eval_interval=1")
    run_train(f"--data_dir={data_dir}", f"--out_dir={tmp_path / 'short'}", f"--init_from={tmp_path / 'base'}",
              "--block_size=8", "--max_iters=1", "--eval_interval=1")
    short = load(tmp_path / "short")
    assert short["model_config"]["block_size"] == short["config"]["block_size"] == 8
    model = train.model_from_checkpoint(short)  # as files.load_run builds it for generate.py and eval.py
    assert model.config.block_size == 8 and model.rope_cos.size(0) == 8
    with pytest.raises(ValueError, match="exceed the context"):
        model(torch.zeros(1, 9, dtype=torch.long))
    run_train(f"--data_dir={data_dir}", f"--out_dir={tmp_path / 'short'}", "--init_from=resume", "--block_size=8",
              "--max_iters=2", "--eval_interval=1")
    assert load(tmp_path / "short")["model_config"]["block_size"] == 8


def test_init_from_another_run_or_hugging_face_weights(tmp_path, data_dir):
    run_train(f"--data_dir={data_dir}", f"--out_dir={tmp_path / 'base'}", "--max_iters=3", "--eval_interval=3")
    base, base_val_loss = load(tmp_path / "base"), read_metrics(tmp_path / "base")[-1]["val_loss"]
    # another run's weights (not its optimizer or step): step 0 sees exactly the weights it ended with
    run_train(f"--data_dir={data_dir}", f"--out_dir={tmp_path / 'tuned'}", f"--init_from={tmp_path / 'base'}",
              "--max_iters=1", "--eval_interval=1", "--dropout=0.1")
    assert read_metrics(tmp_path / "tuned")[0] == {"iter": 0, "val_loss": base_val_loss}
    tuned = load(tmp_path / "tuned")
    assert tuned["iter_num"] == 1 and tuned["model_config"]["n_layer"] == tuned["config"]["n_layer"] == 2
    assert tuned["model_config"]["resid_pdrop"] == tuned["model_config"]["attn_pdrop"] == 0.1
    # the shape comes from the weights: a shape setting given that disagrees is refused, one that agrees is fine
    meta = json.loads((data_dir / "meta.json").read_text())
    for argv, message in ((["--n_layer=7"], "n_layer=7 given, but the model from .* has n_layer=2"),
                          (["--model=phi-1"], "n_layer=24, n_head=32, n_embd=2048, n_inner=8192, rotary_dim=32 given"),
                          (["--vocab_size=256"], "vocab_size=256 given, but the model from .* has vocab_size=128")):
        s, given = train.load_settings([f"--data_dir={data_dir}", f"--init_from={tmp_path / 'base'}", *argv])
        with pytest.raises(SystemExit, match=message):
            train.build_model(SimpleNamespace(**s), meta, given)
    s, given = train.load_settings([f"--init_from={tmp_path / 'base'}", "--n_inner=None", "--n_embd=32",
                                    "--block_size=16"])
    assert train.build_model(SimpleNamespace(**s), meta, given)[0].config.n_inner == 128
    # a Hugging Face directory (as microsoft/phi-1_5 is): its tokenizer is CodeGen's, and the data must match
    model = Phi(PhiConfig(**base["model_config"]))
    model.load_state_dict(base["model"])
    model.save_pretrained(tmp_path / "hf")
    cfg = SimpleNamespace(**settings(f"--data_dir={data_dir}", f"--init_from={tmp_path / 'hf'}", "--block_size=16"))
    with pytest.raises(SystemExit, match="the model uses the tokenizer 'codegen', but .* was made with 'test-tokens'"):
        train.check_compatible(*train.build_model(cfg, meta)[:2], meta, cfg)
    codegen_data = write_data(tmp_path / "codegen", np.fromfile(data_dir / "train.bin", np.uint16),
                              np.fromfile(data_dir / "val.bin", np.uint16))
    (codegen_data / "meta.json").write_text(json.dumps({**meta, "tokenizer": "codegen"}))
    run_train(f"--data_dir={codegen_data}", f"--out_dir={tmp_path / 'from_hf'}", f"--init_from={tmp_path / 'hf'}",
              "--max_iters=1", "--eval_interval=1")
    assert read_metrics(tmp_path / "from_hf")[0] == {"iter": 0, "val_loss": base_val_loss}
    assert load(tmp_path / "from_hf")["tokenizer"] == "codegen"


def test_a_token_id_outside_the_vocabulary_is_a_clear_error_where_the_batch_is_made(tmp_path):
    tokens = np.zeros(41, int)
    tokens[20] = 200  # in most windows; meta.json says 100 tokens
    loader = train.TokenLoader(write_data(tmp_path / "bad", tokens, tokens) / "train.bin", 16, 8, seed=0)
    with pytest.raises(SystemExit, match=r"bad/train.bin holds token id 200, outside the model's vocabulary of 128"):
        train.device_batch(loader, 128, torch.device("cpu"))


def test_a_kill_during_a_checkpoint_write_leaves_the_previous_one(tmp_path):
    path = tmp_path / "ckpt.pt"
    train.write_checkpoint(path, {"model": {"w": torch.arange(10.0)}, "iter_num": 1})
    writer = (f"import sys, torch; sys.path.insert(0, {str(REPO)!r}); import train; "
              f"train.write_checkpoint({str(path)!r}, {{'model': {{'w': torch.ones(2 ** 27)}}, 'iter_num': 2}})")
    child = subprocess.Popen([sys.executable, "-c", writer])
    deadline = time.time() + 60
    while not list(tmp_path.glob("ckpt.pt.tmp*")) and child.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    child.kill()
    child.wait()
    assert list(tmp_path.glob("ckpt.pt.tmp*")), "the writer was not killed in the middle of its write"
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["iter_num"] == 1 and torch.equal(checkpoint["model"]["w"], torch.arange(10.0))


def test_ctrl_c_saves_a_checkpoint_and_exits(tmp_path, data_dir):
    out = tmp_path / "out"
    command = [sys.executable, "train.py", *TINY, f"--data_dir={data_dir}", f"--out_dir={out}",
               "--max_iters=1000000", "--lr_decay_iters=1000000", "--eval_interval=1000000"]
    proc = subprocess.Popen(command, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not ((out / "metrics.jsonl").exists() and len(read_metrics(out)) >= 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert "stopped at step" in output and "Traceback" not in output
    checkpoint, last = load(out), read_metrics(out)[-1]
    assert checkpoint["iter_num"] == last["iter"] >= 2
    assert checkpoint["loader"]["next_window"] == last["iter"] * 4  # exactly the steps taken, no partial step


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_checkpoint(tmp_path, data_dir):
    result = subprocess.run([sys.executable, "train.py", *TINY, f"--data_dir={data_dir}", f"--out_dir={tmp_path}",
                             "--learning_rate=1e30", "--warmup_iters=0", "--eval_interval=1", "--max_iters=50"],
                            cwd=REPO, env=ENV, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the run diverged and stops here" in result.stderr
    assert f"{tmp_path / 'ckpt.pt'} from step 1 is kept" in result.stderr
    assert load(tmp_path)["iter_num"] == 1
    assert math.isfinite(read_metrics(tmp_path)[1]["loss"]) and len(read_metrics(tmp_path)) == 2


def test_bench_times_our_step_and_the_transformers_step():
    import bench

    config = PhiConfig.from_name("phi-toy", block_size=32)
    args = SimpleNamespace(attn_backend="auto", gradient_checkpointing=False, compile=False, reference="sdpa",
                           amp_dtype=None, warmup=1, steps=1, profile=False)
    x = torch.randint(0, config.vocab_size, (2, 32))
    for build in (bench.our_model, bench.reference_model):
        result = bench.measure(build, config, args, torch.device("cpu"), x, x)
        assert result.tokens_per_sec > 0 and result.loss == pytest.approx(math.log(config.vocab_size), abs=0.3)


def test_align_windows_starts_every_training_window_at_a_document(tmp_path):
    eot = 99
    docs = [[1 + i % 7] * (5 + i % 11) + [eot] for i in range(80)]  # runs of one token, each ended by eot
    tokens = [t for d in docs for t in d]
    data = write_data(tmp_path / "docs", tokens, tokens[:200])
    cfg = SimpleNamespace(**{**settings(f"--data_dir={data}", "--block_size=8", "--align_windows=True"),
                             "device": "cpu"})
    procs = train.Processes(torch.device("cpu"))
    meta = json.loads((data / "meta.json").read_text())
    x, _ = train.make_train_loader(cfg, meta, 32, procs).next_batch()
    starts = {0} | {i + 1 for i, t in enumerate(tokens) if t == eot}
    offsets = train.make_train_loader(cfg, meta, 32, procs).window_offsets(0, 32)
    assert set(offsets.tolist()) <= starts and len(set(offsets.tolist())) > 10
    assert all(row[0] != eot and row.tolist() == tokens[o:o + 8] for o, row in zip(offsets, x))
    cfg.align_windows = False
    assert not set(train.make_train_loader(cfg, meta, 32, procs).window_offsets(0, 32).tolist()) <= starts
