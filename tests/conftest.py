import os
import sys

# Triton kernels run on CPU tensors only in the interpreter, and the switch must be set before triton is
# imported. On a GPU box, NANOPHI_TEST_CUDA=1 runs the same tests compiled instead.
if os.environ.get("NANOPHI_TEST_CUDA") != "1":
    os.environ.setdefault("TRITON_INTERPRET", "1")

# the tests import the top-level modules (model, train, synth, ...) from the repository root
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
