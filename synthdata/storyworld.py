"""The world a story is told from: its characters, how they are referred to, who and what a story is about
(casting), where the required words go, and the beats every story has (the opening, the ending).

synthdata/plots.py tells the plots with these pieces; synthdata/stories.py puts a story together. The names,
homes, lessons and other word lists are data: synthdata/stories_words.json.
"""
import ast
import json
import re
from pathlib import Path

from files import read_json
from synthdata.english import LEXICON_PATH, PRONOUNS, capitalize, join_and, quote, sentence

WORDS = read_json(Path(__file__).with_name("stories_words.json"))
GIRLS, BOYS, PET_NAMES = WORDS["girls"], WORDS["boys"], WORDS["pet_names"]
FAMILY_NAMES = {"mom": "Mom", "dad": "Dad", "grandma": "Grandma", "grandpa": "Grandpa", "mother": "Mother",
                "father": "Father", "grandmother": "Grandma", "grandfather": "Grandpa"}
SIBLINGS = {"sister": "female", "brother": "male", "cousin": None, "twin": None}
AUNTS = {"aunt": "female", "uncle": "male"}
# what each kind of animal body part belongs to, so "the owl's beak" never becomes "the fish's beak"
PART_OWNERS = WORDS["part_owners"]
# how a child meets a body part in a story, for parts that cannot simply be hurt
BODY_ACTIONS = WORDS["body_actions"]
SENSE = WORDS["sense"]  # how a hero meets weather: hears the thunder, feels the wind
HOMES_CHILD, HOMES_ANIMAL = WORDS["homes_child"], WORDS["homes_animal"]
HERO_ADJS = WORDS["hero_adjectives"]
LESSONS = WORDS["lessons"]  # the moral of each kind of plot, in a few wordings


# Most names are made up, a new one in nearly every story. A model cannot recall such a name: it has to copy it
# from earlier in the story, piece by piece (a made-up name is several BPE tokens), and that is what lets it keep
# a hero whose name it has never seen. With list names only, it learns to copy a name's first token and to
# complete the rest from memory; three in four made up kept heroes more often than half. A model copies names
# only as long, and made of such pieces, as the ones it was taught on: so these run from two syllables to six,
# and start and end in many ways (Quiondar, Faldaria, Umbexart). Against two or three plain syllables, this made
# the long preset keep heroes with real names it never saw 73% of the time instead of 20% (experiments/README.md).
INVENTED_SHARE = 0.75
ONSETS, MIDDLES = WORDS["name_onsets"], WORDS["name_middles"]
VOWELS, ENDINGS = WORDS["name_vowels"], WORDS["name_endings"]


def story_words():
    """Every lowercase word the stories can spell: the word lists, the lexicon, and the string literals (not the
    docstrings) of the modules that write stories."""
    words = set(re.findall(r"[a-z]+", json.dumps([WORDS, read_json(LEXICON_PATH)]).lower()))
    for module in ("english.py", "plots.py", "stories.py", "storyworld.py"):
        tree = ast.parse(Path(__file__).with_name(module).read_text())
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        words.update(word for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
                     and id(node) not in docstrings for word in re.findall(r"[a-z]+", node.value.lower()))
    return words


NOT_NAMES = story_words()  # so that no made-up name reads as a word: "There", "Stone"


def invented_name(rng):
    """A pronounceable name of two to six syllables that no list has and that is no word: Spiki, Quiondar,
    Faldaria, Yeshiastena."""
    while True:
        middle = "".join(rng.choice(MIDDLES) + rng.choice(VOWELS) for _ in range(rng.choice([1, 1, 2, 2, 3, 4])))
        name = rng.choice(ONSETS) + rng.choice(VOWELS) + middle + rng.choice(ENDINGS)
        if name not in NOT_NAMES:
            return capitalize(name)


def pick_name(rng, names, avoid=None):
    """A made-up name (INVENTED_SHARE of the time) or one from the list; never `avoid` (a friend is never the
    hero's namesake)."""
    while True:
        name = invented_name(rng) if rng.random() < INVENTED_SHARE else rng.choice(names)
        if name != avoid:
            return name


class Character:
    """Someone the story talks about: how it names them and which pronouns they take."""

    def __init__(self, name, gender, kind, talks=True):
        self.name, self.gender, self.kind, self.talks = name, gender, kind, talks

    def pro(self, case):
        return PRONOUNS[self.gender][case]


