"""Task families whose natural solution is recursive: nested lists, permutations, subsets, paths."""
import math
from itertools import permutations

from synthdata.families.family import Family


# reference implementations too long for a lambda
def nesting_depth(items):
    return 1 + max([nesting_depth(x) for x in items if isinstance(x, list)], default=0)


def flattened(items):
    return [y for x in items for y in (flattened(x) if isinstance(x, list) else [x])]


FAMILIES = [
    Family(
        name="nested_sum", topic="recursion",
        function_names=["nested_sum", "deep_sum", "sum_nested"],
        arg_names=["items", "data", "nested"], arg_types=["list"], returns="int",
        docs=["Return the sum of all integers in $a, which may contain nested lists at any depth.",
              "Add up every number inside the nested list $a, using recursion."],
        bodies=["total = 0\nfor item in $a:\n    if isinstance(item, list):\n        total += $name(item)\n"
                "    else:\n        total += item\nreturn total"],
        reference=lambda xs: (lambda f: f(f, xs))(lambda f, v: sum(f(f, x) if isinstance(x, list) else x for x in v)),
        inputs=lambda r: (r.nested(),)),
    Family(
        name="max_depth", topic="recursion",
        function_names=["max_depth", "nesting_depth", "depth"],
        arg_names=["items", "data", "nested"], arg_types=["list"], returns="int",
        docs=["Return how deeply lists are nested in $a: a flat list has depth 1, [[1]] has depth 2.",
              "Compute the nesting depth of the list $a recursively."],
        bodies=["deepest = 0\nfor item in $a:\n    if isinstance(item, list):\n"
                "        deepest = max(deepest, $name(item))\nreturn deepest + 1"],
        reference=nesting_depth,
        inputs=lambda r: (r.nested(),)),
    Family(
        name="power", topic="recursion",
        function_names=["power", "fast_power", "raise_to"],
        arg_names=["base, exp", "x, n", "b, e"], arg_types=["int", "int"], returns="int",
        docs=["Return $a raised to the non-negative integer power $b, using recursion (no ** operator).",
              "Compute $a ** $b recursively by repeated squaring."],
        bodies=["if $b == 0:\n    return 1\nhalf = $name($a, $b // 2)\nif $b % 2 == 0:\n    return half * half\n"
                "return half * half * $a"],
        reference=lambda b, e: b ** e,
        inputs=lambda r: (r.randint(-5, 9), r.randint(0, 10))),
    Family(
        name="string_permutations", topic="recursion",
        function_names=["string_permutations", "all_orderings", "arrangements"],
        arg_names=["s", "word", "letters"], arg_types=["str"], returns="list[str]",
        docs=["Return all distinct rearrangements of the characters of $a, sorted alphabetically.",
              "List every permutation of $a (no duplicates) in sorted order."],
        bodies=["if len($a) <= 1:\n    return [$a]\nresult = set()\nfor i, ch in enumerate($a):\n"
                "    for rest in $name($a[:i] + $a[i + 1:]):\n        result.add(ch + rest)\nreturn sorted(result)"],
        reference=lambda s: sorted(set("".join(p) for p in permutations(s))) if s else [""],
        inputs=lambda r: (r.word()[:r.randint(1, 4)],)),
    Family(
        name="all_subsets", topic="recursion",
        function_names=["all_subsets", "power_set", "subsets"],
        arg_names=["items", "nums", "values"], arg_types=["list[int]"], returns="list[list[int]]",
        docs=["Return all subsets of $a as lists that keep the original order, sorted (Python list order).",
              "Build the power set of $a recursively and return it sorted."],
        bodies=["if not $a:\n    return [[]]\nrest = $name($a[1:])\n"
                "return sorted(rest + [[$a[0]] + s for s in rest])"],
        reference=lambda xs: sorted([[x for i, x in enumerate(xs) if m >> i & 1] for m in range(1 << len(xs))]),
        inputs=lambda r: (r.ints(0, 9, n=r.randint(0, 4)),)),
    Family(
        name="hanoi_moves", topic="recursion",
        function_names=["hanoi_moves", "tower_of_hanoi", "count_hanoi"],
        arg_names=["n", "disks"], arg_types=["int"], returns="int",
        docs=["Return how many moves the Tower of Hanoi puzzle needs for $a disks, computed recursively.",
              "Count the moves to solve Tower of Hanoi with $a disks."],
        bodies=["if $a == 0:\n    return 0\nreturn 2 * $name($a - 1) + 1"],
        reference=lambda n: 2 ** n - 1,
        inputs=lambda r: (r.randint(0, 15),)),
    Family(
        name="flatten_deep", topic="recursion",
        function_names=["flatten_deep", "deep_flatten", "flatten_all"],
        arg_names=["items", "nested", "data"], arg_types=["list"], returns="list[int]",
        docs=["Return a flat list with all the integers of the nested list $a, in order.",
              "Flatten $a completely, however deep the nesting goes."],
        bodies=["result = []\nfor item in $a:\n    if isinstance(item, list):\n        result.extend($name(item))\n"
                "    else:\n        result.append(item)\nreturn result"],
        reference=flattened,
        inputs=lambda r: (r.nested(),)),
    Family(
        name="count_paths", topic="recursion",
        function_names=["count_paths", "grid_paths", "lattice_paths"],
        arg_names=["rows, cols", "m, n", "height, width"], arg_types=["int", "int"], returns="int",
        docs=["Return how many paths lead from the top-left to the bottom-right cell of a $a x $b grid moving only "
              "right or down.",
              "Count the monotone lattice paths through a grid with $a rows and $b columns."],
        bodies=["if $a == 1 or $b == 1:\n    return 1\nreturn $name($a - 1, $b) + $name($a, $b - 1)"],
        reference=lambda m, n: math.comb(m + n - 2, m - 1),
        inputs=lambda r: (r.randint(1, 7), r.randint(1, 7))),
    Family(
        name="binary_search_recursive", topic="recursion",
        function_names=["binary_search_recursive", "find_recursive", "bsearch"],
        arg_names=["items, target", "nums, value"], arg_types=["list[int]", "int"], returns="int",
        docs=["Return an index of $b in the sorted list $a using recursive binary search, or -1 if it is absent.",
              "Search the sorted list $a for $b recursively; return its index or -1."],
        bodies=["def search(lo, hi):\n    if lo > hi:\n        return -1\n    mid = (lo + hi) // 2\n"
                "    if $a[mid] == $b:\n        return mid\n    if $a[mid] < $b:\n"
                "        return search(mid + 1, hi)\n    return search(lo, mid - 1)\nreturn search(0, len($a) - 1)"],
        reference=lambda xs, t: xs.index(t) if t in xs else -1,
        inputs=lambda r: (lambda xs: (xs, r.choice(xs + [100])))(r.sorted_unique())),
]
