# The laptop toy, which is also what `python train.py` runs with no arguments (these are train.py's defaults):
# a 1.3M-parameter phi learns to write simple stories from synth.py's TinyStories-style data on a CPU in about
# five minutes. Its data (30,000 stories, a 2048-token BPE vocabulary, the token shards) is built on first use.
# Every training window starts at a story's start (align_windows), so each later mention of a character can be
# copied from the window: copying is what keeps a story's characters, and a window cut mid-story teaches that names
# come from nowhere. What five minutes buy, and what config/tinystories_long.py adds: experiments/README.md.
out_dir = "out-tinystories"
data_dir = "data/tinystories"
# 1000 steps of 8 windows of 256 tokens: 2M tokens, 0.35 of an epoch
max_iters = 1000
eval_interval = 250
eval_iters = 20
log_interval = 25
num_samples = 3
batch_size = 8
gradient_accumulation_steps = 1
block_size = 256  # a story is ~190 tokens
align_windows = True
# a phi block at its smallest sensible width: the TinyStories paper saw coherent stories from hidden size 128
n_layer = 4
n_head = 4
n_embd = 128
dropout = 0.0  # less than an epoch: nothing to regularise
# a small model takes a large learning rate (5e-3 beat 3e-3 here); cosine down to a tenth of it
learning_rate = 5e-3
min_lr = 5e-4
lr_schedule = "cosine"
warmup_iters = 30
lr_decay_iters = 1000
weight_decay = 0.1
beta2 = 0.95
