"""The plumbing every script shares: files written atomically, JSON and JSONL, and a training run's files.

A file is written to a temporary file beside it, fsynced and renamed over the target, so a crash leaves either
the old file or the new one, never half of one. JSONL (one JSON object per line) is the format of every corpus,
label, score and result file here; `append_jsonl` is for results that must survive a crash as they arrive.

A training run is a folder with `ckpt.pt` (what train.py saves: `model`, `model_config`, `config`, `tokenizer`,
`iter_num`, ...), loaded with `load_run(out_dir)`.
"""
import hashlib
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------------------------------------
# Atomic writes

class atomic_write:
    """`with atomic_write(path, "w") as f:` writes to PATH.tmpPID, then fsyncs and renames it over PATH; on an
    exception the temporary file is removed and PATH is untouched. The folder is created if missing."""

    def __init__(self, path, mode="wb"):
        self.path, self.tmp, self.mode = Path(path), Path(f"{path}.tmp{os.getpid()}"), mode

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.tmp, self.mode, **({} if "b" in self.mode else {"encoding": "utf-8"}))
        return self.file

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.file.flush()
                os.fsync(self.file.fileno())
        finally:
            self.file.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def write_bytes(path, data):
    with atomic_write(path) as f:
        f.write(data)


# ----------------------------------------------------------------------------------------------------------
# JSON and JSONL

def read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e})") from None


def write_json(path, obj):
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def iter_jsonl(path, required=(), what="record"):
    """Yield the objects of a JSONL file one by one (blank lines skipped). A line that is not a JSON object, or
    lacks a `required` key, stops with a one-line message naming the file and line."""
    if not os.path.isfile(path):
        raise SystemExit(f"{path} does not exist")
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{line_no} is not JSON ({e}): the file is damaged; regenerate it") from None
            if not isinstance(record, dict):
                raise SystemExit(f"{path}:{line_no} is not a JSON object")
            missing = [key for key in required if key not in record]
            if missing:
                raise SystemExit(f"{path}:{line_no}: a {what} needs {', '.join(required)}; "
                                 f"this one lacks {', '.join(missing)}")
            yield record


def read_jsonl(path, required=(), what="record"):
    return list(iter_jsonl(path, required, what))


def write_jsonl(path, records):
    """All or nothing: the whole file is replaced at once."""
    with atomic_write(path, "w") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def append_jsonl(file, record):
    """Append one record to an open file and flush it to disk, so a crash loses at most the record in flight."""
    file.write(json.dumps(record, ensure_ascii=False) + "\n")
    file.flush()
    os.fsync(file.fileno())


def read_complete_lines(path):
    """The JSON objects of a file being appended to, up to the last whole line: a crash mid-write leaves a torn
    last line, which is cut off (the file is truncated there) so that appending can resume cleanly."""
    if not os.path.exists(path):
        return []
    records, good_bytes = [], 0
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
            good_bytes += len(line)
    if good_bytes != os.path.getsize(path):
        os.truncate(path, good_bytes)
    return records


# ----------------------------------------------------------------------------------------------------------
# Training runs

def load_checkpoint(path):
    """A train.py checkpoint (tensors and plain Python only, so weights_only=True). A clear error if missing or
    unreadable."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"no checkpoint at {path}: train one with python train.py --out_dir={path.parent}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:
        raise SystemExit(f"cannot load the checkpoint {path} ({e}): it is damaged or not a nanophi checkpoint") \
            from None


def tokenizer_spec(checkpoint):
    """The run's tokenizer spec. A rank file is named relative to the checkout that trained the run: look for it
    here and in this repository, and take the one with the sha256 the checkpoint recorded. Another file of that
    name (data rebuilt since) would decode the model's tokens into nonsense, so it is refused."""
    spec, sha256 = checkpoint["tokenizer"], checkpoint.get("tokenizer_sha256")
    found = [path for path in dict.fromkeys((spec, str(REPO / spec))) if os.path.isfile(path)]
    if not found:
        return spec  # a tokenizer's name (codegen, gpt2), or a missing file that load_tokenizer explains
    if sha256 is None:  # a checkpoint from before the digest was recorded
        return found[0]
    for path in found:
        if file_sha256(path) == sha256:
            return path
    raise SystemExit(f"{found[0]} is not the tokenizer this run was trained with (its sha256 differs: the data was "
                     "rebuilt since?): run from the checkout that trained it, or train again on this data")


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_from_checkpoint(checkpoint):
    """The Phi a train.py checkpoint holds, on the CPU in float32."""
    from model import Phi, PhiConfig

    model = Phi(PhiConfig(**checkpoint["model_config"]))
    model.load_state_dict(checkpoint["model"])
    return model


def load_run(out_dir, device="cpu", dtype=None):
    """(model in eval mode, tokenizer, checkpoint) of a training run's out_dir. dtype defaults to bfloat16 on
    CUDA, float32 elsewhere; the checkpoint dict is returned without its weights."""
    import torch

    from data.tokenizer import load_tokenizer

    checkpoint = load_checkpoint(Path(out_dir) / "ckpt.pt")
    dtype = dtype or (torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32)
    model = model_from_checkpoint(checkpoint)
    del checkpoint["model"]
    checkpoint.pop("optimizer", None)
    return model.to(device).cast_weights(dtype).eval(), load_tokenizer(tokenizer_spec(checkpoint)), checkpoint
