"""The phi claims at small scale, one command per experiment, each resumable (rerun it after a crash and it goes
on where it stopped: data files, finished checkpoints and evaluation results that exist are not made again).

    python -m experiments tinystories   # a few-million-parameter phi learns to tell stories on a laptop CPU
    python -m experiments ablation      # phi-1's unfiltered / filtered / + textbook ablation, on real code
    python -m experiments report        # the tables of experiments/README.md, from experiments/results/*.json

Each writes experiments/results/NAME.json (numbers, settings, machine, wall times, git commit) and a PNG plot
there. Plots need matplotlib, an optional dependency of the experiments only: pip install matplotlib.
What each experiment does and what it found: experiments/README.md.
"""
import argparse
import os

from experiments import ablation, tinystories
from experiments.common import REPO, RESULTS, read_json

EXPERIMENTS = {"tinystories": tinystories, "ablation": ablation}
RESULT_NAMES = {"ablation": "phi1_ablation"}  # the results file, where it is not NAME.json


def report(args):
    found = False
    for name, experiment in EXPERIMENTS.items():
        path = REPO / args.results_dir / f"{RESULT_NAMES.get(name, name)}.json"
        if path.exists():
            found = True
            print(f"### {name}\n\n{experiment.report(read_json(path))}\n")
    if not found:
        raise SystemExit(f"no results in {args.results_dir}: run python -m experiments tinystories "
                         "(or ablation) first")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="experiment", required=True)
    t = sub.add_parser("tinystories", help="the toy learns to tell stories", formatter_class=parser.formatter_class)
    t.add_argument("--config", default="config/tinystories_long.py", help="the preset to train")
    t.add_argument("--sample_at", default="500,1000,2000,3000,4000",
                   help="steps where the measures are taken; the last should be the preset's max_iters")
    t.add_argument("--per_prompt", type=int, default=8,
                   help=f"samples for each of the {len(tinystories.HERO_PROMPTS)} hero prompts")
    t.add_argument("--measure", metavar="OUT_DIR", help="only measure this run's checkpoint, and print the numbers")
    t.add_argument("--prompts", help="--measure with these prompts: JSONL {\"prompt\", \"hero\" (optional)}")
    t.add_argument("--data_dir", default="data/tinystories", help="the toy's data (train.py's recipe)")
    t.add_argument("--out_dir", default="out-exp-tinystories")
    a = sub.add_parser("ablation", help="phi-1's unfiltered / filtered / filtered + textbook ablation on real code",
                       formatter_class=parser.formatter_class)
    a.add_argument("--sizes", default="XS,S", help=f"model sizes, in turn, of {','.join(ablation.SIZES)}")
    a.add_argument("--smoke", action="store_true",
                   help="every stage on a toy model and a few files, in out-exp-ablation-smoke/ (not the results)")
    a.add_argument("--pool", nargs="+", help="real code for the arms (default: data/filter.py's default pool, the "
                                             "standard library and site-packages)")
    a.add_argument("--threshold", type=float, default=3.0, help="data/filter.py keep --threshold for the filtered arms")
    a.add_argument("--keep_fraction", type=float, help="data/filter.py keep --keep_fraction instead of --threshold")
    a.add_argument("--textbook_share", type=float, default=1 / 7, help="textbook tokens in the mix (phi-1: ~1B of ~7B)")
    a.add_argument("--corpus_tokens", type=int,
                   help="tokens of every arm's corpus (default: the largest size's pretraining budget, with val)")
    a.add_argument("--val_fraction", type=float, default=0.02, help="documents of each corpus held out for val loss")
    a.add_argument("--textbook_n", type=int, default=12000, help="textbook sections generated (then decontaminated)")
    a.add_argument("--exercises_n", type=int, default=10000, help="train-family exercises for finetuning")
    a.add_argument("--heldout_n", type=int, default=2000, help="held-out-family exercises for scoring")
    a.add_argument("--vocab_size", type=int, default=4096)
    a.add_argument("--tokenizer_sample_bytes", type=int, default=2_000_000, help="of each corpus, for the BPE")
    a.add_argument("--max_new_tokens", type=int, default=128)
    a.add_argument("--humaneval_limit", type=int, default=0, help="first N HumanEval problems (0: all 164)")
    a.add_argument("--eval_iters", type=int, default=10, help="batches of 8 windows for every loss")
    a.add_argument("--workers", type=int, default=os.cpu_count(), help="programs run in parallel when scoring")
    a.add_argument("--data_dir", default="data/exp-ablation")
    a.add_argument("--out_dir", default="out-exp-ablation")
    r = sub.add_parser("report", help="print the README tables from experiments/results/*.json")
    for p in (t, a):
        p.add_argument("--data_only", action="store_true", help="build the data, then stop")
    for p in (t, a, r):
        p.add_argument("--results_dir", default=str(RESULTS.relative_to(REPO)), help="where NAME.json and plots go")
    args = parser.parse_args(argv)
    if args.experiment == "ablation" and not set(args.sizes.split(",")) <= set(ablation.SIZES):
        parser.error(f"--sizes takes a comma-separated subset of {','.join(ablation.SIZES)}")
    if args.experiment == "report":
        report(args)
    else:
        EXPERIMENTS[args.experiment].run(args)


if __name__ == "__main__":
    main()
