"""Task families decided by a chain of conditions: grades, FizzBuzz, triangles."""
from synthdata.families.family import Family

FAMILIES = [
    Family(
        name="grade_letter", topic="conditionals",
        function_names=["grade_letter", "letter_grade", "score_to_grade"],
        arg_names=["score", "points", "mark"], arg_types=["int"], returns="str",
        docs=["Return 'A' for a $a of 90 or more, 'B' for 80-89, 'C' for 70-79, 'D' for 60-69 and 'F' below 60.",
              "Turn the numeric $a into a letter grade (A >= 90, B >= 80, C >= 70, D >= 60, otherwise F)."],
        bodies=['if $a >= 90:\n    return "A"\nif $a >= 80:\n    return "B"\nif $a >= 70:\n    return "C"\n'
                'if $a >= 60:\n    return "D"\nreturn "F"'],
        reference=lambda s: "A" if s >= 90 else "B" if s >= 80 else "C" if s >= 70 else "D" if s >= 60 else "F",
        inputs=lambda r: (r.randint(0, 100),)),
    Family(
        name="fizzbuzz_word", topic="conditionals",
        function_names=["fizzbuzz_word", "fizz_buzz", "game_word"],
        arg_names=["n", "number", "i"], arg_types=["int"], returns="str",
        docs=["Return '$w1$w2' if $a is divisible by both $x and $y, '$w1' if only by $x, '$w2' if only by $y, "
              "otherwise str($a).",
              "Play one turn of the $w1-$w2 game for $a (multiples of $x say $w1, of $y say $w2)."],
        bodies=['if $a % $x == 0 and $a % $y == 0:\n    return "$w1$w2"\nif $a % $x == 0:\n    return "$w1"\n'
                'if $a % $y == 0:\n    return "$w2"\nreturn str($a)'],
        reference=lambda n, x, y, w1, w2: (w1 + w2 if n % x == 0 and n % y == 0 else w1 if n % x == 0
                                           else w2 if n % y == 0 else str(n)),
        inputs=lambda r: (r.randint(1, 60),),
        params=lambda r: {**dict(zip("xy", r.sample([2, 3, 5, 7], 2))),
                         **r.choice([{"w1": "Fizz", "w2": "Buzz"}, {"w1": "Ping", "w2": "Pong"}])}),
    Family(
        name="bmi_category", topic="conditionals",
        function_names=["bmi_category", "weight_class", "classify_bmi"],
        arg_names=["bmi", "index", "value"], arg_types=["float"], returns="str",
        docs=["Return 'underweight' for a $a below 18.5, 'normal' below 25, 'overweight' below 30 and 'obese' "
              "otherwise.",
              "Classify the body-mass index $a into underweight, normal, overweight or obese."],
        bodies=['if $a < 18.5:\n    return "underweight"\nif $a < 25:\n    return "normal"\nif $a < 30:\n'
                '    return "overweight"\nreturn "obese"'],
        reference=lambda b: "underweight" if b < 18.5 else "normal" if b < 25 else "overweight" if b < 30 else "obese",
        inputs=lambda r: (round(r.uniform(14, 40), 1),)),
    Family(
        name="triangle_kind", topic="conditionals",
        function_names=["triangle_kind", "classify_triangle", "triangle_type"],
        arg_names=["a, b, c", "x, y, z", "side1, side2, side3"], arg_types=["int", "int", "int"], returns="str",
        docs=["Return 'invalid' if sides $a, $b, $c cannot form a triangle, else 'equilateral', 'isosceles' or "
              "'scalene'.",
              "Classify the triangle with side lengths $a, $b and $c."],
        bodies=['x, y, z = sorted([$a, $b, $c])\nif x <= 0 or x + y <= z:\n    return "invalid"\nif x == z:\n'
                '    return "equilateral"\nif x == y or y == z:\n    return "isosceles"\nreturn "scalene"'],
        reference=lambda a, b, c: (lambda s: "invalid" if s[0] <= 0 or s[0] + s[1] <= s[2]
                                   else "equilateral" if s[0] == s[2]
                                   else "isosceles" if s[0] == s[1] or s[1] == s[2] else "scalene")(sorted([a, b, c])),
        inputs=lambda r: tuple(r.randint(1, 6) for _ in range(3))),
    Family(
        name="max_of_three", topic="conditionals",
        function_names=["max_of_three", "largest_of_three", "biggest"],
        arg_names=["a, b, c", "x, y, z"], arg_types=["int", "int", "int"], returns="int",
        docs=["Return the largest of $a, $b and $c without using max().",
              "Which of the three numbers $a, $b, $c is biggest? Do not call max."],
        bodies=["largest = $a\nif $b > largest:\n    largest = $b\nif $c > largest:\n    largest = $c\n"
                "return largest"],
        reference=lambda a, b, c: max(a, b, c),
        inputs=lambda r: tuple(r.randint(-20, 20) for _ in range(3))),
]
