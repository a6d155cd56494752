"""phi-1-style "textbook" sections: Python lessons and step-by-step math, with real outputs.

phi-1's synthetic textbook (~1B tokens from GPT-3.5) mixed natural-language explanation with code, aimed at a
reader, on a topic; diversity came from varying topic and audience. Cosmopedia later made the recipe explicit:
topic x audience x style. A section here is one topic for one audience: an explanation, a worked example whose
printed output is obtained by actually running it (in the sandbox), a short walk-through, and an exercise.
Math sections follow TinyGSM: a word problem, a step-by-step solution whose numbers are computed, and a
Python function that computes the same answer (its output is checked against the steps by running it).
"""
import json
import random

from synthdata.exercises import WORDS

AUDIENCES = {
    "young learners": ("Here is a simple idea.", "Let's look at a tiny program.", "Try this yourself:"),
    "high school students": ("Here is the idea.", "Consider the following program.", "Exercise:"),
    "college students": ("In short:", "The following example makes this concrete.", "Exercise:"),
    "professionals": ("Summary:", "A minimal example:", "Practice:"),
}
NAMES = "Ana Ben Chen Dara Eli Farah Gus Hana Ivo Jae Kemal Lena Milo Nia Omar Pia Quinn Rosa Sami Tess".split()
ITEMS = "apples pencils stickers marbles cookies books cards shells coins stamps".split()


def pick(rng, *options):
    return rng.choice(options)


# ---- Python topics: explanation, example program (rng -> source), exercise ------------------------------------
def ex_variables(rng):
    a, b = rng.randint(2, 50), rng.randint(2, 50)
    x, y = rng.sample(["apples", "width", "score", "count", "price", "height", "total_cats", "steps"], 2)
    return f"{x} = {a}\n{y} = {b}\n{x} = {x} + {y}\nprint({x})\nprint({y})"


def ex_strings(rng):
    w = rng.choice(WORDS)
    return (f'word = "{w}"\nprint(word.upper())\nprint(len(word))\nprint(word[0], word[-1])\n'
            f'print(word + "!" * {rng.randint(1, 3)})')


def ex_fstrings(rng):
    name, n = rng.choice(NAMES), rng.randint(2, 9)
    return f'name = "{name}"\nitems = {n}\nprint(f"{{name}} has {{items}} items.")\nprint(f"Twice as many is {{items * 2}}.")'


def ex_if(rng):
    t = rng.randint(-5, 35)
    return (f"temperature = {t}\nif temperature > 25:\n    print(\"hot\")\nelif temperature > 10:\n"
            f"    print(\"mild\")\nelse:\n    print(\"cold\")")


def ex_for(rng):
    n = rng.randint(3, 6)
    return f"total = 0\nfor i in range(1, {n + 1}):\n    total += i\n    print(i, total)\nprint(\"sum:\", total)"


def ex_while(rng):
    n = rng.randint(20, 200)
    return f"n = {n}\nsteps = 0\nwhile n > 1:\n    n = n // 2\n    steps += 1\nprint(\"halvings:\", steps)"


def ex_lists(rng):
    xs = [rng.randint(1, 20) for _ in range(rng.randint(3, 6))]
    return f"numbers = {xs}\nnumbers.append({rng.randint(1, 9)})\nprint(numbers)\nprint(len(numbers), max(numbers), min(numbers))\nprint(numbers[1:3])"


def ex_comprehension(rng):
    n = rng.randint(4, 8)
    return f"squares = [x * x for x in range({n})]\nevens = [x for x in squares if x % 2 == 0]\nprint(squares)\nprint(evens)"


def ex_dicts(rng):
    ws = rng.sample(WORDS, 3)
    return (f"stock = {{{', '.join(f'{w!r}: {rng.randint(0, 9)}' for w in ws)}}}\nstock[{ws[0]!r}] += 5\n"
            f"for item, count in stock.items():\n    print(item, count)\nprint({ws[1]!r} in stock, 'zzz' in stock)")


