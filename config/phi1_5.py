# phi-1.5 (Textbooks Are All You Need II, 2023): phi-1's 1.3B shape from scratch on 150B tokens (80% new
# synthetic textbook data, 20% phi-1's): constant lr 2e-4 with no warmup, weight decay 0.1, Adam betas
# (0.9, 0.98), eps 1e-7, batch 2048 sequences of 2048 tokens (the paper; it used fp16 and ZeRO stage 2).
#   torchrun --nnodes 4 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py config/phi1_5.py
# The data is yours to provide, tokenized with CodeGen's tokenizer:
#   python data/prepare.py --input YOUR_DATA.jsonl --tokenizer codegen --out_dir data/phi1_5
out_dir = "out-phi1_5"
data_dir = "data/phi1_5"
max_iters = 36000  # 150e9 / (2048 * 2048) ~ 35,800 steps
eval_interval = 1000
eval_iters = 50
log_interval = 10
num_samples = 0
# 2048 sequences a step: 8 per GPU and micro-step, 256 micro-steps over all processes
batch_size = 8
gradient_accumulation_steps = 256
block_size = 2048
model = "phi-1.5"  # the shape (phi-1's), from model.PRESETS
vocab_size = 51200
dropout = 0.0  # none published; the released config has none
learning_rate = 2e-4
lr_schedule = "constant"
warmup_iters = 0
lr_decay_iters = 36000  # unused by the constant schedule
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.98
adam_eps = 1e-7
dtype = "auto"
