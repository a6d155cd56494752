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

from synthdata.english import PRONOUNS, Lexicon, capitalize, join_and, quote, sentence

FEATURES = ["Dialogue", "BadEnding", "MoralValue", "Twist", "Foreshadowing", "Conflict"]

GIRLS = ("Mia Lily Emma Zoe Anna Lucy Ella Sara Nora Ruby Ivy Rosa Maya Chloe Amy Kim Lena Hana Aisha Priya Sofia "
         "Grace Molly Luna Fatima Mei Yuki Amara Leila Jade Eva Clara Hazel Nina Tara Isla Ada Bea Iris Olive "
         "Poppy June Alice Sadie Kiara Noor Elsa Freya Ines Mira Talia Wren Abby Julia Rina Dina Lola").split()
BOYS = ("Tom Ben Max Sam Leo Jack Finn Noah Omar Ravi Kai Theo Liam Eli Jake Tim Owen Hugo Luca Milo Arlo Ezra "
        "Kofi Diego Raj Hiro Ali Sami Felix Oscar Jonah Reid Ivan Toby Jamal Mateo Nico Amir Ethan Adam Luis Dev "
        "Bruno Caleb Rafi Zane Otis Jude Niko Sid Timmy Danny Pete Joe Ken Marco").split()
PET_NAMES = ("Pip Bubbles Fluffy Spot Rusty Ziggy Coco Bella Buddy Patch Sunny Nibbles Whiskers Snowy Peanut "
             "Biscuit Pebble Button Twinkle Shadow Dot Benny Lulu Momo Tiko Goldie Pepper Rocky Sparky Ginger "
             "Hopper Daisy Muffin Noodle Pickles Tinker Socks Bongo Fuzzy Scout Ollie Maple Pudding Squeaky").split()
FAMILY_NAMES = {"mom": "Mom", "dad": "Dad", "grandma": "Grandma", "grandpa": "Grandpa", "mother": "Mother",
                "father": "Father", "grandmother": "Grandma", "grandfather": "Grandpa"}
SIBLINGS = {"sister": "female", "brother": "male", "cousin": None, "twin": None}
AUNTS = {"aunt": "female", "uncle": "male"}
# what each kind of animal body part belongs to, so "the owl's beak" never becomes "the fish's beak"
PART_OWNERS = {
    "tail": "dog cat puppy kitten mouse fox monkey squirrel lion tiger horse pony cow pig".split(),
    "paw": "dog cat puppy kitten bear fox lion tiger bunny rabbit raccoon".split(),
    "wing": "bird duck owl robin parrot chick hen swan goose butterfly bee".split(),
    "beak": "bird duck owl robin parrot chick hen swan goose crow".split(),
    "fur": "dog cat puppy kitten bear fox bunny rabbit squirrel hamster".split(),
    "whisker": "cat kitten mouse rabbit otter seal".split(),
    "horn": "goat cow rhino unicorn ox".split(),
    "hoof": "horse pony cow goat deer donkey".split(),
    "claw": "crab bear cat lion tiger eagle".split(),
    "trunk": ["elephant"],
}
# how a child meets a body part in a story, for parts that cannot simply be hurt
BODY_ACTIONS = {"eye": "rubbed {p} eyes", "mouth": "opened {p} mouth wide", "tooth": "brushed {p} teeth",
                "hair": "brushed {p} hair", "face": "washed {p} face", "cheek": "touched {p} cheek",
                "tongue": "stuck out {p} tongue", "belly": "rubbed {p} belly"}
SENSE = {"thunder": "hear", "rain": "hear", "hail": "hear", "wind": "feel", "breeze": "feel", "sunshine": "feel"}
HOMES_CHILD = ["in a small house near the woods", "in a little town", "on a quiet street", "in a yellow house",
               "near a big park", "in a house by the sea", "on a farm", "in a busy city", "in a tiny village",
               "at the edge of a forest", "in a blue house with a red door", "next to a river"]
HOMES_ANIMAL = ["in a cozy hole under a tree", "in the forest", "on a big farm", "by a quiet pond",
                "in a nest high in a tree", "in a little den", "near a sunny meadow", "in a green valley",
                "under an old bridge", "in the tall grass"]