def ex_tuples_sets(rng):
    xs = [rng.randint(1, 5) for _ in range(7)]
    return f"values = {xs}\nunique = set(values)\nprint(sorted(unique))\npoint = ({rng.randint(0, 9)}, {rng.randint(0, 9)})\nx, y = point\nprint(x + y)"


def ex_functions(rng):
    k = rng.randint(2, 5)
    return f"def times_{k}(n):\n    return n * {k}\n\nprint(times_{k}(3))\nprint(times_{k}(10))\nprint([times_{k}(i) for i in range(4)])"


def ex_default_args(rng):
    name = rng.choice(NAMES)
    return (f'def greet(name, greeting="Hello"):\n    return f"{{greeting}}, {{name}}!"\n\nprint(greet("{name}"))\n'
            f'print(greet("{name}", greeting="Welcome"))')


def ex_recursion(rng):
    n = rng.randint(3, 7)
    return f"def factorial(n):\n    if n <= 1:\n        return 1\n    return n * factorial(n - 1)\n\nfor i in range({n}):\n    print(i, factorial(i))"


def ex_sorting(rng):
    xs = [rng.randint(1, 50) for _ in range(6)]
    ws = rng.sample(WORDS, 4)
    return f"numbers = {xs}\nprint(sorted(numbers))\nprint(sorted(numbers, reverse=True))\nwords = {ws}\nprint(sorted(words, key=len))"


def ex_searching(rng):
    xs = sorted(rng.sample(range(1, 60), 8))
    t = rng.choice(xs + [61])
    return (f"def binary_search(items, target):\n    lo, hi = 0, len(items) - 1\n    while lo <= hi:\n"
            f"        mid = (lo + hi) // 2\n        if items[mid] == target:\n            return mid\n"
            f"        if items[mid] < target:\n            lo = mid + 1\n        else:\n            hi = mid - 1\n"
            f"    return -1\n\nprint(binary_search({xs}, {t}))")


def ex_classes(rng):
    name, n = rng.choice(NAMES), rng.randint(1, 5)
    return (f"class Counter:\n    def __init__(self, owner):\n        self.owner = owner\n        self.count = 0\n\n"
            f"    def click(self):\n        self.count += 1\n\n\nc = Counter(\"{name}\")\nfor _ in range({n}):\n"
            f"    c.click()\nprint(c.owner, c.count)")


def ex_inheritance(rng):
    a = rng.choice(["Dog", "Cat", "Cow", "Duck"])
    sound = {"Dog": "Woof", "Cat": "Meow", "Cow": "Moo", "Duck": "Quack"}[a]
    return (f"class Animal:\n    def speak(self):\n        return \"...\"\n\n\nclass {a}(Animal):\n    def speak(self):\n"
            f"        return \"{sound}\"\n\n\nfor pet in [Animal(), {a}()]:\n    print(type(pet).__name__, pet.speak())")


def ex_exceptions(rng):
    d = rng.choice([0, rng.randint(1, 5)])
    return (f"def safe_divide(a, b):\n    try:\n        return a / b\n    except ZeroDivisionError:\n        return None\n\n"
            f"print(safe_divide(10, {d}))\nprint(safe_divide(9, 3))")


def ex_string_methods(rng):
    ws = rng.sample(WORDS, 4)
    return f'sentence = "{" ".join(ws)}"\nparts = sentence.split()\nprint(parts)\nprint("-".join(parts))\nprint(sentence.replace("{ws[0]}", "{ws[0].upper()}"))'


def ex_enumerate_zip(rng):
    ws = rng.sample(WORDS, 3)
    xs = [rng.randint(1, 9) for _ in ws]
    return f"names = {ws}\nscores = {xs}\nfor i, (name, score) in enumerate(zip(names, scores)):\n    print(i, name, score)"


def ex_nested_loops(rng):
    n = rng.randint(2, 4)
    return f"for row in range(1, {n + 1}):\n    line = \"\"\n    for col in range(1, {n + 1}):\n        line += str(row * col) + \" \"\n    print(line.strip())"


