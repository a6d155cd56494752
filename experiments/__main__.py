"""The phi claims at small scale, one command per experiment, each resumable (rerun it after a crash and it goes
on where it stopped: data files, finished checkpoints and evaluation results that exist are not made again).

    python -m experiments tinystories   # a few-million-parameter phi learns to tell stories on a laptop CPU
    python -m experiments textbook      # textbook data against ordinary code, in miniature
    python -m experiments report        # the tables of experiments/README.md, from experiments/results/*.json

Each writes experiments/results/NAME.json (numbers, settings, machine, wall times, git commit) and a PNG plot
there. Plots need matplotlib, an optional dependency of the experiments only: pip install matplotlib.
What each experiment does and what it found: experiments/README.md.
"""
import argparse

from experiments import textbook, tinystories
from experiments.common import REPO, RESULTS, read_json

EXPERIMENTS = {"tinystories": tinystories, "textbook": textbook}


def report(args):
    found = False
    for name, experiment in EXPERIMENTS.items():
        path = REPO / args.results_dir / f"{name}.json"
        if path.exists():
            found = True
            print(f"### {name}\n\n{experiment.report(read_json(path))}\n")
    if not found:
        raise SystemExit(f"no results in {args.results_dir}: run python -m experiments tinystories "
                         "(or textbook) first")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="experiment", required=True)
    t = sub.add_parser("tinystories", help="the toy learns to tell stories", formatter_class=parser.formatter_class)
    t.add_argument("--max_iters", type=int, default=1200, help="optimizer steps of 4,096 tokens")
    t.add_argument("--sample_at", default="0.083,0.25,0.5,1", help="fractions of max_iters where samples are taken")
    t.add_argument("--per_prompt", type=int, default=2, help=f"samples for each of the {len(tinystories.STORY_PROMPTS)} prompts")
    t.add_argument("--max_new_tokens", type=int, default=200)
    t.add_argument("--n_stories", type=int, default=30000)
    t.add_argument("--vocab_size", type=int, default=4096)
    t.add_argument("--data_dir", default="data/exp-tinystories")
    t.add_argument("--out_dir", default="out-exp-tinystories")
    b = sub.add_parser("textbook", help="textbooks against ordinary code", formatter_class=parser.formatter_class)
    b.add_argument("--pretrain_iters", type=int, default=600, help="optimizer steps of batch_size x block_size tokens")
    b.add_argument("--finetune_iters", type=int, default=300)
    b.add_argument("--finetune_arms", default="textbook,code", help="which pretrained models get finetuned")
    b.add_argument("--n_layer", type=int, default=4)
    b.add_argument("--n_head", type=int, default=4)
    b.add_argument("--n_embd", type=int, default=128)
    b.add_argument("--block_size", type=int, default=512, help="HumanEval's longest prompt needs ~400 tokens")
    b.add_argument("--batch_size", type=int, default=8)
    b.add_argument("--lr", type=float, default=2e-3, help="pretraining peak learning rate")
    b.add_argument("--finetune_lr", type=float, default=1e-3,
                   help="finetuning peak (phi-1 took a tenth of pretraining's; a few hundred steps of a tiny model "
                        "need more)")
    b.add_argument("--textbook_n", type=int, default=3000, help="textbook sections")
    b.add_argument("--code_n", type=int, default=12000, help="ordinary code files generated (then cut to size)")
    b.add_argument("--exercises_n", type=int, default=3000, help="train-family exercises for finetuning")
    b.add_argument("--heldout_n", type=int, default=200, help="held-out-family exercises for scoring")
    b.add_argument("--vocab_size", type=int, default=4096)
    b.add_argument("--max_new_tokens", type=int, default=128)
    b.add_argument("--humaneval_limit", type=int, default=0, help="first N HumanEval problems (0: all 164)")
    b.add_argument("--pass10_limit", type=int, default=0,
                   help="first N HumanEval problems for pass@10 (0: all 164; -1: no pass@10 at all)")
    b.add_argument("--data_dir", default="data/exp-textbook")
    b.add_argument("--out_dir", default="out-exp-textbook")
    r = sub.add_parser("report", help="print the README tables from experiments/results/*.json")
    for p in (t, b):
        p.add_argument("--data_only", action="store_true", help="build the data, then stop")
    for p in (t, b, r):
        p.add_argument("--results_dir", default=str(RESULTS.relative_to(REPO)), help="where NAME.json and plots go")
    args = parser.parse_args(argv)
    for key in ("max_iters", "pretrain_iters", "finetune_iters"):
        if getattr(args, key, 1) < 1:
            parser.error(f"--{key} must be at least 1")
    if args.experiment == "textbook" and not set(args.finetune_arms.split(",")) <= set(textbook.ARMS):
        parser.error(f"--finetune_arms takes a comma-separated subset of {','.join(textbook.ARMS)}")
    if args.experiment == "report":
        report(args)
    else:
        EXPERIMENTS[args.experiment].run(args)


if __name__ == "__main__":
    main()
