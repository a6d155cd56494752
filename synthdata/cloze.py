"""A name cloze: does a story model remember who its story is about?

Each record is a story cut just before a later mention of one of its named characters; the choices are that
character's name, the story's other names, and common names of the same kind (girls' names for a girl, pets'
names for a pet), in the multiple-choice format eval.py choice scores (lm-evaluation-harness's: the context,
the choices, the label). A model that only knows which names are frequent scores 1 / choices; one that copies
any name from the context scores about 1 / (names in the story); only a model that follows who does what
finds the right one. The stories come from a seed the training data does not use, so none was trained on.
"""
import random
import re

from synthdata.stories import StoryGenerator
from synthdata.storyworld import BOYS, GIRLS, PET_NAMES

NAMES_BY_KIND = {"female": GIRLS, "male": BOYS, "pet": PET_NAMES}


def name_kind(name):
    """Which list a name comes from ("Aunt Mia", "Mom" and "the owl" come from none)."""
    return next((kind for kind, names in NAMES_BY_KIND.items() if name in names), None)


def later_mentions(text, name):
    """Where the name appears after its first mention, as a word after a space (a cut there leaves the space to
    the choice, as the harness's target delimiter does)."""
    starts = [m.start() for m in re.finditer(rf"(?<= )\b{re.escape(name)}\b", text)]
    first = re.search(rf"\b{re.escape(name)}\b", text)
    return [s for s in starts if first and s > first.start()]


def cloze_record(story, rng, n_choices):
    """One cloze item from a story record (synthdata.stories), or None when no character is named twice."""
    names = [c["name"] for c in story["characters"] if name_kind(c["name"])]
    spots = [(name, start) for name in names for start in later_mentions(story["text"], name)]
    if not spots:
        return None
    name, start = rng.choice(spots)
    others = [n for n in names if n != name]
    pool = [n for n in NAMES_BY_KIND[name_kind(name)] if n not in names]
    choices = [name] + others[:n_choices - 1] + rng.sample(pool, max(0, n_choices - 1 - len(others)))
    rng.shuffle(choices)
    return {"context": story["text"][:start].rstrip(" "), "choices": choices, "label": choices.index(name),
            "name": name, "story_names": names}


def cloze_set(n, seed, n_choices=4):
    """n records from stories of `seed`, deterministically; record i's story index is kept in `story`."""
    generator = StoryGenerator()
    rng = random.Random(f"cloze:{seed}")
    records, index = [], 0
    while len(records) < n:
        record = cloze_record(generator.story(seed, index), rng, n_choices)
        if record:
            records.append({**record, "story": index})
        index += 1
    return records
