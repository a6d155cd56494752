# phi-1's pretraining recipe in miniature, offline: real code filtered for educational value plus synthetic
# textbooks, tokenized with a BPE trained here. phi-1 kept ~6B of ~35B tokens of The Stack and StackOverflow (a
# sixth) and added ~1B tokens of textbooks (a seventh of the mix); here the real code is this Python's standard
# library and site-packages (data/filter.py's default pool, ~290 MB), the teacher is data/rubric.py and the
# textbooks come from synth.py's offline generator. config/phi1.py is the full size. The data builds on a CPU in
# a few minutes; the training wants one GPU (on the loaded 2-core VM this was written on a step took ~40 s, so
# 3000 would take a day and a half).
#   python train.py config/phi1_mini.py
# Build the data first (data/README.md explains each step; the first also builds data/filter.py's default
# classifier, about two minutes on 2 cores; measured there: keep 35 s, textbooks 26 s, BPE 23 s, prepare 9 s):
#   python data/filter.py keep --input stdlib site-packages --keep_fraction 0.17 --decontaminate \
#       --out data/phi1_mini/code.jsonl
#   python synth.py textbook --n 10000 --seed 0 --out data/phi1_mini/textbook.jsonl
#   python data/tokenizer.py train --input data/phi1_mini/code.jsonl data/phi1_mini/textbook.jsonl \
#       --vocab_size 8192 --out data/phi1_mini/tok.tiktoken
#   python data/prepare.py --input data/phi1_mini/code.jsonl data/phi1_mini/textbook.jsonl \
#       --tokenizer data/phi1_mini/tok.tiktoken --out_dir data/phi1_mini
out_dir = "out-phi1-mini"
data_dir = "data/phi1_mini"
# The commands make ~14.9M tokens: 3,388 files of real code (~12.9M) and textbooks (~2.0M, 13%; phi-1: 1B of
# 7B). 3000 steps of 32 sequences of 512 tokens (16k tokens) are ~49M tokens, about three passes (phi-1 saw
# its data ~8 times)
max_iters = 3000
eval_interval = 250
eval_iters = 20
log_interval = 25
num_samples = 0
batch_size = 16
gradient_accumulation_steps = 2
block_size = 512
# 6 layers of width 256, 8 heads of 32 dims with 16 rotary: the shape of config/textbook.py, 8.9M parameters
n_layer = 6
n_head = 8
n_embd = 256
# phi-1's optimisation, scaled down: dropout 0.1, weight decay 0.1, linear warmup then linear decay
dropout = 0.1
learning_rate = 2e-3
lr_schedule = "linear"
warmup_iters = 100
lr_decay_iters = 3000
min_lr = 2e-4
weight_decay = 0.1
