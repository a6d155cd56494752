"""
Hugging Face weights for model.py's Phi: official phi checkpoints in, files transformers loads out.

    model = Phi.from_pretrained("microsoft/phi-2", dtype=torch.bfloat16, device="cuda")
    model = Phi.from_pretrained("/path/to/phi-1_5")          # a local snapshot directory
    model.save_pretrained("my-phi")                          # config.json + model.safetensors

Where the files come from: a local snapshot directory, or a hub name, looked up in the Hugging Face cache
($HF_HUB_CACHE, else $HF_HOME/hub) and otherwise downloaded with a progress bar into ~/.cache/nanophi
($NANOPHI_CACHE; $HF_ENDPOINT and $HF_TOKEN are honoured). Offline, the error says how to bring a snapshot
over: `huggingface-cli download microsoft/phi-2 --local-dir DIR` on another machine, then pass DIR.

What is read: model.safetensors, sharded safetensors with a model.safetensors.index.json, or
pytorch_model.bin; the current key names ("model." + ours) and the two older Microsoft layouts
(transformer.h.{i}... and the sequential layers.{i}..., both with q, k and v stacked in mixer.Wqkv); and
config.json as the hub writes it (partial_rotary_factor, rope_theta), as transformers 5 writes it
(rope_parameters), or as the old phi-msft configs did. Anything else is refused with the reason.

What is written: config.json and model.safetensors that transformers.PhiForCausalLM.from_pretrained loads with
the same logits. The safetensors reader and writer are written out here (the format is simple); fp32, fp16
and bf16 round-trip bit for bit.

Read top to bottom:

    load_pretrained, save_pretrained       what Phi.from_pretrained and Phi.save_pretrained call
    config_from_hf, config_to_hf           config.json <-> PhiConfig
    resolve_pretrained, download_snapshot  a directory or a hub name -> a snapshot directory
    load_hf_weights, convert_hf_state_dict the snapshot's tensors, under our names
    load_safetensors, save_safetensors     the file format
"""

import json
import os
import re
import struct
import sys
from pathlib import Path

import torch

from files import atomic_write, read_json, write_json
from model import Phi, PhiConfig, rotary_tables


def load_pretrained(name_or_dir, dtype=torch.float32, device="cpu"):
    """Phi.from_pretrained: a snapshot directory or a hub name -> a Phi with its weights, checked name by name
    and shape by shape against its config.json."""
    directory = resolve_pretrained(name_or_dir)
    config = config_from_hf(read_json(directory / "config.json"), directory)
    with torch.device("meta"):
        model = Phi(config)
    state = convert_hf_state_dict(load_hf_weights(directory), config.n_layer)
    expected = model.state_dict()
    missing, unexpected = expected.keys() - state.keys(), state.keys() - expected.keys()
    if missing or unexpected:
        raise ValueError(f"weights in {directory} do not match a phi model: missing {sorted(missing)[:4]}, "
                         f"unexpected {sorted(unexpected)[:4]}")
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise ValueError(f"{name} in {directory} has shape {tuple(tensor.shape)}, but config.json implies "
                             f"{tuple(expected[name].shape)}")
    model.load_state_dict({k: v.to(device=device, dtype=dtype) for k, v in state.items()}, assign=True)
    cos, sin = rotary_tables(config.rotary_dim, config.block_size, config.rope_theta)  # were built on meta
    model.rope_cos, model.rope_sin = cos.to(device), sin.to(device)
    return model


