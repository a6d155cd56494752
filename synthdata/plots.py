"""The five plots a story can have: goal, obstacle, attempts and an outcome that follows from them.

Each plot tells the story from the state synthdata/storyworld.py cast: the hero, the companion, the place, the
thing, the spot where the trouble happens, and the features (Dialogue, BadEnding, Twist, ...) it must show.
"""
from synthdata.english import capitalize
from synthdata.storyworld import (FAMILY_NAMES, Character, at_place, introduce_friend, intro, spot_phrases,
                                  thing_intro, time_phrase)


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
            st.say(st.pick("The wind was getting stronger, but", "Dark clouds were coming, but") + f" {st.as_subject(h)} did not notice")
        else:
            warner = f.name if f.kind in FAMILY_NAMES else f"{st.possessive(h)} mom"
            st.say(f"{warner} often said that the {spot} was a bad place for toys, but {st.as_subject(h)} never listened")

    intro(st, hook)
    st.para()
    st.say(thing_intro(st, h))
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.as_subject(h)} took it to the {st.place} with {introduce_friend(st)}",
                   lambda: f"{time_phrase(st)}, {st.as_subject(h)} and {introduce_friend(st)} went to play {at_place(st)}",
                   lambda: f"{capitalize(time_phrase(st))}, {st.as_subject(h)} was playing {at_place(st)} with {introduce_friend(st)}"))
    st.slot("setup")
    if "Conflict" in st.features:
        st.say(f"{st.by_name(f, True)} wanted to play with the {thing} too")
        st.talk(h, st.pick(f"No, it is my {thing}!", "You can't have it! It is mine!"),
                indirect=f"{st.as_subject(h)} did not want to share")
        st.say(f"{st.by_name(f, True)} pulled the {thing}, and {st.as_subject(h)} pulled it back")
        st.say(f"Then the {thing} slipped out of their hands and flew {to_spot}" if height != "water" else
               f"Then the {thing} slipped out of their hands and fell {to_spot} with a splash")
        st.lesson = "share"
    elif height == "high":
        st.say(st.pick(f"Suddenly, a strong wind blew the {thing} away", f"Then the wind lifted the {thing} into the air")
               if light else f"{st.as_subject(h)} threw the {thing} high into the air")
        st.say(f"It landed {at_spot}" if spot not in ("cloud",) else f"It floated up {to_spot}")
    elif height == "water":
        st.say(f"The {thing} slipped out of {h.pro('poss')} hands and fell {to_spot}")
    else:
        round_ = "round" in st.lex.nouns[thing].get("tags", [])
        st.say(f"The {thing} rolled away and stopped {at_spot}" if round_ else
               f"The {thing} fell out of {h.pro('poss')} hands and landed {at_spot}")
    st.para()
    st.say(st.pick(lambda: f"{st.as_subject(h)} looked at the {spot}", lambda: f"{st.as_subject(h)} ran to the {spot}"))
    problem = {"high": "It was too high to reach", "water": "The water was too deep",
               "low": f"{st.as_subject(h)} could not reach it"}[height]
    st.say(problem)
    st.talk(h, st.pick(f"Oh no! My {thing} is stuck!", f"How can I get my {thing} back?", "What can I do now?"),
            indirect=f"{st.as_subject(h)} did not know what to do")
    st.slot("problem")
    fails = {
        "high": [f"{st.as_subject(h)} jumped as high as {h.pro('subj')} could, but {h.pro('subj')} could not reach it",
                 f"{st.as_subject(h)} stood on {h.pro('poss')} toes and stretched, but it was still too high",
                 f"{st.as_subject(h)} tried to climb up, but {h.pro('subj')} slid back down"],
        "low": [f"{st.as_subject(h)} reached out, but {h.pro('poss')} arm was too short",
                f"{st.as_subject(h)} lay down flat and looked, but it was too dark to see",
                f"{st.as_subject(h)} poked at it with a twig, but the twig was too short"],
        "water": [f"{st.as_subject(h)} leaned over the water, but the {thing} was too far away",
                  f"{st.as_subject(h)} tried to reach it with a leaf, but that did not work",
                  f"{st.as_subject(h)} waited for the water to bring it back, but it did not come"],
    }[height]
    st.rng.shuffle(fails)
    st.say(fails[0])
    if st.chance(0.5):
        st.say("Then " + fails[1])
    if f.talks:
        st.talk(f, st.pick("Let me try!", "I have an idea!", "Don't worry. We can fix this."),
                indirect=f"{st.by_name(f, True)} wanted to help")
    st.para()
    twist = "Twist" in st.features
    if st.good:
        if twist:
            helper = {"high": "a big bird landed next to it", "low": "a little mouse ran out and pushed it with its nose",
                      "water": "a friendly duck swam over and pushed it with its beak"}[height]
            st.say(f"Just then, {helper}")
            st.say(st.pick(lambda: f"The {thing} came out, right in front of {st.as_object(h)}!",
                           f"To everyone's surprise, the {thing} was free!"))
            st.lesson = st.lesson if st.lesson == "share" else "kind"
        else:
            fix = {"high": f"{st.by_name(f, True)} found a long stick and gently pushed the {thing} down",
                   "low": f"{st.by_name(f, True)} found a long stick and pulled the {thing} out",
                   "water": f"{st.by_name(f, True)} held {st.possessive(h)} hand while {st.as_subject(h)} reached out with a branch"}[height]
            st.say(fix)
            st.say(st.pick(lambda: f"At last, {st.as_subject(h)} had the {thing} back", f"Soon the {thing} was safe again"))
            st.lesson = "share" if st.lesson == "share" else "help"
        st.talk(h, st.pick("Thank you so much!", "We did it!", lambda: f"Thank you, {st.by_name(f)}!"),
                indirect=f"{st.as_subject(h)} thanked {st.as_object(f)}")
        if "Conflict" in st.features:
            st.say(f"{st.as_subject(h)} told {st.by_name(f)} that {h.pro('subj')} was sorry, and they played with the {thing} together")
        st.summary = f"{h.name}'s {thing} gets stuck {at_spot}, and with a little help {h.pro('subj')} gets it back."
    else:
        if twist:
            st.say(f"At last, {st.as_subject(h)} pulled it out, but it was not {h.pro('poss')} {thing} at all! It was an old, broken one")
            st.say(f"{h.pro('poss')} own {thing} was gone")
        else:
            lost = {"high": f"Then the wind blew again, and the {thing} flew far away over the houses",
                    "low": f"When {st.as_subject(h)} finally pulled it out, the {thing} was broken",
                    "water": f"The water carried the {thing} away, and it was gone"}[height]
            st.say(lost)
        if "Conflict" in st.features:
            st.say(f"{st.as_subject(h)} was angry with {st.by_name(f)}, and {st.by_name(f)} was angry too")
        st.talk(h, st.pick("It is all gone.", f"My poor {thing}!"), indirect=f"{st.as_subject(h)} cried")
        st.lesson = "listen" if warned else ("share" if st.lesson == "share" else "careful")
        st.summary = f"{h.name}'s {thing} gets stuck {at_spot}, and {h.pro('subj')} cannot get it back."
    if warned and not (light and height == "high"):
        warner = st.by_name(f) if f.kind in FAMILY_NAMES else f"{h.pro('poss')} mom"
        st.say(f"{st.as_subject(h)} remembered what {warner} had said about the {spot}")


