"""Task families of topic "math": number theory, digits, bases and small formulas."""
import math

from synthdata.families.family import Family


# reference implementations too long for a lambda
def collatz_steps(n):
    return 0 if n == 1 else 1 + collatz_steps(n // 2 if n % 2 == 0 else 3 * n + 1)


FAMILIES = [
    Family(
        name="factorial", topic="math",
        function_names=["factorial", "fact", "product_up_to"],
        arg_names=["n", "number", "k"], arg_types=["int"], returns="int",
        docs=["Return n! = 1 * 2 * ... * $a for a non-negative integer $a (0! is 1).",
              "Compute the factorial of $a."],
        bodies=["result = 1\nfor i in range(2, $a + 1):\n    result *= i\nreturn result",
                "if $a <= 1:\n    return 1\nreturn $a * $name($a - 1)"],
        reference=lambda n: math.factorial(n),
        inputs=lambda r: (r.randint(0, 12),)),
    Family(
        name="fibonacci", topic="math",
        function_names=["fibonacci", "fib", "nth_fibonacci"],
        arg_names=["n", "index", "k"], arg_types=["int"], returns="int",
        docs=["Return the $a-th Fibonacci number, where fib(0) = 0 and fib(1) = 1.",
              "Compute Fibonacci number $a (0, 1, 1, 2, 3, 5, ... counting from 0)."],
        bodies=["a, b = 0, 1\nfor _ in range($a):\n    a, b = b, a + b\nreturn a"],
        reference=lambda n: (lambda f: f(f, n))(lambda f, k: k if k < 2 else f(f, k - 1) + f(f, k - 2)),
        inputs=lambda r: (r.randint(0, 20),)),
    Family(
        name="is_prime", topic="math",
        function_names=["is_prime", "prime_check", "check_prime"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="bool",
        docs=["Return True if $a is a prime number.",
              "Decide whether the integer $a is prime (numbers below 2 are not)."],
        bodies=["if $a < 2:\n    return False\nfor d in range(2, int($a ** 0.5) + 1):\n    if $a % d == 0:\n"
                "        return False\nreturn True"],
        reference=lambda n: n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1)),
        inputs=lambda r: (r.randint(-3, 120),)),
    Family(
        name="gcd", topic="math",
        function_names=["gcd", "greatest_common_divisor", "common_factor"],
        arg_names=["a, b", "x, y", "m, n"], arg_types=["int", "int"], returns="int",
        docs=["Return the greatest common divisor of the non-negative integers $a and $b (not both zero).",
              "Find gcd($a, $b) with Euclid's algorithm."],
        bodies=["while $b:\n    $a, $b = $b, $a % $b\nreturn $a"],
        reference=lambda a, b: math.gcd(a, b),
        inputs=lambda r: (r.randint(1, 200), r.randint(0, 200))),
    Family(
        name="lcm", topic="math",
        function_names=["lcm", "least_common_multiple", "smallest_multiple"],
        arg_names=["a, b", "x, y", "m, n"], arg_types=["int", "int"], returns="int",
        docs=["Return the least common multiple of the positive integers $a and $b.",
              "Find the smallest positive number that both $a and $b divide."],
        bodies=["def gcd(p, q):\n    while q:\n        p, q = q, p % q\n    return p\nreturn $a * $b // gcd($a, $b)"],
        reference=lambda a, b: a * b // math.gcd(a, b),
        inputs=lambda r: (r.randint(1, 40), r.randint(1, 40))),
    Family(
        name="digit_sum", topic="math",
        function_names=["digit_sum", "sum_of_digits", "add_digits"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="int",
        docs=["Return the sum of the decimal digits of the non-negative integer $a.", "Add up the digits of $a."],
        bodies=["return sum(int(d) for d in str($a))",
                "total = 0\nwhile $a > 0:\n    total += $a % 10\n    $a //= 10\nreturn total"],
        reference=lambda n: sum(map(int, str(n))),
        inputs=lambda r: (r.randint(0, 100000),)),
    Family(
        name="reverse_number", topic="math",
        function_names=["reverse_number", "reverse_digits", "flip_number"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="int",
        docs=["Return the non-negative integer $a with its digits reversed (leading zeros disappear).",
              "Reverse the decimal digits of $a."],
        bodies=["result = 0\nwhile $a > 0:\n    result = result * 10 + $a % 10\n    $a //= 10\nreturn result",
                "return int(str($a)[::-1])"],
        reference=lambda n: int(str(n)[::-1]),
        inputs=lambda r: (r.randint(0, 99999),)),
    Family(
        name="count_divisors", topic="math",
        function_names=["count_divisors", "number_of_divisors", "divisor_count"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="int",
        docs=["Return how many positive integers divide the positive integer $a.", "Count the divisors of $a."],
        bodies=["return sum(1 for d in range(1, $a + 1) if $a % d == 0)"],
        reference=lambda n: sum(n % d == 0 for d in range(1, n + 1)),
        inputs=lambda r: (r.randint(1, 200),)),
    Family(
        name="is_perfect_square", topic="math",
        function_names=["is_perfect_square", "is_square", "square_check"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="bool",
        docs=["Return True if $a is the square of an integer.",
              "Check whether $a is a perfect square (negative numbers are not)."],
        bodies=["if $a < 0:\n    return False\nroot = int($a ** 0.5)\nwhile root * root > $a:\n    root -= 1\n"
                "while (root + 1) * (root + 1) <= $a:\n    root += 1\nreturn root * root == $a"],
        reference=lambda n: n >= 0 and math.isqrt(n) ** 2 == n,
        inputs=lambda r: (r.choice([r.randint(-5, 200), r.randint(0, 15) ** 2]),)),
    Family(
        name="collatz_steps", topic="math",
        function_names=["collatz_steps", "collatz_length", "hailstone_steps"],
        arg_names=["n", "start", "number"], arg_types=["int"], returns="int",
        docs=["Return how many steps the Collatz process needs to reach 1 from the positive integer $a (halve even "
              "numbers, turn odd n into 3n + 1).",
              "Count the Collatz steps from $a down to 1."],
        bodies=["steps = 0\nwhile $a != 1:\n    $a = $a // 2 if $a % 2 == 0 else 3 * $a + 1\n    steps += 1\n"
                "return steps"],
        reference=collatz_steps,
        inputs=lambda r: (r.randint(1, 60),)),
    Family(
        name="digital_root", topic="math",
        function_names=["digital_root", "repeated_digit_sum", "single_digit"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="int",
        docs=["Repeatedly add the digits of the non-negative integer $a until one digit is left, and return it.",
              "Return the digital root of $a."],
        bodies=["while $a >= 10:\n    $a = sum(int(d) for d in str($a))\nreturn $a"],
        reference=lambda n: 0 if n == 0 else 1 + (n - 1) % 9,
        inputs=lambda r: (r.randint(0, 10 ** 6),)),
    Family(
        name="is_power_of", topic="math",
        function_names=["is_power_of", "power_check", "is_exact_power"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="bool",
        docs=["Return True if $a is a power of $base ($base ** k for some k >= 0).",
              "Is $a equal to $base raised to a whole power?"],
        bodies=["if $a < 1:\n    return False\nwhile $a % $base == 0:\n    $a //= $base\nreturn $a == 1"],
        reference=lambda n, base: n >= 1 and base ** round(math.log(n, base)) == n,
        inputs=lambda r: (r.choice([r.randint(-2, 100), 2 ** r.randint(0, 10), 3 ** r.randint(0, 6)]),),
        params=lambda r: {"base": r.choice([2, 3])}),
    Family(
        name="celsius_to_fahrenheit", topic="math",
        function_names=["celsius_to_fahrenheit", "c_to_f", "to_fahrenheit"],
        arg_names=["celsius", "c", "degrees"], arg_types=["float"], returns="float",
        docs=["Convert the temperature $a from Celsius to Fahrenheit and round to one decimal place.",
              "Return $a degrees Celsius in Fahrenheit (F = C * 9 / 5 + 32), rounded to 1 decimal."],
        bodies=["return round($a * 9 / 5 + 32, 1)"],
        reference=lambda c: round(c * 9 / 5 + 32, 1),
        inputs=lambda r: (r.randint(-40, 100),)),
    Family(
        name="triangle_number", topic="math",
        function_names=["triangle_number", "triangular", "sum_to_n"],
        arg_names=["n", "number", "k"], arg_types=["int"], returns="int",
        docs=["Return 1 + 2 + ... + $a (0 when $a is 0).", "Compute the $a-th triangular number."],
        bodies=["total = 0\nfor i in range(1, $a + 1):\n    total += i\nreturn total", "return $a * ($a + 1) // 2"],
        reference=lambda n: n * (n + 1) // 2,
        inputs=lambda r: (r.randint(0, 100),)),
    Family(
        name="sum_multiples", topic="math",
        function_names=["sum_multiples", "multiples_sum", "add_multiples"],
        arg_names=["limit", "n", "below"], arg_types=["int"], returns="int",
        docs=["Return the sum of all natural numbers below $a that are multiples of $x or $y.",
              "Add up the numbers smaller than $a that are divisible by $x or by $y."],
        bodies=["return sum(i for i in range($a) if i % $x == 0 or i % $y == 0)"],
        reference=lambda n, x, y: sum(i for i in range(n) if i % x == 0 or i % y == 0),
        inputs=lambda r: (r.randint(0, 100),),
        params=lambda r: dict(zip("xy", r.sample([2, 3, 5, 7], 2)))),
    Family(
        name="to_binary", topic="math",
        function_names=["to_binary", "binary_string", "as_binary"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="str",
        docs=["Return the binary representation of the non-negative integer $a as a string, without using bin().",
              "Write $a in base 2 (as a string of 0s and 1s)."],
        bodies=['if $a == 0:\n    return "0"\ndigits = ""\nwhile $a > 0:\n    digits = str($a % 2) + digits\n'
                "    $a //= 2\nreturn digits"],
        reference=lambda n: format(n, "b"),
        inputs=lambda r: (r.randint(0, 300),)),
    Family(
        name="from_binary", topic="math",
        function_names=["from_binary", "binary_to_int", "parse_binary"],
        arg_names=["bits", "s", "binary"], arg_types=["str"], returns="int",
        docs=["Return the integer whose binary representation is the string $a.",
              "Convert the base-2 string $a to an int."],
        bodies=["value = 0\nfor bit in $a:\n    value = value * 2 + int(bit)\nreturn value"],
        reference=lambda s: int(s, 2),
        inputs=lambda r: (format(r.randint(0, 500), "b"),)),
    Family(
        name="is_armstrong", topic="math",
        function_names=["is_armstrong", "is_narcissistic", "armstrong_check"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="bool",
        docs=["Return True if $a equals the sum of its digits each raised to the number of digits (e.g. 153 = 1^3 + "
              "5^3 + 3^3).",
              "Is the non-negative integer $a an Armstrong number?"],
        bodies=["digits = str($a)\nreturn $a == sum(int(d) ** len(digits) for d in digits)"],
        reference=lambda n: n == sum(int(d) ** len(str(n)) for d in str(n)),
        inputs=lambda r: (r.choice([153, 370, 371, 407, 9474, r.randint(0, 1000)]),)),
    Family(
        name="primes_below", topic="math",
        function_names=["primes_below", "list_primes", "sieve"],
        arg_names=["n", "limit", "bound"], arg_types=["int"], returns="list[int]",
        docs=["Return the list of prime numbers smaller than $a, in increasing order.", "Find all primes below $a."],
        bodies=["primes = []\nfor candidate in range(2, $a):\n"
                "    if all(candidate % p for p in primes if p * p <= candidate):\n        "
                "primes.append(candidate)\n"
                "return primes",
                "if $a < 3:\n    return []\nsieve = [True] * $a\nsieve[0] = sieve[1] = False\n"
                "for i in range(2, int($a ** 0.5) + 1):\n    if sieve[i]:\n        for j in range(i * i, $a, i):\n"
                "            sieve[j] = False\nreturn [i for i, p in enumerate(sieve) if p]"],
        reference=lambda n: [k for k in range(2, n) if all(k % d for d in range(2, int(k ** 0.5) + 1))],
        inputs=lambda r: (r.randint(0, 60),)),
    Family(
        name="is_leap_year", topic="math",
        function_names=["is_leap_year", "leap_year", "has_feb_29"],
        arg_names=["year", "y"], arg_types=["int"], returns="bool",
        docs=["Return True if $a is a leap year in the Gregorian calendar.",
              "A year is a leap year when it is divisible by 4, except centuries, which must be divisible by 400. Is "
              "$a one?"],
        bodies=["return $a % 4 == 0 and ($a % 100 != 0 or $a % 400 == 0)"],
        reference=lambda y: y % 4 == 0 and (y % 100 != 0 or y % 400 == 0),
        inputs=lambda r: (r.choice([1900, 2000, r.randint(1800, 2100)]),)),
    Family(
        name="manhattan_distance", topic="math",
        function_names=["manhattan_distance", "taxicab_distance", "grid_distance"],
        arg_names=["x1, y1, x2, y2", "a, b, c, d"], arg_types=["int", "int", "int", "int"], returns="int",
        docs=["Return the Manhattan distance between the points ($a, $b) and ($c, $d).",
              "How many grid steps separate ($a, $b) from ($c, $d) when moving only horizontally and vertically?"],
        bodies=["return abs($a - $c) + abs($b - $d)"],
        reference=lambda a, b, c, d: abs(a - c) + abs(b - d),
        inputs=lambda r: tuple(r.randint(-10, 10) for _ in range(4))),
    Family(
        name="circle_area", topic="math",
        function_names=["circle_area", "area_of_circle", "disk_area"],
        arg_names=["radius", "r"], arg_types=["float"], returns="float",
        docs=["Return the area of a circle with the given $a, rounded to 2 decimal places.",
              "Compute pi * $a ** 2 rounded to two decimals."],
        bodies=["import math\nreturn round(math.pi * $a ** 2, 2)"],
        reference=lambda r_: round(math.pi * r_ ** 2, 2),
        inputs=lambda r: (r.randint(0, 20),)),
    Family(
        name="count_digits", topic="math",
        function_names=["count_digits", "number_length", "digit_count"],
        arg_names=["n", "number", "value"], arg_types=["int"], returns="int",
        docs=["Return how many decimal digits the integer $a has (the sign does not count).",
              "Count the digits of $a."],
        bodies=["return len(str(abs($a)))"],
        reference=lambda n: len(str(abs(n))),
        inputs=lambda r: (r.randint(-99999, 99999),)),
]
