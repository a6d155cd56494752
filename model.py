"""
The phi architecture (phi-1, phi-1.5, phi-2) in one file.

It computes exactly what Hugging Face `transformers`' PhiForCausalLM computes; Phi.from_pretrained loads the
official weights and Phi.save_pretrained writes weights that `transformers` loads back (the formats, the old
layouts and the hub lookup are in weights.py). Read it top to bottom:

    PhiConfig            the shapes, with the official presets
    attention()          scaled dot-product attention with three interchangeable backends
    rotary embedding     partial rotary: only the first `rotary_dim` dims of each head are rotated
    Attention, MLP,      one block = LayerNorm, then attention and MLP *in parallel* on the same input
    Block, Phi
    KV cache             preallocated, for generation
    peak_flops           the GPU peaks that model FLOPs utilisation (MFU) is measured against
"""

import math
import sys
import warnings
from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


@dataclass
class PhiConfig:
    vocab_size: int = 51200  # the official models pad the 50295-token CodeGen vocabulary to 51200 rows
    block_size: int = 2048  # context length
    n_layer: int = 24
    n_head: int = 32
    n_embd: int = 2048
    n_inner: int | None = None  # MLP width; None means 4 * n_embd
    head_dim: int | None = None  # None means n_embd // n_head
    rotary_dim: int | None = None  # dims of each head that get rotary; None means half the head
    embd_pdrop: float = 0.0
    resid_pdrop: float = 0.0
    attn_pdrop: float = 0.0
    layer_norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    def __post_init__(self):
        if self.n_inner is None:
            self.n_inner = 4 * self.n_embd
        if self.head_dim is None:
            if self.n_embd % self.n_head:
                raise ValueError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}: "
                                 "change one of them or set head_dim explicitly")
            self.head_dim = self.n_embd // self.n_head
        if self.rotary_dim is None:
            self.rotary_dim = self.head_dim // 2
        if self.rotary_dim % 2 or not 0 < self.rotary_dim <= self.head_dim:
            raise ValueError(f"rotary_dim={self.rotary_dim} must be even and in (0, head_dim={self.head_dim}]")

    @classmethod
    def from_name(cls, name, **overrides):
        if name not in PRESETS:
            raise ValueError(f"unknown model preset {name!r}; choose one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})


# The official shapes (see the phi-1, phi-1.5 and phi-2 model cards), then small ones for a laptop.
PRESETS = {
    "phi-1": dict(n_layer=24, n_head=32, n_embd=2048, n_inner=8192, rotary_dim=32),
    "phi-1-small": dict(n_layer=20, n_head=16, n_embd=1024, n_inner=4096, rotary_dim=32),
    "phi-1.5": dict(n_layer=24, n_head=32, n_embd=2048, n_inner=8192, rotary_dim=32),
    "phi-2": dict(n_layer=32, n_head=32, n_embd=2560, n_inner=10240, rotary_dim=32, resid_pdrop=0.1),
    # a few million parameters: learns simple stories on a laptop CPU in minutes
    "phi-toy": dict(vocab_size=4096, block_size=256, n_layer=4, n_head=4, n_embd=128, rotary_dim=16),
    "phi-mini": dict(vocab_size=8192, block_size=512, n_layer=8, n_head=8, n_embd=384, rotary_dim=24),
}


# ----------------------------------------------------------------------------------------------------------
# Attention. q, k, v are (B, H, T, D). Causal masking is aligned bottom-right: with a KV cache the queries are
# the *last* Tq positions of the Tk keys, so query i may see keys j <= i + (Tk - Tq). The static-shape decode
# path instead passes `visible`, a (Tq, Tk) boolean mask over the whole preallocated cache.

ATTENTION_BACKENDS = ("auto", "triton", "sdpa", "math")


def causal_mask(Tq, Tk, device):
    return torch.ones(Tq, Tk, dtype=torch.bool, device=device).tril(diagonal=Tk - Tq)


def math_attention(q, k, v, dropout_p=0.0, visible=None):
    """The reference a reader learns from: softmax(q k^T / sqrt(d)) v with the scores in fp32, because
    phi-2's scores overflow fp16."""
    if visible is None:
        visible = causal_mask(q.size(-2), k.size(-2), q.device)
    scores = (q.float() @ k.float().transpose(-2, -1)) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(~visible, float("-inf"))
    probs = F.dropout(scores.softmax(dim=-1), p=dropout_p)
    return (probs @ v.float()).to(q.dtype)


def sdpa_attention(q, k, v, dropout_p=0.0, visible=None):
    Tq, Tk = q.size(-2), k.size(-2)
    if visible is None and Tq == Tk:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
    # SDPA's is_causal aligns top-left, so a chunk of queries against a longer cache needs an explicit mask
    # (a single decoded token sees the whole cache and needs none).
    if visible is None and Tq > 1:
        visible = causal_mask(Tq, Tk, q.device)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=visible, dropout_p=dropout_p)


