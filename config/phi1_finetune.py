# phi-1 = phi-1-base finetuned on CodeExercises (~180M tokens of function signature + docstring + solution):
# batch 256, lr 1e-4, 50 warmup steps, weight decay 0.01, 6000 steps, a checkpoint every 1000 (the paper).
#   python train.py config/phi1_finetune.py --init_from=out-phi1
# init_from takes the phi-1-base run's out_dir (its weights only), or official weights (microsoft/phi-1_5, or a
# local Hugging Face directory). The exercises come from synth.py, tokenized with CodeGen's tokenizer:
#   python synth.py exercises --n 100000 --seed 0 --out data/code_exercises/exercises.jsonl
#   python data/prepare.py --input data/code_exercises/exercises.jsonl --tokenizer codegen --out_dir data/code_exercises
out_dir = "out-phi1-finetune"
init_from = "out-phi1"
data_dir = "data/code_exercises"
max_iters = 6000
eval_interval = 1000
eval_iters = 50
log_interval = 10
num_samples = 0
# 256 sequences of 2048 tokens a step
batch_size = 8
gradient_accumulation_steps = 32
block_size = 2048
# the model's shape comes from init_from; dropout as in pretraining (the paper gives none for the finetune)
dropout = 0.1
learning_rate = 1e-4
lr_schedule = "linear"  # after warmup the paper gives no schedule: phi-1's linear decay, to 0 at the last step
warmup_iters = 50
lr_decay_iters = 6000
min_lr = 0.0
weight_decay = 0.01
dtype = "auto"