HERO_ADJS = "little young small happy kind curious brave sweet playful clever friendly cheerful".split()
LESSONS = {
    "help": ["asking for help is a good idea", "friends can do hard things together",
             "it is good to ask for help when a job is too big"],
    "careful": ["it is important to be careful with the things you love", "it is wise to be careful",
                "taking care of your things is important"],
    "kind": ["being kind makes everyone happy", "it is good to help others", "kindness is always a good choice"],
    "patient": ["good things come to those who wait", "it pays to be patient", "trying again is better than giving up"],
    "share": ["sharing makes everyone happy", "sharing is better than fighting", "friends share"],
    "brave": ["being brave helps you find the truth", "things are not always as scary as they seem",
              "it is good to be brave"],
    "listen": ["it is wise to listen to good advice", "grown-ups often know best", "listening can keep you safe"],
}


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
    def S(self, c):
        word = c.pro("subj") if c is self.last and self.chance(0.6) else c.name
        self.last = c
        return word

    def O(self, c):
        word = c.pro("obj") if c is self.last and self.chance(0.6) else c.name
        self.last = c
        return word

    def P(self, c):
        word = c.pro("poss") if c is self.last else c.name + "'s"
        self.last = c
        return word

    def N(self, c, cap=False):
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
        self.say(quote(words, self.S(c), verb, where))

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
        st.hero = Character(rng.choice(PET_NAMES), rng.choice(["female", "male"]), species)
    else:
        gender = rng.choice(["female", "male"])
        st.hero = Character(rng.choice(GIRLS if gender == "female" else BOYS), gender,
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
        name = rng.choice([n for n in (GIRLS if gender == "female" else BOYS) if n != st.hero.name])
        if role in AUNTS:
            name = f"{capitalize(role)} {name}"
        if st.hero.kind not in ("girl", "boy") and role in ("friend", "classmate", "neighbor"):
            species = rng.choice(st.lex.kind["animal"])  # an animal hero's friend is an animal too
            return Character(rng.choice([n for n in PET_NAMES if n != st.hero.name]), gender, species)
        return Character(name, gender, role)
    gender = st.lex.nouns[role].get("gender") or rng.choice(["female", "male"])
    return Character("the " + role, gender, role)


def make_pet(st, species):
    name = st.rng.choice([n for n in PET_NAMES if n != st.hero.name])
    # a child's pet listens but does not talk; in a world of animals everybody talks
    return Character(name, st.rng.choice(["female", "male"]), species, talks=st.hero.kind not in ("girl", "boy"))


def introduce_friend(st):
    """First mention of the companion: 'her dog Max', 'her friend Tom', 'Grandpa', 'a kind farmer'."""
    f, h = st.friend, st.hero
    p = st.P(h)
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
        st.plan(beat, lambda: st.say(f"{st.S(st.hero)} {feel_phrase(st, adj)}"))
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
        st.say(f"{st.S(st.hero)} was {v}{adj}")
    elif role == "thing":
        st.say(f"The {st.thing} was {v}{adj}")
    elif role == "place":
        st.say(st.pick(f"The {st.place} was {v}{adj} that day", lambda: f"It was {v}{adj} {at_place(st)}"))
    else:
        st.say(f"It was {st.a(adj + ' ' + ('day' if st.time in ('day', 'birthday') else st.time))}")


def say_food(st, adj=None):
    food = st.food
    entry = st.lex.nouns[food]
    who = join_and([st.S(st.hero), st.friend.name]) if st.chance(0.6) else st.S(st.hero)
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
            st.say(f"{st.S(h)} could {SENSE.get(noun, 'see')} the {noun}")
        else:
            st.say(st.pick(lambda: f"On the way, {st.S(h)} saw {st.np(noun)}",
                           lambda: f"{st.S(h)} stopped to look at {st.np(noun)}",
                           lambda: f"There was {st.np(noun)} near the {st.place}"))
    elif kind == "body":
        if "hurt" in st.noun.get("tags", []):
            st.say(f"{st.S(h)} {st.pick('bumped', 'hurt', 'scraped')} {h.pro('poss')} {noun}")
        else:
            st.say(f"{st.S(h)} {BODY_ACTIONS[noun].format(p=h.pro('poss'))}")
    elif kind == "part":
        c = st.creature
        st.say(f"{capitalize(c.name)} had {st.np(noun, adj=st.pick('soft', 'little', 'long', 'pretty', 'strong'))}")
    elif kind == "abstract":
        use = st.lex.verbs[st.noun["use"]]["past"]
        if noun == "help":
            st.say(f"{st.S(h)} asked {st.friend.name} for help")
        elif st.noun["use"] == "give":
            st.say(f"{st.S(h)} gave {st.O(st.friend)} a big {noun}")
        elif st.noun.get("mass"):
            st.say(f"{st.S(h)} and {st.friend.name} {use} {noun} together")
        else:
            st.say(f"{st.S(h)} and {st.friend.name} {use} {st.a(noun)}")


def plan_verb(st):
    """Pick a frame the verb has and a beat of the story where that frame makes sense."""
    v, rng = st.verb, st.rng
    frame = rng.choice(v["frames"])
    past, inf = v["past"], v["word"]
    t = frame["type"]
    if t == "intr":
        use = rng.choice(frame["uses"])
        if use == "love":
            st.plan("intro", lambda: st.say(st.pick(lambda: f"{st.S(st.hero)} loved to {inf}",
                                                    lambda: f"More than anything, {st.S(st.hero)} liked to {inf}",
                                                    lambda: f"{st.P(st.hero)} favorite thing was to {inf}")))
        elif use == "joy":
            st.plan("ending" if st.good else "setup", lambda: st.say(st.pick(lambda: f"{st.S(st.hero)} was so happy that {st.hero.pro('subj')} {past}",
                                                     lambda: f"{st.S(st.hero)} {past} with joy")))
        elif use == "move":
            st.plan("setup", lambda: st.say(f"{st.S(st.hero)} {past} all the way to the {st.place}"))
        elif use == "sad":
            st.plan("problem", lambda: st.say(f"{st.S(st.hero)} {past}, and {st.hero.pro('poss')} face felt hot"))
        elif use == "fear":
            st.plan("problem", lambda: st.say(f"For a moment, {st.S(st.hero)} {past}"))
        else:
            st.plan("ending", lambda: st.say(st.pick(lambda: f"That night, {st.S(st.hero)} {past} for a long time",
                                                     lambda: f"Later, {st.S(st.hero)} {past} by the window")))
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
                target = st.N(st.friend)
            st.say(st.pick(lambda: f"First, {st.S(st.hero)} {past} {phrase}{target}",
                           lambda: f"Before anything else, {st.S(st.hero)} {past} {phrase}{target}",
                           lambda: f"{st.S(st.hero)} {past} {phrase}{target} and smiled") if beat == "setup" else
                   st.pick(lambda: f"After that, {st.S(st.hero)} {past} {phrase}{target}",
                           lambda: f"Later, {st.S(st.hero)} {past} {phrase}{target}",
                           lambda: f"That evening, {st.S(st.hero)} {past} {phrase}{target}"))
        beat = rng.choice(["setup", "ending"])
        st.plan(beat, say_it)
    elif t == "to":
        source = frame["source"]
        if source == "skill":
            skill = rng.choice(["swim", "ride a bike", "whistle", "read", "count to ten", "tie a bow", "share"])
            st.plan("intro", lambda: st.say(f"{st.S(st.hero)} {past} to {skill}"))
        elif source == "chore":
            chore = rng.choice(["close the gate", "say thank you", "wash up", "feed the fish", "bring a hat"])
            st.plan("ending", lambda: st.say(f"{st.S(st.hero)} {past} to {chore}"))
        else:
            st.plan("problem", lambda: st.say(f"{st.S(st.hero)} {past} to {st.goal_vp}"))
    elif t == "that":
        st.plan("ending", lambda: st.say(f"{st.S(st.hero)} {past} that {st.pick('it had been a good day', 'friends are a gift', 'tomorrow would be fun too')}"
                                         if st.good else f"{st.S(st.hero)} {past} that things would be better tomorrow"))
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
            st.say(f"{st.S(h)} liked to play {at_place(st)}")
        elif kind == "spot":
            st.say(f"{st.S(h)} sat down near the {n}")
        elif kind == "thing":
            st.say(f"{st.S(h)} also had {st.np(n)}")
        elif kind == "person":
            st.say(f"{st.S(h)} waved to {st.np(n)}")
        elif kind == "food":
            say_food(st)
        elif kind == "animal":
            st.say(f"On the way home, {st.S(h)} saw {st.np(n)}")
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
            st.say(f"{st.S(h)} still had {st.np(st.thing, adj=adj)}" if attr else f"The {st.thing} was {adj}")
        elif role == "place":
            st.say(f"The {st.place} was {adj}")
        elif role == "day":
            st.say(f"It was {st.a(adj + ' day')}")
        elif "feel" in st.adj["classes"] or st.adj.get("pred"):
            st.say(f"{st.S(h)} {feel_phrase(st, adj)}")
        else:
            st.say(f"{st.S(h)} was {st.a(adj + ' ' + h.kind)}" if attr else f"{st.S(h)} was {adj}")


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
        st.say(st.pick(lambda: f"{st.S(h)} liked to play with {st.friend.name}",
                       lambda: f"{st.S(h)} loved {st.pick('sunny days', 'new games', 'going outside', 'stories', 'long walks')}",
                       lambda: f"{st.S(h)} was always {st.pick('busy', 'curious', 'ready to play', 'full of ideas')}"))
    if hook:
        hook()


def ending(st):
    h = st.hero
    st.slot("ending")
    ensure_words(st)
    if "MoralValue" in st.features:
        lesson = st.rng.choice(LESSONS[st.lesson])
        st.say(st.pick(lambda: f"{st.S(h)} learned that {lesson}",
                       lambda: f"After that day, {st.S(h)} always remembered that {lesson}",
                       lambda: f"That day, {st.S(h)} understood that {lesson}"))
        if "Dialogue" in st.features and st.friend.talks and st.chance(0.5):
            st.talk(st.friend, capitalize(lesson) + ".")
    elif st.good:
        st.say(st.pick(f"It was the best {st.time if st.time in ('day', 'morning', 'afternoon', 'evening') else 'day'} ever",
                       lambda: f"{st.S(h)} smiled all the way home",
                       lambda: f"That night, {st.S(h)} fell asleep with a big smile",
                       lambda: f"{st.S(h)} and {st.friend.name} went home happy",
                       "Everyone was happy"))
    else:
        st.say(st.pick(lambda: f"{st.S(h)} went home feeling sad", "It was not a happy day",
                       lambda: f"That night, {st.S(h)} did not smile", lambda: f"{st.S(h)} never forgot that day"))


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
    return st.pick(lambda: f"{st.S(h)} had {thing} that {h.pro('subj')} loved very much",
                   lambda: f"{st.S(h)} had {thing}, and it was {h.pro('poss')} favorite",
                   lambda: f"{st.P(h)} {'grandma' if st.friend.kind != 'grandma' else 'grandpa'} had given {h.pro('obj')} {thing}")


# ---- plots: goal, obstacle, attempts, outcome ---------------------------------------------------------------
def plot_stuck(st):
    """A thing ends up somewhere the hero cannot reach."""
    h, f, thing = st.hero, st.friend, st.thing
    spot = st.spot
    height = st.lex.nouns[spot]["height"]
    at_spot, to_spot = spot_phrases(st)
    light = "light" in st.lex.nouns[thing].get("tags", [])
    st.goal_vp = f"get the {thing} back"
    warned = "Foreshadowing" in st.features

    def hook():
        if not warned:
            return
        if light and height == "high":
            st.say(st.pick("The wind was getting stronger, but", "Dark clouds were coming, but") + f" {st.S(h)} did not notice")
        else:
            warner = f.name if f.kind in FAMILY_NAMES else f"{st.P(h)} mom"
            st.say(f"{warner} often said that the {spot} was a bad place for toys, but {st.S(h)} never listened")

    intro(st, hook)
    st.para()
    st.say(thing_intro(st, h))
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.S(h)} took it to the {st.place} with {introduce_friend(st)}",
                   lambda: f"{time_phrase(st)}, {st.S(h)} and {introduce_friend(st)} went to play {at_place(st)}",
                   lambda: f"{capitalize(time_phrase(st))}, {st.S(h)} was playing {at_place(st)} with {introduce_friend(st)}"))
    st.slot("setup")
    if "Conflict" in st.features:
        st.say(f"{st.N(f, True)} wanted to play with the {thing} too")
        st.talk(h, st.pick(f"No, it is my {thing}!", "You can't have it! It is mine!"),
                indirect=f"{st.S(h)} did not want to share")
        st.say(f"{st.N(f, True)} pulled the {thing}, and {st.S(h)} pulled it back")
        st.say(f"Then the {thing} slipped out of their hands and flew {to_spot}" if height != "water" else
               f"Then the {thing} slipped out of their hands and fell {to_spot} with a splash")
        st.lesson = "share"
    elif height == "high":
        st.say(st.pick(f"Suddenly, a strong wind blew the {thing} away", f"Then the wind lifted the {thing} into the air")
               if light else f"{st.S(h)} threw the {thing} high into the air")
        st.say(f"It landed {at_spot}" if spot not in ("cloud",) else f"It floated up {to_spot}")
    elif height == "water":
        st.say(f"The {thing} slipped out of {h.pro('poss')} hands and fell {to_spot}")
    else:
        round_ = "round" in st.lex.nouns[thing].get("tags", [])
        st.say(f"The {thing} rolled away and stopped {at_spot}" if round_ else
               f"The {thing} fell out of {h.pro('poss')} hands and landed {at_spot}")
    st.para()
    st.say(st.pick(lambda: f"{st.S(h)} looked at the {spot}", lambda: f"{st.S(h)} ran to the {spot}"))
    problem = {"high": "It was too high to reach", "water": "The water was too deep",
               "low": f"{st.S(h)} could not reach it"}[height]
    st.say(problem)
    st.talk(h, st.pick(f"Oh no! My {thing} is stuck!", f"How can I get my {thing} back?", "What can I do now?"),
            indirect=f"{st.S(h)} did not know what to do")
    st.slot("problem")
    fails = {
        "high": [f"{st.S(h)} jumped as high as {h.pro('subj')} could, but {h.pro('subj')} could not reach it",
                 f"{st.S(h)} stood on {h.pro('poss')} toes and stretched, but it was still too high",
                 f"{st.S(h)} tried to climb up, but {h.pro('subj')} slid back down"],
        "low": [f"{st.S(h)} reached out, but {h.pro('poss')} arm was too short",
                f"{st.S(h)} lay down flat and looked, but it was too dark to see",
                f"{st.S(h)} poked at it with a twig, but the twig was too short"],
        "water": [f"{st.S(h)} leaned over the water, but the {thing} was too far away",
                  f"{st.S(h)} tried to reach it with a leaf, but that did not work",
                  f"{st.S(h)} waited for the water to bring it back, but it did not come"],
    }[height]
    st.rng.shuffle(fails)
    st.say(fails[0])
    if st.chance(0.5):
        st.say("Then " + fails[1])
    if f.talks:
        st.talk(f, st.pick("Let me try!", "I have an idea!", "Don't worry. We can fix this."),
                indirect=f"{st.N(f, True)} wanted to help")
    st.para()
    twist = "Twist" in st.features
    if st.good:
        if twist:
            helper = {"high": "a big bird landed next to it", "low": "a little mouse ran out and pushed it with its nose",
                      "water": "a friendly duck swam over and pushed it with its beak"}[height]
            st.say(f"Just then, {helper}")
            st.say(st.pick(lambda: f"The {thing} came out, right in front of {st.O(h)}!",
                           f"To everyone's surprise, the {thing} was free!"))
            st.lesson = st.lesson if st.lesson == "share" else "kind"
        else:
            fix = {"high": f"{st.N(f, True)} found a long stick and gently pushed the {thing} down",
                   "low": f"{st.N(f, True)} found a long stick and pulled the {thing} out",
                   "water": f"{st.N(f, True)} held {st.P(h)} hand while {st.S(h)} reached out with a branch"}[height]
            st.say(fix)
            st.say(st.pick(lambda: f"At last, {st.S(h)} had the {thing} back", f"Soon the {thing} was safe again"))
            st.lesson = "share" if st.lesson == "share" else "help"
        st.talk(h, st.pick("Thank you so much!", "We did it!", lambda: f"Thank you, {st.N(f)}!"),
                indirect=f"{st.S(h)} thanked {st.O(f)}")
        if "Conflict" in st.features:
            st.say(f"{st.S(h)} told {st.N(f)} that {h.pro('subj')} was sorry, and they played with the {thing} together")
        st.summary = f"{h.name}'s {thing} gets stuck {at_spot}, and with a little help {h.pro('subj')} gets it back."
    else:
        if twist:
            st.say(f"At last, {st.S(h)} pulled it out, but it was not {h.pro('poss')} {thing} at all! It was an old, broken one")
            st.say(f"{h.pro('poss')} own {thing} was gone")
        else:
            lost = {"high": f"Then the wind blew again, and the {thing} flew far away over the houses",
                    "low": f"When {st.S(h)} finally pulled it out, the {thing} was broken",
                    "water": f"The water carried the {thing} away, and it was gone"}[height]
            st.say(lost)
        if "Conflict" in st.features:
            st.say(f"{st.S(h)} was angry with {st.N(f)}, and {st.N(f)} was angry too")
        st.talk(h, st.pick("It is all gone.", f"My poor {thing}!"), indirect=f"{st.S(h)} cried")
        st.lesson = "listen" if warned else ("share" if st.lesson == "share" else "careful")
        st.summary = f"{h.name}'s {thing} gets stuck {at_spot}, and {h.pro('subj')} cannot get it back."
    if warned and not (light and height == "high"):
        warner = st.N(f) if f.kind in FAMILY_NAMES else f"{h.pro('poss')} mom"
        st.say(f"{st.S(h)} remembered what {warner} had said about the {spot}")


