"""
How fast one training step runs: tokens/s and MFU of our model, then of the same step through transformers'
PhiForCausalLM with its best attention, in the same process on the same GPU, so the ratio is a fair one.

    python bench.py                                    # phi-1 (1.3B), context 2048, bf16, compiled, our kernel
    python bench.py --model phi-2 --batch_size 4 --gradient_checkpointing
    python bench.py --profile                          # and the top GPU kernels of one of our steps
    python bench.py --model phi-toy --device cpu --steps 2 --batch_size 2 --block_size 64    # a smoke test

A step is what train.py does: forward under autocast, cross-entropy in fp32, backward, gradient clipping and a
(fused, on CUDA) AdamW step, with fp32 weights. Both models get the same weights' shapes, the same random tokens,
the same optimizer and the same torch.compile setting; MFU counts the same model FLOPs for both
(model.flops_per_token: 6N + 12 * layers * width * context) against the GPU's dense bf16 peak.
"""
import argparse
import datetime
import gc
import importlib.util
import platform
import time
from contextlib import nullcontext
from types import SimpleNamespace

import torch
import torch.nn.functional as F

from model import PRESETS, Phi, PhiConfig
from train import make_optimizer
from weights import config_to_hf


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    parser.add_argument("--model", default="phi-1", choices=list(PRESETS), help="model shape (model.PRESETS)")
    parser.add_argument("--batch_size", type=int, default=8, help="sequences per step")
    parser.add_argument("--block_size", type=int, default=None, help="context; default: the model's (2048)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (compilation, autotuning)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"],
                        help="autocast dtype; auto: bfloat16 on CUDA, float32 elsewhere")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="torch.compile both models (default: on CUDA)")
    parser.add_argument("--attn_backend", default="auto", help="our attention: auto (Triton on CUDA) | sdpa | ...")
    parser.add_argument("--reference", default="auto",
                        help="transformers' attn_implementation: auto (flash_attention_2 if installed, else sdpa) "
                             "| sdpa | eager | none (skip the comparison)")
    parser.add_argument("--gradient_checkpointing", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print the top kernels of one of our steps")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA GPU here: use --device cpu (for a smoke test with a small --model)")
    return args


def our_model(config, args, device):
    model = Phi(config).to(device)
    model.attn_backend = args.attn_backend
    model.gradient_checkpointing = args.gradient_checkpointing
    forward = torch.compile(model) if args.compile else model
    return model, lambda x, y: forward(x, y)[1]


def reference_model(config, args, device):
    from transformers import PhiConfig as HFPhiConfig
    from transformers import PhiForCausalLM

    hf_config = HFPhiConfig(**config_to_hf(config, torch.float32))
    model = PhiForCausalLM._from_config(hf_config, attn_implementation=args.reference).to(device)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    forward = torch.compile(model) if args.compile else model

    def loss_fn(x, y):  # the same fp32 cross-entropy as ours, on logits for every position
        logits = forward(input_ids=x, use_cache=False).logits
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1))

    return model, loss_fn


def measure(build, config, args, device, x, y):
    """Tokens/s, first loss and peak memory of training steps of the model that build() returns; None when it runs
    out of memory. The model is gone again when this returns, so the next one has the whole GPU."""
    try:
        return time_steps(build, config, args, device, x, y)
    except torch.OutOfMemoryError:
        return None
    finally:
        gc.collect()
        torch._dynamo.reset()
        if device.type == "cuda":
            torch.cuda.empty_cache()


def time_steps(build, config, args, device, x, y):
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    ctx = torch.autocast(device.type, dtype=args.amp_dtype) if args.amp_dtype else nullcontext()
    model, loss_fn = build(config, args, device)
    model.train()
    optimizer = make_optimizer(model, SimpleNamespace(weight_decay=0.1, learning_rate=1e-4, beta1=0.9, beta2=0.95,
                                                      adam_eps=1e-8), device.type)

    def step():
        with ctx:
            loss = loss_fn(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    first_loss = step().item()
    for _ in range(args.warmup - 1):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = (time.perf_counter() - t0) / args.steps
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    if args.profile and build is our_model:
        profile(step, device)
    return SimpleNamespace(tokens_per_sec=x.numel() / seconds, ms=1000 * seconds, loss=first_loss, peak_gib=peak)


def profile(step, device):
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
    sort_by = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort_by, row_limit=25, max_name_column_width=70))


def main():
    args = parse_args()
    device = torch.device(args.device)
    if args.dtype == "auto":
        args.dtype = "bfloat16" if device.type == "cuda" else "float32"
    args.amp_dtype = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}[args.dtype]
    if args.compile is None:
        args.compile = device.type == "cuda"
    if args.reference == "auto":
        args.reference = "flash_attention_2" if device.type == "cuda" and importlib.util.find_spec("flash_attn") \
            else "sdpa"
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    config = PhiConfig.from_name(args.model, **({"block_size": args.block_size} if args.block_size else {}))
    T = config.block_size
    torch.manual_seed(0)
    x = torch.randint(0, config.vocab_size, (args.batch_size, T + 1), device=device)
    x, y = x[:, :-1].contiguous(), x[:, 1:].contiguous()
    with torch.device("meta"):  # shapes only, no memory: for the parameter and FLOP counts
        shape = Phi(config)

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    versions = f"torch {torch.__version__}"
    for package in ("triton", "transformers"):
        if importlib.util.find_spec(package):
            versions += f", {package} {__import__(package).__version__}"
    print(f"{args.model} ({shape.num_params() / 1e6:.1f}M "
          f"parameters), batch {args.batch_size} x {T} tokens, {args.dtype}, compile={args.compile}, "
          f"gradient_checkpointing={args.gradient_checkpointing}")
    print(f"{gpu}; {versions}; {datetime.date.today()}")

    runs = [(f"nanophi ({args.attn_backend} attention)", our_model)]
    if args.reference != "none":
        runs.append((f"transformers PhiForCausalLM ({args.reference})", reference_model))
    results = [(name, measure(build, config, args, device, x, y)) for name, build in runs]
    print("\n| implementation | tokens/s | ms/step | MFU | peak memory | first loss |")
    print("|---|---|---|---|---|---|")
    for name, r in results:
        if r is None:
            print(f"| {name} | out of memory at batch {args.batch_size} | | | | |")
            continue
        mfu = shape.estimate_mfu(r.tokens_per_sec, T, device)
        print(f"| {name} | {r.tokens_per_sec:,.0f} | {r.ms:,.1f} | {'-' if mfu is None else f'{100 * mfu:.1f}%'} "
              f"| {'-' if r.peak_gib is None else f'{r.peak_gib:.1f} GiB'} | {r.loss:.3f} |")
    if len(results) == 2 and None not in (results[0][1], results[1][1]):
        print(f"\nnanophi is {results[0][1].tokens_per_sec / results[1][1].tokens_per_sec:.2f}x transformers")

if __name__ == "__main__":
    main()
