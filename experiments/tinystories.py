"""TinyStories: grammar first, consistency later. The toy (config/tinystories.py, or --config) is trained in
segments (init_from=resume between them), and at the end of each segment three measures are taken:

- grammar: the share of well-formed sentences in its stories (well_formed);
- consistency when sampling: prompted with a story opening that names a hero, does the continuation keep that
  hero (hero_test)? 13 of the 16 prompts use names the training stories never have, most of them in openings
  they never have either;
- consistency by likelihood: the name cloze (synth.py cloze, held-out stories) scored by eval.py choice.

Grammar and consistency are plotted against training time.

    python -m experiments tinystories
    python -m experiments tinystories --measure out-tinystories                  # the measures of any run
    python -m experiments tinystories --measure out-tinystories --prompts my.jsonl   # {"prompt", "hero"} lines
"""
import json
import re
import statistics
from collections import Counter
from pathlib import Path

from experiments.common import REPO, Results, checkpoint_iter, make, machine_line, pyplot, save_figure, short, \
    tokens_per_step, train, val_curve
from files import read_jsonl, write_jsonl
from synthdata.storyworld import BOYS, GIRLS, PET_NAMES

SENTENCE = re.compile(r"\S.*?(?:[.!?][\"']?(?=\s|$)|$)", re.S)
WORD = re.compile(r"[A-Za-z]+")
CAPITALIZED = re.compile(r"\b[A-Z][a-z]+\b")
FAMILY_WORDS = {"mom", "dad", "grandma", "grandpa", "mother", "father", "sister", "brother", "mommy", "daddy"}

# (prompt, hero): the first three use the data's openings and names; the rest names it never has, most of them
# in openings it never has either (the model has to copy a name it cannot have memorised)
HERO_PROMPTS = (
    ("Once upon a time, there was a little girl named Lily.", "Lily"),
    ("There once was a brave boy named Tom.", "Tom"),
    ("Once upon a time, there was a happy dog named Biscuit.", "Biscuit"),
    ("Once upon a time, there was a little girl named Beatrix.", "Beatrix"),
    ("There once was a curious boy named Gustavo.", "Gustavo"),
    ("Long ago, a kind girl called Matilda lived in a little town.", "Matilda"),
    ("Once upon a time, there was a playful cat named Clover.", "Clover"),
    ("Kwame was a little boy who lived near a big park.", "Kwame"),
    ("In a small town by the sea, there lived a boy called Tobias.", "Tobias"),
    ("Ingrid had a red ball that she loved very much.", "Ingrid"),
    ("It was a sunny day, and Oliver wanted to go outside.", "Oliver"),
    ("My friend Zara has a little garden behind her house.", "Zara"),
    ("Every night, a sleepy bear named Rosalind looked at the stars.", "Rosalind"),
    ("Sven and his mom went to the market one morning.", "Sven"),
    ("Once upon a time, there was a girl named Penelope who loved to sing.", "Penelope"),
    ("Hamid found a shiny key under his bed.", "Hamid"),
)

# 16 openings of our own each (none is the data's), with names the data has (Ben, Mia, Max) and with long names no
# story has (Theodore, Wilhelmina, Esperanza)
OWN_OPENINGS = {"own_listed": Path(__file__).with_name("hero_prompts_listed.jsonl"),
                "own_new": Path(__file__).with_name("hero_prompts_more.jsonl")}


# ----------------------------------------------------------------------------------------------------------
# The measures

def sentences(text):
    """The sentences of a sample, without a trailing unfinished one (where the sample ran out of tokens)."""
    found = [s.strip() for s in SENTENCE.findall(text.strip()) if s.strip()]
    if found and not re.search(r"[.!?][\"']?$", found[-1]):
        found.pop()
    return found


NAME = "<name>"  # every character's name, in the word pairs: "Kwame went" is as well formed as "Lily went"


def name_masked_words(text, names):
    return [NAME if w in names else w.lower() for w in WORD.findall(text)]


