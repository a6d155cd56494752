"""TinyStories: the toy (config/tinystories.py) trained in segments (init_from=resume between them), with stories
sampled at the end of each segment and two automatic measures per checkpoint: how many sentences are
well-formed (a grammar proxy) and how often the story's first named character is still its main character in
the second half (a consistency proxy). Val loss is plotted against training time.

    python -m experiments tinystories
"""
import json
import re
from collections import Counter

from experiments.common import REPO, Results, make, machine_line, pyplot, save_figure, short, tokens_per_step, \
    train, val_curve

STORY_PROMPTS = ("Once upon a time", "Long ago, a", "There once was", "One day, a")  # the data's usual openings
FAMILY_WORDS = {"mom", "dad", "grandma", "grandpa", "mother", "father", "sister", "brother", "mommy", "daddy"}
SENTENCE = re.compile(r"\S.*?(?:[.!?][\"']?(?=\s|$)|$)", re.S)
WORD = re.compile(r"[A-Za-z]+")


def sentences(text):
    """The sentences of a sample, without a trailing unfinished one (where the sample ran out of tokens)."""
    found = [s.strip() for s in SENTENCE.findall(text.strip()) if s.strip()]
    if found and not re.search(r"[.!?][\"']?$", found[-1]):
        found.pop()
    return found


def well_formed(sentence, bigrams):
    """A grammar proxy: starts with a capital letter, ends with . ! or ?, has 2..40 words, and every pair of
    adjacent words is one that the training stories use (word salad fails that, a plain sentence passes)."""
    words = [w.lower() for w in WORD.findall(sentence)]
    first = sentence.lstrip("\"'")[:1]
    return (first.isupper() and 2 <= len(words) <= 40 and re.search(r"[.!?][\"']?$", sentence) is not None
            and all(pair in bigrams for pair in zip(words, words[1:])))


def hero_kept(text, names):
    """A consistency proxy: the first named character is named at least three times, again in the second half
    of the story, and more than anyone else. A story that names nobody does not keep a hero."""
    mentions = [(m.start(), m.group()) for m in WORD.finditer(text) if m.group() in names]
    if not mentions:
        return False
    hero = mentions[0][1]
    counts = Counter(name for _, name in mentions)
    again_late = any(name == hero and pos >= len(text) / 2 for pos, name in mentions)
    return again_late and counts[hero] >= 3 and counts[hero] == max(counts.values())


def story_scores(texts, bigrams, names):
    all_sentences = [s for t in texts for s in sentences(t)]
    good = sum(well_formed(s, bigrams) for s in all_sentences)
    return {"well_formed_sentences": round(good / max(1, len(all_sentences)), 3), "sentences": len(all_sentences),
            "hero_kept": round(sum(hero_kept(t, names) for t in texts) / max(1, len(texts)), 3),
            "samples": len(texts)}


