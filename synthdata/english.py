"""The small part of English grammar the generators need: the lexicon, a/an, capitals, quotes.

Everything that decides how a word is spelled lives here, so the story code can think in events
("Mia lost the kite") and never in letters.
"""
import json
import os
from collections import defaultdict

LEXICON_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "lexicon.json")

PRONOUNS = {
    "female": {"subj": "she", "obj": "her", "poss": "her", "refl": "herself"},
    "male": {"subj": "he", "obj": "him", "poss": "his", "refl": "himself"},
    "neuter": {"subj": "it", "obj": "it", "poss": "its", "refl": "itself"},
}


class Lexicon:
    """data/lexicon.json with indexes: nouns by kind, verbs by frame, adjectives by class."""

    def __init__(self, path=LEXICON_PATH):
        if not os.path.exists(path):
            raise SystemExit(f"lexicon not found at {path}: the file ships with the repository, restore it with git")
        with open(path) as f:
            data = json.load(f)
        self.nouns = {n["word"]: n for n in data["nouns"]}
        self.verbs = {v["word"]: v for v in data["verbs"]}
        self.adjectives = {a["word"]: a for a in data["adjectives"]}
        self.a_before_vowel = tuple(data["articles"]["a_before_vowel_letter"])
        self.an_before_consonant = tuple(data["articles"]["an_before_consonant_letter"])
        self.kind = defaultdict(list)  # "thing" -> ["ball", "kite", ...]
        for n in data["nouns"]:
            self.kind[n["kind"]].append(n["word"])
            for tag in n.get("tags", []):
                self.kind[n["kind"] + ":" + tag].append(n["word"])
        self.adj_class = defaultdict(list)  # "thing" -> ["shiny", ...]
        for a in data["adjectives"]:
            for c in a["classes"]:
                self.adj_class[c].append(a["word"])
        self.frame = defaultdict(list)  # "obj" -> [(verb, frame), ...]
        for v in data["verbs"]:
            for fr in v["frames"]:
                self.frame[fr["type"]].append((v["word"], fr))
        # named groups that verb frames use for their objects ("@food")
        k = self.kind
        self.groups = {
            "@thing": k["thing"], "@toy": k["thing:toy"], "@food": k["food"], "@drink": k["food:drink"],
            "@animal": k["animal"], "@pet": k["animal:pet"], "@person": k["person"], "@family": k["person:family"],
            "@being": k["animal"] + k["person"], "@place": k["place"], "@spot": k["spot"],
            "@concrete": k["thing"] + k["food"] + k["animal"] + k["nature"] + k["spot"] + k["vehicle"],
        }

    def words(self):
        """Every lexicon word with all its forms, for coverage: {form: headword}."""
        forms = {}
        for n in self.nouns.values():
            forms[n["word"]] = n["word"]
            if "plural" in n:
                forms[n["plural"]] = n["word"]
        for v in self.verbs.values():
            for f in (v["word"], v["past"], v["third"], v["ing"]):
                forms[f] = v["word"]
        for a in self.adjectives:
            forms[a] = a
        return forms

    def expand(self, objects):
        """A frame's object list with @groups replaced by their nouns."""
        out = []
        for o in objects:
            out.extend(self.groups[o] if o.startswith("@") else [o])
        return out

    def article(self, phrase):
        """'a' or 'an' by sound, not by letter: an apple, a unicorn, an hour, a one."""
        w = phrase.lower()
        if w.startswith(self.an_before_consonant):
            return "an"
        if w[0] in "aeiou" and not w.startswith(self.a_before_vowel):
            return "an"
        return "a"

    def a(self, phrase):
        return f"{self.article(phrase)} {phrase}"


def capitalize(text):
    """Upper-case the first letter, looking past an opening quote."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text


def sentence(text):
    """A finished sentence: capital first letter and end punctuation."""
    text = capitalize(text.strip())
    if not text.endswith((".", "!", "?", '."', '!"', '?"')):
        text += "."
    return text


def quote(words, speaker, verb, where="after"):
    """Direct speech with its commas: '"Let's go," said Mia.' / 'Mia said, "Let's go."'.

    `words` is what is said, already a sentence (or a few) ending in . ! or ?. A statement's last
    period turns into a comma when the speech tag follows it. `where`: "before" ('Mia said, "..."'),
    "after" ('"...," Mia said.') or "inverted" ('"...," said Mia.'; never with a pronoun: "said she").
    """
    words = sentence(words)
    if where == "before":
        return f'{capitalize(speaker)} {verb}, "{words}"'
    if words.endswith("."):
        words = words[:-1] + ","
    if where == "inverted" and speaker not in ("she", "he", "it"):
        return f'"{words}" {verb} {speaker}.'
    return f'"{words}" {speaker} {verb}.'


def join_and(items):
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
