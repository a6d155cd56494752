"""phi-1 CodeExercises, offline: a signature + docstring, then the solution, in HumanEval form.

phi-1's 180M-token CodeExercises were "function signature + docstring, then solution" written by GPT-3.5,
made diverse by constraining the topic and the audience of each prompt. Here the topic is a task family
(families/), and a seeded rng draws the rest: function and argument names, parameters, docstring wording,
audience style (plain, worked examples, Google-style Args/Returns), type hints or not, the solution body and
the test inputs. Expected values come from the family's reference implementation, not from the solution shown;
`verify` runs every test in the sandbox. The record fields and the train/held-out split: synthdata/README.md.
"""
import random
import string
import textwrap
import zlib

from synthdata.families import FAMILIES

WORDS = ("apple river stone cloud garden pencil rocket banana window forest silver orange yellow button "
         "dragon planet summer winter castle butter candle puzzle monkey rabbit turtle violin basket meadow "
         "island pocket ladder marble kitten spoon tiger zebra lemon mango piano rain snow wind sun moon star "
         "tree leaf bird fish frog duck bear lion wolf owl ant bee cat dog cow pig hen fox elk yak emu gnu "
         "code data list loop test byte node tree heap sort find path grid cell word text line").split()
HELDOUT_EVERY = 5  # a family whose name hashes to 0 mod 5 is held out (~20% of families)
AUDIENCES = ("beginner", "student", "professional")


def split_of(family):
    return "heldout" if zlib.crc32(family.name.encode()) % HELDOUT_EVERY == 0 else "train"