def plot_lost(st):
    """The hero loses the thing and looks for it."""
    h, f, thing = st.hero, st.friend, st.thing
    at_spot, _ = spot_phrases(st)
    st.goal_vp = f"find the {thing}"
    hole = "Foreshadowing" in st.features
    pet_took = "Twist" in st.features and st.good

    def hook():
        if hole:
            st.say(f"There was a small hole in {st.P(h)} {st.pick('pocket', 'bag')}, but {st.S(h)} did not notice it")

    intro(st, hook)
    st.para()
    st.say(thing_intro(st, h))
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.S(h)} took the {thing} to the {st.place}",
                   lambda: f"{time_phrase(st)}, {st.S(h)} went to the {st.place} and brought the {thing}"))
    st.say(f"{introduce_friend(st)} came too" if st.chance(0.5) else f"{st.S(h)} met {introduce_friend(st)} there")
    st.slot("setup")
    st.say(st.pick("They played for a long time", "They ran and played all day", "They had so much fun"))
    st.para()
    st.say(st.pick(f"When it was time to go home, the {thing} was gone!",
                   lambda: f"Later, {st.S(h)} looked for the {thing}, but it was not there!"))
    st.talk(h, st.pick(f"Where is my {thing}?", f"My {thing} is lost!"), indirect=f"{st.S(h)} felt worried")
    st.slot("problem")
    if "Conflict" in st.features:
        st.talk(h, f"Did you take my {thing}?", indirect=f"{st.S(h)} thought that {st.N(f)} took it")
        st.say(f"{st.N(f, True)} shook {f.pro('poss')} head" if f.talks else f"{st.N(f, True)} just looked at {st.O(h)}")
        st.talk(f, "I did not take it!", indirect=None)
        st.say("They were both upset")
        st.lesson = "kind"
    st.say(st.pick(lambda: f"{st.S(h)} and {st.N(f)} looked everywhere", lambda: f"{st.S(h)} looked under the bench and behind the trees"
                   if not st.lex.nouns[st.place]["indoor"] else f"{st.S(h)} looked under the table and behind the door"))
    st.say(st.pick("It was not there", lambda: f"{st.S(h)} could not find it anywhere"))
    st.para()
    if st.good:
        if pet_took:
            st.say(f"Then {st.S(h)} saw a little puppy {at_spot}")
            st.say(f"The puppy had the {thing} in its mouth!")
            st.say("It was not lost at all. The puppy just wanted to play")
            st.lesson = "kind" if "Conflict" in st.features else "patient"
        elif hole:
            st.say(f"Then {st.S(h)} found the hole in {h.pro('poss')} {st.pick('pocket', 'bag')}")
            st.say(f"{st.S(h)} went back to look, and the {thing} was {at_spot}!")
            st.lesson = "careful"
        else:
            st.say(f"At last, {st.N(f)} looked {at_spot}")
            st.say("There it was!")
            st.lesson = "patient" if "Conflict" not in st.features else "kind"
        st.talk(h, st.pick("I found it!", "Hooray!", lambda: f"Thank you, {st.N(f)}!"), indirect=f"{st.S(h)} was so happy")
        if "Conflict" in st.features:
            st.say(f"{st.S(h)} told {st.N(f)} that {h.pro('subj')} was sorry")
        st.summary = f"{h.name} loses {h.pro('poss')} {thing} {at_place(st, 'the')} and finds it again."
    else:
        if "Twist" in st.features:
            st.say(f"At last, {st.S(h)} saw something {at_spot}, but it was only a rock")
        st.say(st.pick(f"The sun went down, and they had to go home without the {thing}",
                       lambda: f"{st.S(h)} never found the {thing} again"))
        st.lesson = "careful"
        st.summary = f"{h.name} loses {h.pro('poss')} {thing} and cannot find it."
    if hole and st.good:
        st.say(f"The next day, {st.P(h)} mom fixed the hole")