def ex_generators(rng):
    n = rng.randint(3, 6)
    return f"def countdown(n):\n    while n > 0:\n        yield n\n        n -= 1\n\nprint(list(countdown({n})))\nprint(sum(countdown({n})))"


def ex_lambda_map(rng):
    xs = [rng.randint(1, 9) for _ in range(5)]
    return f"numbers = {xs}\ndoubled = list(map(lambda n: n * 2, numbers))\nbig = list(filter(lambda n: n > 4, numbers))\nprint(doubled)\nprint(big)"


def ex_stack_queue(rng):
    xs = rng.sample(WORDS, 3)
    return (f"stack = []\nfor item in {xs}:\n    stack.append(item)\nprint(stack.pop())\n\n"
            f"from collections import deque\nqueue = deque({xs})\nprint(queue.popleft())")


PY_TOPICS = [
    ("Variables and assignment", ex_variables,
     ["A variable is a name that refers to a value. Assigning a new value to the name replaces the old one; the "
      "right-hand side is computed first, so `x = x + y` reads the old `x`.",
      "Variables let a program remember values. The `=` sign does not mean equality: it means 'compute the value "
      "on the right, then store it under the name on the left'."],
     "Swap the values of two variables without using a third one."),
    ("Working with strings", ex_strings,
     ["A string is a sequence of characters. You can measure it with `len`, index it from the front with `0` and "
      "from the back with `-1`, and build new strings with `+` and `*`.",
      "Strings never change in place: methods such as `upper()` return a new string and leave the original as it was."],
     "Write a program that prints a word backwards and tells whether it is a palindrome."),
    ("Formatted strings", ex_fstrings,
     ["An f-string puts the values of expressions inside text: anything between braces is evaluated and "
      "converted to a string.", "f-strings are the clearest way to mix text and values; the braces can hold any "
      "expression, not only names."],
     "Print a receipt line with an item name and a price with two decimal places."),
    ("Making decisions with if", ex_if,
     ["`if`, `elif` and `else` choose one path. Python checks the conditions from top to bottom and runs the first "
      "block whose condition is true.", "A condition is an expression that is either True or False. Only one branch "
      "of an if/elif/else chain ever runs."],
     "Write a program that prints whether a number is positive, negative or zero."),
    ("Counting loops with for", ex_for,
     ["A `for` loop runs its body once for every item of a sequence. `range(a, b)` gives the numbers from `a` up to, "
      "but not including, `b`.", "Loops repeat work. Keeping a running total in a variable is one of the most common "
      "loop patterns."],
     "Print the sum of the odd numbers from 1 to 99."),
    ("Loops that stop on a condition", ex_while,
     ["A `while` loop repeats as long as its condition stays true, so something inside the loop must eventually make "
      "it false.", "Use `while` when you do not know in advance how many steps you need."],
     "Count how many times you can subtract 7 from 100 before the result drops below zero."),
    ("Lists", ex_lists,
     ["A list holds values in order. Lists can grow with `append`, and slices like `items[1:3]` copy a part of them.",
      "Lists are mutable: methods like `append` change the list itself rather than returning a new one."],
     "Given a list of numbers, build a new list with only the numbers larger than the average."),
    ("List comprehensions", ex_comprehension,
     ["A list comprehension builds a list from a loop in one expression, optionally keeping only the items that pass "
      "a condition.", "`[f(x) for x in items if test(x)]` reads like a sentence: apply f to each x that passes test."],
     "Use a comprehension to list the words of a sentence that have more than three letters."),
    ("Dictionaries", ex_dicts,
     ["A dictionary maps keys to values. Looking up a key is fast, and `in` tells whether a key is present.",
      "Dictionaries are the natural way to count, group and index things by name."],
     "Count how many times each letter appears in a word, using a dictionary."),
    ("Tuples and sets", ex_tuples_sets,
     ["A tuple is a fixed group of values that can be unpacked into names. A set keeps each value only once.",
      "Sets remove duplicates and answer membership questions quickly; tuples bundle values that belong together."],
     "Find the letters that two words have in common using sets."),
    ("Defining functions", ex_functions,
     ["A function packages a piece of work under a name. `return` hands the result back to the caller.",
      "Functions make code reusable: write the steps once and call them with different arguments."],
     "Write a function that returns the larger of two numbers, and test it on three pairs."),
    ("Default and keyword arguments", ex_default_args,
     ["Parameters can have default values, used when the caller leaves them out. Keyword arguments name the "
      "parameter they set.", "Defaults keep simple calls short while still allowing the unusual case."],
     "Write a function that repeats a word a given number of times, twice by default."),
    ("Recursion", ex_recursion,
     ["A recursive function calls itself on a smaller problem. It needs a base case that stops the recursion.",
      "Recursion mirrors definitions like n! = n * (n - 1)!: solve the small case directly, reduce the big case."],
     "Write a recursive function that adds up the digits of a number."),
    ("Sorting", ex_sorting,
     ["`sorted` returns a new sorted list. `reverse=True` flips the order and `key=` sorts by a computed value.",
      "Sorting by a key, such as the length of each word, is often all a problem needs."],
     "Sort a list of names by their last letter."),
    ("Binary search", ex_searching,
     ["Binary search finds an item in a sorted list by halving the range it looks at on every step.",
      "Because each step halves the search range, binary search needs about log2(n) steps for n items."],
     "Change the function so that it returns the position where the target would be inserted."),
    ("Classes and objects", ex_classes,
     ["A class describes a kind of object: the data it holds (attributes) and what it can do (methods). "
      "`__init__` sets up a new object.", "Objects keep their own state: two counters made from the same class count "
      "separately."],
     "Add a `reset` method to the counter and show that it works."),
    ("Inheritance", ex_inheritance,
     ["A subclass inherits the methods of its parent class and can override them with its own versions.",
      "Inheritance lets different kinds of objects answer the same method call in their own way."],
     "Add another animal that overrides `speak`."),
    ("Handling errors", ex_exceptions,
     ["`try` and `except` catch an error and let the program continue, instead of stopping with a traceback.",
      "Catch the specific error you expect, such as `ZeroDivisionError`, rather than every possible error."],
     "Write a function that converts a string to an integer and returns 0 when the string is not a number."),
    ("String methods", ex_string_methods,
     ["`split` breaks a string into words, `join` glues a list of strings together, and `replace` swaps one piece "
      "of text for another.", "Most text processing is a chain of split, transform and join."],
     "Turn a sentence into title case without using `title()`."),
    ("enumerate and zip", ex_enumerate_zip,
     ["`enumerate` pairs each item with its position, and `zip` walks several sequences side by side.",
      "These two helpers remove most of the index bookkeeping from loops."],
     "Print each name with its score and mark the highest score with a star."),
    ("Nested loops", ex_nested_loops,
     ["A loop inside a loop runs the inner loop completely for each step of the outer loop, which is how tables and "
      "grids are built.", "With nested loops, the number of steps multiplies: n outer steps times m inner steps."],
     "Print a triangle of stars with five rows."),
    ("Generators", ex_generators,
     ["A generator function uses `yield` to produce values one at a time, only when they are asked for.",
      "Generators save memory: a loop can consume values without a list holding them all."],
     "Write a generator that yields the even numbers below a limit."),
    ("map, filter and lambda", ex_lambda_map,
     ["`map` applies a function to every item and `filter` keeps the items for which a function returns True. "
      "`lambda` writes a small function inline.", "For short transformations, map and filter with a lambda are "
      "compact; a comprehension is often clearer."],
     "Use `map` to convert a list of temperatures from Celsius to Fahrenheit."),
    ("Stacks and queues", ex_stack_queue,
     ["A stack gives back the last item added (append and pop); a queue gives back the first (deque's popleft).",
      "Choosing between a stack and a queue decides the order in which work is done."],
     "Use a stack to check whether the brackets in a string are balanced."),
]


