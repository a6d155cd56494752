"""
Train a phi model with one loop, from a laptop toy to a multi-node phi-1 run.

    python train.py                                    # the toy: tiny stories on a laptop CPU, data built on the way
    python train.py config/textbook.py                 # a small phi-1-style code model
    python train.py config/phi1.py --batch_size=4      # phi-1-base; config/*.py hold the published recipes
    torchrun --nproc_per_node 8 train.py config/phi1.py
    torchrun --nnodes 4 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py config/phi1.py
    python train.py config/phi1_finetune.py --init_from=out-phi1
    python train.py --init_from=resume                 # go on from out_dir's checkpoint (Ctrl-C writes one too)

The settings are the globals below. A config file (plain Python assignments) overrides them, then --key=value
arguments override that, in the order given; every value must have the type of its default. `model = "phi-1"`
takes a shape from model.PRESETS; n_layer, n_head, n_embd, n_inner and rotary_dim given anywhere override it.

The batch: one optimizer step takes batch_size * gradient_accumulation_steps sequences of block_size tokens over
all processes together: the very same windows of the data on 1 GPU or 32. Each process takes an equal share, in
micro-steps of at most batch_size sequences (gradient_accumulation_steps / world_size of them where that divides;
8 processes split the toy's one micro-step of 8 sequences into one each). A world size that does not divide the
step's sequences is refused.

init_from other than scratch takes the model from its weights: shape settings that were given must agree with
them, the dropout setting applies, and the model's context is cropped to block_size when that is shorter (a
longer block_size is refused). The checkpoint records the cropped context, so generate.py and eval.py use the
window the model was trained on. A resumed run goes on exactly (optimizer, data position, random streams); the
settings changed since its checkpoint are logged and take effect, except the seed, which cannot change.
"""

import ast
import builtins
import dataclasses
import difflib
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

# OpenMP threads that spin while they wait made the toy's CPU steps 11x slower on a machine whose cores were busy
# with other work (3.0 s instead of 0.28 s a step); waiting passively did not slow it down. Set before torch
# starts OpenMP; an OMP_WAIT_POLICY of your own wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402 (after the OpenMP setting)
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from data.loader import TokenLoader
from files import append_jsonl, atomic_write, load_checkpoint, model_from_checkpoint, read_complete_lines, read_json, \
    write_jsonl
from model import PRESETS, Phi, PhiConfig

# ----------------------------------------------------------------------------------------------------------
# Settings. The defaults are the laptop toy (config/tinystories.py lists the same values, with reasons).

# where things are
out_dir = "out-tinystories"
init_from = "scratch"  # scratch | resume (from out_dir) | another run's out_dir | microsoft/phi-1_5 or a local HF dir
data_dir = "data/tinystories"  # train.bin, val.bin and meta.json, as data/prepare.py writes them
# how often
max_iters = 1000  # optimizer steps; the run stops and writes a checkpoint here
eval_interval = 250  # val loss and a checkpoint every this many steps
eval_iters = 20  # val batches per process for each estimate
log_interval = 25  # a console line and a metrics.jsonl record every this many steps
num_samples = 3  # stories sampled at the end (one at each eval); 0 for none
# the batch
batch_size = 8  # sequences per micro-step and process (fewer where processes outnumber the micro-steps)
gradient_accumulation_steps = 1  # micro-steps per optimizer step, over all processes together
block_size = 256  # context length of the training windows
align_windows = True  # training windows start where documents do (after <|endoftext|>); val keeps random ones
# the model (a PhiConfig)
model = None  # a shape of model.PRESETS (phi-1, phi-1.5, phi-2, ...); the five settings below override it
n_layer = 4
n_head = 4
n_embd = 128
n_inner = None  # MLP width; None means 4 * n_embd
rotary_dim = None  # dims of each head that get rotary; None means half the head
vocab_size = None  # None: the data's vocabulary rounded up to a multiple of 64 (faster matmuls; never sampled)
dropout = 0.0  # attention and residual dropout (phi-1: 0.1); embedding dropout stays 0, as in all phi configs
# AdamW, with weight decay on the matrices and the embedding, not on biases and LayerNorms
learning_rate = 5e-3
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
adam_eps = 1e-8
grad_clip = 1.0  # max global gradient norm; 0 for none
# learning rate schedule: linear warmup, then
lr_schedule = "cosine"  # cosine | linear (phi-1) | constant (phi-1.5) | wsd (warmup-stable-decay)
warmup_iters = 30
lr_decay_iters = 1000  # where the decay reaches min_lr; apart from max_iters, so a run stopped early and
                       # resumed with a larger max_iters follows the very same schedule
