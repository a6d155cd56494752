"""
Attention speed on a CUDA GPU: nanophi's Triton FlashAttention side by side with torch SDPA (each backend
it has: flash, cuDNN, efficient) and flash-attn (2 or 3) when installed. Before timing, every
implementation's output and gradients are compared with the first SDPA backend that runs.

TFLOP/s count 4 * B * H * T^2 * D for the forward (two matmuls of 2 * T^2 * D each per head), halved
when causal; the backward counts as 2.5 forwards (five matmuls instead of two), forward+backward as 3.5.

    python kernels/bench.py                                   # causal bf16, B*T = 16k, H = 32, D = 64 and 80
    python kernels/bench.py --head_dims 64 --seq_lens 2048 --modes fwd
"""

import argparse
import datetime
import os
import sys
from functools import partial

import torch
import torch.nn.functional as F
import triton

if not __package__:  # run as a script (python kernels/bench.py): make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kernels.attention import _attn_bwd_dkdv, _attn_bwd_dq, _attn_fwd, flash_attention

DEVICE = "cuda"
MODES = {"fwd": 1.0, "bwd": 2.5, "fwd+bwd": 3.5}  # FLOPs relative to one forward


def sdpa(q, k, v, causal, backend):
    from torch.nn.attention import sdpa_kernel

    with sdpa_kernel(backend):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def flash_attn_2(q, k, v, causal):
    from flash_attn import flash_attn_func  # takes (B, T, H, D)

    return flash_attn_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=causal).transpose(1, 2)


def flash_attn_3(q, k, v, causal):
    from flash_attn_interface import flash_attn_func  # Hopper build, takes (B, T, H, D)

    out = flash_attn_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=causal)
    return (out[0] if isinstance(out, tuple) else out).transpose(1, 2)  # some versions also return the lse


def implementations(causal):
    """name -> fn(q, k, v) for everything importable here; SDPA backends that cannot run fail later."""
    from torch.nn.attention import SDPBackend

    impls = {"nanophi": lambda q, k, v: flash_attention(q, k, v, causal=causal)}
    for name, backend in [("sdpa-flash", SDPBackend.FLASH_ATTENTION), ("sdpa-cudnn", SDPBackend.CUDNN_ATTENTION),
                          ("sdpa-efficient", SDPBackend.EFFICIENT_ATTENTION)]:
        impls[name] = partial(sdpa, causal=causal, backend=backend)
    for name, fn, module in [("flash-attn-2", flash_attn_2, "flash_attn"), ("flash-attn-3", flash_attn_3,
                                                                              "flash_attn_interface")]:
        try:
            __import__(module)
            impls[name] = partial(fn, causal=causal)
        except ImportError:
            pass
    return impls


def rel_err(a, b):
    return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()


def time_ms(fn):
    return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")


def bench_one(fn, q, k, v, do, modes):
    """Milliseconds per mode, and (out, dq, dk, dv) for the agreement check."""
    out = fn(q, k, v)
    grads = torch.autograd.grad(out, (q, k, v), do, retain_graph=True)
    runs = {
        "fwd": lambda: fn(q, k, v),
        "bwd": lambda: torch.autograd.grad(out, (q, k, v), do, retain_graph=True),
        "fwd+bwd": lambda: torch.autograd.grad(fn(q, k, v), (q, k, v), do),
    }
    return {mode: time_ms(runs[mode]) for mode in modes}, (out, *grads)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head_dims", type=int, nargs="+", default=[64, 80])
    parser.add_argument("--seq_lens", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192])
    parser.add_argument("--tokens", type=int, default=16384, help="batch size = tokens // seq_len")
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    parser.add_argument("--causal", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("kernels/bench.py needs a CUDA GPU, and torch.cuda.is_available() is False here")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]

    impls = implementations(args.causal)
    names = list(impls)
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}, "
          f"{datetime.date.today()}")
    print(f"# TFLOP/s, {args.dtype}, {'causal' if args.causal else 'not causal'}, B*T = {args.tokens}, "
          f"H = {args.heads}; ratio = nanophi / best other\n")
    print("| D | T | B | mode | " + " | ".join(names) + " | ratio |")
    print("|---" * (len(names) + 5) + "|")
    notes, disagreements = {}, []
    for D in args.head_dims:
        for T in args.seq_lens:
            B = max(1, args.tokens // T)
            gen = torch.Generator(device=DEVICE).manual_seed(0)
            # (B, T, H, D) memory viewed as (B, H, T, D): the layout a model hands to attention
            q, k, v, do = (torch.randn(B, T, args.heads, D, device=DEVICE, dtype=dtype, generator=gen).transpose(1, 2)
                           for _ in range(4))
            q, k, v = (x.requires_grad_() for x in (q, k, v))
            flops = 4 * B * args.heads * T * T * D / (2 if args.causal else 1)
            times, answers = {}, {}
            for name, fn in impls.items():
                try:
                    times[name], answers[name] = bench_one(fn, q, k, v, do, args.modes)
                except Exception as e:  # a backend that does not support this GPU / shape / dtype
                    notes.setdefault(name, f"{type(e).__name__}: {str(e).strip().splitlines()[0][:150]}")
            reference = next((n for n in answers if n.startswith("sdpa")), None)
            for name in answers if reference else []:
                errs = [rel_err(a, b) for a, b in zip(answers[name], answers[reference])]
                if max(errs) > 2e-2:
                    disagreements.append(f"D={D} T={T} {name} vs {reference}: out/dq/dk/dv relative errors "
                                         + ", ".join(f"{e:.1e}" for e in errs))
            for mode in args.modes:
                tflops = {n: MODES[mode] * flops / (t[mode] * 1e-3) / 1e12 for n, t in times.items()}
                others = [t for n, t in tflops.items() if n != "nanophi"]
                ratio = f"{tflops['nanophi'] / max(others):.2f}" if "nanophi" in tflops and others else "-"
                cells = [f"{tflops[n]:.0f}" if n in tflops else "n/a" for n in names]
                print(f"| {D} | {T} | {B} | {mode} | " + " | ".join(cells) + f" | {ratio} |", flush=True)
            del q, k, v, do, answers
            torch.cuda.empty_cache()

    print()
    for name, note in notes.items():
        print(f"n/a {name}: {note}")
    print("answers (vs the first SDPA backend that ran): "
          + ("all agree within 2e-2 (max|a - b| / max|b|)" if not disagreements else "DISAGREE"))
    for line in disagreements:
        print("  " + line)
    for kernel in (_attn_fwd, _attn_bwd_dkdv, _attn_bwd_dq):  # what the autotuner picked, for the last shape
        c = kernel.best_config
        print(f"{kernel.fn.__name__}: {c.kwargs}, num_warps={c.num_warps}, num_stages={c.num_stages}")

if __name__ == "__main__":
    main()
