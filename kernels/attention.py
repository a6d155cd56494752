"""
FlashAttention-2 in Triton: forward and backward, written to be read.

    O = softmax(Q K^T * scale) V        Q: (Tq, D), K and V: (Tk, D), per batch and head

Plain attention materialises the (Tq, Tk) score matrix S = Q K^T: O(T^2) memory and the same again in
memory traffic. FlashAttention never does. Each program owns BLOCK_M query rows, keeps them in
registers and streams K and V past them BLOCK_N rows at a time, using the "online softmax":

    m = running row max of S, l = running sum of exp(S - m), acc = running sum of exp(S - m) V
    for each key block:  m_new = max(m, rowmax(S_blk));  alpha = exp(m - m_new)
                         l = l * alpha + rowsum(exp(S_blk - m_new))
                         acc = acc * alpha + exp(S_blk - m_new) V_blk
    O = acc / l,   and the log-sum-exp L = m + log(l) is saved for the backward.

Everything runs in fp32 (tl.dot accumulates fp32 even for fp16/bf16 inputs); exp is computed as exp2 of
scores pre-multiplied by log2(e), which is what the hardware does natively.

The backward recomputes P = exp(S - L) block by block from the saved L instead of storing it, and uses
    dV = P^T dO,   dP = dO V^T,   dS = P * (dP - delta),   dQ = dS K * scale,   dK = dS^T Q * scale
where delta = rowsum(dO * O) (= rowsum(P * dP), one number per query row, computed by a tiny kernel first).
It is split in two passes so no two programs ever write the same output: one program per key block
loops over query blocks and accumulates dK, dV; one program per query block loops over key blocks and
accumulates dQ.

Causal masking skips work: a query block only visits key blocks it can see, and only the blocks that
straddle the diagonal pay for the mask. With Tq != Tk the mask is aligned bottom-right (query i sees keys
j <= i + Tk - Tq, the last query sees every key), which is what prefilling against a KV cache needs. If
Tq > Tk the first Tq - Tk queries see no key at all: their output and gradients are defined as 0.

Attention dropout (on the probabilities, as in training phi-1) draws its mask from Philox, a counter-based
RNG: the random number for element (batch, head, i, j) is a pure function of (seed, its index), so the
backward regenerates exactly the forward's mask without storing it, and dropout_mask() can show it. The
seed is a one-element tensor the kernels load themselves: drawing it never waits for the GPU.

What it supports, its tests and its speed: kernels/README.md.
"""

import math
import os

import torch
import triton
import triton.language as tl

MAX_HEAD_DIM = 128
LOG2E = tl.constexpr(1.4426950408889634)  # log2(e): exp(x) = exp2(x * LOG2E), the hardware's native exp
INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
# Tests turn this on: every output buffer is filled with NaN before the kernels run, so an element a
# kernel forgets to write shows up as NaN instead of as whatever the allocator left there.
POISON_OUTPUTS = False
# Tests on a GPU turn this off: each kernel then runs its first candidate config that fits instead of
# compiling and timing them all for every new shape.
AUTOTUNE = True


