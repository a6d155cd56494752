"""An "ordinary code" baseline: the same programs as the exercises, written the way most code is written.

phi-1's ablation compared a model trained on filtered web code with one trained on textbook-quality data at
the same token count. This generator makes the control arm without downloading The Stack: files built from
the exercise families' solutions, but with what textbooks leave out removed (no docstrings, no examples, no
explanations, no type hints), terse names, the boilerplate real files carry (imports, constants, logging,
argument parsing, a main), leftover comments and debug prints, and a skewed topic mix (a few families
dominate, as a handful of idioms dominate real repositories).
"""
import ast
import random
import re
import string

from synthdata.exercises import split_of
from synthdata.families import FAMILIES

TERSE_ARGS = ["a", "b", "c", "d"], ["x", "y", "z", "w"], ["s", "t", "u", "v"], ["l", "m", "n", "o"], ["arg", "arg2", "arg3", "arg4"]
TERSE_FUNCS = ["f", "g", "h", "fn", "proc", "calc", "do_it", "helper", "process", "run", "tmp", "util", "go", "check"]
RENAMES = {"result": "res", "count": "cnt", "total": "tot", "current": "cur", "values": "vals", "numbers": "nums",
           "counts": "d", "letters": "ls", "words": "ws", "word": "w", "seen": "s2", "best": "b2", "digits": "ds"}
IMPORTS = ["import os", "import sys", "import re", "import json", "import math", "import time", "import logging",
           "import random", "import itertools", "import collections", "from collections import defaultdict",
           "from typing import *", "import argparse", "import functools"]
HEADERS = ["#!/usr/bin/env python", "# -*- coding: utf-8 -*-", "#!/usr/bin/python3", "", "", ""]
COMMENTS = ["# TODO: clean this up", "# FIXME", "# hack", "# works for now", "# old version below",
            "# do not touch", "# XXX", "# see ticket", "# temp", "# fix later"]


def terse(body, names, fname):
    """A family body with its placeholders filled by terse names and its locals shortened."""
    text = string.Template(body).safe_substitute({**dict(zip("abcd", names)), "name": fname})
    for long, short in RENAMES.items():
        text = re.sub(rf"\b{long}\b", short, text)
    return text


class CodeGenerator:
    def __init__(self, split="train"):
        # the train families only by default: a control arm that had seen the held-out families' solutions
        # would be scored on what it memorised
        self.families = [f for f in FAMILIES if split_of(f) == split]
        # a fixed, skewed popularity: Zipf-like weights over a fixed shuffle of the families
        order = list(range(len(self.families)))
        random.Random("code-popularity").shuffle(order)
        self.weights = [0.0] * len(self.families)
        for rank, i in enumerate(order):
            self.weights[i] = 1.0 / (rank + 1) ** 1.2

    def function(self, rng, used):
        fam = rng.choices(self.families, weights=self.weights)[0]
        fname = rng.choice([n for n in TERSE_FUNCS if n not in used] or [f"f{len(used)}"])
        used.add(fname)
        names = rng.choice(TERSE_ARGS)[:len(fam.arg_names[0])]
        params = fam.params(rng)
        body = string.Template(rng.choice(fam.bodies)).safe_substitute({k: str(v) for k, v in params.items()})
        body = terse(body, names, fname)
        lines = body.split("\n")
        if rng.random() < 0.3:
            lines.insert(rng.randrange(len(lines)), rng.choice(COMMENTS))
        if rng.random() < 0.2:
            lines.insert(0, f"# print({names[0]})")
        src = f"def {fname}({', '.join(names)}):\n" + "\n".join("    " + ln for ln in lines)
        return src, fname, len(names), fam

    def file(self, seed, index):
        rng = random.Random(f"code:{seed}:{index}")
        used = set()
        parts = [rng.choice(HEADERS)]
        parts += sorted(set(rng.sample(IMPORTS, rng.randint(1, 5))) | {"import sys"})
        if rng.random() < 0.5:
            parts.append(f"\nDEBUG = {rng.choice(['True', 'False'])}\nVERSION = '0.{rng.randint(1, 9)}.{rng.randint(0, 20)}'")
        if rng.random() < 0.3:
            parts.append("\nlogging.basicConfig(level=logging.INFO)\nlog = logging.getLogger(__name__)"
                         if "import logging" in parts else "\nlog = print")
        funcs = [self.function(rng, used) for _ in range(rng.randint(1, 4))]
        topics = sorted({f[3].topic for f in funcs})
        for src, *_ in funcs:
            parts.append("\n\n" + src)
        main = ["def main():", "    args = sys.argv[1:]" if rng.random() < 0.5 else "    pass"]
        for _, fname, nargs, fam in funcs:
            if rng.random() < 0.6:
                main.append(f"    # {fname}({', '.join('None' for _ in range(nargs))})")
            else:
                main.append(f"    print('{fname}', {fname})")
        parts.append("\n\n" + "\n".join(main))
        parts.append("\n\nif __name__ == '__main__':\n    main()\n")
        text = "\n".join(p for p in parts if p is not None).lstrip("\n")
        ast.parse(text)  # ordinary, but still valid Python
        return {"text": text, "families": [f[3].name for f in funcs], "topics": topics}
