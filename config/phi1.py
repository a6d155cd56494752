# phi-1-base (Textbooks Are All You Need, 2023): 1.3B parameters on ~7B tokens of "code textbook" data for
# ~8 epochs: 24k steps of 1024 sequences of 2048 tokens (~2.1M tokens a step, ~51B tokens), 8 A100s, < 4 days.
#   torchrun --nproc_per_node 8 train.py config/phi1.py
# The data (filtered code + synthetic textbooks, tokenized with CodeGen's tokenizer) is yours to provide:
#   python data/prepare.py --input YOUR_CODE.jsonl data/textbook/textbook.jsonl --tokenizer codegen --out_dir data/phi1
out_dir = "out-phi1"
data_dir = "data/phi1"
max_iters = 24000
eval_interval = 1000
eval_iters = 50
log_interval = 10
num_samples = 0
# 1024 sequences a step: 8 per GPU and micro-step (fits an 80 GB GPU), 128 micro-steps over all processes
batch_size = 8
gradient_accumulation_steps = 128
block_size = 2048
model = "phi-1"  # the shape, from model.PRESETS
vocab_size = 51200  # the 50295-token CodeGen vocabulary padded to 51200 rows, as in the official model
dropout = 0.1  # attention and residual dropout 0.1, as the paper says
# AdamW, peak lr 1e-3, weight decay 0.1, linear warmup of 750 steps then linear decay (the paper). Where the
# decay ends is not published: here it reaches 0 at the last step.
learning_rate = 1e-3
lr_schedule = "linear"
warmup_iters = 750
lr_decay_iters = 24000
min_lr = 0.0
weight_decay = 0.1
# phi-1 trained in fp16; "auto" takes bf16 where the GPU has it (A100, H100: as fast, no loss scaling).
# --dtype=float16 is the original, with a gradient scaler.
dtype = "auto"
