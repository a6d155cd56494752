import json
import warnings

import pytest
import torch
import torch.nn.functional as F

from model import Phi, PhiConfig, load_safetensors, save_safetensors

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


def test_reads_transformers5_rope_parameters_and_hub_style_configs(tmp_path):
    reference = hf_model(**HF_CONFIGS["phi2-like"])
    reference.save_pretrained(tmp_path)
    written = json.loads((tmp_path / "config.json").read_text())
    ours = Phi.from_pretrained(tmp_path)
    assert ours.config.rotary_dim == 32 and ours.config.rope_theta == 500.0
    # the hub's style: rotary settings at the top level
    rope = written.pop("rope_parameters", {})
    written.update(partial_rotary_factor=rope.get("partial_rotary_factor", 0.4), rope_theta=rope.get("rope_theta", 500.0))
    (tmp_path / "config.json").write_text(json.dumps(written))
    again = Phi.from_pretrained(tmp_path)
    assert again.config == ours.config


def old_layout(state, n_layer, sequential):
    """Our state dict renamed into the older Microsoft layouts, with q, k, v stacked into Wqkv."""
    out = {}
    block = (lambda i: f"layers.{i + 1}") if sequential else (lambda i: f"transformer.h.{i}")
    renames = {"input_layernorm": "ln", "self_attn.dense": "mixer.out_proj", "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}
    for i in range(n_layer):
        for kind in ("weight", "bias"):
            out[f"{block(i)}.mixer.Wqkv.{kind}"] = torch.cat(
                [state[f"layers.{i}.self_attn.{p}.{kind}"] for p in ("q_proj", "k_proj", "v_proj")])
            for ours, theirs in renames.items():
                out[f"{block(i)}.{theirs}.{kind}"] = state[f"layers.{i}.{ours}.{kind}"]
        out[f"{block(i)}.mixer.rotary_emb.inv_freq"] = torch.ones(4)
    head = f"layers.{n_layer + 1}" if sequential else "lm_head"
    out["layers.0.wte.weight" if sequential else "transformer.embd.wte.weight"] = state["embed_tokens.weight"]
    for kind in ("weight", "bias"):
        out[f"{head}.ln.{kind}"] = state[f"final_layernorm.{kind}"]
        out[f"{head}.linear.{kind}"] = state[f"lm_head.{kind}"]
    return out


@pytest.mark.parametrize("sequential", [True, False])
def test_loads_old_microsoft_wqkv_layouts_from_pytorch_model_bin(tmp_path, sequential):
    config = tiny_config(rotary_dim=8)
    torch.manual_seed(0)
    ours = Phi(config).eval()
    torch.save(old_layout(ours.state_dict(), config.n_layer, sequential), tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text(json.dumps(dict(
        model_type="phi-msft", vocab_size=320, n_positions=64, n_layer=2, n_head=4, n_embd=64, rotary_dim=8)))
    loaded = Phi.from_pretrained(tmp_path).eval()
    idx = random_tokens()
    with torch.no_grad():
        assert torch.equal(loaded(idx)[0], ours(idx)[0])


def test_loads_sharded_safetensors_with_index(tmp_path):
    torch.manual_seed(0)
    ours = Phi(tiny_config()).eval()
    ours.save_pretrained(tmp_path)
    state = load_safetensors(tmp_path / "model.safetensors")
    (tmp_path / "model.safetensors").unlink()
    names = sorted(state)
    shards = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
    for shard, keys in shards.items():
        save_safetensors({k: state[k] for k in keys}, tmp_path / shard)
    weight_map = {k: shard for shard, keys in shards.items() for k in keys}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    loaded = Phi.from_pretrained(tmp_path).eval()
    idx = random_tokens()
    with torch.no_grad():
        assert torch.equal(loaded(idx)[0], ours(idx)[0])
    (tmp_path / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model-00002-of-00002.safetensors, which is missing"):
        Phi.from_pretrained(tmp_path)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.bool])
def test_safetensors_round_trip_is_exact(tmp_path, dtype):
    tensors = {"a": (torch.randn(3, 5) * 100).to(dtype), "scalar": torch.tensor(3).to(dtype),
               "empty": torch.zeros(0, 4, dtype=dtype)}
    save_safetensors(tensors, tmp_path / "t.safetensors", metadata={"format": "pt"})
    loaded = load_safetensors(tmp_path / "t.safetensors")
    assert loaded.keys() == tensors.keys()
    for name, t in tensors.items():
        assert loaded[name].dtype == dtype and loaded[name].shape == t.shape and torch.equal(loaded[name], t)


def test_safetensors_matches_the_reference_library(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    tensors = {"w": torch.randn(4, 6).to(torch.bfloat16), "b": torch.randn(7)}
    save_safetensors(tensors, tmp_path / "ours.safetensors")
    theirs = safetensors_torch.load_file(tmp_path / "ours.safetensors")
    assert all(torch.equal(theirs[k], tensors[k]) for k in tensors)
    safetensors_torch.save_file(tensors, tmp_path / "theirs.safetensors")
    ours = load_safetensors(tmp_path / "theirs.safetensors")
    assert all(torch.equal(ours[k], tensors[k]) for k in tensors)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_save_pretrained_round_trips_weights_exactly(tmp_path, dtype):
    ours = Phi(tiny_config()).to(dtype)
    ours.save_pretrained(tmp_path, eos_token_id=0)
    loaded = Phi.from_pretrained(tmp_path, dtype=dtype)
    for name, tensor in ours.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert json.loads((tmp_path / "config.json").read_text())["torch_dtype"] == str(dtype)[len("torch."):]


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


# ---- bad input


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        Phi.from_pretrained(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        Phi.from_pretrained(tmp_path)


def test_config_of_another_architecture(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    with pytest.raises(ValueError, match="describes a 'llama' model"):
        Phi.from_pretrained(tmp_path)


def test_truncated_safetensors(tmp_path):
    Phi(tiny_config()).save_pretrained(tmp_path)
    path = tmp_path / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated"):
        Phi.from_pretrained(tmp_path)
    path.write_bytes(b"\x05")
    with pytest.raises(ValueError, match="truncated"):
        Phi.from_pretrained(tmp_path)


def test_weights_that_do_not_fit_the_config(tmp_path):
    Phi(tiny_config()).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["intermediate_size"] = 128
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="has shape"):
        Phi.from_pretrained(tmp_path)


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


def test_hub_name_without_network_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("NANOPHI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ConnectionError, match="cannot download microsoft/phi-2"):
        Phi.from_pretrained("microsoft/phi-2")


def test_hub_name_found_in_the_hugging_face_cache(tmp_path, monkeypatch):
    snapshot = tmp_path / "hf" / "models--microsoft--phi-tiny" / "snapshots" / "abc123"
    torch.manual_seed(0)
    ours = Phi(tiny_config())
    ours.save_pretrained(snapshot)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    loaded = Phi.from_pretrained("microsoft/phi-tiny")
    assert torch.equal(loaded.lm_head.weight, ours.lm_head.weight)


def test_hub_name_downloads_from_the_endpoint(tmp_path, monkeypatch):
    """A local HTTP server stands in for the hub: files are fetched, the missing index is a 404 that falls
    back to model.safetensors, and a second load uses the cache without the network."""
    import functools
    import http.server
    import threading

    torch.manual_seed(0)
    ours = Phi(tiny_config())
    ours.save_pretrained(tmp_path / "hub" / "microsoft" / "phi-tiny" / "resolve" / "main")
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(tmp_path / "hub"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("NANOPHI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        loaded = Phi.from_pretrained("microsoft/phi-tiny")
    finally:
        server.shutdown()
    assert torch.equal(loaded.lm_head.weight, ours.lm_head.weight)
    assert sorted(p.name for p in (tmp_path / "cache" / "microsoft--phi-tiny").iterdir()) == [
        "config.json", "model.safetensors"]
    again = Phi.from_pretrained("microsoft/phi-tiny")  # the server is gone: served from the cache
    assert torch.equal(again.lm_head.weight, ours.lm_head.weight)