def story_lexicon(stories_path):
    """(every pair of adjacent words the training stories use, lowercased; the characters' names, family roles
    left out)."""
    bigrams, names = set(), set()
    with open(stories_path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            for sentence in sentences(record["text"]):
                words = [w.lower() for w in WORD.findall(sentence)]
                bigrams.update(zip(words, words[1:]))
            names.update(c["name"] for c in record.get("characters", []) if c["name"].lower() not in FAMILY_WORDS)
    return bigrams, names


def sample_stories(out_dir, per_prompt, max_new_tokens, seed):
    import torch

    from generate import complete, load_model

    model, tokenizer = load_model(str(REPO / out_dir))
    generator = torch.Generator().manual_seed(seed)
    return [prompt + text for prompt in STORY_PROMPTS
            for text in complete(model, tokenizer, prompt, max_new_tokens, per_prompt, 0.8, 200, 1.0, (), generator)]


def run(args):
    data, out = args.data_dir, args.out_dir
    segment_ends = sorted({max(1, round(args.max_iters * float(f))) for f in args.sample_at.split(",")})
    settings = {"max_iters": args.max_iters, "segments": segment_ends, "n_stories": args.n_stories,
                "vocab_size": args.vocab_size, "samples_per_checkpoint": args.per_prompt * len(STORY_PROMPTS),
                "sample_temperature": 0.8, "sample_top_k": 200, "max_new_tokens": args.max_new_tokens,
                "config": "config/tinystories.py", "out_dir": out, "data_dir": data}
    results = Results("tinystories", settings, args.results_dir)
    with results.timed("data"):
        make(f"{data}/stories.jsonl", "synth.py", "tinystories", "--n", args.n_stories, "--seed", 0,
             "--out", f"{data}/stories.jsonl")
        make(f"{data}/tok.tiktoken", "data/tokenizer.py", "train", "--input", f"{data}/stories.jsonl",
             "--vocab_size", args.vocab_size, "--out", f"{data}/tok.tiktoken")
        make(f"{data}/meta.json", "data/prepare.py", "--input", f"{data}/stories.jsonl", "--tokenizer",
             f"{data}/tok.tiktoken", "--out_dir", data)
        make(f"{data}/reference.jsonl", "synth.py", "tinystories", "--n", 200, "--seed", 1,
             "--out", f"{data}/reference.jsonl")
    if args.data_only:
        return
    bigrams, names = story_lexicon(REPO / data / "stories.jsonl")
    if "reference" not in results:  # the measures on stories of the data's kind, not trained on: what good reads as
        with open(REPO / data / "reference.jsonl", encoding="utf-8") as f:
            results["reference"] = story_scores([json.loads(line)["text"] for line in f], bigrams, names)
    train_settings = {"data_dir": data, "lr_decay_iters": args.max_iters, "warmup_iters": min(50, args.max_iters // 10),
                      "eval_interval": max(1, args.max_iters // 12), "num_samples": 0}
    results["settings"]["train"] = train_settings
    checkpoints = results.setdefault("checkpoints", {})
    for end in segment_ends:
        with results.timed("train"):
            train(out, end, train_settings, config="config/tinystories.py")
        if str(end) not in checkpoints:
            with results.timed("sample"):
                texts = sample_stories(out, args.per_prompt, args.max_new_tokens, seed=1337)
            checkpoints[str(end)] = {**story_scores(texts, bigrams, names), "texts": texts}
            results.save()
    results["curve"] = val_curve(out)
    results["tokens_per_step"] = tokens_per_step(out)
    results.save()
    plot(results)
    print(report(results))


def plot(results):
    plt = pyplot()
    if plt is None:
        return
    iters, seconds, loss = zip(*results["curve"])
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    ax.plot([s / 60 for s in seconds], loss, marker=".", color="tab:blue")
    for end in results["checkpoints"]:
        i = iters.index(int(end)) if int(end) in iters else None
        if i is not None:
            ax.annotate(f"step {end}", (seconds[i] / 60, loss[i]), textcoords="offset points", xytext=(4, 6),
                        fontsize=8)
    m = results["machine"]
    where = m["gpu"] or f"CPU, torch threads: {m.get('threads', '?')}"
    ax.set_xlabel(f"training time, minutes ({where})")
    ax.set_ylabel("val loss (nats/token, log scale)")
    ax.set_yscale("log")
    ax.set_title("TinyStories toy: val loss against training time", fontsize=10)
    ax.grid(alpha=0.3)
    save_figure(fig, results, "tinystories_val_loss.png")


def report(results):
    curve = {it: (s, loss) for it, s, loss in results["curve"]}
    tokens_per_step = results["tokens_per_step"]
    lines = ["| step | tokens seen | training time | val loss | well-formed sentences | hero kept | sample |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for end, c in sorted(results["checkpoints"].items(), key=lambda item: int(item[0])):
        seconds, loss = curve.get(int(end), (float("nan"), float("nan")))
        lines.append(f"| {end} | {int(end) * tokens_per_step / 1e6:.2f}M | {seconds / 60:.1f} min | {loss:.3f} | "
                     f"{c['well_formed_sentences']:.0%} | {c['hero_kept']:.0%} | {short(c['texts'][0])} |")
    ref = results["reference"]
    lines.append(f"| synth.py stories (not trained on) | | | | {ref['well_formed_sentences']:.0%} | "
                 f"{ref['hero_kept']:.0%} | |")
    return "\n".join(lines + ["", machine_line(results)])