# ---- math word problems (TinyGSM-style) ---------------------------------------------------------------------
def mp_shopping(rng):
    n, price = rng.randint(2, 9), rng.randint(2, 15)
    cost = n * price
    paid = rng.choice([c for c in (10, 20, 50, 100) if c >= cost] or [cost + 10])
    item, who = rng.choice(ITEMS), rng.choice(NAMES)
    q = f"{who} buys {n} {item} that cost ${price} each and pays with a ${paid} bill. How much change does {who} get?"
    steps = [f"The {item} cost {n} x ${price} = ${cost}.", f"The change is ${paid} - ${cost} = ${paid - cost}."]
    code = f"def solution():\n    cost = {n} * {price}\n    return {paid} - cost"
    return q, steps, paid - cost, code


def mp_sharing(rng):
    per, kids = rng.randint(2, 9), rng.randint(2, 8)
    extra = rng.randint(0, kids - 1)
    total = per * kids + extra
    item, who = rng.choice(ITEMS), rng.choice(NAMES)
    q = (f"{who} has {total} {item} and shares them equally among {kids} friends, keeping whatever is left over. "
         f"How many {item} does each friend get, and how many are left?")
    steps = [f"{total} divided by {kids} is {per} with a remainder of {extra}.",
             f"So each friend gets {per} {item} and {extra} are left."]
    code = f"def solution():\n    return divmod({total}, {kids})"
    return q, steps, (per, extra), code