cooldown_iters = 0  # wsd only: the last steps before lr_decay_iters, where the rate falls linearly to min_lr
min_lr = 5e-4
# system
device = "auto"  # auto (cuda when there is one, else cpu) | cpu | cuda | cuda:N | mps
dtype = "auto"  # auto (bfloat16 on GPUs that have it, else float16; float32 on CPU) | float32 | bfloat16 | float16
compile = None  # torch.compile the model; None means yes on CUDA, no elsewhere
attn_backend = "auto"  # auto (the Triton kernel on CUDA, else SDPA) | triton | sdpa | math
gradient_checkpointing = False  # recompute activations in the backward pass: phi-2 fits on one 80 GB GPU
seed = 1337
wandb_log = False
wandb_project = "nanophi"
wandb_run_name = None  # None: the name of out_dir

SETTINGS = {k: v for k, v in globals().items() if not k.startswith("_") and isinstance(v, (bool, int, float, str,
                                                                                            type(None)))}
NULLABLE = {"model": str, "n_inner": int, "rotary_dim": int, "vocab_size": int, "compile": bool, "wandb_run_name": str}
CHOICES = {"lr_schedule": ("cosine", "linear", "constant", "wsd"), "dtype": ("auto", "float32", "bfloat16", "float16"),
           "attn_backend": ("auto", "triton", "sdpa", "math")}
SHAPE = ("n_layer", "n_head", "n_embd", "n_inner", "rotary_dim")  # what a preset sets; weights fix it

# How each dataset with a known recipe is built. `python train.py` runs the toy's by itself when its data is
# missing; for the others, the error message gives the commands. Steps whose --out file exists are skipped.
TOY_DATA = "data/tinystories"
DATA_RECIPES = {
    TOY_DATA: [
        "python synth.py tinystories --n 30000 --seed 0 --out data/tinystories/stories.jsonl",
        "python data/tokenizer.py train --input data/tinystories/stories.jsonl --vocab_size 2048 "
        "--out data/tinystories/tok.tiktoken",
        "python data/prepare.py --input data/tinystories/stories.jsonl --tokenizer data/tinystories/tok.tiktoken "
        "--out_dir data/tinystories",
    ],
    "data/textbook": [
        "python synth.py textbook --n 5000 --seed 0 --out data/textbook/textbook.jsonl",
        "python synth.py exercises --n 20000 --seed 0 --out data/textbook/exercises.jsonl",
        "python data/tokenizer.py train --input data/textbook/textbook.jsonl data/textbook/exercises.jsonl "
        "--vocab_size 8192 --out data/textbook/tok.tiktoken",
        "python data/prepare.py --input data/textbook/textbook.jsonl data/textbook/exercises.jsonl "
        "--tokenizer data/textbook/tok.tiktoken --out_dir data/textbook",
    ],
    "data/phi1": [  # phi-1's CodeTextbook: The Stack's Python filtered for educational value, plus textbooks
        # The Stack is gated: accept its terms on the hub and `huggingface-cli login` first. annotate uses the
        # offline rubric; add --teacher URL --model NAME for an LLM's labels (phi-1 had GPT-4's)
        "huggingface-cli download bigcode/the-stack-dedup --repo-type dataset --include 'data/python/*' "
        "--local-dir data/phi1/the-stack",
        "python data/filter.py annotate --input data/phi1/the-stack/data/python/*.parquet --text_field content "
        "--n 100000 --out data/phi1/labels.jsonl",
        "python data/filter.py train --labels data/phi1/labels.jsonl --out data/phi1/filter.pt",
        "python data/filter.py keep --input data/phi1/the-stack/data/python/*.parquet --text_field content "
        "--classifier data/phi1/filter.pt --threshold 3 --decontaminate --out data/phi1/code.jsonl",
        "python synth.py textbook --n 20000 --seed 0 --out data/phi1/textbook.jsonl",
        "python data/prepare.py --input data/phi1/code.jsonl data/phi1/textbook.jsonl --tokenizer codegen "
        "--out_dir data/phi1",
    ],
    "data/phi1_mini": [  # the same recipe offline: this Python's own code, a sixth kept, plus textbooks
        "python data/filter.py keep --input stdlib site-packages --keep_fraction 0.17 --decontaminate "
        "--out data/phi1_mini/code.jsonl",
        "python synth.py textbook --n 10000 --seed 0 --out data/phi1_mini/textbook.jsonl",
        "python data/tokenizer.py train --input data/phi1_mini/code.jsonl data/phi1_mini/textbook.jsonl "
        "--vocab_size 8192 --out data/phi1_mini/tok.tiktoken",
        "python data/prepare.py --input data/phi1_mini/code.jsonl data/phi1_mini/textbook.jsonl "
        "--tokenizer data/phi1_mini/tok.tiktoken --out_dir data/phi1_mini",
    ],
    "data/code_exercises": [  # CodeExercises-style finetuning data, in the official models' tokenizer
        "python synth.py exercises --n 100000 --seed 0 --out data/code_exercises/exercises.jsonl",
        "python data/prepare.py --input data/code_exercises/exercises.jsonl --tokenizer codegen "
        "--out_dir data/code_exercises",
    ],
}
REPO = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------------------------------------
# Reading the settings: nanoGPT's configurator, with types checked, unknown names caught and model presets.

