import os
import sys

# Triton kernels run on CPU tensors only in the interpreter, and the switch must be set before triton is
# imported. On a GPU box, NANOPHI_TEST_CUDA=1 runs the same tests compiled instead.
if os.environ.get("NANOPHI_TEST_CUDA") != "1":
    os.environ.setdefault("TRITON_INTERPRET", "1")

# the tests import the top-level modules (model, train, synth, ...) from the repository root
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def save_random_run(out, config, tokenizer_path):
    """A training run's folder as train.py writes it, with random weights scaled up from the init so that the
    logits are peaked and greedy choices clear-cut."""
    import dataclasses

    import torch

    from model import Phi

    torch.manual_seed(0)
    model = Phi(config)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4)
    torch.save({"model": model.state_dict(), "model_config": dataclasses.asdict(config),
                "tokenizer": str(tokenizer_path), "config": {}, "iter_num": 0, "best_val_loss": 0.0},
               out / "ckpt.pt")
    return out
