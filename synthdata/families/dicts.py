"""Task families on dictionaries: counting, inverting, grouping and merging."""
from collections import Counter

from synthdata.families.family import Family

FAMILIES = [
    Family(
        name="word_frequencies", topic="dicts",
        function_names=["word_frequencies", "count_each_word", "word_histogram"],
        arg_names=["text", "s", "sentence"], arg_types=["str"], returns="dict",
        docs=["Return a dictionary that maps each word of $a (split on whitespace, lower-cased) to how often it "
              "occurs.",
              "Count the words of $a, ignoring case."],
        bodies=["counts = {}\nfor word in $a.lower().split():\n    counts[word] = counts.get(word, 0) + 1\n"
                "return counts"],
        reference=lambda s: dict(Counter(s.lower().split())),
        inputs=lambda r: (r.text(repeat=True),)),
    Family(
        name="invert_dict", topic="dicts",
        function_names=["invert_dict", "swap_keys_values", "reverse_mapping"],
        arg_names=["mapping", "d", "table"], arg_types=["dict"], returns="dict",
        docs=["Return a new dictionary with the keys and values of $a swapped. The values of $a are all different.",
              "Swap keys and values in $a (its values are unique)."],
        bodies=["return {value: key for key, value in $a.items()}",
                "result = {}\nfor key in $a:\n    result[$a[key]] = key\nreturn result"],
        reference=lambda d: {v: k for k, v in d.items()},
        inputs=lambda r: ({w: i for i, w in enumerate(r.distinct_words(0, 5))},)),
    Family(
        name="group_by_length", topic="dicts",
        function_names=["group_by_length", "words_by_length", "bucket_words"],
        arg_names=["words", "items", "names"], arg_types=["list[str]"], returns="dict",
        docs=["Return a dictionary mapping each word length to the list of words in $a with that length, in order.",
              "Group the strings in $a by how long they are."],
        bodies=["groups = {}\nfor word in $a:\n    groups.setdefault(len(word), []).append(word)\nreturn groups"],
        reference=lambda ws: {n: [w for w in ws if len(w) == n] for n in dict.fromkeys(len(w) for w in ws)},
        inputs=lambda r: (r.words(0, 6),)),
    Family(
        name="merge_counts", topic="dicts",
        function_names=["merge_counts", "add_tallies", "combine_counts"],
        arg_names=["a, b", "first, second", "left, right"], arg_types=["dict", "dict"], returns="dict",
        docs=["Return a new dictionary with every key of $a and $b; keys found in both get the sum of their values.",
              "Combine two tallies $a and $b by adding the counts of shared keys."],
        bodies=["result = dict($a)\nfor key, value in $b.items():\n    result[key] = result.get(key, 0) + value\n"
                "return result"],
        reference=lambda a, b: {**a, **{k: a.get(k, 0) + v for k, v in b.items()}},
        inputs=lambda r: (r.tally(), r.tally())),
    Family(
        name="key_of_max", topic="dicts",
        function_names=["key_of_max", "best_key", "top_scorer"],
        arg_names=["scores", "d", "counts"], arg_types=["dict"], returns="str | None",
        docs=["Return the key of $a with the largest value (the alphabetically first key on ties), or None when $a "
              "is empty.",
              "Which key of $a holds the biggest value? Break ties alphabetically; None for an empty dictionary."],
        bodies=["if not $a:\n    return None\nreturn min($a, key=lambda k: (-$a[k], k))"],
        reference=lambda d: min(d, key=lambda k: (-d[k], k)) if d else None,
        inputs=lambda r: (r.tally(),)),
    Family(
        name="filter_by_value", topic="dicts",
        function_names=["filter_by_value", "at_least", "keep_large"],
        arg_names=["d, minimum", "scores, limit", "counts, threshold"], arg_types=["dict", "int"], returns="dict",
        docs=["Return a new dictionary with only the items of $a whose value is at least $b.",
              "Keep the entries of $a with values of $b or more."],
        bodies=["return {k: v for k, v in $a.items() if v >= $b}"],
        reference=lambda d, t: {k: v for k, v in d.items() if v >= t},
        inputs=lambda r: (r.tally(), r.randint(0, 9))),
    Family(
        name="first_letter_counts", topic="dicts",
        function_names=["first_letter_counts", "initials_histogram", "count_by_initial"],
        arg_names=["words", "names", "items"], arg_types=["list[str]"], returns="dict",
        docs=["Return a dictionary mapping each first letter to how many words in $a start with it.",
              "Tally the initial letters of the words in $a."],
        bodies=["counts = {}\nfor word in $a:\n    counts[word[0]] = counts.get(word[0], 0) + 1\nreturn counts"],
        reference=lambda ws: dict(Counter(w[0] for w in ws)),
        inputs=lambda r: (r.words(0, 8),)),
    Family(
        name="dict_from_lists", topic="dicts",
        function_names=["dict_from_lists", "pair_up", "make_mapping"],
        arg_names=["keys, values", "names, scores", "labels, numbers"],
        arg_types=["list[str]", "list[int]"], returns="dict",
        docs=["Return a dictionary that maps $a[i] to $b[i]; extra items in the longer list are ignored.",
              "Pair the keys $a with the values $b."],
        bodies=["return dict(zip($a, $b))",
                "result = {}\nfor i in range(min(len($a), len($b))):\n    result[$a[i]] = $b[i]\nreturn result"],
        reference=lambda ks, vs: dict(zip(ks, vs)),
        inputs=lambda r: (r.distinct_words(0, 5), r.ints())),
    Family(
        name="most_common_word", topic="dicts",
        function_names=["most_common_word", "top_word", "frequent_word"],
        arg_names=["text", "s", "sentence"], arg_types=["str"], returns="str",
        docs=["Return the word that appears most often in $a (split on spaces); on a tie, the alphabetically "
              "smallest. $a has at least one word.",
              "Find the most frequent word of $a, breaking ties alphabetically."],
        bodies=["counts = {}\nfor word in $a.split():\n    counts[word] = counts.get(word, 0) + 1\n"
                "return min(counts, key=lambda w: (-counts[w], w))"],
        reference=lambda s: (lambda c: min(c, key=lambda w: (-c[w], w)))(Counter(s.split())),
        inputs=lambda r: (r.text(repeat=True),)),
    Family(
        name="sum_values", topic="dicts",
        function_names=["sum_values", "total_of_values", "add_up_values"],
        arg_names=["d", "prices", "counts"], arg_types=["dict"], returns="int",
        docs=["Return the sum of all the values in $a.", "Add up the values of the dictionary $a."],
        bodies=["return sum($a.values())", "total = 0\nfor key in $a:\n    total += $a[key]\nreturn total"],
        reference=lambda d: sum(d.values()),
        inputs=lambda r: (r.tally(),)),
    Family(
        name="keys_by_value", topic="dicts",
        function_names=["keys_by_value", "rank_keys", "sorted_keys"],
        arg_names=["scores", "d", "counts"], arg_types=["dict"], returns="list[str]",
        docs=["Return the keys of $a sorted by value from largest to smallest; equal values keep alphabetical order.",
              "Rank the keys of $a by their values, highest first, ties alphabetically."],
        bodies=["return sorted($a, key=lambda k: (-$a[k], k))"],
        reference=lambda d: sorted(d, key=lambda k: (-d[k], k)),
        inputs=lambda r: (r.tally(),)),
    Family(
        name="count_values", topic="dicts",
        function_names=["count_values", "value_histogram", "how_many_each"],
        arg_names=["d", "mapping", "table"], arg_types=["dict"], returns="dict",
        docs=["Return a dictionary mapping each value of $a to how many keys have that value.",
              "Count how many times each value occurs among the values of $a."],
        bodies=["counts = {}\nfor value in $a.values():\n    counts[value] = counts.get(value, 0) + 1\n"
                "return counts"],
        reference=lambda d: dict(Counter(d.values())),
        inputs=lambda r: (r.tally(3),)),
]