def mp_speed(rng):
    speed, hours = rng.randint(3, 80), rng.randint(2, 6)
    who = rng.choice(NAMES)
    q = f"{who} travels at {speed} km per hour for {hours} hours. How far does {who} travel?"
    steps = ["Distance is speed times time.", f"{speed} x {hours} = {speed * hours} km."]
    return q, steps, speed * hours, f"def solution():\n    speed = {speed}\n    hours = {hours}\n    return speed * hours"


def mp_ages(rng):
    a, diff, years = rng.randint(3, 15), rng.randint(2, 30), rng.randint(2, 10)
    x, y = rng.sample(NAMES, 2)
    q = (f"{x} is {a} years old. {y} is {diff} years older than {x}. How old will {y} be in {years} years?")
    steps = [f"{y} is {a} + {diff} = {a + diff} years old now.", f"In {years} years, {y} will be {a + diff} + {years} = {a + diff + years}."]
    return q, steps, a + diff + years, f"def solution():\n    now = {a} + {diff}\n    return now + {years}"


def mp_discount(rng):
    price, pct = rng.choice([20, 40, 50, 60, 80, 120, 200]), rng.choice([10, 20, 25, 50])
    off = price * pct // 100
    item = rng.choice(["jacket", "bike", "lamp", "game", "backpack"])
    q = f"A {item} costs ${price}. It is on sale for {pct}% off. What is the sale price?"
    steps = [f"{pct}% of ${price} is ${price} x {pct} / 100 = ${off}.", f"The sale price is ${price} - ${off} = ${price - off}."]
    return q, steps, price - off, f"def solution():\n    discount = {price} * {pct} // 100\n    return {price} - discount"


def mp_rectangle(rng):
    w, h = rng.randint(2, 20), rng.randint(2, 20)
    q = f"A garden is {w} meters long and {h} meters wide. What are its area and its perimeter?"
    steps = [f"Area = {w} x {h} = {w * h} square meters.", f"Perimeter = 2 x ({w} + {h}) = {2 * (w + h)} meters."]
    return q, steps, (w * h, 2 * (w + h)), f"def solution():\n    area = {w} * {h}\n    perimeter = 2 * ({w} + {h})\n    return area, perimeter"