def load_settings(argv):
    """(settings, the names given in config files or on the command line)."""
    settings, given = dict(SETTINGS), set()
    for arg in argv:
        if arg.startswith("--"):
            key, has_value, text = arg[2:].partition("=")
            if not has_value:
                raise SystemExit(f"{arg}: give settings as --key=value")
            check_known(key, arg)
            values = {key: parse_value(key, text)}
        else:
            values = read_config_file(arg, settings)
        settings.update(values)
        given |= values.keys()
    if settings["model"] is not None:  # the preset's shape, under the shape settings given explicitly
        shape = preset_shape(settings["model"])
        settings.update({key: value for key, value in shape.items() if key not in given})
        given |= shape.keys()
    return settings, given


def preset_shape(name):
    if name not in PRESETS:
        raise SystemExit(f"model={name!r} is not a preset of model.PRESETS: choose one of {', '.join(PRESETS)}")
    defaults = {field.name: field.default for field in dataclasses.fields(PhiConfig)}
    return {key: PRESETS[name].get(key, defaults[key]) for key in SHAPE}


def read_config_file(path, settings):
    """The settings a config file assigns. It runs as Python, seeing the settings so far (so it may compute one
    from another); what it imports and names starting with _ are its own."""
    if not os.path.isfile(path):
        presets = ", ".join(sorted(str(p.relative_to(REPO)) for p in (REPO / "config").glob("*.py")))
        raise SystemExit(f"config file {path} not found; the presets are: {presets}")
    try:
        tree = ast.parse(Path(path).read_text(), path)
    except SyntaxError as e:
        raise SystemExit(f"{path}:{e.lineno}: {e.msg}") from None
    namespace = dict(settings)
    exec(builtins.compile(tree, path, "exec"), namespace)  # `compile` is a setting here
    values = {}
    for key in dict.fromkeys(module_assignments(tree)):
        if key.startswith("_") or key not in namespace:
            continue
        check_known(key, path)
        values[key] = check_type(key, namespace[key], f"{path}: {key} = {namespace[key]!r}")
    return values