def plot_help(st):
    """An animal is in trouble, and the hero tries to help it."""
    h, f = st.hero, st.friend
    if st.creature is None:
        st.creature = Character("the " + st.rng.choice(["kitten", "puppy", "bird", "duckling", "bunny", "squirrel",
                                                        "chick", "frog", "turtle", "hedgehog"]), "neuter", "")
        st.creature.kind = st.creature.name[4:]
    c = st.creature
    at_spot, _ = spot_phrases(st)
    kind = c.kind
    st.goal_vp = f"help the {kind}"
    heard = "Foreshadowing" in st.features

    def hook():
        if heard:
            st.say(f"Sometimes {st.S(h)} heard a tiny sound {at_spot}, but {h.pro('subj')} never looked")

    intro(st, hook)
    st.para()
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.S(h)} and {introduce_friend(st)} were {at_place(st)}",
                   lambda: f"{time_phrase(st)}, {st.S(h)} went to the {st.place} with {introduce_friend(st)}"))
    st.slot("setup")
    st.say(st.pick(f"Then they heard a sad little cry {at_spot}", lambda: f"Suddenly, {st.S(h)} saw something move {at_spot}"))
    st.say(f"It was {st.a(st.pick('little', 'tiny', 'small', 'baby') + ' ' + kind)}!")
    trouble = st.pick("It was stuck and could not get out", "It looked cold and scared", "It had lost its mother")
    st.say(trouble)
    st.para()
    if "Conflict" in st.features and f.talks:
        st.talk(f, "Leave it alone. It is not ours.", indirect=f"{st.N(f, True)} said they should leave it alone")
        st.talk(h, "But it needs us!", indirect=f"{st.S(h)} did not agree")
        st.say("They argued for a while")
    st.talk(h, st.pick(f"Poor little {kind}. Let's help it.", "Don't be scared. We will help you."),
            indirect=f"{st.S(h)} wanted to help")
    st.slot("problem")
    st.say(st.pick(lambda: f"{st.S(h)} moved slowly so {h.pro('subj')} would not scare it",
                   lambda: f"{st.S(h)} held out {h.pro('poss')} hand very slowly"))
    st.say(st.pick(f"At first, the {kind} backed away", f"The {kind} was too scared to move"))
    st.para()
    if st.good:
        if "Twist" in st.features:
            st.say(f"Just then, a big {kind} came out from behind the {st.spot}")
            st.say("It was the baby's mother! She had been looking for it all day")
            st.say(f"The two {st.lex.nouns[kind].get('plural', kind + 's')} went home together")
        else:
            st.say(st.pick(lambda: f"Gently, {st.S(h)} picked up the {kind} and carried it to a safe place",
                           lambda: f"{st.N(f, True)} brought some food, and soon the {kind} came closer"))
            st.say(f"The {kind} was safe at last")
        st.talk(h, "You are safe now.", indirect=f"{st.S(h)} smiled at the {kind}")
        if "Conflict" in st.features:
            st.say(f"{st.N(f, True)} told {st.O(h)} that {f.pro('subj')} was sorry, and they were friends again")
        st.lesson = "kind"
        st.summary = f"{h.name} finds a little {kind} in trouble and helps it."
    else:
        st.say(f"Then a loud noise scared the {kind}, and it ran away")
        if "Twist" in st.features:
            st.say(f"It was not lost at all. It was a wild {kind}, and it did not want help")
        st.say(f"{st.S(h)} looked for it until it got dark, but it was gone")
        st.talk(h, "I hope it is safe.", indirect=f"{st.S(h)} hoped it was safe")
        st.lesson = "patient"
        st.summary = f"{h.name} tries to help a little {kind}, but it runs away."
    if heard:
        st.say(f"Now {st.S(h)} knew where the tiny sound had come from")


