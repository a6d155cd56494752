import warnings

import pytest
import torch
import torch.nn.functional as F

from model import Phi, PhiConfig, math_attention

transformers = pytest.importorskip("transformers")

# tiny shapes that still exercise what matters: partial rotary, head_dim 80 with factor 0.4, odd head counts
HF_CONFIGS = {
    "small": dict(hidden_size=64, num_attention_heads=4, intermediate_size=256, partial_rotary_factor=0.5),
    "phi2-like": dict(hidden_size=240, num_attention_heads=3, intermediate_size=960, partial_rotary_factor=0.4,
                      rope_theta=500.0),
    "full-rotary": dict(hidden_size=96, num_attention_heads=6, intermediate_size=200, partial_rotary_factor=1.0,
                        layer_norm_eps=1e-6),
}


def hf_model(seed=0, **shape):
    torch.manual_seed(seed)
    config = transformers.PhiConfig(vocab_size=320, num_hidden_layers=2, max_position_embeddings=64,
                                    resid_pdrop=0.0, embd_pdrop=0.0, attention_dropout=0.0, **shape)
    model = transformers.PhiForCausalLM(config).eval()
    with torch.no_grad():  # random biases and norms too, so a swapped or dropped one cannot hide
        for name, p in model.named_parameters():
            if name.endswith("bias") or "layernorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    return model


def tiny_config(**overrides):
    return PhiConfig(**{**dict(vocab_size=320, block_size=64, n_layer=2, n_head=4, n_embd=64), **overrides})