def module_assignments(node):
    """The names a file's own statements assign, not those inside its functions or comprehensions: a shape
    setting that a config gives wins over its preset even where it equals train.py's default."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        yield node.id
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
                                  ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            yield from module_assignments(child)


def check_known(key, where):
    if key not in SETTINGS:
        close = difflib.get_close_matches(key, SETTINGS, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}?" if close else "the settings are the globals at the top of train.py"
        raise SystemExit(f"unknown setting {key!r} in {where}: {hint}")


def setting_type(key):
    return NULLABLE.get(key) or type(SETTINGS[key])


def parse_value(key, text):
    kind = setting_type(key)
    if key in NULLABLE and text in ("None", "none"):
        return None
    try:
        if kind is bool:
            return {"true": True, "1": True, "false": False, "0": False}[text.lower()]
        return kind(text)
    except (KeyError, ValueError):
        nullable = " or None" if key in NULLABLE else ""
        raise SystemExit(f"--{key}={text}: {key} takes {describe(kind)}{nullable}") from None


def check_type(key, value, where):
    kind = setting_type(key)
    if value is None and key in NULLABLE:
        return value
    if kind is float and type(value) is int:
        return float(value)
    if type(value) is not kind:
        raise SystemExit(f"{where}: {key} takes {describe(kind)}, not {type(value).__name__}")
    return value


def describe(kind):
    return {bool: "True or False", int: "an integer", float: "a number", str: "a string"}[kind]


def validate(cfg):
    for key, choices in CHOICES.items():
        if getattr(cfg, key) not in choices:
            raise SystemExit(f"{key}={getattr(cfg, key)!r}: choose one of {', '.join(choices)}")
    for key in ("batch_size", "gradient_accumulation_steps", "block_size", "eval_interval", "eval_iters",
                "log_interval"):
        if getattr(cfg, key) < 1:
            raise SystemExit(f"{key}={getattr(cfg, key)} must be at least 1")
    if not 0.0 <= cfg.dropout < 1.0:
        raise SystemExit(f"dropout={cfg.dropout} must be in [0, 1)")
    if cfg.lr_schedule != "constant" and cfg.lr_decay_iters <= cfg.warmup_iters:
        raise SystemExit(f"lr_decay_iters={cfg.lr_decay_iters} must be larger than warmup_iters={cfg.warmup_iters}")
    if cfg.lr_schedule == "wsd" and not 0 < cfg.cooldown_iters <= cfg.lr_decay_iters - cfg.warmup_iters:
        raise SystemExit(f"lr_schedule='wsd' needs cooldown_iters in 1..lr_decay_iters - warmup_iters "
                         f"({cfg.lr_decay_iters - cfg.warmup_iters}), not {cfg.cooldown_iters}")


# ----------------------------------------------------------------------------------------------------------
# The learning rate

def learning_rate_at(it, cfg):
    """The rate for optimizer step `it` (counted from 0): linear warmup, then the schedule."""
    peak, floor = cfg.learning_rate, cfg.min_lr
    if it < cfg.warmup_iters:
        return peak * (it + 1) / cfg.warmup_iters
    if cfg.lr_schedule == "constant":
        return peak
    if it >= cfg.lr_decay_iters:
        return floor
    if cfg.lr_schedule == "wsd":
        decay_start = cfg.lr_decay_iters - cfg.cooldown_iters
        return peak if it < decay_start else peak + (it - decay_start) / cfg.cooldown_iters * (floor - peak)
    progress = (it - cfg.warmup_iters) / (cfg.lr_decay_iters - cfg.warmup_iters)
    if cfg.lr_schedule == "linear":
        return peak + progress * (floor - peak)
    return floor + 0.5 * (1 + math.cos(math.pi * progress)) * (peak - floor)


# ----------------------------------------------------------------------------------------------------------
# Processes, the batch, precision

@dataclass
class Processes:
    """This process among the training processes: torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; a plain
    `python train.py` is one process."""
    device: torch.device
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    distributed: bool = False

    @property
    def master(self):
        return self.rank == 0

    def log(self, *args):
        if self.master:
            print(*args, flush=True)


def start_processes(device):
    device = torch.device(device if device != "auto" else "cuda" if torch.cuda.is_available() else "cpu")
    if "RANK" not in os.environ:
        return Processes(device)
    rank, local_rank, world_size = (int(os.environ[k]) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Processes(device, rank, local_rank, world_size, distributed=True)


def split_batch(cfg, world_size):
    """(sequences per micro-step, micro-steps) of each process: an equal share of the step's batch_size *
    gradient_accumulation_steps sequences, in the fewest micro-steps of at most batch_size sequences that
    split the share evenly."""
    sequences = cfg.batch_size * cfg.gradient_accumulation_steps
    if sequences % world_size:
        raise SystemExit(f"a step's {sequences} sequences (batch_size={cfg.batch_size} x gradient_accumulation_steps"
                         f"={cfg.gradient_accumulation_steps}) cannot be split evenly across {world_size} processes: "
                         f"run a number of processes that divides {sequences}, or change batch_size or "
                         "gradient_accumulation_steps")
    share = sequences // world_size
    micro_steps = -(-share // cfg.batch_size)
    while share % micro_steps:
        micro_steps += 1
    return share // micro_steps, micro_steps


def setup_precision(cfg, device):
    """(autocast context, its dtype or None, gradient scaler): bf16 or fp16 around the forward pass, weights and
    optimizer in fp32. The scaler is on only for fp16, whose gradients underflow without it."""
    if cfg.dtype == "auto":
        cfg.dtype = "float32" if device.type != "cuda" else "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    amp_dtype = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}[cfg.dtype]
    ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    return ctx, amp_dtype, torch.amp.GradScaler(device.type, enabled=cfg.dtype == "float16")


# ----------------------------------------------------------------------------------------------------------
# Data

def ensure_data(data_dir, build):
    """Build the toy's data when it is missing and `build` allows; for anything else, say how to build it."""
    missing = [name for name in ("train.bin", "val.bin", "meta.json") if not (Path(data_dir) / name).is_file()]
    if not missing:
        return
    key = Path(data_dir).as_posix().rstrip("/")
    recipe = DATA_RECIPES.get(key)
    if build and key == TOY_DATA:
        build_data(recipe)
        return ensure_data(data_dir, build=False)
    how = ("build it (from the repository root) with:\n    " + "\n    ".join(recipe) if recipe else
           "make it from your own documents with:\n    python data/prepare.py --input FILE.jsonl "
           f"--tokenizer codegen --out_dir {data_dir}")
    raise SystemExit(f"{data_dir} has no {', '.join(missing)}: {how}")


def build_data(recipe):
    print("building the toy's data (once): synthetic stories, a BPE vocabulary, token shards")
    for command in recipe:
        args = shlex.split(command)
        out = args[args.index("--out") + 1] if "--out" in args else None
        if out and os.path.isfile(out):
            continue
        print(f"$ {command}", flush=True)
        if out:
            os.makedirs(os.path.dirname(out), exist_ok=True)
        script = REPO / args[1]  # the scripts live beside train.py; the data paths are relative to here
        if subprocess.run([sys.executable, str(script), *args[2:]]).returncode != 0:
            raise SystemExit(f"building the data failed at: {command}")


def prepare_data(data_dir, procs):
    """meta.json of data_dir, after one process per machine built the toy's data if it was missing (the others
    wait for it)."""
    if procs.local_rank == 0:
        ensure_data(data_dir, build=True)
    if procs.distributed:
        dist.barrier()
    ensure_data(data_dir, build=False)
    return read_json(Path(data_dir) / "meta.json")