class Story:
    """One story: the world state, the text so far, and who was mentioned last (for pronouns)."""

    def __init__(self, lex, rng, verb, noun, adjective, features):
        self.lex, self.rng = lex, rng
        self.verb, self.noun, self.adj = lex.verbs[verb], lex.nouns[noun], lex.adjectives[adjective]
        self.features = set(features)
        self.paragraphs = [[]]
        self.last = None  # the character a pronoun would point to
        self.plan_slots = {}  # beat -> sentence makers that place the required words
        self.hero = self.friend = self.creature = None
        self.place = self.thing = self.spot = self.food = self.time = None
        self.adj_for = {}  # role ("thing", "hero", ...) -> adjective used when that role is introduced
        self.summary = ""
        self.time_said = False
        self.lesson = "kind"
        self.good = "BadEnding" not in self.features

    # ---- text ---------------------------------------------------------------------------------------------
    def say(self, *texts):
        for text in texts:
            if text:
                self.paragraphs[-1].append(sentence(text))

    def para(self):
        if self.paragraphs[-1]:
            self.paragraphs.append([])
        self.last = None  # a new paragraph names its people again

    def text(self):
        return "\n\n".join(" ".join(p) for p in self.paragraphs if p)

    def pick(self, *options):
        """One of the options; options that mention people are lambdas, so only the chosen one is said
        (saying a name or a pronoun moves `last`, and that must follow the text that is kept)."""
        choice = self.rng.choice(options)
        return choice() if callable(choice) else choice

    def chance(self, p):
        return self.rng.random() < p

    # ---- references: a name, or a pronoun when it can only mean the last one named -------------------------
    def as_subject(self, c):
        word = c.pro("subj") if c is self.last and self.chance(0.6) else c.name
        self.last = c
        return word

    def as_object(self, c):
        word = c.pro("obj") if c is self.last and self.chance(0.6) else c.name
        self.last = c
        return word

    def possessive(self, c):
        word = c.pro("poss") if c is self.last else c.name + "'s"
        self.last = c
        return word

    def by_name(self, c, cap=False):
        """The name itself (never a pronoun), e.g. right after another character of the same gender."""
        self.last = c
        return capitalize(c.name) if cap else c.name

    def a(self, phrase):
        return self.lex.a(phrase)

    def np(self, noun, det="a", adj=None):
        """A noun phrase: 'a red kite', 'some milk', 'the sun'."""
        entry = self.lex.nouns[noun]
        words = f"{adj} {noun}" if adj else noun
        if det == "a":
            if entry.get("unique"):
                return "the " + words
            return ("some " + words) if entry.get("mass") else self.a(words)
        return f"{det} {words}"

    def talk(self, c, words, indirect=None, where=None):
        """Direct speech when the story has dialogue; otherwise the narrator's version, if any."""
        if "Dialogue" not in self.features or not c.talks:
            if indirect:
                self.say(indirect)
            return
        end = words.rstrip()[-1]
        verb = ("asked" if end == "?" else self.pick("shouted", "cried", "called", "yelled") if end == "!"
                else self.pick("said", "said", "said", "whispered", "replied"))
        where = where or self.pick("after", "inverted", "inverted", "before")
        self.say(quote(words, self.as_subject(c), verb, where))

    # ---- the required words ------------------------------------------------------------------------------
    def slot(self, beat):
        """Say the sentences planned for this beat (they carry the required verb, noun or adjective)."""
        for make in self.plan_slots.pop(beat, []):
            make()

    def plan(self, beat, make):
        self.plan_slots.setdefault(beat, []).append(make)

    def uses(self, word_forms):
        body = " " + self.text().lower().replace("\n", " ") + " "
        for ch in '.,!?"':
            body = body.replace(ch, " ")
        return any(f" {w} " in body for w in word_forms)


