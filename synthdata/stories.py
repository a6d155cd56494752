"""TinyStories-like stories told from a tiny world model, with no language model.

TinyStories (Eldan & Li, 2023) asked GPT-3.5/4 for "a short story (3-5 paragraphs) which only uses very
simple words that a 3 year old child would likely understand", forcing one random verb, noun and adjective
from a ~1500-word vocabulary and a random subset of six features into each prompt. Those two constraints
are what made two million stories diverse. This file keeps both constraints and replaces the LLM with a
world model: a hero with a name and pronouns, a companion, a place, a thing, a spot where trouble happens,
a goal, an obstacle, attempts and an outcome that follows from the attempts. Sentences are realised from
that state with many wordings per event, so the same plot reads differently every time, and the
required words are placed in roles that suit them (a noun of kind "place" becomes the setting, a verb
with an "obj" frame gets one of the objects it takes, an adjective of class "thing" describes the thing).
"""
import random

from synthdata.english import Lexicon
from synthdata.plots import PLOTS, choose_plot
from synthdata.storyworld import Story, cast, ending, plan_words

FEATURES = ["Dialogue", "BadEnding", "MoralValue", "Twist", "Foreshadowing", "Conflict"]


class StoryGenerator:
    """Deterministic: record i of seed s is the same story on every machine and in every run."""

    def __init__(self, lexicon=None):
        self.lex = lexicon or Lexicon()
        lex = self.lex
        # the required words are drawn from those that have a role a story can give them
        self.verbs = sorted(v for v, e in lex.verbs.items() if e["frames"])
        self.nouns = sorted(lex.nouns)
        self.adjectives = sorted(lex.adjectives)

    def words_and_features(self, rng):
        features = [f for f in FEATURES if rng.random() < 0.35]
        return rng.choice(self.verbs), rng.choice(self.nouns), rng.choice(self.adjectives), features

    def story(self, seed, index):
        rng = random.Random(f"tinystories:{seed}:{index}")
        verb, noun, adjective, features = self.words_and_features(rng)
        st = Story(self.lex, rng, verb, noun, adjective, features)
        cast(st)
        plot = choose_plot(st)
        plan_words(st)
        PLOTS[plot](st)
        st.para()
        ending(st)
        text = st.text()
        if "Dialogue" in features and text.count('"') < 2:
            features = [x for x in features if x != "Dialogue"]  # a world with nobody to talk to
        return {
            "text": text,
            "words": {"verb": verb, "noun": noun, "adjective": adjective},
            "features": features,
            "summary": st.summary,
            "plot": plot,
            "characters": [{"name": c.name, "gender": c.gender, "kind": c.kind}
                           for c in (st.hero, st.friend, st.creature) if c is not None],
        }


def instruct_text(record):
    """TinyStories-Instruct layout: the constraints first, then the story that meets them."""
    w = record["words"]
    lines = []
    if record["features"]:
        lines.append("Features: " + ", ".join(record["features"]))
    lines.append(f"Words: {w['verb']}, {w['noun']}, {w['adjective']}")
    lines.append("Summary: " + record["summary"])
    lines.append("Story: " + record["text"])
    return "\n".join(lines)