def make_train_loader(cfg, meta, micro_batch, procs):
    return TokenLoader(os.path.join(cfg.data_dir, "train.bin"), cfg.block_size, micro_batch, procs.rank,
                       procs.world_size, cfg.seed, align_to=meta["eot"] if cfg.align_windows else None)


def device_batch(loader, vocab_size, device):
    """The loader's next (x, y), on the device. The token ids are checked here, on the host where the batch is
    made and no device has to be waited for: past the embedding they would fail deep in a kernel."""
    x, y = loader.next_batch()
    top = int(torch.maximum(x.max(), y.max()))
    if top >= vocab_size:
        raise SystemExit(f"{loader.tokens.filename} holds token id {top}, outside the model's vocabulary of "
                         f"{vocab_size}: the shard does not match its meta.json; prepare the data again")
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


# ----------------------------------------------------------------------------------------------------------
# The model and the optimizer

def new_model_config(cfg, data_vocab_size):
    """The shape of a model trained from scratch; vocab_size None rounds the data's vocabulary up to a multiple
    of 64 (faster matmuls; the extra rows are never sampled)."""
    return PhiConfig(vocab_size=cfg.vocab_size or -(-data_vocab_size // 64) * 64, block_size=cfg.block_size,
                     n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd, n_inner=cfg.n_inner,
                     rotary_dim=cfg.rotary_dim, resid_pdrop=cfg.dropout, attn_pdrop=cfg.dropout)


def build_model(cfg, meta, given=()):
    """(model, tokenizer spec, checkpoint to resume from or None), as init_from says. Afterwards the model
    settings in cfg describe the model built, so that the checkpoint records what was trained."""
    if cfg.init_from == "scratch":
        model, tokenizer, checkpoint = Phi(new_model_config(cfg, meta["vocab_size"])), meta["tokenizer"], None
    else:
        source, model, tokenizer, checkpoint = load_weights(cfg.init_from, cfg.out_dir)
        check_shape(model, cfg, given, source)
        # One context for training, sampling and evaluation (nanoGPT's crop_block_size): the model's context is
        # cropped to the training window when that is shorter; a longer window is refused, since positions past
        # the model's context were never trained. The checkpoint records the cropped context.
        if cfg.block_size > model.config.block_size:
            raise SystemExit(f"block_size={cfg.block_size} is longer than the context of the model from {source} "
                             f"({model.config.block_size} tokens): use --block_size={model.config.block_size} "
                             "or less")
        if cfg.block_size < model.config.block_size:
            model.crop_block_size(cfg.block_size)
        model.set_dropout(cfg.dropout)  # the dropout setting wins over the weights' config
    for key in (*SHAPE, "vocab_size"):
        setattr(cfg, key, getattr(model.config, key))
    return model, tokenizer, checkpoint


def load_weights(init_from, out_dir):
    """(where from, model, tokenizer spec, checkpoint or None): out_dir's checkpoint to resume (weights,
    optimizer and all), another run's weights (its optimizer stays behind: a finetune) or official weights."""
    if init_from == "resume":
        path = Path(out_dir) / "ckpt.pt"
        if not path.is_file():
            raise SystemExit(f"init_from=resume, but {path} does not exist: start with --init_from=scratch, "
                             "or point --out_dir at the run to resume")
        checkpoint = load_checkpoint(path)
        return path, model_from_checkpoint(checkpoint), checkpoint["tokenizer"], checkpoint
    path = Path(init_from) / "ckpt.pt"
    if path.is_file():
        checkpoint = load_checkpoint(path)
        return path, model_from_checkpoint(checkpoint), checkpoint["tokenizer"], None
    try:
        model = Phi.from_pretrained(init_from)
    except (FileNotFoundError, ConnectionError, ValueError) as e:
        raise SystemExit(f"init_from={init_from!r} is not scratch, resume, a run's out_dir with a ckpt.pt, "
                         f"or official weights: {e}") from None
    return init_from, model, "codegen", None


def check_shape(model, cfg, given, source):
    """Weights fix the model's shape: a shape setting given on the command line or in a config must agree."""
    config = model.config
    # None stands for what a new model of this shape gets; a vocab_size of None takes the weights' own
    none_means = {"n_inner": 4 * config.n_embd, "rotary_dim": config.head_dim // 2, "vocab_size": config.vocab_size}
    wrong = [key for key in (*SHAPE, "vocab_size") if key in given
             and (none_means[key] if getattr(cfg, key) is None else getattr(cfg, key)) != getattr(config, key)]
    if wrong:
        raise SystemExit(f"{', '.join(f'{k}={getattr(cfg, k)}' for k in wrong)} given, but the model from {source} "
                         f"has {', '.join(f'{k}={getattr(config, k)}' for k in wrong)}: with "
                         f"init_from={cfg.init_from} the shape comes from the weights; drop those settings")


def check_compatible(model, tokenizer, meta, cfg):
    if str(meta["tokenizer"]) != str(tokenizer):
        raise SystemExit(f"the model uses the tokenizer {tokenizer!r}, but {cfg.data_dir} was made with "
                         f"{meta['tokenizer']!r}: prepare the data with --tokenizer {tokenizer}")
    if meta["vocab_size"] > model.config.vocab_size:
        raise SystemExit(f"{cfg.data_dir} has a vocabulary of {meta['vocab_size']}, larger than the model's "
                         f"{model.config.vocab_size}")


def make_optimizer(model, cfg, device_type):
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},  # matrices, embedding
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]  # biases and LayerNorms
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), eps=cfg.adam_eps,
                             fused=device_type == "cuda")