_fallbacks_reported = set()


def triton_attention(q, k, v, dropout_p=0.0):
    from kernels import flash_attention, supports  # imported lazily: triton is Linux-only

    reason = supports(q, k, v, dropout_p)
    if reason is None:
        return flash_attention(q, k, v, causal=True, dropout_p=dropout_p)
    if reason not in _fallbacks_reported:
        _fallbacks_reported.add(reason)
        warnings.warn(f"the Triton attention kernel does not support this call ({reason}); using SDPA instead")
    return sdpa_attention(q, k, v, dropout_p)


def attention(q, k, v, backend="auto", dropout_p=0.0, visible=None):
    if backend not in ATTENTION_BACKENDS:
        raise ValueError(f"unknown attention backend {backend!r}; choose one of {', '.join(ATTENTION_BACKENDS)}")
    if backend == "auto":
        backend = "triton" if q.is_cuda and sys.platform == "linux" else "sdpa"
    if backend == "math":
        return math_attention(q, k, v, dropout_p, visible)
    if backend == "triton" and visible is None:  # the kernel knows only the causal mask
        return triton_attention(q, k, v, dropout_p)
    return sdpa_attention(q, k, v, dropout_p, visible)


# ----------------------------------------------------------------------------------------------------------
# Rotary position embedding (GPT-NeoX "rotate half" convention), applied to the first rotary_dim dims only.

