"""weights.py: config.json both ways, the old Microsoft layouts, sharded and .bin snapshots, the safetensors
reader and writer, the hub lookup (against a local server), and every bad file with its message. The logits
against transformers, in both directions, are in test_model.py."""

import json

import pytest
import torch

from model import Phi
from test_model import HF_CONFIGS, hf_model, random_tokens, tiny_config
from weights import load_safetensors, save_safetensors


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