def well_formed(sentence, bigrams, names=()):
    """A grammar proxy: starts with a capital letter, ends with . ! or ?, has 2..40 words, and every pair of
    adjacent words, with the `names` read as NAME, is one that the training stories use (word salad fails that,
    a plain sentence passes)."""
    words = name_masked_words(sentence, names)
    first = sentence.lstrip("\"'")[:1]
    return (first.isupper() and 2 <= len(words) <= 40 and re.search(r"[.!?][\"']?$", sentence) is not None
            and all(pair in bigrams for pair in zip(words, words[1:])))


class StoryLexicon:
    """What the training stories contain: their words (lowercased), pairs of adjacent words, and the characters'
    names (family roles such as Mom, and "Aunt Mia", are not names here)."""

    def __init__(self, stories_path):
        self.words, self.bigrams, self.names = set(), set(), set()
        lowercase = set()  # words the stories write in lower case somewhere
        for record in read_jsonl(stories_path, ("text",), "story"):
            names = {c["name"] for c in record.get("characters", [])
                     if re.fullmatch(r"[A-Z][a-z]+", c["name"]) and c["name"].lower() not in FAMILY_WORDS}
            self.names |= names
            lowercase.update(re.findall(r"\b[a-z]+\b", record["text"]))
            for sentence in SENTENCE.findall(record["text"]):
                self.words.update(w.lower() for w in WORD.findall(sentence))
                words = name_masked_words(sentence, names)
                self.bigrams.update(zip(words, words[1:]))
        # a made-up name can be a word too ("There", "More"): then it is read as the word, or every sentence
        # that starts with it would bring in a character (the lists' names stay names: Daisy, Pepper)
        listed = set(GIRLS + BOYS + PET_NAMES)
        self.names = {n for n in self.names if n in listed or n.lower() not in lowercase}

    def names_in(self, text, also=()):
        """The names a text uses, in order: the stories' names (and `also`), and capitalized words the stories
        never use (names the model made up)."""
        return [w for w in CAPITALIZED.findall(text) if w in self.names or w in also or w.lower() not in self.words]

    def hero_of(self, prompt):
        names = self.names_in(prompt)
        if not names:
            raise SystemExit(f"no name in the prompt {prompt!r}: give its hero as \"hero\"")
        return names[0]


def judge(prompt, hero, continuation, lexicon):
    """Does the continuation keep the prompt's hero: name them at least twice more, and bring in at most one
    other named character? And which of its words are in no training story (and not in the prompt)?"""
    names = lexicon.names_in(continuation, also={hero})
    others = sorted(set(names) - {hero})
    prompt_words = {w.lower() for w in WORD.findall(prompt)}
    words = WORD.findall(continuation)
    return {"hero_mentions": names.count(hero), "other_names": others,
            "hero_kept": names.count(hero) >= 2 and len(others) <= 1, "words": len(words),
            "nonwords": [w for w in words if w.lower() not in lexicon.words and w.lower() not in prompt_words]}


def hero_test(out_dir, lexicon, prompts=HERO_PROMPTS, per_prompt=8, max_new_tokens=256, temperature=0.8, top_k=50,
              seed=1337):
    """One row per sample: the prompt, its hero, whether the training stories have that name, the continuation
    and judge()'s verdict. Each continuation runs to <|endoftext|> (the end of the story) or max_new_tokens."""
    import torch

    from generate import complete, load_model

    model, tokenizer = load_model(str(REPO / out_dir))
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for prompt, hero in prompts:
        for text in complete(model, tokenizer, prompt, max_new_tokens, per_prompt, temperature, top_k, 1.0, (),
                             generator):
            rows.append({"prompt": prompt, "hero": hero, "seen_name": hero in lexicon.names, "text": text,
                         **judge(prompt, hero, text, lexicon)})
    return rows