BUILDS = ["tower", "fort", "snowman", "card", "hat", "necklace", "picture", "crown", "kite", "boat"]
BAKES = ["cake", "cookie", "pie", "muffin", "cupcake", "bread", "pancake", "biscuit"]
MAKEABLE_FOOD = set(BAKES + "sandwich soup salad pizza lemonade smoothie toast porridge omelet taco burger tart "
                            "cocoa tea popcorn milkshake waffle pasta spaghetti jelly pudding gingerbread".split())


def plot_make(st):
    """The hero makes something for someone; something goes wrong on the way."""
    h, f = st.hero, st.friend
    food = st.noun["word"] in MAKEABLE_FOOD or (st.noun["word"] not in BUILDS and st.chance(0.4))
    if food:
        thing = st.noun["word"] if st.noun["word"] in MAKEABLE_FOOD else st.pick(*BAKES)
        obj = st.np(thing, adj=st.adj_for.pop("food", None) or st.adj_for.pop("thing", None))
    else:
        thing = st.noun["word"] if st.noun["word"] in BUILDS else st.pick(*BUILDS)
        obj = st.np(thing, adj=st.adj_for.pop("thing", None))
    st.goal_vp = f"make {st.np(thing)}"
    for_whom = f if f.kind in FAMILY_NAMES else None
    pet_eats = "Foreshadowing" in st.features and food

    def hook():
        if pet_eats:
            st.say(f"{st.P(h)} dog was always hungry, and it liked to steal food")
        elif "Foreshadowing" in st.features:
            st.say(f"The sky was getting dark, but {st.S(h)} did not think about rain")

    intro(st, hook)
    st.para()
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.S(h)} wanted to make {obj}",
                   lambda: f"{time_phrase(st)}, {st.S(h)} had an idea: {h.pro('subj')} would make {obj}"))
    st.say(f"It was for {st.N(f)}" if for_whom else f"{capitalize(introduce_friend(st))} wanted to help")
    st.slot("setup")
    if "Conflict" in st.features and f.talks:
        st.talk(f, "Let's make it my way!", indirect=f"{st.N(f, True)} wanted to do it a different way")
        st.talk(h, "No, my way is better!", indirect=f"{st.S(h)} did not agree")
        st.say("They could not agree, and they both got cross")
        st.lesson = "share"
    st.say(st.pick(lambda: f"{st.S(h)} worked very hard", lambda: f"{st.S(h)} worked all {st.time if st.time in ('morning', 'afternoon') else 'morning'}",
                   lambda: f"First, {st.S(h)} got everything {h.pro('subj')} needed"))
    st.para()
    if pet_eats:
        st.say(f"When {st.S(h)} turned around, the dog jumped up and took a big bite!")
    elif "Foreshadowing" in st.features:
        st.say(f"Then big drops of rain began to fall, and the {thing} got wet")
    else:
        st.say(st.pick(f"But then the {thing} fell on the floor", "But it did not look right at all",
                       lambda: f"Then {st.S(h)} found that something was missing"))
    st.talk(h, st.pick("Oh no! It is ruined!", "What can I do now?", "It is all wrong!"),
            indirect=f"{st.S(h)} felt like giving up")
    st.slot("problem")
    st.para()
    if st.good:
        st.say(st.pick(lambda: f"{st.S(h)} took a deep breath and started again",
                       lambda: f"{st.S(h)} did not give up. {capitalize(h.pro('subj'))} tried again, and this time {h.pro('subj')} went slowly"))
        if "Conflict" in st.features:
            st.say(f"This time, {st.S(h)} and {st.N(f)} worked together and used both of their ideas")
        if "Twist" in st.features:
            st.say(f"When it was done, {st.N(f)} smiled and showed {st.O(h)} a surprise: {f.pro('subj')} had made one too!")
        else:
            st.say(st.pick(f"This time, the {thing} was perfect", "At last, it was done, and it looked wonderful"))
        st.talk(f if f.talks else h, st.pick("It is beautiful!", "You did it!", "This is the best one ever!"),
                indirect=f"{st.N(f, True)} loved it")
        st.lesson = st.lesson if st.lesson == "share" else "patient"
        st.summary = f"{h.name} makes {st.np(thing)}, and when it goes wrong, {h.pro('subj')} tries again."
    else:
        st.say(f"{st.S(h)} tried again, but there was no time left")
        if "Twist" in st.features:
            st.say(f"Then {st.N(f)} came in with the same thing, but {f.pro('subj')} had broken it too")
        st.say(st.pick(f"In the end, there was no {thing} at all", f"The {thing} was ruined, and nobody could fix it"))
        st.lesson = "patient" if st.lesson != "share" else "share"
        st.summary = f"{h.name} tries to make {st.np(thing)}, but it goes wrong."