def _autotuner(gpu_configs, small_config):
    """triton.autotune over candidates (BLOCK_M, BLOCK_N, num_warps, num_stages, largest BLOCK_D): a candidate
    only competes for head dims up to its BLOCK_D limit, since big tiles with 128-wide heads spill registers.
    Sequence lengths enter the key bucketed to powers of two (Q_BUCKET, K_BUCKET), so decoding, where Tk grows
    by one every token, does not re-tune every step; the autotuner adds the dtypes to the key itself.
    fp32 inputs run exact (non-tensor-core) dots, there to check results rather than to be fast: they get
    small_config, and so does everything under the CPU interpreter, which would otherwise time every
    candidate (the tests still cross block boundaries with it)."""
    key = ["Q_BUCKET", "K_BUCKET", "HEAD_DIM", "CAUSAL", "DROPOUT"]
    m, n, w, s = small_config
    small = triton.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=w, num_stages=s)
    if INTERPRET:
        return triton.autotune([small], key=key)
    configs = [triton.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=w, num_stages=s) for m, n, w, s, _ in gpu_configs]
    max_block_d = {(m, n, w, s): d for m, n, w, s, d in gpu_configs}

    def candidates(configs, named_args, **kwargs):
        args = {**named_args, **kwargs}
        if args["Q"].dtype == torch.float32:
            return [small]
        fitting = [c for c in configs if args["BLOCK_D"] <= max_block_d[
            c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"], c.num_warps, c.num_stages]]
        return fitting if AUTOTUNE else fitting[:1]

    return triton.autotune(configs, key=key, prune_configs_by={"early_config_prune": candidates})


# Candidates for H100 / H200, checked to compile for sm_90 without register spills at their BLOCK_D limit.
_autotune_fwd = _autotuner(
    [(128, 64, 4, 3, 64), (128, 64, 4, 4, 64), (128, 128, 8, 3, 64), (128, 64, 8, 3, 128), (128, 64, 8, 4, 128),
     (128, 32, 8, 3, 128), (64, 64, 4, 3, 128), (64, 32, 4, 4, 128)],
    small_config=(32, 16, 4, 2),
)
# dK/dV: BLOCK_N keys per program, BLOCK_M queries per inner step (wide key tiles, narrow query tiles).
_autotune_dkdv = _autotuner(
    [(32, 128, 4, 3, 64), (64, 128, 8, 3, 64), (64, 128, 8, 2, 64), (64, 64, 4, 3, 64), (32, 128, 8, 3, 128),
     (32, 128, 8, 2, 128), (32, 64, 8, 3, 128), (64, 64, 8, 3, 128)],
    small_config=(16, 32, 4, 2),
)
# dQ: BLOCK_M queries per program, BLOCK_N keys per inner step.
_autotune_dq = _autotuner(
    [(128, 32, 4, 3, 64), (128, 64, 8, 3, 128), (128, 64, 8, 2, 128), (128, 32, 8, 3, 128), (64, 64, 8, 3, 128),
     (64, 32, 4, 3, 128)],
    small_config=(32, 16, 4, 2),
)


# ----------------------------------------------------------------------------------------------------------
# small pieces shared by the kernels


@triton.jit
def _this_head(H):
    """The (batch, head) a program works on: grid axis 1 is the head, axis 2 the batch. bh = b * H + h
    indexes LSE and DELTA and keys the dropout RNG. int64, so offsets into big tensors cannot overflow."""
    h = tl.program_id(1).to(tl.int64)
    b = tl.program_id(2).to(tl.int64)
    return b, h, b * H + h


@triton.jit
def _load_rows(base, start, n_rows, stride_t, BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr,
               BLOCK_D: tl.constexpr, TRANSPOSE: tl.constexpr):
    """Rows [start, start + BLOCK) of a (n_rows, HEAD_DIM) matrix as a (BLOCK, BLOCK_D) tile, or as its
    (BLOCK_D, BLOCK) transpose. Rows past the end and the columns that pad HEAD_DIM up to a power of two
    read as 0, so they add nothing to any dot product. The row offset is int64: no overflow on big tensors."""
    rows = tl.arange(0, BLOCK)
    cols = tl.arange(0, BLOCK_D)
    base += tl.cast(start, tl.int64) * stride_t
    if TRANSPOSE:
        ptrs = base + rows[None, :] * stride_t + cols[:, None]
        mask = (start + rows[None, :] < n_rows) & (cols[:, None] < HEAD_DIM)
    else:
        ptrs = base + rows[:, None] * stride_t + cols[None, :]
        mask = (start + rows[:, None] < n_rows) & (cols[None, :] < HEAD_DIM)
    return tl.load(ptrs, mask=mask, other=0.0)


@triton.jit
def _store_rows(base, start, n_rows, stride_t, tile, BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr,
                BLOCK_D: tl.constexpr):
    """Store a (BLOCK, BLOCK_D) tile into rows [start, start + BLOCK) of a (n_rows, HEAD_DIM) matrix."""
    rows = tl.arange(0, BLOCK)
    cols = tl.arange(0, BLOCK_D)
    base += tl.cast(start, tl.int64) * stride_t
    mask = (start + rows[:, None] < n_rows) & (cols[None, :] < HEAD_DIM)
    tl.store(base + rows[:, None] * stride_t + cols[None, :], tile.to(base.dtype.element_ty), mask=mask)


@triton.jit
def _visible(q_idx, k_idx, Tq, Tk, CAUSAL: tl.constexpr):
    """Which (query, key) pairs may attend (q_idx, k_idx broadcast against each other). Keys past Tk are
    padding; causal attention is aligned bottom-right: query i sees keys j <= i + (Tk - Tq)."""
    ok = k_idx < Tk
    if CAUSAL:
        ok = ok & (k_idx <= q_idx + (Tk - Tq))
    return ok


@triton.jit
def _dropout_keep(seed, dropout_p, bh, q_idx, k_idx, Tk):
    """Dropout keep-mask for elements (q_idx, k_idx) of head bh = batch * H + head. Philox turns a key and a
    counter into random bits: the key is (seed, bh), the counter the element's index within its head, so every
    element has its own draw, and forward, backward and dropout_mask() all draw the same one."""
    return tl.rand(seed + (bh << 32), q_idx * Tk + k_idx) >= dropout_p


@triton.jit
def _key_range(start_m, Tq, Tk, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr):
    """Keys that query rows [start_m, start_m + BLOCK_M) need, as [0, mid) + [mid, end): every row sees
    every key before mid (no mask needed), the blocks from mid to end straddle the causal diagonal or the
    end of the sequence (masked), and keys from end on are invisible to all rows (skipped)."""
    if CAUSAL:
        shift = Tk - Tq
        end = tl.minimum(tl.maximum(start_m + BLOCK_M + shift, 0), Tk)
        mid = tl.minimum(tl.maximum(start_m + shift + 1, 0) // BLOCK_N * BLOCK_N, end)
    else:
        end = Tk
        mid = Tk // BLOCK_N * BLOCK_N
    return mid, end


@triton.jit
def _query_range(start_n, Tq, Tk, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr):
    """The mirror of _key_range for key rows [start_n, start_n + BLOCK_N): queries before lo see none of
    these keys (skipped), blocks in [lo, mid) straddle the diagonal (masked), queries from mid on see all."""
    if CAUSAL:
        shift = Tk - Tq
        lo = tl.minimum(tl.maximum(start_n - shift, 0) // BLOCK_M * BLOCK_M, Tq)
        mid = tl.minimum((tl.maximum(start_n + BLOCK_N - 1 - shift, 0) + BLOCK_M - 1) // BLOCK_M * BLOCK_M, Tq)
    else:
        lo = 0
        mid = 0
    return lo, mid


# ----------------------------------------------------------------------------------------------------------
# forward


@triton.jit
def _fwd_inner(acc, l_i, m_i, q, K, V, lo, hi, MASKED: tl.constexpr, start_m, stride_kt, stride_vt, Tq, Tk,
               qk_scale, dropout_p, seed, bh, CAUSAL: tl.constexpr, DROPOUT: tl.constexpr, HEAD_DIM: tl.constexpr,
               BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr):
    """The online softmax over key blocks [lo, hi) (see the top of the file); MASKED blocks apply _visible."""
    offs_m = start_m + tl.arange(0, BLOCK_M)
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        k_t = _load_rows(K, start_n, Tk, stride_kt, BLOCK_N, HEAD_DIM, BLOCK_D, TRANSPOSE=True)
        s = tl.dot(q, k_t, input_precision=PRECISION) * qk_scale  # scores, in log2 units
        if MASKED:
            s = tl.where(_visible(offs_m[:, None], offs_n[None, :], Tq, Tk, CAUSAL), s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        if MASKED:
            # a row that has seen only masked keys keeps m = -inf; subtracting 0 instead makes its
            # exp2(-inf - m) a clean 0 rather than NaN
            m_new_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        else:
            m_new_safe = m_new
        p = tl.math.exp2(s - m_new_safe[:, None])
        alpha = tl.math.exp2(m_i - m_new_safe)  # rescales what was accumulated under the old max
        l_i = l_i * alpha + tl.sum(p, 1)  # the normaliser counts dropped elements too
        if DROPOUT:
            p = tl.where(_dropout_keep(seed, dropout_p, bh, offs_m[:, None], offs_n[None, :], Tk), p, 0.0)
        v = _load_rows(V, start_n, Tk, stride_vt, BLOCK_N, HEAD_DIM, BLOCK_D, TRANSPOSE=False)
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None], input_precision=PRECISION)
        m_i = m_new
    return acc, l_i, m_i


@_autotune_fwd
@triton.jit
def _attn_fwd(Q, K, V, O, LSE,
              stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt,
              stride_vb, stride_vh, stride_vt, stride_ob, stride_oh, stride_ot,
              H, Tq, Tk, sm_scale, dropout_p, SEED, Q_BUCKET, K_BUCKET,
              HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr, DROPOUT: tl.constexpr,
              PRECISION: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    # with causal masking the last query blocks have the most keys to visit: launch them first so the
    # grid does not end with a long straggler
    start_m = (tl.num_programs(0) - 1 - tl.program_id(0)) * BLOCK_M
    b, h, bh = _this_head(H)
    Q += b * stride_qb + h * stride_qh
    K += b * stride_kb + h * stride_kh
    V += b * stride_vb + h * stride_vh
    O += b * stride_ob + h * stride_oh
    LSE += bh * Tq
    qk_scale = sm_scale * LOG2E
    seed = tl.load(SEED) if DROPOUT else 0

    q = _load_rows(Q, start_m, Tq, stride_qt, BLOCK_M, HEAD_DIM, BLOCK_D, TRANSPOSE=False)
    m_i = tl.full((BLOCK_M,), float("-inf"), tl.float32)
    l_i = tl.zeros((BLOCK_M,), tl.float32)
    acc = tl.zeros((BLOCK_M, BLOCK_D), tl.float32)
    mid, end = _key_range(start_m, Tq, Tk, BLOCK_M, BLOCK_N, CAUSAL)
    acc, l_i, m_i = _fwd_inner(
        acc, l_i, m_i, q, K, V, lo=0, hi=mid, MASKED=False, start_m=start_m, stride_kt=stride_kt,
        stride_vt=stride_vt, Tq=Tq, Tk=Tk, qk_scale=qk_scale, dropout_p=dropout_p, seed=seed, bh=bh, CAUSAL=CAUSAL,
        DROPOUT=DROPOUT, HEAD_DIM=HEAD_DIM, BLOCK_D=BLOCK_D, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, PRECISION=PRECISION)
    acc, l_i, m_i = _fwd_inner(
        acc, l_i, m_i, q, K, V, lo=mid, hi=end, MASKED=True, start_m=start_m, stride_kt=stride_kt,
        stride_vt=stride_vt, Tq=Tq, Tk=Tk, qk_scale=qk_scale, dropout_p=dropout_p, seed=seed, bh=bh, CAUSAL=CAUSAL,
        DROPOUT=DROPOUT, HEAD_DIM=HEAD_DIM, BLOCK_D=BLOCK_D, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, PRECISION=PRECISION)

    # l_i == 0 only for rows that see no key (causal, Tq > Tk): output 0, and L = +inf makes the
    # backward's exp(S - L) 0 for them as well
    empty = l_i == 0.0
    l_i = tl.where(empty, 1.0, l_i)
    out = acc / l_i[:, None]
    if DROPOUT:
        out = out / (1.0 - dropout_p)  # kept elements are scaled up so the expectation is unchanged
    _store_rows(O, start_m, Tq, stride_ot, out, BLOCK_M, HEAD_DIM, BLOCK_D)
    offs_m = start_m + tl.arange(0, BLOCK_M)
    lse = tl.where(empty, float("inf"), m_i + tl.math.log2(l_i))  # in log2 units, like the scores
    tl.store(LSE + offs_m, lse, mask=offs_m < Tq)


# ----------------------------------------------------------------------------------------------------------
# backward


@triton.jit
def _attn_bwd_delta(O, DO, DELTA, stride_ob, stride_oh, stride_ot, stride_dob, stride_doh, stride_dot,
                    H, Tq, HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr):
    """delta = rowsum(dO * O), one fp32 number per query row."""
    start_m = tl.program_id(0) * BLOCK_M
    b, h, bh = _this_head(H)
    o = _load_rows(O + b * stride_ob + h * stride_oh, start_m, Tq, stride_ot, BLOCK_M, HEAD_DIM, BLOCK_D,
                   TRANSPOSE=False)
    do = _load_rows(DO + b * stride_dob + h * stride_doh, start_m, Tq, stride_dot, BLOCK_M, HEAD_DIM, BLOCK_D,
                    TRANSPOSE=False)
    delta = tl.sum(o.to(tl.float32) * do.to(tl.float32), 1)
    offs_m = start_m + tl.arange(0, BLOCK_M)
    tl.store(DELTA + bh * Tq + offs_m, delta, mask=offs_m < Tq)


@triton.jit
def _dkdv_inner(dk, dv, k, v, Q, DO, LSE, DELTA, lo, hi, MASKED: tl.constexpr, start_n, stride_qt, stride_dot,
                Tq, Tk, qk_scale, dropout_p, seed, bh, CAUSAL: tl.constexpr, DROPOUT: tl.constexpr,
                HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                PRECISION: tl.constexpr):
    # works with transposed (key, query) tiles so that dK and dV come out as plain (key, d) tiles
    offs_n = start_n + tl.arange(0, BLOCK_N)
    for start_m in range(lo, hi, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        q_t = _load_rows(Q, start_m, Tq, stride_qt, BLOCK_M, HEAD_DIM, BLOCK_D, TRANSPOSE=True)
        # padding query rows get L = +inf, so their P is 0 and they contribute nothing
        lse = tl.load(LSE + offs_m, mask=offs_m < Tq, other=float("inf"))
        p_t = tl.math.exp2(tl.dot(k, q_t, input_precision=PRECISION) * qk_scale - lse[None, :])
        if MASKED:
            p_t = tl.where(_visible(offs_m[None, :], offs_n[:, None], Tq, Tk, CAUSAL), p_t, 0.0)
        do = _load_rows(DO, start_m, Tq, stride_dot, BLOCK_M, HEAD_DIM, BLOCK_D, TRANSPOSE=False)
        dp_t = tl.dot(v, tl.trans(do), input_precision=PRECISION)
        if DROPOUT:
            keep = _dropout_keep(seed, dropout_p, bh, offs_m[None, :], offs_n[:, None], Tk)
            dv = tl.dot(tl.where(keep, p_t, 0.0).to(do.dtype), do, dv, input_precision=PRECISION)
            dp_t = tl.where(keep, dp_t / (1.0 - dropout_p), 0.0)
        else:
            dv = tl.dot(p_t.to(do.dtype), do, dv, input_precision=PRECISION)
        delta = tl.load(DELTA + offs_m, mask=offs_m < Tq, other=0.0)
        ds_t = p_t * (dp_t - delta[None, :])
        dk = tl.dot(ds_t.to(q_t.dtype), tl.trans(q_t), dk, input_precision=PRECISION)
    return dk, dv


@_autotune_dkdv
@triton.jit
def _attn_bwd_dkdv(Q, K, V, DO, LSE, DELTA, DK, DV,
                   stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt,
                   stride_vb, stride_vh, stride_vt, stride_dob, stride_doh, stride_dot,
                   stride_dkb, stride_dkh, stride_dkt, stride_dvb, stride_dvh, stride_dvt,
                   H, Tq, Tk, sm_scale, dropout_p, SEED, Q_BUCKET, K_BUCKET,
                   HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr, DROPOUT: tl.constexpr,
                   PRECISION: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """One program per key block: dV = sum over queries of P^T dO, dK = sum of dS^T Q * scale."""
    start_n = tl.program_id(0) * BLOCK_N  # causal: the first key blocks have the most queries, already first
    b, h, bh = _this_head(H)
    Q += b * stride_qb + h * stride_qh
    K += b * stride_kb + h * stride_kh
    V += b * stride_vb + h * stride_vh
    DO += b * stride_dob + h * stride_doh
    DK += b * stride_dkb + h * stride_dkh
    DV += b * stride_dvb + h * stride_dvh
    LSE += bh * Tq
    DELTA += bh * Tq
    qk_scale = sm_scale * LOG2E
    seed = tl.load(SEED) if DROPOUT else 0

    k = _load_rows(K, start_n, Tk, stride_kt, BLOCK_N, HEAD_DIM, BLOCK_D, TRANSPOSE=False)
    v = _load_rows(V, start_n, Tk, stride_vt, BLOCK_N, HEAD_DIM, BLOCK_D, TRANSPOSE=False)
    dk = tl.zeros((BLOCK_N, BLOCK_D), tl.float32)
    dv = tl.zeros((BLOCK_N, BLOCK_D), tl.float32)
    lo, mid = _query_range(start_n, Tq, Tk, BLOCK_M, BLOCK_N, CAUSAL)
    dk, dv = _dkdv_inner(
        dk, dv, k, v, Q, DO, LSE, DELTA, lo=lo, hi=mid, MASKED=True, start_n=start_n, stride_qt=stride_qt,
        stride_dot=stride_dot, Tq=Tq, Tk=Tk, qk_scale=qk_scale, dropout_p=dropout_p, seed=seed, bh=bh, CAUSAL=CAUSAL,
        DROPOUT=DROPOUT, HEAD_DIM=HEAD_DIM, BLOCK_D=BLOCK_D, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, PRECISION=PRECISION)
    dk, dv = _dkdv_inner(
        dk, dv, k, v, Q, DO, LSE, DELTA, lo=mid, hi=Tq, MASKED=False, start_n=start_n, stride_qt=stride_qt,
        stride_dot=stride_dot, Tq=Tq, Tk=Tk, qk_scale=qk_scale, dropout_p=dropout_p, seed=seed, bh=bh, CAUSAL=CAUSAL,
        DROPOUT=DROPOUT, HEAD_DIM=HEAD_DIM, BLOCK_D=BLOCK_D, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, PRECISION=PRECISION)
    if DROPOUT:
        dv = dv / (1.0 - dropout_p)
    _store_rows(DK, start_n, Tk, stride_dkt, dk * sm_scale, BLOCK_N, HEAD_DIM, BLOCK_D)
    _store_rows(DV, start_n, Tk, stride_dvt, dv, BLOCK_N, HEAD_DIM, BLOCK_D)


@triton.jit
def _dq_inner(dq, q, do, lse, delta, K, V, lo, hi, MASKED: tl.constexpr, start_m, stride_kt, stride_vt, Tq, Tk,
              qk_scale, dropout_p, seed, bh, CAUSAL: tl.constexpr, DROPOUT: tl.constexpr, HEAD_DIM: tl.constexpr,
              BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr):
    offs_m = start_m + tl.arange(0, BLOCK_M)
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        k_t = _load_rows(K, start_n, Tk, stride_kt, BLOCK_N, HEAD_DIM, BLOCK_D, TRANSPOSE=True)
        v_t = _load_rows(V, start_n, Tk, stride_vt, BLOCK_N, HEAD_DIM, BLOCK_D, TRANSPOSE=True)
        p = tl.math.exp2(tl.dot(q, k_t, input_precision=PRECISION) * qk_scale - lse[:, None])
        if MASKED:
            p = tl.where(_visible(offs_m[:, None], offs_n[None, :], Tq, Tk, CAUSAL), p, 0.0)
        dp = tl.dot(do, v_t, input_precision=PRECISION)
        if DROPOUT:
            keep = _dropout_keep(seed, dropout_p, bh, offs_m[:, None], offs_n[None, :], Tk)
            dp = tl.where(keep, dp / (1.0 - dropout_p), 0.0)
        ds = p * (dp - delta[:, None])
        dq = tl.dot(ds.to(k_t.dtype), tl.trans(k_t), dq, input_precision=PRECISION)
    return dq


@_autotune_dq
@triton.jit
def _attn_bwd_dq(Q, K, V, DO, LSE, DELTA, DQ,
                 stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kt,
                 stride_vb, stride_vh, stride_vt, stride_dob, stride_doh, stride_dot,
                 stride_dqb, stride_dqh, stride_dqt,
                 H, Tq, Tk, sm_scale, dropout_p, SEED, Q_BUCKET, K_BUCKET,
                 HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr, DROPOUT: tl.constexpr,
                 PRECISION: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """One program per query block: dQ = sum over keys of dS K * scale."""
    start_m = (tl.num_programs(0) - 1 - tl.program_id(0)) * BLOCK_M  # heaviest blocks first, as in forward
    b, h, bh = _this_head(H)
    Q += b * stride_qb + h * stride_qh
    K += b * stride_kb + h * stride_kh
    V += b * stride_vb + h * stride_vh
    DO += b * stride_dob + h * stride_doh
    DQ += b * stride_dqb + h * stride_dqh
    LSE += bh * Tq
    DELTA += bh * Tq
    qk_scale = sm_scale * LOG2E
    seed = tl.load(SEED) if DROPOUT else 0

    offs_m = start_m + tl.arange(0, BLOCK_M)
    q = _load_rows(Q, start_m, Tq, stride_qt, BLOCK_M, HEAD_DIM, BLOCK_D, TRANSPOSE=False)
    do = _load_rows(DO, start_m, Tq, stride_dot, BLOCK_M, HEAD_DIM, BLOCK_D, TRANSPOSE=False)
    lse = tl.load(LSE + offs_m, mask=offs_m < Tq, other=float("inf"))
    delta = tl.load(DELTA + offs_m, mask=offs_m < Tq, other=0.0)
    dq = tl.zeros((BLOCK_M, BLOCK_D), tl.float32)
    mid, end = _key_range(start_m, Tq, Tk, BLOCK_M, BLOCK_N, CAUSAL)
    dq = _dq_inner(
        dq, q, do, lse, delta, K, V, lo=0, hi=mid, MASKED=False, start_m=start_m, stride_kt=stride_kt,
        stride_vt=stride_vt, Tq=Tq, Tk=Tk, qk_scale=qk_scale, dropout_p=dropout_p, seed=seed, bh=bh, CAUSAL=CAUSAL,
        DROPOUT=DROPOUT, HEAD_DIM=HEAD_DIM, BLOCK_D=BLOCK_D, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, PRECISION=PRECISION)
    dq = _dq_inner(
        dq, q, do, lse, delta, K, V, lo=mid, hi=end, MASKED=True, start_m=start_m, stride_kt=stride_kt,
        stride_vt=stride_vt, Tq=Tq, Tk=Tk, qk_scale=qk_scale, dropout_p=dropout_p, seed=seed, bh=bh, CAUSAL=CAUSAL,
        DROPOUT=DROPOUT, HEAD_DIM=HEAD_DIM, BLOCK_D=BLOCK_D, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, PRECISION=PRECISION)
    _store_rows(DQ, start_m, Tq, stride_dqt, dq * sm_scale, BLOCK_M, HEAD_DIM, BLOCK_D)


@triton.jit
def _dropout_mask_kernel(KEEP, H, Tq, Tk, dropout_p, SEED, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    _, _, bh = _this_head(H)
    seed = tl.load(SEED)
    offs_m = start_m + tl.arange(0, BLOCK_M)
    for start_n in range(0, Tk, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        keep = _dropout_keep(seed, dropout_p, bh, offs_m[:, None], offs_n[None, :], Tk)
        ptrs = KEEP + bh * Tq * Tk + offs_m[:, None] * Tk + offs_n[None, :]
        tl.store(ptrs, keep.to(tl.int8), mask=(offs_m[:, None] < Tq) & (offs_n[None, :] < Tk))


# ----------------------------------------------------------------------------------------------------------
# Python side


def supports(q, k, v, dropout_p=0.0):
    """None if flash_attention can run on these inputs, else a short reason (for falling back to SDPA)."""
    if not (q.dim() == k.dim() == v.dim() == 4):
        return "q, k, v must be 4-D (batch, heads, seq, head_dim)"
    if not (q.device == k.device == v.device):
        return "q, k, v on different devices"
    if q.device.type != "cuda" and not INTERPRET:
        return f"tensors on {q.device.type}: needs CUDA (or TRITON_INTERPRET=1 for the CPU interpreter)"
    if q.dtype not in (torch.float16, torch.bfloat16, torch.float32):
        return f"dtype {q.dtype} (fp16, bf16 or fp32 only)"
    if not (q.dtype == k.dtype == v.dtype):
        return f"mixed dtypes {q.dtype}, {k.dtype}, {v.dtype}"
    if INTERPRET and q.dtype == torch.bfloat16:
        return "bf16 under the Triton CPU interpreter (its tl.dot is wrong for bf16)"
    B, H, _, D = q.shape
    if k.shape != v.shape or k.shape[:2] != (B, H) or k.shape[3] != D:
        return f"shapes q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} (need equal batch, heads, head_dim)"
    if not 0 < D <= MAX_HEAD_DIM:
        return f"head_dim {D} > {MAX_HEAD_DIM}" if D else "head_dim 0"
    if k.shape[2] == 0:
        return "no keys (k_len 0)"
    if not 0.0 <= dropout_p < 1.0:
        return f"dropout_p {dropout_p} outside [0, 1)"
    if dropout_p > 0.0 and q.shape[2] * k.shape[2] >= 2**31:
        return "dropout with q_len * k_len >= 2**31 (the dropout RNG counts elements of one head in int32)"
    return None


def _new_buffer(shape, like=None, dtype=None, device=None):
    """torch.empty (with the strides of `like`, if given), NaN-filled when POISON_OUTPUTS is on."""
    out = torch.empty_like(like) if like is not None else torch.empty(shape, dtype=dtype, device=device)
    return out.fill_(float("nan")) if POISON_OUTPUTS else out


def _last_dim_contiguous(x):
    return x if x.stride(-1) == 1 else x.contiguous()


def _launch_args(q, k, causal, sm_scale, dropout_p, seed):
    """Kernel arguments shared by the forward and both backward passes."""
    H, Tq, D = q.shape[1:]
    Tk = k.shape[2]
    return dict(
        H=H, Tq=Tq, Tk=Tk, sm_scale=sm_scale, dropout_p=dropout_p, SEED=seed,
        Q_BUCKET=triton.next_power_of_2(Tq), K_BUCKET=triton.next_power_of_2(Tk),
        HEAD_DIM=D, BLOCK_D=max(16, triton.next_power_of_2(D)),  # tl.dot needs tiles of at least 16
        CAUSAL=causal, DROPOUT=dropout_p > 0.0,
        # fp32 dots would otherwise run as tf32 on the GPU (10-bit mantissa)
        PRECISION="ieee" if q.dtype == torch.float32 else "tf32",
    )


def _forward(q, k, v, causal, sm_scale, dropout_p, seed):
    B, H, Tq, _ = q.shape
    o = _new_buffer(None, like=q)
    lse = _new_buffer((B, H, Tq), dtype=torch.float32, device=q.device)
    grid = lambda meta: (triton.cdiv(Tq, meta["BLOCK_M"]), H, B)
    _attn_fwd[grid](q, k, v, o, lse, *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *o.stride()[:3],
                    **_launch_args(q, k, causal, sm_scale, dropout_p, seed))
    return o, lse


def _backward(do, q, k, v, o, lse, seed, causal, sm_scale, dropout_p):
    B, H, Tq, D = q.shape
    Tk = k.shape[2]
    args = _launch_args(q, k, causal, sm_scale, dropout_p, seed)
    delta = _new_buffer((B, H, Tq), dtype=torch.float32, device=q.device)
    _attn_bwd_delta[(triton.cdiv(Tq, 64), H, B)](o, do, delta, *o.stride()[:3], *do.stride()[:3], H=H, Tq=Tq,
                                                 HEAD_DIM=D, BLOCK_D=args["BLOCK_D"], BLOCK_M=64)
    dq, dk, dv = _new_buffer(None, like=q), _new_buffer(None, like=k), _new_buffer(None, like=v)
    strides = (*q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *do.stride()[:3])
    grid = lambda meta: (triton.cdiv(Tk, meta["BLOCK_N"]), H, B)
    _attn_bwd_dkdv[grid](q, k, v, do, lse, delta, dk, dv, *strides, *dk.stride()[:3], *dv.stride()[:3], **args)
    grid = lambda meta: (triton.cdiv(Tq, meta["BLOCK_M"]), H, B)
    _attn_bwd_dq[grid](q, k, v, do, lse, delta, dq, *strides, *dq.stride()[:3], **args)
    return dq, dk, dv


class _FlashAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, seed, causal, sm_scale, dropout_p):
        q, k, v = _last_dim_contiguous(q), _last_dim_contiguous(k), _last_dim_contiguous(v)
        o, lse = _forward(q, k, v, causal, sm_scale, dropout_p, seed)
        ctx.save_for_backward(q, k, v, o, lse, seed)
        ctx.args = (causal, sm_scale, dropout_p)
        return o

    @staticmethod
    def backward(ctx, do):
        dq, dk, dv = _backward(_last_dim_contiguous(do), *ctx.saved_tensors, *ctx.args)
        return dq, dk, dv, None, None, None, None


def _seed_tensor(seed, device):
    if not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ValueError(f"flash_attention: seed must be an int in [0, 2**31), got {seed!r}")
    return torch.tensor([seed], device=device)


def flash_attention(q, k, v, causal=True, softmax_scale=None, dropout_p=0.0, seed=None):
    """softmax(q k^T * softmax_scale [+ causal mask]) v, with dropout on the probabilities.

    q: (B, H, Tq, D), k and v: (B, H, Tk, D), any strides; D <= 128; fp16/bf16/fp32 on CUDA (fp32/fp16
    under TRITON_INTERPRET=1). Returns (B, H, Tq, D). causal: query i sees keys j <= i + Tk - Tq
    (bottom-right alignment); rows that see no key (only if Tq > Tk) return 0. softmax_scale defaults to
    1/sqrt(D). dropout_p > 0 drops probabilities with a mask drawn from `seed` (from torch's generator if
    None): the same seed gives the same mask, see dropout_mask().
    """
    reason = supports(q, k, v, dropout_p)
    if reason is not None:
        raise ValueError(f"flash_attention does not support this call: {reason}; use torch SDPA instead")
    if dropout_p == 0.0:
        seed = None
    elif seed is None:
        # drawn on the device, from torch's generator (so torch.manual_seed reproduces runs), and read there
        # by the kernels: a Python int would stall the GPU, and break a torch.compile graph, in every layer
        seed = torch.randint(0, 2**31 - 1, (1,), device=q.device)
    else:
        seed = _seed_tensor(seed, q.device)
    sm_scale = 1.0 / math.sqrt(q.shape[-1]) if softmax_scale is None else float(softmax_scale)
    if q.numel() == 0:  # nothing to compute; this empty product still has the right shape and autograd graph
        return (q @ k.transpose(-2, -1)) @ v
    return _FlashAttention.apply(q, k, v, seed, bool(causal), sm_scale, float(dropout_p))


def dropout_mask(seed, B, H, Tq, Tk, dropout_p, device):
    """The (B, H, Tq, Tk) bool keep-mask that flash_attention(..., dropout_p=dropout_p, seed=seed) applies
    to inputs with these sizes (True = kept, then scaled by 1 / (1 - dropout_p))."""
    keep = torch.empty((B, H, Tq, Tk), dtype=torch.int8, device=device)
    _dropout_mask_kernel[(triton.cdiv(Tq, 32), H, B)](keep, H, Tq, Tk, float(dropout_p),
                                                      SEED=_seed_tensor(seed, device), BLOCK_M=32, BLOCK_N=32)
    return keep.bool()