# ---- casting: who and what the story is about ---------------------------------------------------------------
def cast(st):
    lex, rng, noun = st.lex, st.rng, st.noun
    kind = noun["kind"]
    # the hero: a child, or an animal (always an animal when the required noun is a part only animals have)
    if (kind == "animal" and st.chance(0.5)) or (kind != "animal" and st.chance(0.3)):
        species = noun["word"] if kind == "animal" else rng.choice(lex.kind["animal"])
        st.hero = Character(pick_name(rng, PET_NAMES), rng.choice(["female", "male"]), species)
    else:
        gender = rng.choice(["female", "male"])
        st.hero = Character(pick_name(rng, GIRLS if gender == "female" else BOYS), gender,
                            "girl" if gender == "female" else "boy")
    st.friend = make_friend(st, noun["word"] if kind == "person" else None)
    if kind == "animal" and st.hero.kind != noun["word"]:
        if "pet" in noun.get("tags", []) and st.chance(0.5) and st.friend.kind != noun["word"]:
            st.friend = make_pet(st, noun["word"])
        else:
            st.creature = Character("the " + noun["word"], "neuter", noun["word"])
    if kind == "part":
        owner = rng.choice(PART_OWNERS.get(noun["word"], ["dog"]))
        st.creature = Character("the " + owner, "neuter", owner)
    # the place, the thing and the spot where the trouble happens, compatible with one another
    st.spot = noun["word"] if kind == "spot" else None
    if kind == "place":
        st.place = noun["word"]
    else:
        indoor = lex.nouns[st.spot]["indoor"] if st.spot else st.chance(0.25)
        st.place = rng.choice([p for p in lex.kind["place"] if lex.nouns[p]["indoor"] == indoor])
    if st.spot is None:
        indoor = lex.nouns[st.place]["indoor"]
        st.spot = rng.choice([s for s in lex.kind["spot"] if lex.nouns[s]["indoor"] == indoor])
    st.thing = noun["word"] if kind == "thing" else rng.choice(lex.kind["thing"])
    st.food = noun["word"] if kind == "food" else rng.choice([f for f in lex.kind["food"] if not lex.nouns[f].get("mass")])
    st.time = noun["word"] if kind == "time" else rng.choice(["morning", "afternoon", "day", "day", "evening"])


def make_friend(st, role):
    rng = st.rng
    if role is None:
        role = rng.choice(["friend", "friend", "friend", "family", "family", "pet"])
        if role == "family":
            role = rng.choice(["mom", "dad", "grandma", "grandpa", "sister", "brother"])
    if role == "pet":
        return make_pet(st, rng.choice(st.lex.kind["animal:pet"]))
    if role in FAMILY_NAMES:
        gender = st.lex.nouns[role]["gender"]
        return Character(FAMILY_NAMES[role], gender, role)
    if role in SIBLINGS or role in AUNTS or role in ("friend", "classmate", "neighbor", "kid", "child", "boy", "girl",
                                                     "baby"):
        gender = SIBLINGS.get(role) or AUNTS.get(role) or st.lex.nouns[role].get("gender") or rng.choice(
            ["female", "male"])
        name = pick_name(rng, GIRLS if gender == "female" else BOYS, avoid=st.hero.name)
        if role in AUNTS:
            name = f"{capitalize(role)} {name}"
        if st.hero.kind not in ("girl", "boy") and role in ("friend", "classmate", "neighbor"):
            species = rng.choice(st.lex.kind["animal"])  # an animal hero's friend is an animal too
            return Character(pick_name(rng, PET_NAMES, avoid=st.hero.name), gender, species)
        return Character(name, gender, role)
    gender = st.lex.nouns[role].get("gender") or rng.choice(["female", "male"])
    return Character("the " + role, gender, role)


def make_pet(st, species):
    name = pick_name(st.rng, PET_NAMES, avoid=st.hero.name)
    # a child's pet listens but does not talk; in a world of animals everybody talks
    return Character(name, st.rng.choice(["female", "male"]), species, talks=st.hero.kind not in ("girl", "boy"))


def introduce_friend(st):
    """First mention of the companion: 'her dog Max', 'her friend Tom', 'Grandpa', 'a kind farmer'."""
    f, h = st.friend, st.hero
    p = st.possessive(h)
    if f.kind in FAMILY_NAMES:
        words = f"{p} {f.kind}" if st.chance(0.5) else f.name
    elif f.name.startswith("the "):
        words = st.a(st.pick("kind", "friendly", "nice", "tall") + " " + f.kind)
    elif f.kind in SIBLINGS:
        words = f"{p} {st.pick('big', 'little')} {f.kind} {f.name}"
    elif f.kind in ("girl", "boy", "friend", "classmate", "neighbor", "kid", "child"):
        words = f"{p} {'best friend' if st.chance(0.4) else 'friend'} {f.name}"
    elif not f.talks:
        words = f"{p} {f.kind} {f.name}"
    else:
        words = f"{st.a(f.kind)} named {f.name}"
    st.last = f
    return words


