# phi-1-small: the 350M-parameter phi-1 (20 layers, width 1024), trained with phi-1's data and recipe.
#   torchrun --nproc_per_node 8 train.py config/phi1_small.py
out_dir = "out-phi1-small"
data_dir = "data/phi1"
max_iters = 24000
eval_interval = 1000
eval_iters = 50
log_interval = 10
num_samples = 0
# 1024 sequences of 2048 tokens a step, as for phi-1
batch_size = 16
gradient_accumulation_steps = 64
block_size = 2048
model = "phi-1-small"  # the shape, from model.PRESETS
vocab_size = 51200
dropout = 0.1
learning_rate = 1e-3
lr_schedule = "linear"
warmup_iters = 750
lr_decay_iters = 24000
min_lr = 0.0
weight_decay = 0.1
dtype = "auto"
