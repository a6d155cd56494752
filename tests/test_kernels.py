"""kernels.flash_attention against an explicit float64 softmax(QK^T)V, forward and gradients.

Runs under the Triton CPU interpreter (conftest sets TRITON_INTERPRET=1), so shapes stay small; on a GPU box
NANOPHI_TEST_CUDA=1 runs the same tests compiled, bf16 included. Error metric everywhere:
max|out - ref| / max|ref| (absolute where ref is exactly 0), ref computed in float64 from the same inputs.
"""

import math
import os

import pytest
import torch

from kernels import attention, dropout_mask, flash_attention, supports

DEVICE = "cuda" if os.environ.get("NANOPHI_TEST_CUDA") == "1" else "cpu"
DTYPES = [torch.float32, torch.float16] + ([torch.bfloat16] if DEVICE == "cuda" else [])
TOLERANCE = {torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 2e-2}


@pytest.fixture(autouse=True)
def kernels_in_test_mode(monkeypatch):
    """Every buffer the kernels should fill starts as NaN, so an element they skip fails the comparison.
    (On a GPU, also skip autotuning: one config per kernel keeps the compiled run quick.)"""
    monkeypatch.setattr(attention, "POISON_OUTPUTS", True)
    monkeypatch.setattr(attention, "AUTOTUNE", False)


def rel_err(out, ref):
    assert torch.isfinite(out).all(), "output has NaN/inf: an element was not written (or overflowed)"
    scale = ref.abs().max().item() or 1.0  # a gradient that is exactly 0 (one key only) is compared absolutely
    return (out.double() - ref).abs().max().item() / scale


def reference(q, k, v, causal, scale=None, keep=None, dropout_p=0.0):
    """Explicit attention in float64; rows that see no key (causal, Tq > Tk) give 0, like the kernel."""
    q, k, v = q.double(), k.double(), v.double()
    Tq, Tk = q.shape[2], k.shape[2]
    scores = q @ k.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if causal:  # bottom-right aligned: query i sees keys j <= i + Tk - Tq
        hidden = torch.arange(Tk, device=q.device)[None, :] > torch.arange(Tq, device=q.device)[:, None] + Tk - Tq
        scores = scores.masked_fill(hidden, float("-inf"))
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    if keep is not None:
        probs = probs * keep / (1 - dropout_p)
    return probs @ v


def make_inputs(B, H, Tq, Tk, D, dtype, seed=0):
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, H, T, D, generator=gen).to(DEVICE, dtype) for T in (Tq, Tk, Tk))
    do = torch.randn(B, H, Tq, D, generator=gen).to(DEVICE, dtype)
    return q, k, v, do


def check_against_reference(q, k, v, do, causal, tol, **kwargs):
    """Forward and dq, dk, dv of flash_attention against the float64 reference."""
    keep, p = kwargs.pop("keep", None), kwargs.get("dropout_p", 0.0)
    q, k, v = (x.detach().requires_grad_() for x in (q, k, v))
    out = flash_attention(q, k, v, causal=causal, **kwargs)
    grads = torch.autograd.grad(out, (q, k, v), do)
    q64, k64, v64 = (x.detach().double().requires_grad_() for x in (q, k, v))
    ref = reference(q64, k64, v64, causal, kwargs.get("softmax_scale"), keep, p)
    ref_grads = torch.autograd.grad(ref, (q64, k64, v64), do.double())
    assert out.shape == q.shape and out.dtype == q.dtype
    for name, got, want in zip(("out", "dq", "dk", "dv"), (out, *grads), (ref, *ref_grads)):
        err = rel_err(got, want)
        assert err <= tol, f"{name}: relative error {err:.2e} > {tol:.0e}"


SHAPES = [  # (B, H, Tq, Tk, D, causal)
    (1, 2, 1, 1, 16, True),  # a single token
    (2, 1, 17, 17, 32, False),  # 17: not a multiple of any block size
    (1, 2, 100, 100, 80, True),  # phi-2's head dim, padded to 128 inside the kernel
    (1, 1, 257, 257, 64, True),  # many key blocks: the unmasked fast path and the diagonal blocks
    (1, 1, 100, 100, 128, False),
    (1, 1, 37, 100, 64, True),  # prefill of 37 tokens against a KV cache of 100
    (1, 1, 1, 77, 80, True),  # decoding one token
    (1, 2, 17, 100, 16, False),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("B,H,Tq,Tk,D,causal", SHAPES)
def test_matches_reference(B, H, Tq, Tk, D, causal, dtype):
    q, k, v, do = make_inputs(B, H, Tq, Tk, D, dtype)
    check_against_reference(q, k, v, do, causal, TOLERANCE[dtype])


@pytest.mark.parametrize("shift", [-17, -1, 1, 2, 14, 15, 17, 30, 31, 63])
def test_causal_alignment_for_any_length_difference(shift):
    """Tk - Tq decides where the causal diagonal crosses the tiles: sweep it across block boundaries."""
    q, k, v, do = make_inputs(1, 1, 40, 40 + shift, 16, torch.float32)
    check_against_reference(q, k, v, do, True, TOLERANCE[torch.float32])


def test_more_queries_than_keys_causal():
    """With Tq > Tk the first Tq - Tk queries see no key: output 0, and they send no gradient anywhere."""
    q, k, v, do = make_inputs(1, 2, 40, 20, 32, torch.float32)
    check_against_reference(q, k, v, do, True, TOLERANCE[torch.float32])
    out = flash_attention(q, k, v, causal=True)
    assert (out[:, :, :20] == 0).all()


def test_any_strides_and_softmax_scale():
    """q as the (B, T, H, D) -> (B, H, T, D) view a model makes, k and v as slices of a longer KV cache."""
    B, H, Tq, Tk, D = 2, 2, 30, 45, 32
    gen = torch.Generator().manual_seed(1)
    q = torch.randn(B, Tq, H, D, generator=gen).to(DEVICE).transpose(1, 2)
    cache = torch.randn(2, B, H, 64, D, generator=gen).to(DEVICE)
    k, v = cache[0, :, :, :Tk], cache[1, :, :, :Tk]
    do = torch.randn(B, H, Tq, D, generator=gen).to(DEVICE)
    assert not q.is_contiguous() and not k.is_contiguous()
    check_against_reference(q, k, v, do, True, TOLERANCE[torch.float32], softmax_scale=0.3)


def test_dropout_same_seed_same_result():
    q, k, v, _ = make_inputs(1, 2, 50, 50, 32, torch.float32)
    a = flash_attention(q, k, v, dropout_p=0.2, seed=123)
    b = flash_attention(q, k, v, dropout_p=0.2, seed=123)
    c = flash_attention(q, k, v, dropout_p=0.2, seed=124)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, flash_attention(q, k, v))
    # no seed: drawn from torch's generator, so torch.manual_seed makes it reproducible
    torch.manual_seed(7)
    d = flash_attention(q, k, v, dropout_p=0.2)
    torch.manual_seed(7)
    assert torch.equal(d, flash_attention(q, k, v, dropout_p=0.2))