# ---- placing the required words -----------------------------------------------------------------------------
def plan_words(st):
    """Decide where the required adjective and verb go. The noun already has a role from cast()."""
    rng = st.rng
    adj, classes = st.adj["word"], st.adj["classes"]
    choices = []
    if "feel" in classes:
        choices.append("feel")
    if "day" in classes:
        choices.append("day")
    if "being" in classes and not st.adj.get("pred"):
        choices.append("hero")
    if "thing" in classes:
        choices.append("thing")
    if "food" in classes:
        choices.append("food")
    if "place" in classes and not st.adj.get("pred"):
        choices.append("place")
    role = rng.choice(choices or ["feel"])
    if role == "feel":
        mood = st.adj.get("mood", "neutral")
        beat = "ending" if mood == "good" and st.good else "problem" if mood in ("bad", "neutral") else "intro"
        st.plan(beat, lambda: st.say(f"{st.as_subject(st.hero)} {feel_phrase(st, adj)}"))
    elif role == "food":
        st.plan("ending", lambda: say_food(st, adj))
    elif st.adj.get("attr_only") or st.chance(0.6):
        st.adj_for[role] = adj
    else:
        st.plan("intro" if role in ("hero", "day", "place") else "setup", lambda: say_predicate(st, role, adj))
    if st.noun["kind"] in ("nature", "vehicle", "body", "part", "abstract", "food"):
        beat = {"body": "problem", "abstract": "ending", "food": "ending"}.get(st.noun["kind"], "setup")
        st.plan(beat, lambda: say_noun(st))
    plan_verb(st)


NOT_FELT = {"asleep": "fell asleep", "awake": "was wide awake", "alone": "was alone", "ready": "was ready",
            "sure": "was sure", "safe": "was safe", "full": "was full"}


def feel_phrase(st, adj):
    """'felt happy', but 'fell asleep' and 'was alone': some states are not feelings."""
    return NOT_FELT.get(adj) or f"felt {very(st, adj)}{adj}"


def very(st, adj):
    entry = st.lex.adjectives[adj]
    return "very " if not entry.get("no_very") and st.chance(0.3) else ""


def say_predicate(st, role, adj):
    v = very(st, adj)
    if role == "hero":
        st.say(f"{st.as_subject(st.hero)} was {v}{adj}")
    elif role == "thing":
        st.say(f"The {st.thing} was {v}{adj}")
    elif role == "place":
        st.say(st.pick(f"The {st.place} was {v}{adj} that day", lambda: f"It was {v}{adj} {at_place(st)}"))
    else:
        st.say(f"It was {st.a(adj + ' ' + ('day' if st.time in ('day', 'birthday') else st.time))}")


def say_food(st, adj=None):
    food = st.food
    entry = st.lex.nouns[food]
    who = join_and([st.as_subject(st.hero), st.friend.name]) if st.chance(0.6) else st.as_subject(st.hero)
    verb = "drank" if "drink" in entry.get("tags", []) else "ate"
    st.say(f"{who} {verb} {st.np(food, adj=adj)} {st.pick('together', 'under a tree', 'for a snack', 'at home', '')}")
    if adj and adj not in st.text():
        st.say(f"It was {very(st, adj)}{adj}")