class Inputs(random.Random):
    """Random test inputs shaped like the ones people test with: short words, small numbers, edge cases."""

    def word(self):
        return self.choice(WORDS)

    def words(self, lo=1, hi=6):
        return [self.word() for _ in range(self.randint(lo, hi))]

    def distinct_words(self, lo=0, hi=5):
        return self.sample(WORDS, self.randint(lo, hi))

    def text(self, repeat=False):
        pool = self.words(1, 3) if repeat else WORDS
        return " ".join(self.choice(pool) for _ in range(self.randint(0 if self.random() < 0.1 else 1, 7)))

    def spaced_text(self):
        return "".join(self.choice([" ", "  ", "\t"]) + w if i else w for i, w in enumerate(self.words(0, 5)))

    def palindrome(self):
        half = self.word()
        return self.choice([half + half[::-1], half + "x" + half[::-1], "Was it a car or a cat I saw?", "A man, a plan"])

    def shuffled(self, w):
        letters = list(w)
        self.shuffle(letters)
        return "".join(letters)

    def runs(self, alphabet="abc", n=10):
        return "".join(self.choice(alphabet) * self.randint(1, 3) for _ in range(self.randint(0, n // 2)))

    def mixed(self):
        pool = string.ascii_letters + string.digits + "  ,.!?"
        return "".join(self.choice(pool) for _ in range(self.randint(0, 14)))

    def ints(self, lo=-10, hi=20, n=None):
        return [self.randint(lo, hi) for _ in range(self.randint(0, 8) if n is None else n)]

    def tally(self, hi=9):
        return {w: self.randint(0, hi) for w in self.distinct_words(0, 5)}

    def nested(self, depth=3):
        out = []
        for _ in range(self.randint(0, 4)):
            out.append(self.nested(depth - 1) if depth and self.random() < 0.3 else self.randint(-5, 9))
        return out

    def sorted_unique(self):
        return sorted(set(self.ints(-20, 40, n=self.randint(1, 9))))

    def missing(self):
        nums = list(range(self.randint(1, 9)))
        nums.remove(self.choice(nums))
        self.shuffle(nums)
        return nums

    def matrix(self, square=False):
        rows = self.randint(1, 4)
        cols = rows if square else self.randint(1, 4)
        return [[self.randint(-5, 9) for _ in range(cols)] for _ in range(rows)]


def call(name, args):
    return f"{name}({', '.join(repr(a) for a in args)})"


def assertion(name, args, expected):
    if isinstance(expected, float):
        return f"    assert abs(candidate({', '.join(repr(a) for a in args)}) - {expected!r}) < 1e-6"
    return f"    assert {call('candidate', args)} == {expected!r}"


def docstring(text, examples, audience, argnames, types, returns, rng):
    """The docstring in one of three house styles; examples are real calls with their real results."""
    body = textwrap.fill(text, 84)
    ex = "\n".join(f">>> {c}\n{r}" for c, r in examples)
    if audience == "beginner":
        body = f"{body}\n\nFor example:\n{ex}" if examples else body
    elif audience == "student":
        body = f"{body}\n\n{ex}" if examples else body
    else:
        args = "\n".join(f"    {a}: {t}" for a, t in zip(argnames, types))
        body = f"{body}\n\nArgs:\n{args}\n\nReturns:\n    {returns}"
        if examples and rng.random() < 0.6:
            body += f"\n\nExamples:\n{ex}"
    return textwrap.indent(f'"""{body}\n"""', "    ")


def make_exercise(family, seed, index, task_prefix="nanophi"):
    """One exercise from one family. Deterministic in (family, seed, index)."""
    rng = Inputs(f"exercise:{seed}:{index}")
    name = rng.choice(family.function_names)
    argnames = rng.choice(family.arg_names)
    params = family.params(rng)
    mapping = {"name": name, **{k: str(v) for k, v in params.items()}, **dict(zip("abcd", argnames))}
    hints = rng.random() < 0.75
    arglist = ", ".join(f"{a}: {t}" if hints else a for a, t in zip(argnames, family.arg_types))
    signature = f"def {name}({arglist}){' -> ' + family.returns if hints else ''}:"
    # inputs: distinct calls; the first two become the docstring's examples, all of them the test
    calls, seen = [], set()
    for _ in range(40):
        args = family.inputs(rng)
        key = repr(args)
        if key in seen:
            continue
        seen.add(key)
        try:
            expected = family.reference(*args, **params)
        except (ValueError, IndexError, ZeroDivisionError):
            continue  # the input breaks the task's precondition (e.g. an empty text): draw another
        calls.append((args, expected))
        if len(calls) == 8:
            break
    audience = rng.choice(AUDIENCES)
    examples = [(call(name, a), repr(e)) for a, e in calls[:rng.randint(1, 3)]]
    doc_text = string.Template(rng.choice(family.docs)).substitute(mapping)
    doc = docstring(doc_text, examples, audience, argnames, family.arg_types, family.returns, rng)
    prompt = f"{signature}\n{doc}\n"
    body = string.Template(rng.choice(family.bodies)).substitute(mapping)
    solution = textwrap.indent(body, "    ") + "\n"
    test = "def check(candidate):\n" + "\n".join(assertion(name, a, e) for a, e in calls) + "\n"
    return {
        "text": prompt + solution,
        "task_id": f"{task_prefix}/{index}",
        "prompt": prompt,
        "canonical_solution": solution,
        "test": test,
        "entry_point": name,
        "family": family.name,
        "topic": family.topic,
        "audience": audience,
        "split": split_of(family),
    }


class ExerciseGenerator:
    def __init__(self, split="train"):
        if split not in ("train", "heldout"):
            raise SystemExit(f"--split must be train or heldout, not {split!r}")
        self.families = [f for f in FAMILIES if split_of(f) == split]
        self.split = split

    def exercise(self, seed, index):
        # round-robin over families keeps topics balanced; the seed shifts which family comes first
        family = self.families[(index + seed) % len(self.families)]
        return make_exercise(family, seed, index, task_prefix=f"nanophi-{self.split}")


# ---- verification in the sandbox ------------------------------------------------------------------------------
BATCH_TEST = '''
RECORDS = {records!r}


def check(candidate):
    for source, entry_point in RECORDS:
        namespace = {{"__name__": "solution"}}
        exec(compile(source, "<exercise>", "exec"), namespace)
        namespace["check"](namespace[entry_point])
'''


def verify(records, timeout=5.0, batch=1, workers=None, desc="verifying", unsafe_no_isolation=False):
    """Which records pass their own test, run in the sandbox. Returns a list of booleans.

    batch=1 checks each record as the sandbox checks a completion: its code in one sandboxed process, its test
    in another. batch > 1 is group testing, for speed, and only for records this process generated from its
    own grammar: a batch is one sandboxed program whose test runs every record's code and check in turn, on
    the verdict's side of the sandbox, so a hostile record could fake its batch-mates' verdicts. A passing
    batch means every record in it passed; a batch that fails or times out is split in half and retried, down
    to single records, so one broken record costs a few extra runs and never hides or taints the others.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    from sandbox import check_program

    results = [False] * len(records)
    bar = tqdm(total=len(records), desc=desc, unit="ex", disable=len(records) < 2, leave=False)

    def run(indices):
        if len(indices) == 1:
            r = records[indices[0]]
            ok = check_program(r["prompt"], r["canonical_solution"], r["test"], r["entry_point"], timeout,
                               unsafe_no_isolation=unsafe_no_isolation).passed
            results[indices[0]] = ok
            bar.update(1)
            return
        payload = [(records[i]["prompt"] + records[i]["canonical_solution"] + "\n" + records[i]["test"],
                    records[i]["entry_point"]) for i in indices]
        outcome = check_program("", "def batch():\n    pass\n", BATCH_TEST.format(records=payload), "batch",
                                timeout * max(1, len(indices) // 8), unsafe_no_isolation=unsafe_no_isolation)
        if outcome.passed:
            for i in indices:
                results[i] = True
            bar.update(len(indices))
            return
        half = len(indices) // 2
        run(indices[:half])
        run(indices[half:])

    chunks = [list(range(i, min(i + batch, len(records)))) for i in range(0, len(records), batch)]
    with ThreadPoolExecutor(max_workers=workers or 2) as pool:
        list(pool.map(run, chunks))
    bar.close()
    return results