def summarize(rows, lexicon):
    """The rates over hero_test's rows; well-formed sentences counted in the continuations."""
    def kept(subset):
        return round(sum(r["hero_kept"] for r in subset) / max(1, len(subset)), 3)

    continuation_sentences = [(s, {r["hero"], *r["other_names"]}) for r in rows for s in sentences(r["text"])]
    n_words = sum(r["words"] for r in rows)
    nonwords = Counter(w.lower() for r in rows for w in r["nonwords"])
    # a capitalized non-word is nearly always a name (one the model made up, or a broken copy of the hero's); a
    # lowercase one is an invented word ("snowglop")
    invented_words = sum(w.islower() for r in rows for w in r["nonwords"])
    return {"hero_kept": kept(rows), "hero_kept_seen_names": kept([r for r in rows if r["seen_name"]]),
            "hero_kept_new_names": kept([r for r in rows if not r["seen_name"]]),
            "median_other_names": statistics.median(len(r["other_names"]) for r in rows),
            "nonword_share": round(sum(nonwords.values()) / max(1, n_words), 4),
            "invented_word_share": round(invented_words / max(1, n_words), 4),
            "nonwords": [w for w, _ in nonwords.most_common(10)],
            "well_formed_sentences": round(sum(well_formed(s, lexicon.bigrams, names)
                                               for s, names in continuation_sentences)
                                           / max(1, len(continuation_sentences)), 3),
            "samples": len(rows)}


def reference_scores(stories_path, lexicon):
    """The measures on stories of the data's kind that were not trained on: the first sentence as the prompt,
    the rest as the continuation. What a model that writes like its data would score."""
    rows = []
    for record in read_jsonl(stories_path, ("text", "characters"), "story"):
        first = SENTENCE.match(record["text"]).group()
        hero = record["characters"][0]["name"]
        rows.append({"hero": hero, "seen_name": True, "text": record["text"][len(first):],
                     **judge(first, hero, record["text"][len(first):], lexicon)})
    return summarize(rows, lexicon)


def cloze_accuracy(out_dir, cloze_path):
    from eval import read_choice_records, score_choices
    from generate import load_model

    model, tokenizer = load_model(str(REPO / out_dir))
    _, summary = score_choices(model, tokenizer, read_choice_records(cloze_path), batch_size=32)
    return summary


# real names that no list has, from one token to seven: the name copy's stand-ins for a story's hero
COPY_NAMES = ("Jo", "Ty", "Bo", "Lev", "Ugo", "Kwame", "Ingrid", "Soren", "Beatrix", "Aurelio", "Rosalind", "Penelope",
              "Matilda", "Gustavo", "Theodore", "Octavia", "Leopold", "Cornelius", "Wilhelmina", "Esperanza",
              "Bartholomew", "Genevieve", "Maximilian", "Evangeline", "Florentina", "Temperance")


def name_copy(out_dir, reference_path, n_stories=100):
    """Copying a name, teacher-forced: in held-out stories whose hero is renamed (the story's own name, then each
    of three COPY_NAMES), at every later mention of the hero given the name's first token, does the model's
    argmax write the rest of the name and then end it? Shares by the name's length in tokens (a name and the
    space before it) for the new names, and over all mentions of the story's own names and of the new ones."""
    import torch

    from generate import load_model

    model, tokenizer = load_model(str(REPO / out_dir))
    block_size = model.config.block_size
    copied = {}  # (own or new, length in tokens) -> [mentions, copied]
    stories = read_jsonl(reference_path, ("text", "characters"), "story")[:n_stories]
    for i, record in enumerate(stories):
        hero = record["characters"][0]["name"]
        for kind, name in (("own", hero), *(("new", COPY_NAMES[(3 * i + j) % len(COPY_NAMES)]) for j in range(3))):
            text = re.sub(rf"\b{re.escape(hero)}\b", name, record["text"])
            ids = tokenizer.encode(text)[:block_size]
            with torch.no_grad():
                predicted = model(torch.tensor([ids]))[0][0].argmax(-1).tolist()
            for mention in list(re.finditer(rf"\b{re.escape(name)}\b", text))[1:]:
                start = mention.start() - (text[mention.start() - 1:mention.start()] == " ")
                before, through = tokenizer.encode(text[:start]), tokenizer.encode(text[:mention.end()])
                if through[:len(before)] != before or len(through) >= len(ids):
                    continue  # the name is not a token boundary here, or past the window
                ok = all(predicted[p - 1] == ids[p] for p in range(len(before) + 1, len(through)))
                ok = ok and not tokenizer.decode([predicted[len(through) - 1]])[:1].isalpha()  # and it ends there
                counts = copied.setdefault((kind, min(len(through) - len(before), 6)), [0, 0])
                counts[0] += 1
                counts[1] += ok

    def share(keys):
        mentions, ok = (sum(copied[k][i] for k in keys) for i in (0, 1))
        return round(ok / mentions, 3) if mentions else None

    lengths = sorted(n for kind, n in copied if kind == "new")
    return {"own_names": share([k for k in copied if k[0] == "own"]),
            "new_names": share([k for k in copied if k[0] == "new"]),
            "new_names_by_tokens": {f"{n}{'+' if n == 6 else ''}": {"share": share([("new", n)]),
                                                                     "mentions": copied[("new", n)][0]}
                                    for n in lengths}}


