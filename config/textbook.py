# A small phi-1-style code model on synth.py's synthetic textbooks and exercises (phi-1's recipe in miniature:
# linear warmup + linear decay, weight decay 0.1, dropout 0.1), on a laptop or one GPU.
#   python train.py config/textbook.py
# Build the data first (the error message says so too):
#   python synth.py textbook --n 5000 --seed 0 --out data/textbook/textbook.jsonl
#   python synth.py exercises --n 20000 --seed 0 --out data/textbook/exercises.jsonl
#   python data/tokenizer.py train --input data/textbook/textbook.jsonl data/textbook/exercises.jsonl \
#       --vocab_size 8192 --out data/textbook/tok.tiktoken
#   python data/prepare.py --input data/textbook/textbook.jsonl data/textbook/exercises.jsonl \
#       --tokenizer data/textbook/tok.tiktoken --out_dir data/textbook
out_dir = "out-textbook"
data_dir = "data/textbook"
# 1500 steps of 32 sequences of 512 tokens (16k tokens): ~8 epochs of the ~3.2M tokens that the commands below
# make, as phi-1 saw its data ~8 times
max_iters = 1500
eval_interval = 250
eval_iters = 20
log_interval = 25
num_samples = 0
batch_size = 16
gradient_accumulation_steps = 2
block_size = 512
# 6 layers of width 256, 8 heads of 32 dims with 16 rotary: 8.9M parameters, half of them the 8192-token
# embedding and output layer
n_layer = 6
n_head = 8
n_embd = 256
dropout = 0.1
learning_rate = 2e-3
lr_schedule = "linear"
warmup_iters = 100
lr_decay_iters = 1500
min_lr = 2e-4
weight_decay = 0.1
