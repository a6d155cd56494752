"""Task families that simulate a small process step by step: a bank account, a robot, a queue."""
from functools import reduce

from synthdata.families.family import Family


# reference implementations too long for a lambda
def balance_after(balance, operations):
    if not operations:
        return balance
    (kind, amount), rest = operations[0], operations[1:]
    if kind == "deposit":
        return balance_after(balance + amount, rest)
    return balance_after(balance - amount if amount <= balance else balance, rest)


def greedy_change(amount, coins):
    if not coins:
        return []
    return [coins[0]] * (amount // coins[0]) + greedy_change(amount % coins[0], coins[1:])


def survivors(plants, days):
    if days == 0:
        return sum(p > 3 for p in plants)
    grown = [p + 1 for p in plants]
    if grown:
        tallest = grown.index(max(grown))
        grown = grown[:tallest] + [0] + grown[tallest + 1:]
    return survivors(grown, days - 1)


FAMILIES = [
    Family(
        name="bank_balance", topic="simulation",
        function_names=["bank_balance", "final_balance", "run_account"],
        arg_names=["start, operations", "balance, ops"], arg_types=["int", "list[tuple[str, int]]"], returns="int",
        docs=["Start with $a money and apply $b, a list of ('deposit', amount) or ('withdraw', amount). A withdrawal "
              "larger than the current balance is ignored. Return the final balance.",
              "Simulate an account that begins at $a and processes the operations $b; refuse overdrafts."],
        bodies=['for kind, amount in $b:\n    if kind == "deposit":\n        $a += amount\n    elif amount <= $a:\n'
                "        $a -= amount\nreturn $a"],
        reference=balance_after,
        inputs=lambda r: (r.randint(0, 50),
                          [(r.choice(["deposit", "withdraw"]), r.randint(1, 40)) for _ in range(r.randint(0, 6))])),
    Family(
        name="robot_position", topic="simulation",
        function_names=["robot_position", "final_position", "walk_robot"],
        arg_names=["moves", "path", "commands"], arg_types=["str"], returns="tuple[int, int]",
        docs=["A robot starts at (0, 0). Each letter of $a moves it one step: U up (y + 1), D down, L left (x - 1), "
              "R right. Return its final (x, y).",
              "Follow the moves in $a (letters U, D, L, R) from the origin and return where you end."],
        bodies=['x = y = 0\nfor move in $a:\n    if move == "U":\n        y += 1\n    elif move == "D":\n'
                '        y -= 1\n    elif move == "L":\n        x -= 1\n    elif move == "R":\n        x += 1\n'
                "return x, y"],
        reference=lambda m: (m.count("R") - m.count("L"), m.count("U") - m.count("D")),
        inputs=lambda r: ("".join(r.choice("UDLR") for _ in range(r.randint(0, 12))),)),
    Family(
        name="traffic_light", topic="simulation",
        function_names=["traffic_light", "next_light", "light_after"],
        arg_names=["color, steps", "light, n", "state, ticks"], arg_types=["str", "int"], returns="str",
        docs=["A traffic light cycles green -> yellow -> red -> green. Return its color after $b changes, starting "
              "from $a.",
              "Advance the traffic light $a by $b steps in the cycle green, yellow, red."],
        bodies=['order = ["green", "yellow", "red"]\nreturn order[(order.index($a) + $b) % 3]'],
        reference=lambda c, n: ["green", "yellow", "red"][(["green", "yellow", "red"].index(c) + n) % 3],
        inputs=lambda r: (r.choice(["green", "yellow", "red"]), r.randint(0, 10))),
    Family(
        name="make_change", topic="simulation",
        function_names=["make_change", "coins_for", "change_coins"],
        arg_names=["amount", "cents", "total"], arg_types=["int"], returns="list[int]",
        docs=["Return the coins (from $coins) that make up $a cents using the greedy method, largest coins first.",
              "Give change for $a cents with coins worth $coins, always taking the biggest coin that fits."],
        bodies=["coins = []\nfor coin in $coins:\n    while $a >= coin:\n        coins.append(coin)\n"
                "        $a -= coin\nreturn coins"],
        reference=greedy_change,
        inputs=lambda r: (r.randint(0, 99),),
        params=lambda r: {"coins": r.choice([[25, 10, 5, 1], [50, 20, 10, 5, 2, 1]])}),
    Family(
        name="elevator_distance", topic="simulation",
        function_names=["elevator_distance", "floors_travelled", "lift_distance"],
        arg_names=["floors", "stops", "requests"], arg_types=["list[int]"], returns="int",
        docs=["An elevator starts at floor 0 and visits the floors in $a in order. Return the total number of floors "
              "it travels.",
              "Sum the distances an elevator covers going from floor 0 through each floor of $a."],
        bodies=["total = 0\ncurrent = 0\nfor floor in $a:\n    total += abs(floor - current)\n    current = floor\n"
                "return total"],
        reference=lambda fs: sum(abs(b - a) for a, b in zip([0] + fs, fs)),
        inputs=lambda r: (r.ints(0, 12),)),
    Family(
        name="update_inventory", topic="simulation",
        function_names=["update_inventory", "apply_changes", "restock"],
        arg_names=["stock, changes", "inventory, updates"],
        arg_types=["dict", "list[tuple[str, int]]"], returns="dict",
        docs=["Apply each (item, change) in $b to the counts in $a (missing items start at 0) and return a new "
              "dictionary without the items whose count dropped to 0 or below.",
              "Update the inventory $a with the signed changes $b; leave out items that run out."],
        bodies=["result = dict($a)\nfor item, change in $b:\n    result[item] = result.get(item, 0) + change\n"
                "return {item: count for item, count in result.items() if count > 0}"],
        reference=lambda st, ch: (lambda res: {k: v for k, v in res.items() if v > 0})(
                      reduce(lambda d, c: {**d, c[0]: d.get(c[0], 0) + c[1]}, ch, dict(st))),
        inputs=lambda r: (r.tally(), [(r.word(), r.randint(-5, 5)) for _ in range(r.randint(0, 4))])),
    Family(
        name="longest_hot_streak", topic="simulation",
        function_names=["longest_hot_streak", "warm_spell", "longest_streak_above"],
        arg_names=["temps, limit", "readings, threshold"], arg_types=["list[int]", "int"], returns="int",
        docs=["Return the length of the longest run of consecutive values in $a that are above $b.",
              "How many days in a row, at most, were warmer than $b in the readings $a?"],
        bodies=["best = current = 0\nfor t in $a:\n    current = current + 1 if t > $b else 0\n"
                "    best = max(best, current)\nreturn best"],
        reference=lambda ts, lim: max([len(g) for g in "".join("1" if t > lim else "0" for t in ts).split("0")],
                                      default=0),
        inputs=lambda r: (r.ints(0, 30), r.randint(5, 20))),
    Family(
        name="league_points", topic="simulation",
        function_names=["league_points", "total_points", "score_season"],
        arg_names=["results", "games", "record"], arg_types=["str"], returns="int",
        docs=["$a is a string of match results: W for a win (3 points), D for a draw (1 point), L for a loss (0). "
              "Return the total points.",
              "Score the season $a (W=3, D=1, L=0)."],
        bodies=['points = {"W": 3, "D": 1, "L": 0}\nreturn sum(points[r] for r in $a)'],
        reference=lambda s: 3 * s.count("W") + s.count("D"),
        inputs=lambda r: ("".join(r.choice("WDL") for _ in range(r.randint(0, 10))),)),
    Family(
        name="add_minutes", topic="simulation",
        function_names=["add_minutes", "clock_after", "time_plus"],
        arg_names=["hour, minute, delta", "h, m, minutes"], arg_types=["int", "int", "int"], returns="str",
        docs=["A 24-hour clock shows $a:$b. Return the time $c minutes later as 'HH:MM'.",
              "Add $c minutes to the time $a:$b on a 24-hour clock and format it with two digits each."],
        bodies=['total = ($a * 60 + $b + $c) % (24 * 60)\nreturn f"{total // 60:02d}:{total % 60:02d}"'],
        reference=lambda h, m, d: "%02d:%02d" % divmod((h * 60 + m + d) % 1440, 60),
        inputs=lambda r: (r.randint(0, 23), r.randint(0, 59), r.randint(0, 3000))),
    Family(
        name="queue_wait", topic="simulation",
        function_names=["queue_wait", "total_waiting", "wait_times"],
        arg_names=["durations", "service_times", "jobs"], arg_types=["list[int]"], returns="int",
        docs=["Customers are served one after another; $a lists how long each takes. Return the total time all "
              "customers spend waiting before their own service starts.",
              "Sum the waiting times in a single queue whose service durations are $a."],
        bodies=["waited = 0\nclock = 0\nfor d in $a:\n    waited += clock\n    clock += d\nreturn waited"],
        reference=lambda ds: sum(sum(ds[:i]) for i in range(len(ds))),
        inputs=lambda r: (r.ints(1, 9),)),
    Family(
        name="count_survivors", topic="simulation",
        function_names=["count_survivors", "plants_alive", "garden_survivors"],
        arg_names=["heights, days", "plants, n"], arg_types=["list[int]", "int"], returns="int",
        docs=["Each day every plant in $a grows by 1 and the tallest plant is cut down to 0 (the first one on ties). "
              "Return how many plants are taller than 3 after $b days.",
              "Simulate $b days of growing and cutting the plants $a; count those above 3 at the end."],
        bodies=["plants = list($a)\nfor _ in range($b):\n    plants = [p + 1 for p in plants]\n    if plants:\n"
                "        tallest = plants.index(max(plants))\n        plants[tallest] = 0\n"
                "return sum(1 for p in plants if p > 3)"],
        reference=survivors,
        inputs=lambda r: (r.ints(0, 6), r.randint(0, 6))),
]