def plot_fear(st):
    """Something seems scary; the hero finds out what it is."""
    h, f = st.hero, st.friend
    at_spot, _ = spot_phrases(st)
    st.goal_vp = f"find out what was {at_spot}"
    what = st.creature.kind if st.creature else st.pick("kitten", "puppy", "owl", "mouse", "hedgehog", "frog")
    warned = "Foreshadowing" in st.features

    def hook():
        if warned:
            st.say(f"{st.P(h)} {st.pick('mom', 'dad')} said that a little {what} lived nearby, but {st.S(h)} forgot")

    intro(st, hook)
    st.para()
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.S(h)} was {at_place(st)} with {introduce_friend(st)}",
                   lambda: f"{time_phrase(st)}, {st.S(h)} and {introduce_friend(st)} went to the {st.place}"))
    st.slot("setup")
    st.say(st.pick(f"Suddenly, they heard a strange noise {at_spot}", f"Then something moved {at_spot}"))
    st.say(st.pick(lambda: f"{st.S(h)} was scared", lambda: f"{st.P(h)} heart beat fast"))
    st.talk(h, st.pick("What was that?", "Is it a monster?"), indirect=f"{st.S(h)} wondered what it was")
    st.para()
    st.slot("problem")
    if "Conflict" in st.features and f.talks:
        st.talk(f, "Let's run away!", indirect=f"{st.N(f, True)} wanted to run away")
        st.talk(h, "No, let's look!", indirect=f"{st.S(h)} wanted to look")
        st.say("They could not agree")
    if st.good:
        st.say(f"{st.S(h)} took a deep breath and looked {at_spot}")
        if "Twist" in st.features:
            st.say(f"It was not a monster at all. It was just a little {what}, and it was more scared than they were!")
        else:
            st.say(f"There was a little {what}. It was only looking for food")
        st.talk(h, st.pick("You scared me!", "Hi there, little friend!"), indirect=f"{st.S(h)} laughed")
        st.say(f"{st.S(h)} gave the {what} some water, and it stayed to play")
        st.lesson = "brave"
        st.summary = f"{h.name} hears a scary noise and bravely finds out that it is a little {what}."
    else:
        st.say(f"{st.S(h)} ran home as fast as {h.pro('subj')} could")
        if "Twist" in st.features:
            st.say(f"Later, {st.S(h)} found out that it was only a little {what}, but it was too late to say hello")
        st.say(f"{st.S(h)} never went near the {st.spot} again")
        st.lesson = "brave"
        st.summary = f"{h.name} hears a strange noise and runs away without finding out what it is."
    if warned:
        st.say(f"{st.S(h)} remembered what {h.pro('poss')} parents had said about the {what}")


PLOTS = {"stuck": plot_stuck, "lost": plot_lost, "help": plot_help, "make": plot_make, "fear": plot_fear}


def choose_plot(st):
    """A plot in which the required noun has a natural role."""
    kind, word = st.noun["kind"], st.noun["word"]
    if st.creature is not None:
        return st.pick("help", "help", "fear")
    if word in MAKEABLE_FOOD or word in BUILDS:
        return "make"
    if kind == "thing":
        return st.pick("stuck", "stuck", "lost")
    if kind == "spot":
        return st.pick("stuck", "stuck", "lost", "help", "fear")
    return st.pick("stuck", "stuck", "lost", "lost", "help", "make", "fear")


# ---- the generator ------------------------------------------------------------------------------------------
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
