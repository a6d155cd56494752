"""Synthetic "textbook quality" data, the heart of phi: stories, textbooks and exercises.

phi-1 ("Textbooks Are All You Need") trained a 1.3B model on 7B tokens: filtered code, ~1B tokens of
synthetic textbooks and ~180M tokens of synthetic exercises, and beat models 10x its size. TinyStories showed
the same for English with a 1500-word vocabulary. The recipe, as this file applies it:

    1. constrain every sample (required words + features, topic x audience, task family x audience) so that
       the data is diverse without being noisy;
    2. make it instructive (explanations with real outputs, solutions verified by their tests);
    3. gate it: drop exact and near duplicates (MinHash, word 5-grams) and anything overlapping the benchmark
       (HumanEval 13-grams);
    4. measure it (`report`): size, distinct-n, compression, near-duplicates, openers, coverage, pass rate.

Offline (default) the samples come from generators in synthdata/ that need no network and no model; with
--teacher URL --model NAME they come from any OpenAI-compatible chat endpoint, as phi's came from GPT-3.5/4.

    python synth.py tinystories --n 20000 --seed 0 --out data/tinystories/stories.jsonl
    python synth.py textbook    --n 5000  --seed 0 --out data/textbook/textbook.jsonl
    python synth.py exercises   --n 20000 --seed 0 --out data/textbook/exercises.jsonl [--split heldout]
    python synth.py code        --n 20000 --seed 0 --out data/code/code.jsonl     # "ordinary code" baseline
    python synth.py cloze       --n 500   --seed 1 --out data/tinystories/cloze.jsonl   # for eval.py choice
    python synth.py report data/tinystories/stories.jsonl
    python synth.py tinystories --teacher http://127.0.0.1:8000/v1 --model NAME --n 1000 --out stories.jsonl
    python synth.py topics      --teacher http://127.0.0.1:8000/v1 --model NAME --n 20000 --out topics.jsonl
    python synth.py textbook    --teacher http://127.0.0.1:8000/v1 --model NAME --topics topics.jsonl --out tb.jsonl
"""
import argparse
import json
import sys
import time

from tqdm import tqdm

from files import read_jsonl, write_jsonl

from synthdata.quality import Decontaminator, Deduplicator, tokens as count_tokens

KINDS = ("tinystories", "textbook", "exercises", "code")


def candidates(kind, args):
    """The offline generator for `kind`: yields batches of candidate records, deterministically, forever."""
    if kind == "tinystories":
        from synthdata.stories import StoryGenerator, instruct_text
        gen = StoryGenerator()

        def make(i):
            r = gen.story(args.seed, i)
            if args.instruct:
                r["text"] = instruct_text(r)
            return r
        finish, batch = None, 256
    elif kind == "textbook":
        from synthdata.textbook import TextbookGenerator, finish
        gen = TextbookGenerator()
        make, batch = (lambda i: gen.section(args.seed, i)), 400
    elif kind == "exercises":
        from synthdata.exercises import ExerciseGenerator
        gen = ExerciseGenerator(args.split)
        # sandbox runs are the cost here: ask for a little more than is still needed, not a fixed 1024
        make, finish, batch = (lambda i: gen.exercise(args.seed, i)), None, min(1024, args.n + 64)
    else:
        from synthdata.code import CodeGenerator
        gen = CodeGenerator(args.split)
        make, finish, batch = (lambda i: gen.file(args.seed, i)), None, 512
    i = 0
    while True:
        records = [make(j) for j in range(i, i + batch)]
        i += batch
        yield records, finish