def say_noun(st):
    """A sentence for nouns that are not the hero, the companion, the place, the thing or the spot."""
    noun, kind, h = st.noun["word"], st.noun["kind"], st.hero
    if kind == "food":
        if st.noun["word"] not in st.text():
            say_food(st)
    elif kind in ("nature", "vehicle"):
        if st.noun.get("unique") or st.noun.get("mass"):
            st.say(f"{st.as_subject(h)} could {SENSE.get(noun, 'see')} the {noun}")
        else:
            st.say(st.pick(lambda: f"On the way, {st.as_subject(h)} saw {st.np(noun)}",
                           lambda: f"{st.as_subject(h)} stopped to look at {st.np(noun)}",
                           lambda: f"There was {st.np(noun)} near the {st.place}"))
    elif kind == "body":
        if "hurt" in st.noun.get("tags", []):
            st.say(f"{st.as_subject(h)} {st.pick('bumped', 'hurt', 'scraped')} {h.pro('poss')} {noun}")
        else:
            st.say(f"{st.as_subject(h)} {BODY_ACTIONS[noun].format(p=h.pro('poss'))}")
    elif kind == "part":
        c = st.creature
        st.say(f"{capitalize(c.name)} had {st.np(noun, adj=st.pick('soft', 'little', 'long', 'pretty', 'strong'))}")
    elif kind == "abstract":
        use = st.lex.verbs[st.noun["use"]]["past"]
        if noun == "help":
            st.say(f"{st.as_subject(h)} asked {st.friend.name} for help")
        elif st.noun["use"] == "give":
            st.say(f"{st.as_subject(h)} gave {st.as_object(st.friend)} a big {noun}")
        elif st.noun.get("mass"):
            st.say(f"{st.as_subject(h)} and {st.friend.name} {use} {noun} together")
        else:
            st.say(f"{st.as_subject(h)} and {st.friend.name} {use} {st.a(noun)}")


def plan_verb(st):
    """Pick a frame the verb has and a beat of the story where that frame makes sense."""
    v, rng = st.verb, st.rng
    frame = rng.choice(v["frames"])
    past, inf = v["past"], v["word"]
    t = frame["type"]
    if t == "intr":
        use = rng.choice(frame["uses"])
        if use == "love":
            st.plan("intro", lambda: st.say(st.pick(lambda: f"{st.as_subject(st.hero)} loved to {inf}",
                                                    lambda: f"More than anything, {st.as_subject(st.hero)} liked to {inf}",
                                                    lambda: f"{st.possessive(st.hero)} favorite thing was to {inf}")))
        elif use == "joy":
            st.plan("ending" if st.good else "setup", lambda: st.say(st.pick(lambda: f"{st.as_subject(st.hero)} was so happy that {st.hero.pro('subj')} {past}",
                                                     lambda: f"{st.as_subject(st.hero)} {past} with joy")))
        elif use == "move":
            st.plan("setup", lambda: st.say(f"{st.as_subject(st.hero)} {past} all the way to the {st.place}"))
        elif use == "sad":
            st.plan("problem", lambda: st.say(f"{st.as_subject(st.hero)} {past}, and {st.hero.pro('poss')} face felt hot"))
        elif use == "fear":
            st.plan("problem", lambda: st.say(f"For a moment, {st.as_subject(st.hero)} {past}"))
        else:
            st.plan("ending", lambda: st.say(st.pick(lambda: f"That night, {st.as_subject(st.hero)} {past} for a long time",
                                                     lambda: f"Later, {st.as_subject(st.hero)} {past} by the window")))
    elif t in ("obj", "prep"):
        prep = frame.get("prep")
        objects = st.lex.expand(frame["objects"])
        in_story = (st.thing, st.spot, st.place, st.friend.kind) + ((st.food,) if st.noun["kind"] == "food" else ())
        mine = [o for o in objects if o in in_story]
        obj = rng.choice(mine or objects)
        phrase = f"{prep} " if prep else ""

        def say_it():
            target = st.np(obj, "the") if (obj in mine or st.lex.nouns[obj].get("unique")) else st.np(obj)
            if obj == st.friend.kind:
                target = st.by_name(st.friend)
            st.say(st.pick(lambda: f"First, {st.as_subject(st.hero)} {past} {phrase}{target}",
                           lambda: f"Before anything else, {st.as_subject(st.hero)} {past} {phrase}{target}",
                           lambda: f"{st.as_subject(st.hero)} {past} {phrase}{target} and smiled") if beat == "setup" else
                   st.pick(lambda: f"After that, {st.as_subject(st.hero)} {past} {phrase}{target}",
                           lambda: f"Later, {st.as_subject(st.hero)} {past} {phrase}{target}",
                           lambda: f"That evening, {st.as_subject(st.hero)} {past} {phrase}{target}"))
        beat = rng.choice(["setup", "ending"])
        st.plan(beat, say_it)
    elif t == "to":
        source = frame["source"]
        if source == "skill":
            skill = rng.choice(["swim", "ride a bike", "whistle", "read", "count to ten", "tie a bow", "share"])
            st.plan("intro", lambda: st.say(f"{st.as_subject(st.hero)} {past} to {skill}"))
        elif source == "chore":
            chore = rng.choice(["close the gate", "say thank you", "wash up", "feed the fish", "bring a hat"])
            st.plan("ending", lambda: st.say(f"{st.as_subject(st.hero)} {past} to {chore}"))
        else:
            st.plan("problem", lambda: st.say(f"{st.as_subject(st.hero)} {past} to {st.goal_vp}"))
    elif t == "that":
        st.plan("ending", lambda: st.say(f"{st.as_subject(st.hero)} {past} that {st.pick('it had been a good day', 'friends are a gift', 'tomorrow would be fun too')}"
                                         if st.good else f"{st.as_subject(st.hero)} {past} that things would be better tomorrow"))
    elif t == "sound":
        animal = rng.choice(frame["animals"])
        st.plan("setup", lambda: st.say(f"Somewhere nearby, {st.np(animal)} {past}"))