# ----------------------------------------------------------------------------------------------------------
# Checkpoints: everything a resumed run needs to go on bit for bit, as tensors and plain Python values only
# (they load with weights_only=True).

def write_checkpoint(path, checkpoint):
    with atomic_write(path) as f:
        torch.save(checkpoint, f)


def rng_state(device):
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state, device):
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def rng_states(procs):
    """Every process's random state (dropout), so that a resumed run draws the same masks; all must call it."""
    if not procs.distributed:
        return [rng_state(procs.device)]
    states = [None] * procs.world_size
    dist.all_gather_object(states, rng_state(procs.device))
    return states


def restore(checkpoint, cfg, optimizer, scaler, loader, procs):
    """Go on from a checkpoint: optimizer moments, loss scale, data position and random streams. Returns
    (iter_num, best_val_loss)."""
    saved = checkpoint["config"]
    if cfg.seed != saved["seed"]:  # the data stream and the random streams are the checkpoint's
        raise SystemExit(f"seed={cfg.seed}, but the run in {cfg.out_dir} was trained with seed={saved['seed']}: a "
                         "resumed run goes on with its own data and random streams; drop --seed, or start a new run")
    hyperparameters = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    optimizer.load_state_dict(checkpoint["optimizer"])
    for group, settings in zip(optimizer.param_groups, hyperparameters):
        group.update(settings)  # weight decay, betas, eps as set now, not as saved
    if checkpoint["scaler"]:  # empty when the run was not in float16
        scaler.load_state_dict(checkpoint["scaler"])
    loader.load_state_dict(checkpoint["loader"])
    if len(checkpoint["rng"]) == procs.world_size:
        set_rng_state(checkpoint["rng"][procs.rank], procs.device)
    else:
        procs.log(f"the checkpoint was written by {len(checkpoint['rng'])} processes, this run has "
                  f"{procs.world_size}: dropout draws a new random stream (the data stream goes on exactly)")
    # the model settings were checked against the weights (build_model) and describe them now
    changed = {k: (v, getattr(cfg, k)) for k, v in saved.items()
               if k in SETTINGS and k not in ("init_from", "model", *SHAPE, "vocab_size")
               and getattr(cfg, k) != v}
    if changed:
        procs.log("resuming with settings changed since the checkpoint: "
                  + ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items()))
    return checkpoint["iter_num"], checkpoint["best_val_loss"]


def remove_stale_temporaries(out_dir):
    """Half-written checkpoints of a run killed while saving (files.atomic_write names them ckpt.pt.tmpPID)."""
    for tmp in Path(out_dir).glob("ckpt.pt.tmp*"):
        tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------------------
# Evaluation and sampling, to watch the model learn (eval.py and generate.py are the full tools)

@torch.no_grad()
def estimate_val_loss(model, cfg, procs, ctx):
    """Mean val loss over eval_iters batches per process, always the same batches."""
    loader = TokenLoader(os.path.join(cfg.data_dir, "val.bin"), cfg.block_size, cfg.batch_size, procs.rank,
                         procs.world_size, cfg.seed)
    model.eval()
    total = torch.zeros((), device=procs.device)
    for _ in range(cfg.eval_iters):
        x, y = device_batch(loader, cfg.vocab_size, procs.device)
        with ctx:
            total += model(x, y)[1].float()
    model.train()
    if procs.distributed:
        dist.all_reduce(total)
    return total.item() / (cfg.eval_iters * procs.world_size)


@torch.no_grad()
def sample_texts(model, tokenizer, n, ctx, kv_dtype, seed, temperature=0.8, top_k=50):
    """n texts from scratch: each starts after <|endoftext|>, as every document does in the training stream, and
    ends at the next one. A generator of its own keeps the training run's random stream untouched."""
    device = model.lm_head.weight.device
    generator = torch.Generator(device=device).manual_seed(seed)
    length = model.config.block_size
    model.eval()
    model.setup_kv_cache(n, length, kv_dtype)
    tokens = torch.full((n, 1), tokenizer.eot, dtype=torch.long, device=device)
    generated, finished = [], torch.zeros(n, dtype=torch.bool, device=device)
    with ctx:
        for pos in range(length - 1):
            logits, _ = model(tokens, start_pos=pos)
            logits = logits[:, -1, :tokenizer.vocab_size].float() / temperature  # padded rows are not tokens
            kth_best = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
            logits[logits < kth_best] = -float("inf")
            tokens = torch.multinomial(logits.softmax(-1), 1, generator=generator)
            generated.append(tokens)
            finished |= tokens[:, 0] == tokenizer.eot
            if finished.all():
                break
    model.clear_kv_cache()
    model.train()
    texts = []
    for row in torch.cat(generated, 1).tolist():
        texts.append(tokenizer.decode(row[:row.index(tokenizer.eot)] if tokenizer.eot in row else row).strip())
    return texts