def measure(out_dir, lexicon, cloze_path, prompts=HERO_PROMPTS, per_prompt=8):
    """Every measure of one checkpoint; the samples go to out_dir/hero_test*.jsonl."""
    rows = hero_test(out_dir, lexicon, prompts, per_prompt)
    write_jsonl(REPO / out_dir / "hero_test.jsonl", rows)
    own = {}
    for key, path in OWN_OPENINGS.items():
        own_rows = hero_test(out_dir, lexicon, read_prompts(path, lexicon), per_prompt)
        write_jsonl(REPO / out_dir / f"hero_test_{key}.jsonl", own_rows)
        own[f"hero_kept_{key}"] = summarize(own_rows, lexicon)["hero_kept"]
    cloze = cloze_accuracy(out_dir, cloze_path)
    return {**summarize(rows, lexicon), **own, "cloze_acc": cloze["acc"], "cloze_acc_ci95": cloze["acc_ci95"],
            "name_copy": name_copy(out_dir, Path(cloze_path).with_name("reference.jsonl")),
            "sample": rows[0]["prompt"] + rows[0]["text"],  # the same prompt at every stage
            "kept_sample": next((r["prompt"] + r["text"] for r in rows if r["hero_kept"]), None)}


# ----------------------------------------------------------------------------------------------------------
# The experiment

def read_prompts(path, lexicon):
    records = read_jsonl(path, ("prompt",), "prompt")
    return [(r["prompt"], r.get("hero") or lexicon.hero_of(r["prompt"])) for r in records]


def data_files(data):
    """Held-out stories of the data's kind (seed 1; the training stories are seed 0) and the name cloze made from
    them. The training data itself is the toy's, which train.py builds on first use."""
    make(f"{data}/reference.jsonl", "synth.py", "tinystories", "--n", 200, "--seed", 1,
         "--out", f"{data}/reference.jsonl")
    make(f"{data}/cloze.jsonl", "synth.py", "cloze", "--n", 300, "--seed", 1, "--out", f"{data}/cloze.jsonl")