def test_dropout_seed_is_never_read_on_the_host(monkeypatch):
    """The seed is drawn on the device and the kernels load it there: a Tensor.item() would wait for the GPU
    (and break a torch.compile graph) in every layer of every training step."""
    q, k, v, do = make_inputs(1, 2, 30, 30, 16, torch.float32)
    q.requires_grad_()

    def host_read(tensor):
        raise AssertionError("flash_attention read a tensor back to the host")

    monkeypatch.setattr(torch.Tensor, "item", host_read)
    torch.manual_seed(3)
    out = flash_attention(q, k, v, dropout_p=0.2)
    (dq,) = torch.autograd.grad(out, q, do)
    monkeypatch.undo()
    torch.manual_seed(3)
    seed = int(torch.randint(0, 2**31 - 1, (1,), device=DEVICE).item())  # the draw flash_attention made
    assert torch.equal(out, flash_attention(q, k, v, dropout_p=0.2, seed=seed))
    assert torch.isfinite(dq).all()


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_mask_keeps_one_minus_p(p):
    B, H, Tq, Tk = 2, 2, 64, 96
    keep = dropout_mask(11, B, H, Tq, Tk, p, DEVICE)
    assert keep.shape == (B, H, Tq, Tk) and keep.dtype == torch.bool
    n = keep.numel()
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(keep.float().mean().item() - (1 - p)) < 5 * sigma
    # every head and every row draws its own bits
    assert not torch.equal(keep[0, 0], keep[0, 1]) and not torch.equal(keep[0, 0], keep[1, 0])
    assert not torch.equal(keep[0, 0, 0], keep[0, 0, 1])
    assert torch.equal(keep, dropout_mask(11, B, H, Tq, Tk, p, DEVICE))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("B,H,Tq,Tk,D,causal", [(1, 2, 50, 50, 32, True), (2, 1, 20, 70, 80, False)])
def test_dropout_matches_reference_with_kernel_mask(B, H, Tq, Tk, D, causal, dtype):
    p, seed = 0.3, 2024
    q, k, v, do = make_inputs(B, H, Tq, Tk, D, dtype)
    keep = dropout_mask(seed, B, H, Tq, Tk, p, DEVICE)
    check_against_reference(q, k, v, do, causal, TOLERANCE[dtype], dropout_p=p, seed=seed, keep=keep)


def test_poisoned_buffers_are_nan():
    """The poisoning these tests rely on is real: a fresh output buffer is all NaN before a kernel writes it."""
    assert torch.isnan(attention._new_buffer((3, 5), dtype=torch.float32, device=DEVICE)).all()
    q = torch.zeros(1, 1, 4, 16, dtype=torch.float16, device=DEVICE)
    assert torch.isnan(attention._new_buffer(None, like=q)).all()


def test_unsupported_inputs_are_refused_with_a_reason():
    q = torch.randn(1, 2, 8, 192, device=DEVICE)
    assert supports(q, q, q) == "head_dim 192 > 128"
    with pytest.raises(ValueError, match="head_dim 192 > 128"):
        flash_attention(q, q, q)
    x = torch.randn(1, 2, 8, 64, device=DEVICE)
    assert supports(x, x, x) is None
    assert "dtype" in supports(x.double(), x.double(), x.double())
    assert "mixed dtypes" in supports(x, x.half(), x)
    assert "shapes" in supports(x, torch.randn(1, 3, 8, 64, device=DEVICE), torch.randn(1, 3, 8, 64, device=DEVICE))
    assert "4-D" in supports(x[0], x[0], x[0])
    assert "dropout_p" in supports(x, x, x, dropout_p=1.0)
    if attention.INTERPRET:
        assert "bf16" in supports(x.bfloat16(), x.bfloat16(), x.bfloat16())
    with pytest.raises(ValueError, match="seed"):
        flash_attention(x, x, x, dropout_p=0.1, seed=-1)


def test_empty_query():
    q, k, v, _ = make_inputs(1, 2, 0, 5, 16, torch.float32)
    assert flash_attention(q, k, v).shape == (1, 2, 0, 16)