def print_samples(model, tokenizer, n, ctx, kv_dtype, seed):
    for i, text in enumerate(sample_texts(model, tokenizer, n, ctx, kv_dtype, seed)):
        print(f"--- sample {i + 1}\n{text}")
    print("---", flush=True)


# ----------------------------------------------------------------------------------------------------------
# Logging: the console, metrics.jsonl and wandb, on rank 0

def open_metrics(path, iter_num):
    """metrics.jsonl, to append to: a fresh run starts it anew; a resumed one keeps the records up to its
    checkpoint (a stopped run may have logged steps past it)."""
    write_jsonl(path, [r for r in read_complete_lines(path) if r["iter"] <= iter_num] if iter_num else [])
    return open(path, "a", encoding="utf-8")


METRIC_FORMATS = {"iter": "iter {}", "loss": "loss {:.4f}", "val_loss": "val loss {:.4f}", "lr": "lr {:.2e}",
                  "ms_per_iter": "{:.1f} ms/iter", "tokens_per_sec": "{:,.0f} tok/s", "mfu": "mfu {:.1%}",
                  "grad_norm": "grad norm {:.2f}", "minutes": "{:.1f} min"}


def format_metric(key, value):
    return METRIC_FORMATS.get(key, key + " {}").format(value)


def record(entry, metrics, wandb):
    """A console line, a metrics.jsonl record and a wandb point; metrics is None on the processes past rank 0."""
    if metrics is None:
        return
    print(" | ".join(format_metric(k, v) for k, v in entry.items()), flush=True)
    append_jsonl(metrics, entry)
    if wandb:
        wandb.log(entry, step=entry["iter"])


def start_wandb(cfg):
    try:
        import wandb
    except ImportError:
        raise SystemExit("wandb_log=True needs the wandb package: pip install wandb (or --wandb_log=False)") from None
    wandb.init(project=cfg.wandb_project, name=cfg.wandb_run_name or Path(cfg.out_dir).name, config=vars(cfg))
    return wandb


class StopRequest:
    """Ctrl-C or SIGTERM (a scheduler's preemption) lets the step under way finish; then the run saves a checkpoint
    and exits. Another Ctrl-C stops at once, without one, except within a second of the first: under torchrun
    each process gets the terminal's Ctrl-C and then the one torchrun passes on."""

    def __init__(self, log):
        self.first_signal, self.log = None, log
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)

    @property
    def requested(self):
        return self.first_signal is not None

    def handle(self, signum, frame):
        if self.first_signal is None:
            self.first_signal = time.monotonic()
            self.log("\nstopping after this step, with a checkpoint (Ctrl-C again to stop at once, without one)")
        elif time.monotonic() - self.first_signal > 1.0:
            raise KeyboardInterrupt


# ----------------------------------------------------------------------------------------------------------
# The run