def rotary_tables(rotary_dim, max_len, theta):
    """cos and sin for every position, (max_len, rotary_dim), always in fp32 so that long positions stay exact."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, rotary_dim, 2, dtype=torch.float32) / rotary_dim))
    freqs = torch.outer(torch.arange(max_len, dtype=torch.float32), inv_freq)
    angles = torch.cat((freqs, freqs), dim=-1)
    return angles.cos(), angles.sin()


def apply_rotary(x, cos, sin):
    """x is (B, H, T, D); cos and sin are (T, rotary_dim). Dims past rotary_dim pass through unchanged."""
    rot_dim = cos.size(-1)
    x_rot, x_pass = x[..., :rot_dim].float(), x[..., rot_dim:]
    x1, x2 = x_rot.chunk(2, dim=-1)
    rotated = torch.cat((-x2, x1), dim=-1)
    x_rot = x_rot * cos + rotated * sin
    return torch.cat((x_rot.to(x.dtype), x_pass), dim=-1)


# ----------------------------------------------------------------------------------------------------------
# The model

class KVCache:
    """Keys and values of one layer for up to max_seq_len positions, allocated once.

    With an int start_pos, attention reads the cache up to the newest position: the least work. With start_pos
    a tensor, every step has the same shapes (the whole cache, with a mask hiding the positions not written
    yet), which is what CUDA graphs (torch.compile's "reduce-overhead") need to replay one decode step. With
    start_pos a (B,) tensor, row b continues at its own position start_pos[b] (serve.py decodes requests of
    different lengths together this way), over cache rows 0..B-1."""

    def __init__(self, batch_size, n_head, max_seq_len, head_dim, dtype, device):
        shape = (batch_size, n_head, max_seq_len, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)

    def update(self, start_pos, k, v):
        """Store the new positions; return the keys and values to attend to, and the mask, if one is needed."""
        if torch.is_tensor(start_pos) and start_pos.dim() == 1:
            positions = start_pos[:, None] + torch.arange(k.size(2), device=k.device)  # (B, T)
            rows = torch.arange(k.size(0), device=k.device)[:, None]
            self.k[rows, :, positions] = k.transpose(1, 2)
            self.v[rows, :, positions] = v.transpose(1, 2)
            visible = torch.arange(self.k.size(2), device=k.device) <= positions[..., None]  # (B, T, max_seq_len)
            return self.k[:k.size(0)], self.v[:k.size(0)], visible[:, None]
        if torch.is_tensor(start_pos):
            positions = start_pos + torch.arange(k.size(2), device=k.device)
            self.k.index_copy_(2, positions, k)
            self.v.index_copy_(2, positions, v)
            visible = torch.arange(self.k.size(2), device=k.device) <= positions[:, None]
            return self.k, self.v, visible
        B, end = k.size(0), start_pos + k.size(2)
        self.k[:B, :, start_pos:end] = k
        self.v[:B, :, start_pos:end] = v
        return self.k[:B, :, :end], self.v[:B, :, :end], None


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head, self.head_dim = config.n_head, config.head_dim
        inner = config.n_head * config.head_dim
        self.q_proj = nn.Linear(config.n_embd, inner)
        self.k_proj = nn.Linear(config.n_embd, inner)
        self.v_proj = nn.Linear(config.n_embd, inner)
        self.dense = nn.Linear(inner, config.n_embd)
        self.attn_pdrop = config.attn_pdrop
        self.kv_cache = None

    def forward(self, x, cos, sin, backend, start_pos=None):
        B, T, _ = x.shape
        q, k, v = (proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
                   for proj in (self.q_proj, self.k_proj, self.v_proj))
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        visible = None
        if start_pos is not None:
            k, v, visible = self.kv_cache.update(start_pos, k, v)
        y = attention(q, k, v, backend, self.attn_pdrop if self.training else 0.0, visible)
        return self.dense(y.transpose(1, 2).reshape(B, T, self.n_head * self.head_dim))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc1 = nn.Linear(config.n_embd, config.n_inner)
        self.fc2 = nn.Linear(config.n_inner, config.n_embd)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Block(nn.Module):
    """phi's block: attention and MLP read the same normalised input and their outputs are added together,
    so one LayerNorm serves both and the two branches can run side by side."""

    def __init__(self, config):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps)
        self.self_attn = Attention(config)
        self.mlp = MLP(config)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x, cos, sin, backend, start_pos=None):
        h = self.input_layernorm(x)
        attn_out = self.resid_dropout(self.self_attn(h, cos, sin, backend, start_pos))
        mlp_out = self.resid_dropout(self.mlp(h))  # a second, independent dropout draw
        return x + attn_out + mlp_out


class Phi(nn.Module):
    def __init__(self, config, attn_backend="auto"):
        super().__init__()
        self.config = config
        self.attn_backend = attn_backend
        self.gradient_checkpointing = False
        self.embed_tokens = nn.Embedding(config.vocab_size, config.n_embd)
        self.embed_dropout = nn.Dropout(config.embd_pdrop)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.final_layernorm = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size)  # biased and untied, as in phi
        cos, sin = rotary_tables(config.rotary_dim, config.block_size, config.rope_theta)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        # the initialisation of transformers and Microsoft: N(0, 0.02), zero biases, LayerNorm 1 and 0
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None, start_pos=None):
        """idx (B, T) token ids -> logits (B, T, vocab_size) for every position, and the cross-entropy loss
        when targets are given (-1 marks positions to ignore). With start_pos, idx holds positions
        start_pos .. start_pos+T-1 of sequences whose earlier keys and values are in the KV cache; start_pos
        may be a tensor, for decode steps of fixed shapes (see KVCache)."""
        B, T = idx.shape
        self._check_input(idx, start_pos)
        if torch.is_tensor(start_pos):
            positions = start_pos[..., None] + torch.arange(T, device=idx.device)  # (T,), or (B, T) per row
            cos, sin = self.rope_cos[positions].unsqueeze(-3), self.rope_sin[positions].unsqueeze(-3)
        else:
            first = start_pos or 0
            cos, sin = self.rope_cos[first:first + T], self.rope_sin[first:first + T]
        x = self.embed_dropout(self.embed_tokens(idx))
        for block in self.layers:
            if self.gradient_checkpointing and self.training:
                x = checkpoint(block, x, cos, sin, self.attn_backend, use_reentrant=False)
            else:
                x = block(x, cos, sin, self.attn_backend, start_pos)
        logits = self.lm_head(self.final_layernorm(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def _check_input(self, idx, start_pos):
        B, T = idx.shape
        if T == 0:
            raise ValueError("the input has no tokens: give at least one token")
        cache = self.layers[0].self_attn.kv_cache
        if start_pos is not None and cache is None:
            raise ValueError("start_pos needs a KV cache: call model.setup_kv_cache(batch_size) first")
        # a tensor start_pos is only known on the device: reading it would stall every decode step
        first = 0 if start_pos is None or torch.is_tensor(start_pos) else start_pos
        end, limit, what = first + T, self.config.block_size, "the context (block_size)"
        if start_pos is not None:
            limit, what = cache.k.size(2), "the KV cache (max_seq_len)"
            if B > cache.k.size(0) or (torch.is_tensor(start_pos) and start_pos.dim() == 0 and B != cache.k.size(0)):
                raise ValueError(f"a batch of {B} does not fit the KV cache's batch size {cache.k.size(0)}: "
                                 "call setup_kv_cache with batch_size equal to the batch")
        if end > limit:
            raise ValueError(f"positions up to {end} exceed {what} of {limit} tokens: "
                             "shorten the input or crop it to the last tokens")
        # reading the ids back from a GPU would stall every step; there the host that makes the batches checks
        if idx.device.type == "cpu" and not torch.compiler.is_compiling():
            lo, hi = idx.min().item(), idx.max().item()
            if lo < 0 or hi >= self.config.vocab_size:
                raise ValueError(f"token id {hi if hi >= self.config.vocab_size else lo} is outside the vocabulary "
                                 f"(0..{self.config.vocab_size - 1}): was the data made with another tokenizer?")

    # ---- settings a run may change on a built model

    def set_dropout(self, p, embd_pdrop=None):
        """Attention and residual dropout become p (the phi-1 recipe's "dropout 0.1"); the embedding dropout
        becomes embd_pdrop when given (every phi config leaves it at 0). The config follows, so that a
        checkpoint records what was trained with."""
        embd_pdrop = self.config.embd_pdrop if embd_pdrop is None else embd_pdrop
        for name, value in (("dropout", p), ("embd_pdrop", embd_pdrop)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name}={value} is not a probability in [0, 1)")
        self.config = replace(self.config, resid_pdrop=p, attn_pdrop=p, embd_pdrop=embd_pdrop)
        self.embed_dropout.p = embd_pdrop
        for block in self.layers:
            block.resid_dropout.p = block.self_attn.attn_pdrop = p
        return self

    def crop_block_size(self, block_size):
        """Shrink the context to block_size (nanoGPT's rule: the model's context is the one truth, cropped
        down when the training window is shorter), so that sampling, evaluation and training all see the
        same window. Growing it is refused: positions past the trained context were never learned."""
        if not 0 < block_size <= self.config.block_size:
            raise ValueError(f"block_size={block_size} is not in 1..{self.config.block_size}, the model's context: "
                             f"use block_size={self.config.block_size} or less")
        self.config = replace(self.config, block_size=block_size)
        self.rope_cos, self.rope_sin = self.rope_cos[:block_size], self.rope_sin[:block_size]
        return self

    # ---- generation

    def setup_kv_cache(self, batch_size, max_seq_len=None, dtype=None):
        max_seq_len = max_seq_len or self.config.block_size
        if max_seq_len > self.config.block_size:
            raise ValueError(f"max_seq_len={max_seq_len} is longer than the context ({self.config.block_size})")
        weight = self.lm_head.weight
        for block in self.layers:
            block.self_attn.kv_cache = KVCache(batch_size, self.config.n_head, max_seq_len, self.config.head_dim,
                                               dtype or weight.dtype, weight.device)

    def clear_kv_cache(self):
        for block in self.layers:
            block.self_attn.kv_cache = None

    def cast_weights(self, dtype):
        """self.to(dtype), but the rotary tables stay in float32 (as from_pretrained leaves them): in bfloat16,
        positions in the thousands would lose their angles."""
        cos, sin = self.rope_cos, self.rope_sin
        self.to(dtype)
        self.rope_cos, self.rope_sin = cos, sin
        return self

    # ---- accounting

    def num_params(self, exclude_embeddings=False):
        n = sum(p.numel() for p in self.parameters())
        return n - self.embed_tokens.weight.numel() if exclude_embeddings else n

    def flops_per_token(self, seq_len):
        """Training FLOPs per token (forward + backward): 6 per weight, plus attention's scores and weighted
        sum, 12 * layers * width * context (PaLM, appendix B). The embedding lookup does no multiplications."""
        c = self.config
        return 6 * self.num_params(exclude_embeddings=True) + 12 * c.n_layer * c.n_head * c.head_dim * seq_len

    def estimate_mfu(self, tokens_per_sec, seq_len, device):
        """Model FLOPs utilisation: achieved FLOP/s over the GPU's dense bf16 peak; None where the peak is
        unknown (a CPU, an unlisted GPU)."""
        peak = peak_flops(device)
        return None if peak is None else tokens_per_sec * self.flops_per_token(seq_len) / peak

    # ---- Hugging Face weights: the formats, layouts and hub lookup are in weights.py

    @classmethod
    def from_pretrained(cls, name_or_dir, dtype=torch.float32, device="cpu"):
        """Load official phi weights from a local Hugging Face snapshot directory or a hub name."""
        import weights  # imported here because weights.py builds on this file

        return weights.load_pretrained(name_or_dir, dtype, device)

    def save_pretrained(self, directory, eos_token_id=None):
        """Write config.json + model.safetensors that transformers' PhiForCausalLM loads as it is."""
        import weights

        weights.save_pretrained(self, directory, eos_token_id)


# ----------------------------------------------------------------------------------------------------------
# Peak dense bf16 FLOP/s by GPU name, for MFU. Order matters: the first name found in the device's name wins.

PEAK_BF16_FLOPS = (
    ("H100 PCIe", 756e12),
    ("H100 NVL", 835e12),
    ("H100", 989e12),  # SXM
    ("H200", 989e12),
    ("GH200", 989e12),
    ("A100", 312e12),
)


def peak_flops(device):
    device = torch.device(device)
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16_FLOPS if key in name), None)
