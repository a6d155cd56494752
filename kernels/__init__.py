"""Hand-written Triton kernels. attention.py: FlashAttention-2 forward and backward, the CUDA attention of model.py
(what it supports, its tests and speed: README.md beside this file)."""

from kernels.attention import dropout_mask, flash_attention, supports

__all__ = ["flash_attention", "supports", "dropout_mask"]