def main(argv):
    settings, given = load_settings(argv)
    cfg = SimpleNamespace(**settings)
    validate(cfg)
    procs = start_processes(cfg.device)
    device, log = procs.device, procs.log
    micro_batch, micro_steps = split_batch(cfg, procs.world_size)
    ctx, amp_dtype, scaler = setup_precision(cfg, device)
    torch.manual_seed(cfg.seed + procs.rank)  # per process, for dropout; the model is broadcast from rank 0 by DDP

    meta = prepare_data(cfg.data_dir, procs)
    train_loader = make_train_loader(cfg, meta, micro_batch, procs)
    model, tokenizer_spec, checkpoint = build_model(cfg, meta, given)
    check_compatible(model, tokenizer_spec, meta, cfg)
    model.attn_backend = cfg.attn_backend
    model.gradient_checkpointing = cfg.gradient_checkpointing
    model.to(device)
    optimizer = make_optimizer(model, cfg, device.type)
    iter_num, best_val_loss, last_saved = 0, float("inf"), None
    if checkpoint:
        iter_num, best_val_loss = restore(checkpoint, cfg, optimizer, scaler, train_loader, procs)
        last_saved = iter_num
        del checkpoint  # the weights and optimizer state now live in the model and optimizer

    if cfg.compile if cfg.compile is not None else device.type == "cuda":
        log("compiling the model (a minute or so)")
        compiled = torch.compile(model)
    else:
        compiled = model
    train_model = DDP(compiled, device_ids=[procs.local_rank] if device.type == "cuda" else None) \
        if procs.distributed else compiled

    out_dir = Path(cfg.out_dir)
    metrics, tokenizer, wandb = None, None, None
    if procs.master:
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out_dir)
        metrics = open_metrics(out_dir / "metrics.jsonl", iter_num)
        if cfg.num_samples:
            from data.tokenizer import load_tokenizer

            tokenizer = load_tokenizer(tokenizer_spec)
        wandb = start_wandb(cfg) if cfg.wandb_log else None
    sequences = cfg.batch_size * cfg.gradient_accumulation_steps
    tokens_per_step = sequences * cfg.block_size
    log(f"{model.num_params() / 1e6:.2f}M parameters, {procs.world_size} process{'es' * (procs.world_size > 1)} on "
        f"{device.type}, {cfg.dtype}; {tokens_per_step:,} tokens per step ({sequences} sequences of "
        f"{cfg.block_size}: {micro_steps} micro-step{'s' * (micro_steps > 1)} of {micro_batch} per process)")

    stop = StopRequest(log)
    run_start = time.time()
    if iter_num == 0 and cfg.max_iters > 0:
        record({"iter": 0, "val_loss": estimate_val_loss(compiled, cfg, procs, ctx)}, metrics, wandb)
    step_time, steps_timed = 0.0, 0
    while iter_num < cfg.max_iters:
        t0 = time.time()
        # one optimizer step: micro_steps forward/backward passes here, as many on each of the other processes
        loss_sum = torch.zeros((), device=device)
        for micro_step in range(micro_steps):
            if procs.distributed:  # gradients are all-reduced in the last micro-step's backward only
                train_model.require_backward_grad_sync = micro_step == micro_steps - 1
            x, y = device_batch(train_loader, cfg.vocab_size, device)
            with ctx:
                _, loss = train_model(x, y)
            loss_sum += loss.detach().float()
            scaler.scale(loss / micro_steps).backward()
        # the step's loss over every micro-step of every process, and whether any process was asked to stop
        totals = torch.stack([loss_sum, torch.tensor(float(stop.requested), device=device)])
        if procs.distributed:
            dist.all_reduce(totals)
        loss, stop_requested = totals[0].item() / (micro_steps * procs.world_size), totals[1].item() > 0
        if not math.isfinite(loss):  # stop before this step touches the weights; the last checkpoint stays
            kept = f"{out_dir / 'ckpt.pt'} from step {last_saved} is kept" if last_saved is not None else \
                "no checkpoint was written yet"
            raise SystemExit(f"the training loss is {loss} at step {iter_num + 1}: the run diverged and stops here; "
                             f"{kept}. Lower learning_rate, raise warmup_iters or use bfloat16, then go on with "
                             "--init_from=resume")
        lr = learning_rate_at(iter_num, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        grad_norm = None
        if cfg.grad_clip > 0:
            scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip).item()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        iter_num += 1
        step_time += time.time() - t0
        steps_timed += 1

        evaluating = iter_num % cfg.eval_interval == 0 or iter_num == cfg.max_iters
        if iter_num % cfg.log_interval == 0 or evaluating or stop_requested:
            tokens_per_sec = tokens_per_step * steps_timed / step_time
            entry = {"iter": iter_num, "loss": loss, "lr": lr, "ms_per_iter": 1000 * step_time / steps_timed,
                     "tokens_per_sec": tokens_per_sec}
            mfu = model.estimate_mfu(tokens_per_sec / procs.world_size, cfg.block_size, device)
            if mfu is not None:
                entry["mfu"] = mfu
            if grad_norm is not None:
                entry["grad_norm"] = grad_norm
            step_time, steps_timed = 0.0, 0
            if evaluating:
                entry["val_loss"] = estimate_val_loss(compiled, cfg, procs, ctx)
                best_val_loss = min(best_val_loss, entry["val_loss"])
                entry["minutes"] = (time.time() - run_start) / 60
            record(entry, metrics, wandb)
        if evaluating or stop_requested:
            rng = rng_states(procs)
            if procs.master:
                write_checkpoint(out_dir / "ckpt.pt", {
                    "model": model.state_dict(), "model_config": dataclasses.asdict(model.config),
                    "tokenizer": tokenizer_spec, "tokenizer_sha256": meta.get("tokenizer_sha256"),
                    "config": vars(cfg), "iter_num": iter_num,
                    "best_val_loss": best_val_loss, "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict(), "rng": rng, "loader": train_loader.state_dict()})
            last_saved = iter_num
        if evaluating and tokenizer and iter_num < cfg.max_iters:
            print_samples(model, tokenizer, 1, ctx, amp_dtype, cfg.seed)
        if stop_requested:
            log(f"stopped at step {iter_num}; the checkpoint is in {out_dir}: go on with --init_from=resume")
            break
    if tokenizer and iter_num == cfg.max_iters:
        print_samples(model, tokenizer, cfg.num_samples, ctx, amp_dtype, cfg.seed)
    if procs.distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit(130)  # a second Ctrl-C, or one before training started: stop at once, quietly