def random_tokens(B=2, T=23, vocab=320, seed=1):
    return torch.randint(0, vocab, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", HF_CONFIGS)
def test_loads_transformers_checkpoint_with_identical_logits(tmp_path, shape):
    reference = hf_model(**HF_CONFIGS[shape])
    reference.config._attn_implementation = "eager"
    reference.save_pretrained(tmp_path)
    ours = Phi.from_pretrained(tmp_path).eval()
    idx = random_tokens()
    with torch.no_grad():
        expected = reference(idx).logits
        for backend in ("sdpa", "math"):
            ours.attn_backend = backend
            logits, _ = ours(idx)
            assert logits.shape == (2, 23, 320)
            assert (logits - expected).abs().max().item() <= 1e-4, backend


@pytest.mark.parametrize("shape", HF_CONFIGS)
def test_transformers_loads_our_export_with_identical_logits(tmp_path, shape):
    hf = HF_CONFIGS[shape]
    head_dim = hf["hidden_size"] // hf["num_attention_heads"]
    config = tiny_config(n_embd=hf["hidden_size"], n_head=hf["num_attention_heads"], n_inner=hf["intermediate_size"],
                         rotary_dim=int(head_dim * hf["partial_rotary_factor"]),
                         rope_theta=hf.get("rope_theta", 10000.0), layer_norm_eps=hf.get("layer_norm_eps", 1e-5))
    torch.manual_seed(0)
    ours = Phi(config).eval()
    ours.save_pretrained(tmp_path)
    reference = transformers.PhiForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    idx = random_tokens()
    with torch.no_grad():
        diff = (ours(idx)[0] - reference(idx).logits).abs().max().item()
    assert diff <= 1e-4


@pytest.mark.parametrize("backend", ["sdpa", "math"])
def test_kv_cache_matches_the_full_forward(backend):
    torch.manual_seed(0)
    model = Phi(tiny_config(n_embd=80, n_head=2, rotary_dim=16), attn_backend=backend).eval()
    idx = random_tokens(B=3, T=20)
    with torch.no_grad():
        full, _ = model(idx)
        model.setup_kv_cache(batch_size=3, max_seq_len=32)
        pieces = [model(idx[:, :7], start_pos=0)[0], model(idx[:, 7:12], start_pos=7)[0]]  # prefill in two chunks
        pieces += [model(idx[:, t:t + 1], start_pos=t)[0] for t in range(12, 20)]  # then one token at a time
        model.clear_kv_cache()
    assert (torch.cat(pieces, dim=1) - full).abs().max().item() <= 1e-5


@pytest.mark.parametrize("backend", ["sdpa", "math", "auto"])
def test_static_shape_decode_matches_the_full_forward(backend):
    """Decode steps with a tensor start_pos attend over the whole cache through a mask: same logits."""
    torch.manual_seed(0)
    model = Phi(tiny_config(n_embd=80, n_head=2, rotary_dim=16), attn_backend=backend).eval()
    idx = random_tokens(B=2, T=12)
    with torch.no_grad():
        full, _ = model(idx)
        model.setup_kv_cache(batch_size=2, max_seq_len=16)
        pieces = [model(idx[:, :5], start_pos=torch.tensor(0))[0]]
        pieces += [model(idx[:, t:t + 1], start_pos=torch.tensor(t))[0] for t in range(5, 12)]
        with pytest.raises(ValueError, match="does not fit the KV cache's batch size"):
            model(idx[:1, :1], start_pos=torch.tensor(12))
        model.clear_kv_cache()
    assert (torch.cat(pieces, dim=1) - full).abs().max().item() <= 1e-5


def test_attention_backends_agree_with_dropout_off():
    torch.manual_seed(0)
    model = Phi(tiny_config()).eval()
    idx = random_tokens()
    with torch.no_grad():
        model.attn_backend = "math"
        math_logits, _ = model(idx)
        model.attn_backend = "sdpa"
        sdpa_logits, _ = model(idx)
    assert (math_logits - sdpa_logits).abs().max().item() <= 1e-5
    model.attn_backend = "flash?"
    with pytest.raises(ValueError, match="unknown attention backend"):
        model(idx)


def test_triton_backend_matches_math_forward_and_backward():
    """The model with its own FlashAttention kernel (under the CPU interpreter here, compiled on a GPU)."""
    pytest.importorskip("triton")
    torch.manual_seed(0)
    model = Phi(tiny_config(n_embd=80, n_head=1, rotary_dim=32))  # head_dim 80, as phi-2
    idx, targets = random_tokens(B=1, T=19), random_tokens(B=1, T=19, seed=4)
    results = {}
    for backend in ("math", "triton"):
        model.zero_grad()
        model.attn_backend = backend
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fallback to SDPA would warn: this must run the kernel
            logits, loss = model(idx, targets)
            loss.backward()
        results[backend] = (logits.detach(), torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert (results["math"][0] - results["triton"][0]).abs().max().item() <= 1e-4
    assert torch.allclose(results["math"][1], results["triton"][1], atol=1e-5)
    with torch.no_grad():  # a chunk of queries against a longer KV cache: bottom-right causal alignment
        model.setup_kv_cache(batch_size=1)
        model(idx[:, :11], start_pos=0)
        chunk, _ = model(idx[:, 11:], start_pos=11)
        model.clear_kv_cache()
    assert (chunk - results["math"][0][:, 11:]).abs().max().item() <= 1e-4


def test_loss_is_cross_entropy_ignoring_minus_one():
    torch.manual_seed(0)
    model = Phi(tiny_config()).eval()
    idx = random_tokens()
    targets = random_tokens(seed=2)
    targets[0, :5] = -1
    logits, loss = model(idx, targets)
    keep = targets != -1
    expected = F.cross_entropy(logits[keep], targets[keep])
    assert torch.allclose(loss, expected) and model(idx)[1] is None


def test_dropout_is_active_only_in_training():
    model = Phi(tiny_config(embd_pdrop=0.1, resid_pdrop=0.1, attn_pdrop=0.1))
    idx = random_tokens()
    model.train()
    assert not torch.equal(model(idx)[0], model(idx)[0])
    model.eval()
    assert torch.equal(model(idx)[0], model(idx)[0])


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    model = Phi(tiny_config())
    idx, targets = random_tokens(), random_tokens(seed=3)
    grads = []
    for flag in (False, True):
        model.zero_grad()
        model.gradient_checkpointing = flag
        model(idx, targets)[1].backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_official_parameter_counts_without_allocating():
    expected = {"phi-1": 1_418_270_720, "phi-1.5": 1_418_270_720, "phi-2": 2_779_683_840}
    for name, count in expected.items():
        with torch.device("meta"):
            model = Phi(PhiConfig.from_name(name))
        assert model.num_params() == count
        assert model.num_params(exclude_embeddings=True) == count - 51200 * model.config.n_embd
    assert PhiConfig.from_name("phi-2").rotary_dim == 32 and PhiConfig.from_name("phi-2").head_dim == 80


def test_flops_and_mfu():
    model = Phi(tiny_config())
    n = model.num_params(exclude_embeddings=True)
    assert model.flops_per_token(64) == 6 * n + 12 * 2 * 64 * 64
    assert model.estimate_mfu(1000.0, 64, "cpu") is None


def test_unknown_preset_and_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="unknown model preset 'phi-3'"):
        PhiConfig.from_name("phi-3")
    with pytest.raises(ValueError, match="not divisible by n_head"):
        PhiConfig(n_embd=100, n_head=3)


def test_set_dropout_changes_every_dropout_and_the_config():
    torch.manual_seed(0)
    model = Phi(tiny_config(), attn_backend="math")
    idx = random_tokens()
    model.train()
    assert torch.equal(model(idx)[0], model(idx)[0])  # built without dropout
    model.set_dropout(0.1)
    assert model.config.resid_pdrop == model.config.attn_pdrop == 0.1 and model.config.embd_pdrop == 0.0
    assert model.embed_dropout.p == 0.0
    assert all(b.resid_dropout.p == b.self_attn.attn_pdrop == 0.1 for b in model.layers)
    assert not torch.equal(model(idx)[0], model(idx)[0])
    model.set_dropout(0.0, embd_pdrop=0.2)
    assert model.config.embd_pdrop == model.embed_dropout.p == 0.2 and model.config.attn_pdrop == 0.0
    assert Phi(PhiConfig(**vars(model.config))).embed_dropout.p == 0.2  # a checkpoint's config rebuilds it
    model.set_dropout(0.0, embd_pdrop=0.0)
    assert torch.equal(model(idx)[0], model(idx)[0])
    with pytest.raises(ValueError, match="dropout=1.5 is not a probability"):
        model.set_dropout(1.5)


def test_attention_dropout_is_read_at_forward_time():
    """Only the attention probabilities are dropped here: set_dropout must reach the attention call."""
    torch.manual_seed(0)
    model = Phi(tiny_config(), attn_backend="math").train()
    model.set_dropout(0.5)
    for block in model.layers:
        block.resid_dropout.p = 0.0
    idx = random_tokens()
    assert not torch.equal(model(idx)[0], model(idx)[0])


def test_crop_block_size_shrinks_the_context_and_refuses_to_grow():
    torch.manual_seed(0)
    model = Phi(tiny_config(block_size=64)).eval()
    idx = random_tokens(T=16)
    with torch.no_grad():
        before, _ = model(idx)
        model.crop_block_size(16)
        after, _ = model(idx)
    assert torch.equal(before, after)  # the positions kept are unchanged
    assert model.config.block_size == 16 and model.rope_cos.shape[0] == model.rope_sin.shape[0] == 16
    with pytest.raises(ValueError, match="exceed the context"):
        model(random_tokens(T=17))
    with pytest.raises(ValueError, match="block_size=32 is not in 1..16"):
        model.crop_block_size(32)
    with pytest.raises(ValueError, match="max_seq_len=32 is longer than the context"):
        model.setup_kv_cache(batch_size=1, max_seq_len=32)


def test_token_ids_on_a_device_are_not_read_back():
    """The vocabulary check reads the ids on the host only for CPU tensors: on a GPU that read would stall
    every step. The meta device stands in for one (its tensors have no values: a read raises)."""
    with torch.device("meta"):
        model = Phi(tiny_config(), attn_backend="sdpa")
        logits, loss = model(torch.zeros(2, 8, dtype=torch.long), torch.zeros(2, 8, dtype=torch.long))
    assert logits.shape == (2, 8, 320) and loss.device.type == "meta"


def test_training_forward_through_the_kernel_is_one_graph(monkeypatch):
    """With dropout on, torch.compile sees the forward through the Triton backend as one graph: no host read
    of the dropout seed or of the ids (each would be a graph break and a GPU sync in every layer of every
    step). The kernel launches are stood in for by plain torch: the CPU interpreter cannot be traced."""
    pytest.importorskip("triton")
    from kernels import attention as kernel

    def forward_stand_in(q, k, v, causal, sm_scale, dropout_p, seed):
        return math_attention(q, k, v), q.new_zeros(q.shape[:3], dtype=torch.float32)

    def backward_stand_in(do, q, k, v, o, lse, seed, *args):
        return torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)

    monkeypatch.setattr(kernel, "_forward", forward_stand_in)
    monkeypatch.setattr(kernel, "_backward", backward_stand_in)
    model = Phi(tiny_config(), attn_backend="triton").train()
    model.set_dropout(0.1)
    torch._dynamo.reset()
    explained = torch._dynamo.explain(model)(random_tokens(), random_tokens(seed=2))
    assert explained.graph_break_count == 0, [b.reason for b in explained.break_reasons]
    assert explained.graph_count == 1


# ---- bad input


def test_input_longer_than_context_and_ids_outside_vocab():
    model = Phi(tiny_config(block_size=16))
    with pytest.raises(ValueError, match="exceed the context"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="token id 320 is outside the vocabulary"):
        model(torch.tensor([[1, 320]]))
    with pytest.raises(ValueError, match="token id -1 is outside the vocabulary"):
        model(torch.tensor([[-1, 3]]))
    with pytest.raises(ValueError, match="needs a KV cache"):
        model(torch.tensor([[1]]), start_pos=3)
    model.setup_kv_cache(batch_size=1, max_seq_len=8)
    with pytest.raises(ValueError, match="exceed the KV cache"):
        model(torch.zeros(1, 3, dtype=torch.long), start_pos=6)
    with pytest.raises(ValueError, match="does not fit the KV cache's batch size"):
        model(torch.zeros(2, 1, dtype=torch.long), start_pos=0)