def run(args):
    data, out = args.data_dir, args.out_dir
    if args.measure:
        data_files(data)
        lexicon = StoryLexicon(REPO / data / "stories.jsonl")
        prompts = read_prompts(args.prompts, lexicon) if args.prompts else HERO_PROMPTS
        print(json.dumps(measure(args.measure, lexicon, REPO / data / "cloze.jsonl", prompts, args.per_prompt)))
        return
    segment_ends = [int(s) for s in args.sample_at.split(",")]
    settings = {"config": args.config, "segments": segment_ends, "hero_prompts": len(HERO_PROMPTS),
                "per_prompt": args.per_prompt, "sample_temperature": 0.8, "sample_top_k": 50, "max_new_tokens": 256,
                "cloze": f"{data}/cloze.jsonl (300 records, seed 1)", "out_dir": out, "data_dir": data}
    results = Results("tinystories", settings, args.results_dir)
    if checkpoint_iter(out) is None:  # training from scratch: the measures in the results file are another run's
        for key in ("checkpoints", "reference", "curve", "tokens_per_step"):
            results.pop(key, None)
        results["seconds"] = {}
    with results.timed("data"):
        data_files(data)
    if args.data_only:
        return
    train_settings = {"data_dir": data, "eval_interval": min(segment_ends), "num_samples": 0}
    results["settings"]["train"] = train_settings
    checkpoints = results.setdefault("checkpoints", {})
    lexicon = None
    for end in segment_ends:
        with results.timed("train"):
            train(out, end, train_settings, config=args.config)
        lexicon = lexicon or StoryLexicon(REPO / data / "stories.jsonl")  # there once train.py has built the data
        if "reference" not in results:
            results["reference"] = reference_scores(REPO / data / "reference.jsonl", lexicon)
        if str(end) not in checkpoints:
            with results.timed("measure"):
                checkpoints[str(end)] = measure(out, lexicon, REPO / data / "cloze.jsonl", per_prompt=args.per_prompt)
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
    minutes = {it: s / 60 for it, s, _ in results["curve"]}
    points = sorted((int(k), v) for k, v in results["checkpoints"].items() if int(k) in minutes)
    x = [minutes[it] for it, _ in points]
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    for key, label, style in (("well_formed_sentences", "grammar: well-formed sentences", "o-"),
                              ("hero_kept", "hero kept: the 16 test openings (13 new names)", "s-"),
                              ("hero_kept_own_listed", "hero kept: 16 own openings, the data's names", "s--"),
                              ("cloze_acc", "consistency: name cloze accuracy", "^-")):
        ax.plot(x, [c[key] for _, c in points], style, label=label)
    ax.axhline(0.25, color="grey", lw=0.8, ls=":")
    ax.annotate("cloze chance", (x[-1], 0.25), textcoords="offset points", xytext=(-60, 4), fontsize=8)
    for (it, _), xi in zip(points, x):
        ax.annotate(f"{it}", (xi, 0.02), fontsize=7, ha="center")
    m = results["machine"]
    where = m["gpu"] or f"{m['cpu']}, {m['cores']} cores"
    ax.set_xlabel(f"training time, minutes ({where}); the numbers are steps")
    ax.set_ylabel("share")
    ax.set_ylim(0, 1)
    ax.set_title("TinyStories toy: grammar first, consistency later", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below: no line hidden
    ax.grid(alpha=0.3)
    save_figure(fig, results, "tinystories.png")


def lowercase(measures):
    """The invented (lowercase) words' share, in brackets after all non-words', where it was measured."""
    return f" ({measures['invented_word_share']:.1%})" if "invented_word_share" in measures else ""


def copied(measures):
    """name_copy's two shares; "-" in runs from before it was measured."""
    copy = measures.get("name_copy")
    return f"{copy['own_names']:.0%}, {copy['new_names']:.0%}" if copy else "-"


def report(results):
    curve = {it: (s, loss) for it, s, loss in results.get("curve", [])}  # there once the run has ended
    tokens_per_step = results.get("tokens_per_step", float("nan"))
    lines = ["| step | tokens | training time | val loss | well-formed sentences | hero kept: all (data's names, "
             "new names) | own openings: data's names, new names | other names (median) | non-words (lowercase) | "
             "name cloze | name copied: data's kind, new | sample |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for end, c in sorted(results["checkpoints"].items(), key=lambda item: int(item[0])):
        seconds, loss = curve.get(int(end), (float("nan"), float("nan")))
        lines.append(f"| {end} | {int(end) * tokens_per_step / 1e6:.2f}M | {seconds / 60:.1f} min | {loss:.3f} | "
                     f"{c['well_formed_sentences']:.0%} | {c['hero_kept']:.0%} ({c['hero_kept_seen_names']:.0%}, "
                     f"{c['hero_kept_new_names']:.0%}) | "
                     f"{c['hero_kept_own_listed']:.0%}, {c['hero_kept_own_new']:.0%} | "
                     f"{c['median_other_names']:g} | {c['nonword_share']:.1%}{lowercase(c)} | {c['cloze_acc']:.0%} | "
                     f"{copied(c)} | {short(c['sample'])} |")
    ref = results["reference"]
    lines.append(f"| synth.py stories (not trained on) | | | | {ref['well_formed_sentences']:.0%} | "
                 f"{ref['hero_kept']:.0%} | | {ref['median_other_names']:g} | {ref['nonword_share']:.1%}{lowercase(ref)} "
                 "| | | |")
    return "\n".join(lines + ["", machine_line(results)])