def generate_offline(kind, args):
    """Generate, gate, verify and write `args.n` records; returns the gate counts."""
    dedup = Deduplicator(threshold=args.near_dup) if args.near_dup < 1 else None
    decon = Decontaminator()
    counts = {"generated": 0, "exact_duplicates": 0, "near_duplicates": 0, "contaminated": 0, "failed_checks": 0}
    kept = []
    bar = tqdm(total=args.n, desc=kind, unit="rec")
    tokens_wanted = target_tokens(args)
    tokens = 0
    for records, finish in candidates(kind, args):
        counts["generated"] += len(records)
        fresh = []
        for r in records:
            if decon.hits(r["text"]):
                counts["contaminated"] += 1
                continue
            verdict = dedup.add(r["text"]) if dedup else None
            if verdict:
                counts[f"{verdict}_duplicates"] += 1
                continue
            fresh.append(r)
        if finish is not None:  # textbook: run the examples for their real output
            done = finish(fresh, unsafe_no_isolation=getattr(args, "unsafe_no_isolation", False))
            counts["failed_checks"] += len(fresh) - len(done)
            fresh = done
        if kind == "exercises":
            from synthdata.exercises import verify
            # group testing is safe here: these records come from our own grammar, not from a teacher
            ok = verify(fresh, batch=64, unsafe_no_isolation=getattr(args, "unsafe_no_isolation", False))
            counts["failed_checks"] += ok.count(False)
            fresh = [r for r, good in zip(fresh, ok) if good]
        for r in fresh:
            if len(kept) >= args.n or (tokens_wanted and tokens >= tokens_wanted):
                break
            kept.append(r)
            tokens += len(count_tokens(r["text"])) if tokens_wanted else 0
            bar.update(1)
        if len(kept) >= args.n or (tokens_wanted and tokens >= tokens_wanted):
            break
        if counts["generated"] > 20 * args.n + 10_000:
            raise SystemExit(f"only {len(kept)} of {args.n} records survived the quality gates after "
                             f"{counts['generated']} candidates: the generator has run out of variety; ask for "
                             f"fewer records or raise --near_dup")
    bar.close()
    for i, r in enumerate(kept):  # task ids follow the written order, so a file's ids are 0..n-1
        if "task_id" in r:
            r["task_id"] = r["task_id"].rsplit("/", 1)[0] + f"/{i}"
    write_jsonl(args.out, kept)
    counts["written"] = len(kept)
    counts["decontamination"] = "HumanEval 13-grams" if decon.available else decon.reason
    return counts


def target_tokens(args):
    """--match FILE: stop at FILE's token count (as `report` counts them), for equal-token comparisons."""
    if not getattr(args, "match", None):
        return 0
    total = 0
    for r in read_jsonl(args.match, ("text",), "synth.py record"):
        total += len(count_tokens(r["text"]))
    return total


# ---- report ---------------------------------------------------------------------------------------------------
def report(path, sample=None, out=None, unsafe_no_isolation=False):
    from synthdata.quality import diversity, lexicon_coverage, openers, tokens

    out = out or sys.stdout
    records = read_jsonl(path, ("text",), "synth.py record")
    texts = [r["text"] for r in records]
    print(f"file: {path}", file=out)
    print(f"records: {len(records)}", file=out)
    print(f"tokens (words + punctuation): {sum(len(tokens(t)) for t in texts)}", file=out)
    dist, ratio = diversity(texts)
    print("distinct-1/2/3 (first 1M words): " + " / ".join(f"{d:.3f}" for d in dist), file=out)
    print(f"gzip compression ratio (raw/compressed, higher = more repetitive): {ratio:.2f}", file=out)
    dedup = Deduplicator()
    near = sum(dedup.add(t) is not None for t in texts)
    print(f"near-duplicate rate (MinHash word 5-grams, Jaccard >= 0.7): {near / max(1, len(texts)):.2%}", file=out)
    print("openers (first 3 words): " + "; ".join(f"{o!r} {p:.1%}" for o, p in openers(texts, top=6)), file=out)
    if records and "words" in records[0]:
        from synthdata.english import Lexicon
        cov, heads = lexicon_coverage(texts, Lexicon())
        once = sum(r["text"].startswith("Once upon a time") or "Story: Once upon a time" in r["text"] for r in records)
        print(f"lexicon coverage: {cov:.1%} of {heads} words; 'Once upon a time' openings: {once / len(records):.1%}",
              file=out)
    if records and "test" in records[0]:
        from synthdata.exercises import verify
        subset = records[:sample] if sample else records
        ok = verify(subset, unsafe_no_isolation=unsafe_no_isolation)
        print(f"execution pass rate (sandbox, {len(subset)} records): {sum(ok) / max(1, len(ok)):.2%}", file=out)
    decon = Decontaminator()
    if decon.available:
        hits = sum(decon.hits(t) > 0 for t in texts)
        print(f"contamination hits (HumanEval 13-gram overlap): {hits}", file=out)
    else:
        print(f"contamination hits: not measured ({decon.reason})", file=out)


