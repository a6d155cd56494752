"""Task families on searching: linear and binary search, two-sum, missing values."""
from synthdata.families.family import Family

FAMILIES = [
    Family(
        name="linear_search", topic="searching",
        function_names=["linear_search", "find_index", "position_of"],
        arg_names=["items, target", "nums, value", "values, x"], arg_types=["list[int]", "int"], returns="int",
        docs=["Return the index of the first occurrence of $b in $a, or -1 if it is not there.",
              "Scan $a from the left and report where $b first appears (-1 if never)."],
        bodies=["for i, item in enumerate($a):\n    if item == $b:\n        return i\nreturn -1"],
        reference=lambda xs, t: xs.index(t) if t in xs else -1,
        inputs=lambda r: (r.ints(0, 9), r.randint(0, 9))),
    Family(
        name="binary_search", topic="searching",
        function_names=["binary_search", "bisect_find", "sorted_index"],
        arg_names=["items, target", "nums, value", "arr, x"], arg_types=["list[int]", "int"], returns="int",
        docs=["Return the index of $b in the sorted list $a of distinct numbers, or -1 when absent. Use binary "
              "search.",
              "Find $b in the sorted list $a in logarithmic time; return -1 if it is missing."],
        bodies=["lo, hi = 0, len($a) - 1\nwhile lo <= hi:\n    mid = (lo + hi) // 2\n    if $a[mid] == $b:\n"
                "        return mid\n    if $a[mid] < $b:\n        lo = mid + 1\n    else:\n        hi = mid - 1\n"
                "return -1"],
        reference=lambda xs, t: xs.index(t) if t in xs else -1,
        inputs=lambda r: (lambda xs: (xs, r.choice(xs + [-1, 100])))(r.sorted_unique())),
    Family(
        name="first_greater", topic="searching",
        function_names=["first_greater", "first_above", "next_bigger"],
        arg_names=["nums, limit", "values, threshold", "items, x"],
        arg_types=["list[int]", "int"], returns="int | None",
        docs=["Return the first number in $a that is greater than $b, or None if there is none.",
              "Find the earliest element of $a exceeding $b (None if no element does)."],
        bodies=["for n in $a:\n    if n > $b:\n        return n\nreturn None"],
        reference=lambda xs, t: next((x for x in xs if x > t), None),
        inputs=lambda r: (r.ints(), r.randint(0, 20))),
    Family(
        name="missing_number", topic="searching",
        function_names=["missing_number", "find_missing", "lost_number"],
        arg_names=["nums", "values", "numbers"], arg_types=["list[int]"], returns="int",
        docs=["$a holds every number from 0 to len($a) except one. Return the missing number.",
              "Exactly one of 0, 1, ..., len($a) is absent from $a; find it."],
        bodies=["n = len($a)\nreturn n * (n + 1) // 2 - sum($a)",
                "present = set($a)\nfor i in range(len($a) + 1):\n    if i not in present:\n        return i"],
        reference=lambda xs: (set(range(len(xs) + 1)) - set(xs)).pop(),
        inputs=lambda r: (r.missing(),)),
    Family(
        name="two_sum", topic="searching",
        function_names=["two_sum", "pair_indices", "find_pair"],
        arg_names=["nums, target", "values, goal"], arg_types=["list[int]", "int"], returns="tuple[int, int] | None",
        docs=["Return the indices (i, j), i < j, of the first pair in $a (ordered by j, then i) whose values add up "
              "to $b, or None.",
              "Find two positions in $a whose numbers sum to $b; prefer the smallest j, then the smallest i."],
        bodies=["seen = {}\nfor j, n in enumerate($a):\n    if $b - n in seen:\n        return seen[$b - n], j\n"
                "    seen.setdefault(n, j)\nreturn None"],
        reference=lambda xs, t: next(((i, j) for j in range(len(xs)) for i in range(j) if xs[i] + xs[j] == t), None),
        inputs=lambda r: (r.ints(0, 9), r.randint(0, 18))),
    Family(
        name="count_in_range", topic="searching",
        function_names=["count_in_range", "between_count", "how_many_between"],
        arg_names=["nums, low, high", "values, lo, hi"], arg_types=["list[int]", "int", "int"], returns="int",
        docs=["Return how many numbers in $a lie between $b and $c, both included.",
              "Count the elements x of $a with $b <= x <= $c."],
        bodies=["return sum(1 for n in $a if $b <= n <= $c)"],
        reference=lambda xs, lo, hi: sum(lo <= x <= hi for x in xs),
        inputs=lambda r: (r.ints(), r.randint(0, 5), r.randint(5, 15))),
]