def mp_saving(rng):
    start, weekly, goal = rng.randint(0, 30), rng.randint(3, 15), rng.randint(60, 200)
    weeks = max(0, -(-(goal - start) // weekly))
    who = rng.choice(NAMES)
    q = (f"{who} has ${start} and saves ${weekly} every week. After how many weeks will {who} have at least ${goal}?")
    steps = [f"{who} still needs ${goal} - ${start} = ${goal - start}.",
             f"${goal - start} / ${weekly} per week, rounded up, is {weeks} weeks."]
    code = f"def solution():\n    saved, weeks = {start}, 0\n    while saved < {goal}:\n        saved += {weekly}\n        weeks += 1\n    return weeks"
    return q, steps, weeks, code


def mp_recipe(rng):
    cups, serves, want = rng.randint(1, 4), rng.choice([2, 4]), rng.choice([6, 8, 12])
    q = f"A recipe uses {cups} cups of flour for {serves} people. How many cups are needed for {want} people?"
    need = cups * want / serves
    need_txt = int(need) if need == int(need) else need
    steps = [f"For one person the recipe needs {cups} / {serves} cups.", f"For {want} people: {cups} x {want} / {serves} = {need_txt} cups."]
    return q, steps, need_txt, f"def solution():\n    result = {cups} * {want} / {serves}\n    return int(result) if result == int(result) else result"


def mp_time(rng):
    h, m, dur = rng.randint(7, 15), rng.choice([0, 15, 30, 45]), rng.randint(20, 200)
    end = h * 60 + m + dur
    q = f"A movie starts at {h}:{m:02d} and lasts {dur} minutes. At what time does it end?"
    steps = [f"{h}:{m:02d} is {h * 60 + m} minutes after midnight.",
             f"Adding {dur} minutes gives {end} minutes, which is {end // 60}:{end % 60:02d}."]
    return q, steps, f"{end // 60}:{end % 60:02d}", (f"def solution():\n    end = {h} * 60 + {m} + {dur}\n"
                                                    f"    return f\"{{end // 60}}:{{end % 60:02d}}\"")


def mp_fraction(rng):
    total, den = rng.choice([12, 20, 24, 30, 36, 40]), rng.choice([2, 3, 4])
    num = rng.randint(1, den - 1)
    if total * num % den:  # keep the answer a whole number of students
        total = den * rng.randint(3, 10)
    part = total * num // den
    q = f"There are {total} students in a class. {num}/{den} of them walk to school. How many students do not walk?"
    steps = [f"{num}/{den} of {total} is {total} x {num} / {den} = {part}.", f"So {total} - {part} = {total - part} do not walk."]
    return q, steps, total - part, f"def solution():\n    walkers = {total} * {num} // {den}\n    return {total} - walkers"


MATH_PROBLEMS = [mp_shopping, mp_sharing, mp_speed, mp_ages, mp_discount, mp_rectangle, mp_saving, mp_recipe,
                 mp_time, mp_fraction]


class TextbookGenerator:
    """Records before their outputs are filled in; `finish` runs the examples in the sandbox."""

    def section(self, seed, index):
        rng = random.Random(f"textbook:{seed}:{index}")
        audience = rng.choice(list(AUDIENCES))
        if rng.random() < 0.35:
            make = rng.choice(MATH_PROBLEMS)
            q, steps, answer, code = make(rng)
            title = pick(rng, "Word problem", "Reasoning step by step", "A worked problem", "Math in everyday life")
            text = (f"## {title}\n\n**Problem.** {q}\n\n**Solution.** " + " ".join(steps) +
                    f" The answer is {answer_text(answer)}.\n\nThe same reasoning as a Python program:\n\n```python\n"
                    f"{code}\n\nprint(solution())\n```\n")
            return {"text": text, "kind": "math", "topic": make.__name__[3:], "audience": audience,
                    "sources": [f"{code}\n\nprint(solution())"], "expected": repr(answer)}
        title, example, explanations, exercise = rng.choice(PY_TOPICS)
        frame, lead, ex_label = AUDIENCES[audience]
        code = example(rng)
        explanation = " ".join(rng.sample(explanations, rng.randint(1, 2)))
        intro = pick(rng, f"This section is about {title.lower()}.", f"Topic: {title.lower()}.",
                     f"We now turn to {title.lower()}.", "")
        use = (f"You will meet this whenever a program has to {rng.choice(USES)}." if rng.random() < 0.6 else "")
        sources = [code]
        text = (f"## {title}\n\n{(intro + ' ') if intro else ''}{frame} {explanation} {use}".rstrip() +
                f"\n\n{lead}\n\n```python\n{code}\n```\n\nRunning it prints:\n\n```\n{{output0}}```\n\n"
                f"{walkthrough(rng, code)}\n\n")
        if rng.random() < 0.5:  # predict-then-check: the same idea with other values, and its real output
            other = example(rng)
            if other != code:
                sources.append(other)
                text += (f"{pick(rng, 'Now change the values.', 'Here is the same program with different data.', 'A variation:')} "
                         f"{pick(rng, 'Before reading the output, predict it.', 'What do you expect it to print?', '')}"
                         f"\n\n```python\n{other}\n```\n\nOutput:\n\n```\n{{output1}}```\n\n")
        text += f"**{ex_label}** {exercise}\n"
        return {"text": text, "kind": "python", "topic": title, "audience": audience, "sources": sources}


USES = ["keep score in a game", "track the stock of a small shop", "count votes in a class election",
        "measure rainfall over a week", "organise a music playlist", "plan a school timetable",
        "analyse temperatures from a weather station", "manage a library's books", "split a restaurant bill",
        "process the lines of a log file", "check answers in a quiz", "simulate a board game",
        "summarise sales by month", "clean up a list of names", "find the shortest route on a map",
        "store the settings of an app", "build a to-do list", "convert units in a recipe"]


def answer_text(answer):
    if isinstance(answer, tuple):
        return " and ".join(str(a) for a in answer)
    return str(answer)


def walkthrough(rng, code):
    lines = code.count("\n") + 1
    return pick(rng, f"The program is {lines} lines long; read it from top to bottom and match each printed line "
                     f"to the statement that produced it.",
                "Each line of output comes from one `print` call, in the order the calls run.",
                "Change one value in the program, predict the new output, then run it to check.")


RUNNER = '''
import contextlib, io, json
SOURCES = {sources!r}
outputs = []
for source in SOURCES:
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, "<example>", "exec"), {{"__name__": "__main__"}})
        outputs.append(buffer.getvalue())
    except Exception as error:
        outputs.append(None)
print(json.dumps(outputs))
'''


def run_examples(sources, timeout=20.0, batch=100, unsafe_no_isolation=False):
    """Real printed output of each source (None if it failed), run in the sandbox, many per process."""
    from sandbox import run_program

    outputs = []
    for i in range(0, len(sources), batch):
        chunk = sources[i:i + batch]
        result = run_program(RUNNER.format(sources=chunk), timeout=timeout, unsafe_no_isolation=unsafe_no_isolation)
        try:
            outputs.extend(json.loads(result.stdout.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            # the batch itself broke (a crash or a timeout): run its programs one by one
            singles = (run_program(s, timeout=5.0, unsafe_no_isolation=unsafe_no_isolation) for s in chunk)
            outputs.extend(r.stdout if r.status == "ok" else None for r in singles)
    return outputs


def finish(records, unsafe_no_isolation=False):
    """Fill in real outputs; drop a section whose example failed or whose program disagrees with its steps."""
    flat = [src for r in records for src in r["sources"]]
    outputs = iter(run_examples(flat, unsafe_no_isolation=unsafe_no_isolation))
    done = []
    for r in records:
        outs = [next(outputs) for _ in r["sources"]]
        if any(o is None for o in outs):
            continue
        if r["kind"] == "math":
            if outs[0].strip() != str(eval_literal(r["expected"])).strip():
                continue
            text = r["text"]
        else:
            text = r["text"]
            for k, out in enumerate(outs):
                text = text.replace(f"{{output{k}}}", out if out.endswith("\n") else out + "\n")
        rec = {k: v for k, v in r.items() if k not in ("sources", "expected")}
        rec["text"] = text
        done.append(rec)
    return done


def eval_literal(text):
    import ast
    return ast.literal_eval(text)