# ---- command line ---------------------------------------------------------------------------------------------
def teacher_arguments(parser):
    t = parser.add_argument_group("teacher mode (an OpenAI-compatible /v1/chat/completions endpoint)")
    t.add_argument("--teacher", help="base URL, e.g. http://127.0.0.1:8000/v1 (key from OPENAI_API_KEY)")
    t.add_argument("--model", help="model name the endpoint serves")
    t.add_argument("--workers", type=int, default=8, help="concurrent requests")
    t.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    t.add_argument("--retries", type=int, default=5, help="retries on 429/5xx/timeouts, with backoff")
    t.add_argument("--temperature", type=float, default=1.0)
    t.add_argument("--max_tokens", type=int, default=1024)
    return t


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.split("\n")[-7:]))
    sub = p.add_subparsers(dest="command", required=True)
    for kind in KINDS:
        s = sub.add_parser(kind, help=f"generate {kind}")
        s.add_argument("--n", type=int, default={"tinystories": 20000, "textbook": 5000}.get(kind, 20000),
                       help="records to write")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--out", required=True, help="output .jsonl file")
        s.add_argument("--near_dup", type=float, default=0.7,
                       help="MinHash Jaccard threshold for near duplicates (1 turns the filter off)")
        if kind == "tinystories":
            s.add_argument("--instruct", action="store_true", help="TinyStories-Instruct layout (Features/Words/Summary/Story)")
        if kind in ("exercises", "code"):
            s.add_argument("--split", default="train", choices=["train", "heldout"],
                           help="which task families: train, or the held-out ones for evaluation")
        if kind == "code":
            s.add_argument("--match", help="stop when the output has as many words as this .jsonl file")
        if kind in ("textbook", "exercises"):
            s.add_argument("--unsafe_no_isolation", action="store_true",
                           help="run the generated code even without bubblewrap's isolation (it can touch your files)")
        if kind != "code":
            t = teacher_arguments(s)
        if kind == "textbook":
            t.add_argument("--topics", help="draw the topics from this .jsonl (synth.py topics), not data/topics.json")
    s = sub.add_parser("topics", help="expand data/topics.json's subjects into specific topics, with a teacher")
    s.add_argument("--n", type=int, default=20000, help="topics to write")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="output .jsonl file")
    s.add_argument("--near_dup", type=float, default=0.7, help="Jaccard threshold of topics' word sets")
    s.add_argument("--subjects", type=int, help="expand only the first N subjects")
    teacher_arguments(s)
    c = sub.add_parser("cloze", help="a name-cloze set from held-out stories, for eval.py choice")
    c.add_argument("--n", type=int, default=500, help="records to write")
    c.add_argument("--seed", type=int, default=1, help="story seed: not the training data's (0)")
    c.add_argument("--choices", type=int, default=4, help="names to choose from, the right one included")
    c.add_argument("--out", required=True, help="output .jsonl file")
    r = sub.add_parser("report", help="quality statistics of a .jsonl file")
    r.add_argument("file")
    r.add_argument("--sample", type=int, default=None, help="verify only the first N exercises")
    r.add_argument("--unsafe_no_isolation", action="store_true",
                   help="run the generated code even without bubblewrap's isolation (it can touch your files)")
    args = p.parse_args(argv)
    if getattr(args, "n", 1) < 1:
        p.error(f"--n must be at least 1, got {args.n}")
    if getattr(args, "choices", 2) < 2:
        p.error(f"--choices must be at least 2, got {args.choices}")
    if getattr(args, "teacher", None) and not args.model:
        p.error("--teacher needs --model NAME (the model the endpoint serves)")
    if args.command == "topics" and not args.teacher:
        p.error("topics are written by a teacher: give --teacher URL --model NAME")
    if args.command == "topics" and args.subjects is not None and args.subjects < 1:
        p.error(f"--subjects must be at least 1, got {args.subjects}")
    if getattr(args, "topics", None) and not args.teacher:
        p.error("--topics is for teacher mode: give --teacher URL --model NAME too")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.command == "report":
        report(args.file, args.sample, unsafe_no_isolation=args.unsafe_no_isolation)
        return
    if args.command == "cloze":
        from synthdata.cloze import cloze_set
        write_jsonl(args.out, cloze_set(args.n, args.seed, args.choices))
        print(f"wrote {args.n} name-cloze records to {args.out}", file=sys.stderr)
        return
    start = time.time()
    if args.command == "topics":
        from synthdata.topics import generate_topics
        counts = generate_topics(args)
    elif getattr(args, "teacher", None):
        from synthdata.teacher import generate_with_teacher
        counts = generate_with_teacher(args.command, args)
    else:
        counts = generate_offline(args.command, args)
    seconds = time.time() - start
    counts["seconds"] = round(seconds, 1)
    print(json.dumps(counts), file=sys.stderr)
    if isinstance(counts.get("decontamination"), str) and "SKIPPED" in counts["decontamination"]:
        print("WARNING: " + counts["decontamination"], file=sys.stderr)


if __name__ == "__main__":
    main()
