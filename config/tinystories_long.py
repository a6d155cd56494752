# The toy trained on until it keeps its characters: config/tinystories.py's model and data (train.py's defaults),
# 4000 steps instead of 1000. Its curve, samples and timing: experiments/README.md.
#   python train.py config/tinystories_long.py
out_dir = "out-tinystories-long"
max_iters = 4000  # 8.2M tokens, 1.4 epochs
lr_decay_iters = 4000
eval_interval = 500