def required_forms(st):
    v, n, a = st.verb, st.noun, st.adj
    return ({v["word"], v["past"], v["third"], v["ing"]}, {n["word"], n.get("plural", n["word"])}, {a["word"]})


def ensure_words(st):
    """Every required word gets a sentence, even when the plot never reached the beat planned for it."""
    for beat in list(st.plan_slots):
        st.slot(beat)
    verbs, nouns, adjs = required_forms(st)
    if not st.uses(verbs):
        plan_verb(st)
        for beat in list(st.plan_slots):
            st.slot(beat)
    if not st.uses(nouns):
        n, kind, h = st.noun["word"], st.noun["kind"], st.hero
        if kind == "place":
            st.say(f"{st.as_subject(h)} liked to play {at_place(st)}")
        elif kind == "spot":
            st.say(f"{st.as_subject(h)} sat down near the {n}")
        elif kind == "thing":
            st.say(f"{st.as_subject(h)} also had {st.np(n)}")
        elif kind == "person":
            st.say(f"{st.as_subject(h)} waved to {st.np(n)}")
        elif kind == "food":
            say_food(st)
        elif kind == "animal":
            st.say(f"On the way home, {st.as_subject(h)} saw {st.np(n)}")
        elif kind == "time":
            st.say(f"It had been a long {n}")
        else:
            say_noun(st)
    if not st.uses(adjs):
        adj, h = st.adj["word"], st.hero
        role = next(iter(st.adj_for), "hero")
        st.adj_for.clear()
        attr = st.adj.get("attr_only")
        if role == "thing":
            st.say(f"{st.as_subject(h)} still had {st.np(st.thing, adj=adj)}" if attr else f"The {st.thing} was {adj}")
        elif role == "place":
            st.say(f"The {st.place} was {adj}")
        elif role == "day":
            st.say(f"It was {st.a(adj + ' day')}")
        elif "feel" in st.adj["classes"] or st.adj.get("pred"):
            st.say(f"{st.as_subject(h)} {feel_phrase(st, adj)}")
        else:
            st.say(f"{st.as_subject(h)} was {st.a(adj + ' ' + h.kind)}" if attr else f"{st.as_subject(h)} was {adj}")


# ---- the beats every story has ------------------------------------------------------------------------------
def hero_desc(st):
    adj = st.adj_for.pop("hero", None) or st.pick(*HERO_ADJS)
    return f"{adj} {st.hero.kind}"


def time_phrase(st):
    """'one windy morning' the first time, then 'that morning', 'later that day', ..."""
    t = st.time
    if st.time_said:
        return st.pick(f"that {t}" if t in ("morning", "afternoon", "evening", "day", "night") else "that day",
                       "later that day", "soon")
    st.time_said = True
    adj = st.adj_for.pop("day", None)
    if t in ("breakfast", "lunch", "dinner", "supper"):
        return f"after {t}" if not adj else f"one {adj} day after {t}"
    if t == "birthday":
        return f"on {st.hero.name}'s birthday"
    if t in ("dawn", "bedtime"):
        return f"at {t}"
    if t == "holiday":
        return f"one {adj + ' ' if adj else ''}holiday"
    return f"one {adj + ' ' if adj else ''}{t}"