def plot_lost(st):
    """The hero loses the thing and looks for it."""
    h, f, thing = st.hero, st.friend, st.thing
    at_spot, _ = spot_phrases(st)
    st.goal_vp = f"find the {thing}"
    hole = "Foreshadowing" in st.features
    pet_took = "Twist" in st.features and st.good

    def hook():
        if hole:
            st.say(f"There was a small hole in {st.possessive(h)} {st.pick('pocket', 'bag')}, but {st.as_subject(h)} did not notice it")

    intro(st, hook)
    st.para()
    st.say(thing_intro(st, h))
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.as_subject(h)} took the {thing} to the {st.place}",
                   lambda: f"{time_phrase(st)}, {st.as_subject(h)} went to the {st.place} and brought the {thing}"))
    st.say(f"{introduce_friend(st)} came too" if st.chance(0.5) else f"{st.as_subject(h)} met {introduce_friend(st)} there")
    st.slot("setup")
    st.say(st.pick("They played for a long time", "They ran and played all day", "They had so much fun"))
    st.para()
    st.say(st.pick(f"When it was time to go home, the {thing} was gone!",
                   lambda: f"Later, {st.as_subject(h)} looked for the {thing}, but it was not there!"))
    st.talk(h, st.pick(f"Where is my {thing}?", f"My {thing} is lost!"), indirect=f"{st.as_subject(h)} felt worried")
    st.slot("problem")
    if "Conflict" in st.features:
        st.talk(h, f"Did you take my {thing}?", indirect=f"{st.as_subject(h)} thought that {st.by_name(f)} took it")
        st.say(f"{st.by_name(f, True)} shook {f.pro('poss')} head" if f.talks else f"{st.by_name(f, True)} just looked at {st.as_object(h)}")
        st.talk(f, "I did not take it!", indirect=None)
        st.say("They were both upset")
        st.lesson = "kind"
    st.say(st.pick(lambda: f"{st.as_subject(h)} and {st.by_name(f)} looked everywhere", lambda: f"{st.as_subject(h)} looked under the bench and behind the trees"
                   if not st.lex.nouns[st.place]["indoor"] else f"{st.as_subject(h)} looked under the table and behind the door"))
    st.say(st.pick("It was not there", lambda: f"{st.as_subject(h)} could not find it anywhere"))
    st.para()
    if st.good:
        if pet_took:
            st.say(f"Then {st.as_subject(h)} saw a little puppy {at_spot}")
            st.say(f"The puppy had the {thing} in its mouth!")
            st.say("It was not lost at all. The puppy just wanted to play")
            st.lesson = "kind" if "Conflict" in st.features else "patient"
        elif hole:
            st.say(f"Then {st.as_subject(h)} found the hole in {h.pro('poss')} {st.pick('pocket', 'bag')}")
            st.say(f"{st.as_subject(h)} went back to look, and the {thing} was {at_spot}!")
            st.lesson = "careful"
        else:
            st.say(f"At last, {st.by_name(f)} looked {at_spot}")
            st.say("There it was!")
            st.lesson = "patient" if "Conflict" not in st.features else "kind"
        st.talk(h, st.pick("I found it!", "Hooray!", lambda: f"Thank you, {st.by_name(f)}!"), indirect=f"{st.as_subject(h)} was so happy")
        if "Conflict" in st.features:
            st.say(f"{st.as_subject(h)} told {st.by_name(f)} that {h.pro('subj')} was sorry")
        st.summary = f"{h.name} loses {h.pro('poss')} {thing} {at_place(st, 'the')} and finds it again."
    else:
        if "Twist" in st.features:
            st.say(f"At last, {st.as_subject(h)} saw something {at_spot}, but it was only a rock")
        st.say(st.pick(f"The sun went down, and they had to go home without the {thing}",
                       lambda: f"{st.as_subject(h)} never found the {thing} again"))
        st.lesson = "careful"
        st.summary = f"{h.name} loses {h.pro('poss')} {thing} and cannot find it."
    if hole and st.good:
        st.say(f"The next day, {st.possessive(h)} mom fixed the hole")


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
            st.say(f"Sometimes {st.as_subject(h)} heard a tiny sound {at_spot}, but {h.pro('subj')} never looked")

    intro(st, hook)
    st.para()
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.as_subject(h)} and {introduce_friend(st)} were {at_place(st)}",
                   lambda: f"{time_phrase(st)}, {st.as_subject(h)} went to the {st.place} with {introduce_friend(st)}"))
    st.slot("setup")
    st.say(st.pick(f"Then they heard a sad little cry {at_spot}", lambda: f"Suddenly, {st.as_subject(h)} saw something move {at_spot}"))
    st.say(f"It was {st.a(st.pick('little', 'tiny', 'small', 'baby') + ' ' + kind)}!")
    trouble = st.pick("It was stuck and could not get out", "It looked cold and scared", "It had lost its mother")
    st.say(trouble)
    st.para()
    if "Conflict" in st.features and f.talks:
        st.talk(f, "Leave it alone. It is not ours.", indirect=f"{st.by_name(f, True)} said they should leave it alone")
        st.talk(h, "But it needs us!", indirect=f"{st.as_subject(h)} did not agree")
        st.say("They argued for a while")
    st.talk(h, st.pick(f"Poor little {kind}. Let's help it.", "Don't be scared. We will help you."),
            indirect=f"{st.as_subject(h)} wanted to help")
    st.slot("problem")
    st.say(st.pick(lambda: f"{st.as_subject(h)} moved slowly so {h.pro('subj')} would not scare it",
                   lambda: f"{st.as_subject(h)} held out {h.pro('poss')} hand very slowly"))
    st.say(st.pick(f"At first, the {kind} backed away", f"The {kind} was too scared to move"))
    st.para()
    if st.good:
        if "Twist" in st.features:
            st.say(f"Just then, a big {kind} came out from behind the {st.spot}")
            st.say("It was the baby's mother! She had been looking for it all day")
            st.say(f"The two {st.lex.nouns[kind].get('plural', kind + 's')} went home together")
        else:
            st.say(st.pick(lambda: f"Gently, {st.as_subject(h)} picked up the {kind} and carried it to a safe place",
                           lambda: f"{st.by_name(f, True)} brought some food, and soon the {kind} came closer"))
            st.say(f"The {kind} was safe at last")
        st.talk(h, "You are safe now.", indirect=f"{st.as_subject(h)} smiled at the {kind}")
        if "Conflict" in st.features:
            st.say(f"{st.by_name(f, True)} told {st.as_object(h)} that {f.pro('subj')} was sorry, and they were friends again")
        st.lesson = "kind"
        st.summary = f"{h.name} finds a little {kind} in trouble and helps it."
    else:
        st.say(f"Then a loud noise scared the {kind}, and it ran away")
        if "Twist" in st.features:
            st.say(f"It was not lost at all. It was a wild {kind}, and it did not want help")
        st.say(f"{st.as_subject(h)} looked for it until it got dark, but it was gone")
        st.talk(h, "I hope it is safe.", indirect=f"{st.as_subject(h)} hoped it was safe")
        st.lesson = "patient"
        st.summary = f"{h.name} tries to help a little {kind}, but it runs away."
    if heard:
        st.say(f"Now {st.as_subject(h)} knew where the tiny sound had come from")


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
            st.say(f"{st.possessive(h)} dog was always hungry, and it liked to steal food")
        elif "Foreshadowing" in st.features:
            st.say(f"The sky was getting dark, but {st.as_subject(h)} did not think about rain")

    intro(st, hook)
    st.para()
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.as_subject(h)} wanted to make {obj}",
                   lambda: f"{time_phrase(st)}, {st.as_subject(h)} had an idea: {h.pro('subj')} would make {obj}"))
    st.say(f"It was for {st.by_name(f)}" if for_whom else f"{capitalize(introduce_friend(st))} wanted to help")
    st.slot("setup")
    if "Conflict" in st.features and f.talks:
        st.talk(f, "Let's make it my way!", indirect=f"{st.by_name(f, True)} wanted to do it a different way")
        st.talk(h, "No, my way is better!", indirect=f"{st.as_subject(h)} did not agree")
        st.say("They could not agree, and they both got cross")
        st.lesson = "share"
    st.say(st.pick(lambda: f"{st.as_subject(h)} worked very hard", lambda: f"{st.as_subject(h)} worked all {st.time if st.time in ('morning', 'afternoon') else 'morning'}",
                   lambda: f"First, {st.as_subject(h)} got everything {h.pro('subj')} needed"))
    st.para()
    if pet_eats:
        st.say(f"When {st.as_subject(h)} turned around, the dog jumped up and took a big bite!")
    elif "Foreshadowing" in st.features:
        st.say(f"Then big drops of rain began to fall, and the {thing} got wet")
    else:
        st.say(st.pick(f"But then the {thing} fell on the floor", "But it did not look right at all",
                       lambda: f"Then {st.as_subject(h)} found that something was missing"))
    st.talk(h, st.pick("Oh no! It is ruined!", "What can I do now?", "It is all wrong!"),
            indirect=f"{st.as_subject(h)} felt like giving up")
    st.slot("problem")
    st.para()
    if st.good:
        st.say(st.pick(lambda: f"{st.as_subject(h)} took a deep breath and started again",
                       lambda: f"{st.as_subject(h)} did not give up. {capitalize(h.pro('subj'))} tried again, and this time {h.pro('subj')} went slowly"))
        if "Conflict" in st.features:
            st.say(f"This time, {st.as_subject(h)} and {st.by_name(f)} worked together and used both of their ideas")
        if "Twist" in st.features:
            st.say(f"When it was done, {st.by_name(f)} smiled and showed {st.as_object(h)} a surprise: {f.pro('subj')} had made one too!")
        else:
            st.say(st.pick(f"This time, the {thing} was perfect", "At last, it was done, and it looked wonderful"))
        st.talk(f if f.talks else h, st.pick("It is beautiful!", "You did it!", "This is the best one ever!"),
                indirect=f"{st.by_name(f, True)} loved it")
        st.lesson = st.lesson if st.lesson == "share" else "patient"
        st.summary = f"{h.name} makes {st.np(thing)}, and when it goes wrong, {h.pro('subj')} tries again."
    else:
        st.say(f"{st.as_subject(h)} tried again, but there was no time left")
        if "Twist" in st.features:
            st.say(f"Then {st.by_name(f)} came in with the same thing, but {f.pro('subj')} had broken it too")
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
            st.say(f"{st.possessive(h)} {st.pick('mom', 'dad')} said that a little {what} lived nearby, but {st.as_subject(h)} forgot")

    intro(st, hook)
    st.para()
    st.say(st.pick(lambda: f"{time_phrase(st)}, {st.as_subject(h)} was {at_place(st)} with {introduce_friend(st)}",
                   lambda: f"{time_phrase(st)}, {st.as_subject(h)} and {introduce_friend(st)} went to the {st.place}"))
    st.slot("setup")
    st.say(st.pick(f"Suddenly, they heard a strange noise {at_spot}", f"Then something moved {at_spot}"))
    st.say(st.pick(lambda: f"{st.as_subject(h)} was scared", lambda: f"{st.possessive(h)} heart beat fast"))
    st.talk(h, st.pick("What was that?", "Is it a monster?"), indirect=f"{st.as_subject(h)} wondered what it was")
    st.para()
    st.slot("problem")
    if "Conflict" in st.features and f.talks:
        st.talk(f, "Let's run away!", indirect=f"{st.by_name(f, True)} wanted to run away")
        st.talk(h, "No, let's look!", indirect=f"{st.as_subject(h)} wanted to look")
        st.say("They could not agree")
    if st.good:
        st.say(f"{st.as_subject(h)} took a deep breath and looked {at_spot}")
        if "Twist" in st.features:
            st.say(f"It was not a monster at all. It was just a little {what}, and it was more scared than they were!")
        else:
            st.say(f"There was a little {what}. It was only looking for food")
        st.talk(h, st.pick("You scared me!", "Hi there, little friend!"), indirect=f"{st.as_subject(h)} laughed")
        st.say(f"{st.as_subject(h)} gave the {what} some water, and it stayed to play")
        st.lesson = "brave"
        st.summary = f"{h.name} hears a scary noise and bravely finds out that it is a little {what}."
    else:
        st.say(f"{st.as_subject(h)} ran home as fast as {h.pro('subj')} could")
        if "Twist" in st.features:
            st.say(f"Later, {st.as_subject(h)} found out that it was only a little {what}, but it was too late to say hello")
        st.say(f"{st.as_subject(h)} never went near the {st.spot} again")
        st.lesson = "brave"
        st.summary = f"{h.name} hears a strange noise and runs away without finding out what it is."
    if warned:
        st.say(f"{st.as_subject(h)} remembered what {h.pro('poss')} parents had said about the {what}")


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

