"""Task families on sorting: the classic algorithms written out, and sorting by a key."""
from synthdata.families.family import Family

FAMILIES = [
    Family(
        name="bubble_sort", topic="sorting",
        function_names=["bubble_sort", "sort_with_bubbles", "simple_sort"],
        arg_names=["nums", "items", "values"], arg_types=["list[int]"], returns="list[int]",
        docs=["Return a sorted copy of $a using bubble sort.",
              "Sort $a in ascending order with the bubble sort algorithm."],
        bodies=["result = list($a)\nfor end in range(len(result) - 1, 0, -1):\n    for i in range(end):\n"
                "        if result[i] > result[i + 1]:\n"
                "            result[i], result[i + 1] = result[i + 1], result[i]\nreturn result"],
        reference=sorted,
        inputs=lambda r: (r.ints(),)),
    Family(
        name="insertion_sort", topic="sorting",
        function_names=["insertion_sort", "sort_by_inserting", "insert_sort"],
        arg_names=["nums", "items", "values"], arg_types=["list[int]"], returns="list[int]",
        docs=["Return a sorted copy of $a using insertion sort.",
              "Sort $a ascending by inserting each element into place."],
        bodies=["result = []\nfor n in $a:\n    i = len(result)\n    while i > 0 and result[i - 1] > n:\n"
                "        i -= 1\n    result.insert(i, n)\nreturn result"],
        reference=sorted,
        inputs=lambda r: (r.ints(),)),
    Family(
        name="selection_sort", topic="sorting",
        function_names=["selection_sort", "sort_by_selecting", "select_sort"],
        arg_names=["nums", "items", "values"], arg_types=["list[int]"], returns="list[int]",
        docs=["Return a sorted copy of $a using selection sort.",
              "Sort $a by repeatedly moving the smallest remaining element to the front."],
        bodies=["result = list($a)\nfor i in range(len(result)):\n"
                "    smallest = min(range(i, len(result)), key=lambda j: result[j])\n"
                "    result[i], result[smallest] = result[smallest], result[i]\nreturn result"],
        reference=sorted,
        inputs=lambda r: (r.ints(),)),
    Family(
        name="merge_sort", topic="sorting",
        function_names=["merge_sort", "sort_by_merging", "msort"],
        arg_names=["nums", "items", "values"], arg_types=["list[int]"], returns="list[int]",
        docs=["Return a sorted copy of $a using merge sort.",
              "Sort $a recursively: split it in halves, sort each, merge them."],
        bodies=["if len($a) <= 1:\n    return list($a)\nmid = len($a) // 2\n"
                "left, right = $name($a[:mid]), $name($a[mid:])\nmerged = []\nwhile left and right:\n"
                "    merged.append(left.pop(0) if left[0] <= right[0] else right.pop(0))\n"
                "return merged + left + right"],
        reference=sorted,
        inputs=lambda r: (r.ints(),)),
    Family(
        name="sort_by_length", topic="sorting",
        function_names=["sort_by_length", "order_by_length", "shortest_first"],
        arg_names=["words", "items", "names"], arg_types=["list[str]"], returns="list[str]",
        docs=["Return the strings of $a sorted from shortest to longest; strings of equal length keep their order.",
              "Order $a by length (stable)."],
        bodies=["return sorted($a, key=len)"],
        reference=lambda ws: sorted(ws, key=len),
        inputs=lambda r: (r.words(0, 7),)),
    Family(
        name="sort_by_last_letter", topic="sorting",
        function_names=["sort_by_last_letter", "order_by_ending", "last_letter_sort"],
        arg_names=["words", "items"], arg_types=["list[str]"], returns="list[str]",
        docs=["Return the non-empty strings of $a sorted by their last character; ties keep their original order.",
              "Sort $a by the final letter of each word (stable)."],
        bodies=["return sorted($a, key=lambda w: w[-1])"],
        reference=lambda ws: sorted(ws, key=lambda w: w[-1]),
        inputs=lambda r: (r.words(0, 7),)),
    Family(
        name="kth_smallest", topic="sorting",
        function_names=["kth_smallest", "nth_smallest", "order_statistic"],
        arg_names=["nums, k", "values, n"], arg_types=["list[int]", "int"], returns="int",
        docs=["Return the $b-th smallest number of $a, counting from 1. Duplicates count separately.",
              "After sorting $a, which value is at position $b (1-based)?"],
        bodies=["return sorted($a)[$b - 1]"],
        reference=lambda xs, k: sorted(xs)[k - 1],
        inputs=lambda r: (lambda xs: (xs, r.randint(1, len(xs))))(r.ints(n=r.randint(1, 8)))),
    Family(
        name="sort_descending_unique", topic="sorting",
        function_names=["sort_descending_unique", "distinct_desc", "unique_high_to_low"],
        arg_names=["nums", "values"], arg_types=["list[int]"], returns="list[int]",
        docs=["Return the distinct numbers of $a from largest to smallest.",
              "Remove duplicates from $a and sort it in descending order."],
        bodies=["return sorted(set($a), reverse=True)"],
        reference=lambda xs: sorted(set(xs), reverse=True),
        inputs=lambda r: (r.ints(0, 9),)),
    Family(
        name="sort_pairs_by_second", topic="sorting",
        function_names=["sort_pairs_by_second", "order_by_score", "rank_pairs"],
        arg_names=["pairs", "records", "items"], arg_types=["list[tuple[str, int]]"], returns="list[tuple[str, int]]",
        docs=["Return the (name, score) tuples of $a sorted by score, highest first; equal scores keep their order.",
              "Sort $a by the second item of each pair, descending (stable)."],
        bodies=["return sorted($a, key=lambda pair: pair[1], reverse=True)"],
        reference=lambda ps: sorted(ps, key=lambda p: -p[1]),
        inputs=lambda r: ([(w, r.randint(0, 9)) for w in r.words(0, 5)],)),
]