def at_place(st, the="the"):
    p = st.place
    adj = st.adj_for.pop("place", None)
    return f"{st.lex.nouns[p]['prep']} {the} {adj + ' ' if adj else ''}{p}"


def intro(st, hook=None):
    h = st.hero
    child = h.kind in ("girl", "boy")
    home = st.pick(*(HOMES_CHILD if child else HOMES_ANIMAL))
    desc = hero_desc(st)
    name = h.name
    openers = [
        lambda: f"Once upon a time, there was {st.a(desc)} named {name}",
        lambda: f"There once was {st.a(desc)} named {name}",
        lambda: f"{name} was {st.a(desc)} who lived {home}",
        lambda: f"{time_phrase(st)}, {st.a(desc)} named {name} woke up early",
        lambda: f"Long ago, {st.a(desc)} called {name} lived {home}",
        lambda: f"{name} was {st.a(desc)}, and {h.pro('subj')} lived {home}",
        lambda: f"In a place not far from here, there lived {st.a(desc)} named {name}",
        lambda: f"Every morning, {name} the {desc} looked out of the window and smiled",
        lambda: f"{name} was {st.pick('three', 'four', 'five', 'six')} years old" if child else
        f"{name} was {st.a(desc)} with a big heart",
        lambda: f"Have you ever met {st.a(desc)} named {name}",
    ]
    first = st.rng.choice(openers)()
    st.last = h
    st.say(first + ("?" if first.startswith("Have") else ""))
    if first.startswith("Have"):
        st.say(f"{name} lived {home}")
    if st.chance(0.5) and "lived" not in first:
        st.say(f"{h.pro('subj')} lived {home}")
    st.slot("intro")
    if st.chance(0.5):
        st.say(st.pick(lambda: f"{st.as_subject(h)} liked to play with {st.friend.name}",
                       lambda: f"{st.as_subject(h)} loved {st.pick('sunny days', 'new games', 'going outside', 'stories', 'long walks')}",
                       lambda: f"{st.as_subject(h)} was always {st.pick('busy', 'curious', 'ready to play', 'full of ideas')}"))
    if hook:
        hook()


def ending(st):
    h = st.hero
    st.slot("ending")
    ensure_words(st)
    if "MoralValue" in st.features:
        lesson = st.rng.choice(LESSONS[st.lesson])
        st.say(st.pick(lambda: f"{st.as_subject(h)} learned that {lesson}",
                       lambda: f"After that day, {st.as_subject(h)} always remembered that {lesson}",
                       lambda: f"That day, {st.as_subject(h)} understood that {lesson}"))
        if "Dialogue" in st.features and st.friend.talks and st.chance(0.5):
            st.talk(st.friend, capitalize(lesson) + ".")
    elif st.good:
        st.say(st.pick(f"It was the best {st.time if st.time in ('day', 'morning', 'afternoon', 'evening') else 'day'} ever",
                       lambda: f"{st.as_subject(h)} smiled all the way home",
                       lambda: f"That night, {st.as_subject(h)} fell asleep with a big smile",
                       lambda: f"{st.as_subject(h)} and {st.friend.name} went home happy",
                       "Everyone was happy"))
    else:
        st.say(st.pick(lambda: f"{st.as_subject(h)} went home feeling sad", "It was not a happy day",
                       lambda: f"That night, {st.as_subject(h)} did not smile", lambda: f"{st.as_subject(h)} never forgot that day"))


def spot_phrases(st):
    """Where the spot is, as a place something is (at) and as a place something goes (to)."""
    spot = st.spot
    prep = st.lex.nouns[spot]["prep"]
    at = {"over": "on top of", "on": "on"}.get(prep, prep)
    to = {"in": "into", "on": "onto", "over": "over"}.get(prep, prep)
    return f"{at} the {spot}", f"{to} the {spot}"


def thing_intro(st, h):
    adj = st.adj_for.pop("thing", None)
    thing = st.np(st.thing, adj=adj)
    return st.pick(lambda: f"{st.as_subject(h)} had {thing} that {h.pro('subj')} loved very much",
                   lambda: f"{st.as_subject(h)} had {thing}, and it was {h.pro('poss')} favorite",
                   lambda: f"{st.possessive(h)} {'grandma' if st.friend.kind != 'grandma' else 'grandpa'} had given {h.pro('obj')} {thing}")

