"""Task families solved by one plain loop: tables, staircases, digit products."""
import math

from synthdata.families.family import Family


# reference implementations too long for a lambda
def steps_to_zero(n):
    return 0 if n == 0 else 1 + steps_to_zero(n // 2 if n % 2 == 0 else n - 1)


FAMILIES = [
    Family(
        name="count_matches", topic="loops",
        function_names=["count_matches", "same_position_count", "hamming_similarity"],
        arg_names=["a, b", "first, second", "s, t"], arg_types=["str", "str"], returns="int",
        docs=["Return how many positions hold the same character in $a and $b, comparing up to the shorter length.",
              "Count the indices i where $a[i] == $b[i]."],
        bodies=["return sum(1 for x, y in zip($a, $b) if x == y)"],
        reference=lambda a, b: sum(x == y for x, y in zip(a, b)),
        inputs=lambda r: (r.word(), r.word())),
    Family(
        name="multiplication_row", topic="loops",
        function_names=["multiplication_row", "times_table", "table_row"],
        arg_names=["n, upto", "number, count"], arg_types=["int", "int"], returns="list[int]",
        docs=["Return [$a * 1, $a * 2, ..., $a * $b].", "Build the first $b entries of the $a times table."],
        bodies=["return [$a * i for i in range(1, $b + 1)]"],
        reference=lambda n, k: [n * i for i in range(1, k + 1)],
        inputs=lambda r: (r.randint(1, 12), r.randint(0, 10))),
    Family(
        name="staircase", topic="loops",
        function_names=["staircase", "stair_lines", "draw_stairs"],
        arg_names=["n", "height", "steps"], arg_types=["int"], returns="list[str]",
        docs=["Return a list of $a strings drawing a staircase: line i (from 1) has $a - i spaces then i '$ch' "
              "characters.",
              "Draw a right-aligned staircase of height $a with the character '$ch', one string per line."],
        bodies=['return [" " * ($a - i) + "$ch" * i for i in range(1, $a + 1)]'],
        reference=lambda n, ch: [" " * (n - i) + ch * i for i in range(1, n + 1)],
        inputs=lambda r: (r.randint(0, 6),),
        params=lambda r: {"ch": r.choice("#*+@")}),
    Family(
        name="digits_product", topic="loops",
        function_names=["digits_product", "multiply_digits", "product_of_digits"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="int",
        docs=["Return the product of the decimal digits of the non-negative integer $a.",
              "Multiply together the digits of $a."],
        bodies=["product = 1\nfor d in str($a):\n    product *= int(d)\nreturn product"],
        reference=lambda n: math.prod(map(int, str(n))),
        inputs=lambda r: (r.randint(0, 99999),)),
    Family(
        name="count_steps_to_zero", topic="loops",
        function_names=["count_steps_to_zero", "steps_to_zero", "reduce_to_zero"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="int",
        docs=["Return how many steps it takes to reduce the non-negative integer $a to zero: halve it when even, "
              "subtract 1 when odd.",
              "Count the halve-or-subtract-one steps that bring $a down to 0."],
        bodies=["steps = 0\nwhile $a > 0:\n    $a = $a // 2 if $a % 2 == 0 else $a - 1\n    steps += 1\n"
                "return steps"],
        reference=steps_to_zero,
        inputs=lambda r: (r.randint(0, 1000),)),
]