def save_pretrained(model, directory, eos_token_id=None):
    """Phi.save_pretrained: our names behind the "model." prefix transformers uses (lm_head keeps its own)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {("lm_head." + k[len("lm_head."):]) if k.startswith("lm_head.") else "model." + k: v
             for k, v in model.state_dict().items()}
    write_json(directory / "config.json", config_to_hf(model.config, model.lm_head.weight.dtype, eos_token_id))
    save_safetensors(state, directory / "model.safetensors", metadata={"format": "pt"})


# ----------------------------------------------------------------------------------------------------------
# Hugging Face config.json <-> PhiConfig. Both the hub's files (partial_rotary_factor and rope_theta at the top
# level) and the files transformers 5 writes (rope_parameters) are read; the older Microsoft "phi-msft" configs
# (n_embd, n_layer, rotary_dim, ...) too.

def config_from_hf(hf, where="config.json"):
    model_type = hf.get("model_type")
    if model_type in ("phi-msft", "mixformer-sequential"):
        return PhiConfig(vocab_size=hf["vocab_size"], block_size=hf.get("n_positions", 2048),
                         n_layer=hf["n_layer"], n_head=hf["n_head"], n_embd=hf["n_embd"],
                         n_inner=hf.get("n_inner") or 4 * hf["n_embd"], rotary_dim=hf["rotary_dim"],
                         embd_pdrop=hf.get("embd_pdrop", 0.0), resid_pdrop=hf.get("resid_pdrop", 0.0),
                         layer_norm_eps=hf.get("layer_norm_epsilon", 1e-5))
    if model_type != "phi":
        raise ValueError(f"{where} describes a {model_type!r} model ({hf.get('architectures')}), not phi: "
                         "point at a phi-1, phi-1.5 or phi-2 checkpoint")
    if hf.get("qk_layernorm") or hf.get("hidden_act", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"{where} asks for a phi variant this model does not implement "
                         f"(qk_layernorm={hf.get('qk_layernorm')}, hidden_act={hf.get('hidden_act')})")
    n_head = hf["num_attention_heads"]
    if hf.get("num_key_value_heads") not in (None, n_head):
        raise ValueError(f"{where} uses grouped-query attention (num_key_value_heads="
                         f"{hf['num_key_value_heads']}), which phi models do not have")
    rope = hf.get("rope_parameters") or {}
    head_dim = hf.get("head_dim") or hf["hidden_size"] // n_head
    factor = rope.get("partial_rotary_factor", hf.get("partial_rotary_factor", 0.5))
    return PhiConfig(vocab_size=hf["vocab_size"], block_size=hf.get("max_position_embeddings", 2048),
                     n_layer=hf["num_hidden_layers"], n_head=n_head, n_embd=hf["hidden_size"],
                     n_inner=hf.get("intermediate_size"), head_dim=head_dim,
                     rotary_dim=int(head_dim * factor),  # how transformers rounds it
                     embd_pdrop=hf.get("embd_pdrop", 0.0), resid_pdrop=hf.get("resid_pdrop", 0.0),
                     attn_pdrop=hf.get("attention_dropout", 0.0), layer_norm_eps=hf.get("layer_norm_eps", 1e-5),
                     rope_theta=rope.get("rope_theta", hf.get("rope_theta", 10000.0)))


def config_to_hf(config, dtype, eos_token_id=None):
    factor = config.rotary_dim / config.head_dim
    if int(config.head_dim * factor) != config.rotary_dim:
        raise ValueError(f"rotary_dim={config.rotary_dim} cannot be expressed as a partial_rotary_factor of "
                         f"head_dim={config.head_dim}: choose a rotary_dim that round-trips")
    hf = {
        "architectures": ["PhiForCausalLM"], "model_type": "phi",
        "vocab_size": config.vocab_size, "max_position_embeddings": config.block_size,
        "hidden_size": config.n_embd, "intermediate_size": config.n_inner,
        "num_hidden_layers": config.n_layer, "num_attention_heads": config.n_head,
        "num_key_value_heads": config.n_head, "partial_rotary_factor": factor, "rope_theta": config.rope_theta,
        "embd_pdrop": config.embd_pdrop, "resid_pdrop": config.resid_pdrop,
        "attention_dropout": config.attn_pdrop, "layer_norm_eps": config.layer_norm_eps,
        "hidden_act": "gelu_new", "qk_layernorm": False, "initializer_range": 0.02,
        "tie_word_embeddings": False, "use_cache": True, "torch_dtype": str(dtype).removeprefix("torch."),
    }
    if config.head_dim * config.n_head != config.n_embd:
        hf["head_dim"] = config.head_dim
    if eos_token_id is not None:
        hf["bos_token_id"] = hf["eos_token_id"] = eos_token_id
    return hf


# ----------------------------------------------------------------------------------------------------------
# Weight files and names

def resolve_pretrained(name_or_dir):
    """A local snapshot directory, or a hub name ("microsoft/phi-2") found in a cache or downloaded."""
    path = Path(name_or_dir).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} has no config.json: point at a Hugging Face model directory")
        return path
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", str(name_or_dir)) or path.exists():
        raise FileNotFoundError(f"{name_or_dir} is not a directory: give a local Hugging Face model directory "
                                "or a hub name such as microsoft/phi-2")
    return download_snapshot(str(name_or_dir))


def download_snapshot(repo_id):
    """A hub model's files: from the Hugging Face cache when it has them, else downloaded (with a progress bar)
    into ~/.cache/nanophi, or $NANOPHI_CACHE."""
    hf_cache = Path(os.environ.get("HF_HUB_CACHE", Path(os.environ.get("HF_HOME", "~/.cache/huggingface")) / "hub"))
    for snapshot in sorted((hf_cache.expanduser() / f"models--{repo_id.replace('/', '--')}").glob("snapshots/*")):
        if (snapshot / "config.json").is_file():
            return snapshot
    target = Path(os.environ.get("NANOPHI_CACHE", "~/.cache/nanophi")).expanduser() / repo_id.replace("/", "--")
    target.mkdir(parents=True, exist_ok=True)
    fetch_hub_file(repo_id, "config.json", target)
    if (target / "model.safetensors").is_file() or (target / "pytorch_model.bin").is_file():
        return target  # downloaded before: no need to ask the hub which files it has
    if fetch_hub_file(repo_id, "model.safetensors.index.json", target, optional=True):
        for shard in sorted(set(read_json(target / "model.safetensors.index.json")["weight_map"].values())):
            fetch_hub_file(repo_id, shard, target)
    elif not fetch_hub_file(repo_id, "model.safetensors", target, optional=True):
        fetch_hub_file(repo_id, "pytorch_model.bin", target)
    return target


def fetch_hub_file(repo_id, filename, target, optional=False):
    """Download one file unless it is already there; False when optional and the hub has no such file."""
    import urllib.error
    import urllib.request

    from tqdm import tqdm

    path = target / filename
    if path.is_file():
        return True
    url = f"{os.environ.get('HF_ENDPOINT', 'https://huggingface.co')}/{repo_id}/resolve/main/{filename}"
    headers = {"Authorization": f"Bearer {os.environ['HF_TOKEN']}"} if os.environ.get("HF_TOKEN") else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with atomic_write(path) as f, tqdm(total=total, unit="B", unit_scale=True, desc=filename) as bar:
                while chunk := response.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as e:
        if e.code == 404 and optional:
            return False
        raise ConnectionError(f"downloading {url} failed: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        raise ConnectionError(f"cannot download {repo_id} ({e}): with no network, fetch the snapshot on another "
                              f"machine (huggingface-cli download {repo_id} --local-dir DIR), copy it here and "
                              "pass DIR instead of the hub name") from None
    return True


def load_hf_weights(directory):
    """All tensors of a snapshot: sharded safetensors with an index, one safetensors file, or pytorch_model.bin."""
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(read_json(index)["weight_map"].values()))
        state = {}
        for shard in shards:
            if not (directory / shard).is_file():
                raise FileNotFoundError(f"{index} lists the shard {shard}, which is missing from {directory}: "
                                        "download the complete snapshot")
            state.update(load_safetensors(directory / shard))
        return state
    if (directory / "model.safetensors").is_file():
        return load_safetensors(directory / "model.safetensors")
    if (directory / "pytorch_model.bin").is_file():
        return torch.load(directory / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{directory} has no model.safetensors(.index.json) or pytorch_model.bin")


def convert_hf_state_dict(state, n_layer):
    """Official checkpoint names -> ours. Current files use our names behind a "model." prefix. Older Microsoft
    files come in two layouts: "transformer.embd.wte / transformer.h.{i} / lm_head.ln, lm_head.linear", and a
    sequential one where layers.0 is the embedding, layers.1..n the blocks and layers.n+1 the head; both keep
    q, k and v stacked in one `mixer.Wqkv` matrix."""
    sequential = "layers.0.wte.weight" in state
    renames = [
        (r"^model\.", ""),
        (r"^transformer\.embd\.wte\.|^layers\.0\.wte\.", "embed_tokens."),
        (rf"^lm_head\.ln\.|^layers\.{n_layer + 1}\.ln\.", "final_layernorm."),
        (rf"^lm_head\.linear\.|^layers\.{n_layer + 1}\.linear\.", "lm_head."),
        (r"^transformer\.h\.", "layers."),
        (r"\.ln\.", ".input_layernorm."),
        (r"\.mixer\.out_proj\.", ".self_attn.dense."),
    ]
    out = {}
    for key, tensor in state.items():
        if key.endswith("inv_freq"):  # rotary tables some old files carry; we compute them
            continue
        for pattern, replacement in renames:
            key = re.sub(pattern, replacement, key)
        if sequential and key.startswith("layers."):
            i, rest = key.removeprefix("layers.").split(".", 1)
            key = f"layers.{int(i) - 1}.{rest}"
        if ".mixer.Wqkv." in key:
            for name, chunk in zip(("q_proj", "k_proj", "v_proj"), tensor.chunk(3, dim=0)):
                out[key.replace("mixer.Wqkv", f"self_attn.{name}")] = chunk
        else:
            out[key] = tensor
    return out


# safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the
# raw row-major little-endian bytes of every tensor, back to back.
SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
                      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
                      "U8": torch.uint8, "BOOL": torch.bool}
SAFETENSORS_NAMES = {dtype: name for name, dtype in SAFETENSORS_DTYPES.items()}


def load_safetensors(path):
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size < 8:
            raise ValueError(f"{path} is truncated ({size} bytes): download it again")
        (header_len,) = struct.unpack("<Q", f.read(8))
        if 8 + header_len > size:
            raise ValueError(f"{path} is truncated or not a safetensors file (header of {header_len} bytes "
                             f"in a file of {size}): download it again")
        try:
            header = json.loads(f.read(header_len))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} has a corrupt safetensors header ({e}): download it again") from None
        header.pop("__metadata__", None)
        data_start = 8 + header_len
        data_end = max((info["data_offsets"][1] for info in header.values()), default=0)
        if data_start + data_end > size:
            raise ValueError(f"{path} is truncated: its header describes {data_start + data_end} bytes but the "
                             f"file has {size}: download it again")
        state = {}
        for name, info in header.items():
            dtype = SAFETENSORS_DTYPES.get(info["dtype"])
            if dtype is None:
                raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
            begin, end = info["data_offsets"]
            f.seek(data_start + begin)
            buffer = bytearray(end - begin)
            f.readinto(buffer)
            tensor = torch.frombuffer(buffer, dtype=dtype) if buffer else torch.empty(0, dtype=dtype)
            state[name] = tensor.reshape(info["shape"])
    return state


def save_safetensors(state, path, metadata=None):
    if sys.byteorder != "little":
        raise RuntimeError("safetensors files are little-endian; writing them on this machine is not supported")
    header, offset, tensors = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, tensor in state.items():
        data = tensor.detach().contiguous().cpu().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": SAFETENSORS_NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        tensors.append(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)  # the data starts 8-byte aligned
    with atomic_write(path) as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for data in tensors:
            f.write(data)
