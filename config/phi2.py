# phi-2: 2.7B parameters (32 layers, width 2560, 80-dim heads with 32 rotary dims) on 1.4T tokens, 96 A100s for
# 14 days. Its optimizer settings and batch are unpublished: this takes phi-1.5's (constant lr 2e-4, betas
# (0.9, 0.98), eps 1e-7, weight decay 0.1, 2048 sequences of 2048 tokens a step).
#   torchrun --nnodes 12 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py config/phi2.py
# Activation checkpointing is on, to fit phi-2 on one 80 GB GPU: weights, gradients and AdamW state in fp32 take
# 44 GB, and with checkpointing the activations of 4 sequences a few more (an estimate, not measured):
#   python train.py config/phi2.py --batch_size=4
out_dir = "out-phi2"
data_dir = "data/phi2"
max_iters = 334000  # 1.4e12 / (2048 * 2048)
eval_interval = 1000
eval_iters = 50
log_interval = 10
num_samples = 0
batch_size = 8
gradient_accumulation_steps = 256
block_size = 2048
model = "phi-2"  # the shape, from model.PRESETS
vocab_size = 51200
dropout = 0.1  # the released config has residual dropout 0.1 (here attention dropout too)
learning_rate = 2e-4
lr_schedule = "constant"
warmup_iters = 0
lr_decay_iters = 334000  # unused by the constant schedule
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.98
adam_eps = 1e-7
dtype = "auto"
gradient_checkpointing = True
