"""The parameterised task families behind the offline CodeExercises.

Each family is a small programming task with: function names and argument names to vary, typed arguments,
docstring wordings, one or more solution bodies (written as a person would, in different styles), a reference
implementation in plain Python (the tests' expected values come from it, so a wrong body fails its own test),
and an input generator. `$a`, `$b`, `$c` in docstrings and bodies are the argument names; `$k`, `$x` ... are
the family's parameters. Families are grouped by topic; exercises.py turns them into exercises.
"""
import math
from collections import Counter
from itertools import permutations


class Family:
    def __init__(self, name, topic, names, args, types, returns, docs, bodies, ref, gen, params=None):
        self.name, self.topic = name, topic
        self.names = names.split()
        self.args = [a.split(",") for a in args.split("|")]  # "s|text" -> [["s"], ["text"]]
        self.types, self.returns = types, returns
        self.docs, self.bodies = docs, bodies
        self.ref, self.gen, self.params = ref, gen, params or (lambda r: {})


FAMILIES = []


def fam(*args, **kw):
    FAMILIES.append(Family(*args, **kw))


S, I, L, D = "str", "int", "list[int]", "dict"

# ---- strings ----------------------------------------------------------------------------------------------
fam("count_vowels", "strings", "count_vowels vowel_count num_vowels", "s|text|word", [S], I,
    ["Return how many vowels (a, e, i, o, u) are in $a, ignoring case.",
     "Count the vowels in the string $a. Upper-case vowels count too."],
    ['count = 0\nfor ch in $a.lower():\n    if ch in "aeiou":\n        count += 1\nreturn count',
     'return sum(1 for ch in $a.lower() if ch in "aeiou")'],
    lambda s: sum(c in "aeiou" for c in s.lower()), lambda r: (r.text(),))
fam("reverse_string", "strings", "reverse_string reversed_text flip_string", "s|text", [S], S,
    ["Return $a with its characters in reverse order.", "Give back the string $a written backwards."],
    ["return $a[::-1]", 'result = ""\nfor ch in $a:\n    result = ch + result\nreturn result'],
    lambda s: s[::-1], lambda r: (r.text(),))
fam("is_palindrome", "strings", "is_palindrome palindrome_check reads_same_backwards", "s|text|phrase", [S], "bool",
    ["Return True if $a reads the same forwards and backwards, looking only at letters and digits and ignoring case.",
     "Check whether $a is a palindrome. Spaces, punctuation and case do not matter."],
    ["cleaned = [ch.lower() for ch in $a if ch.isalnum()]\nreturn cleaned == cleaned[::-1]",
     'cleaned = "".join(ch.lower() for ch in $a if ch.isalnum())\nleft, right = 0, len(cleaned) - 1\n'
     'while left < right:\n    if cleaned[left] != cleaned[right]:\n        return False\n    left += 1\n'
     '    right -= 1\nreturn True'],
    lambda s: [c.lower() for c in s if c.isalnum()] == [c.lower() for c in s if c.isalnum()][::-1],
    lambda r: (r.palindrome() if r.random() < 0.5 else r.text(),))
fam("capitalize_words", "strings", "capitalize_words title_words upper_first_letters", "s|sentence|text", [S], S,
    ["Return $a with the first letter of every word in upper case. Words are separated by single spaces.",
     "Make each space-separated word in $a start with a capital letter; leave the other letters as they are."],
    ['return " ".join(w[:1].upper() + w[1:] for w in $a.split(" "))',
     'words = $a.split(" ")\nfor i in range(len(words)):\n    words[i] = words[i][:1].upper() + words[i][1:]\n'
     'return " ".join(words)'],
    lambda s: " ".join(w[:1].upper() + w[1:] for w in s.split(" ")), lambda r: (r.text(),))
fam("count_words", "strings", "count_words word_count number_of_words", "s|sentence|text", [S], I,
    ["Return the number of words in $a. Words are separated by whitespace.",
     "How many words does $a contain? Any run of whitespace separates two words."],
    ["return len($a.split())", "count = 0\nin_word = False\nfor ch in $a:\n    if ch.isspace():\n"
     "        in_word = False\n    elif not in_word:\n        in_word = True\n        count += 1\nreturn count"],
    lambda s: len(s.split()), lambda r: (r.spaced_text(),))
fam("longest_word", "strings", "longest_word find_longest_word biggest_word", "s|sentence", [S], S,
    ["Return the longest word in $a (words are separated by spaces). If several words are equally long, return "
     "the first one. Return an empty string when there are no words.",
     "Find the first word of maximal length in $a; return '' for a string without words."],
    ['best = ""\nfor word in $a.split():\n    if len(word) > len(best):\n        best = word\nreturn best',
     'words = $a.split()\nreturn max(words, key=len) if words else ""'],
    lambda s: max(s.split(), key=len) if s.split() else "", lambda r: (r.text(),))
fam("remove_char", "strings", "remove_char strip_char delete_letter", "s,ch|text,letter|word,c", [S, S], S,
    ["Return $a with every occurrence of the character $b removed.",
     "Delete all copies of $b from $a and return what is left."],
    ['return $a.replace($b, "")', 'return "".join(x for x in $a if x != $b)'],
    lambda s, c: s.replace(c, ""), lambda r: (lambda t: (t, r.choice(t or "a")))(r.text()))
fam("char_frequency", "strings", "char_frequency letter_counts count_chars", "s|text|word", [S], D,
    ["Return a dictionary mapping each character of $a to the number of times it appears.",
     "Count how often every character occurs in $a; the result maps character -> count."],
    ["counts = {}\nfor ch in $a:\n    counts[ch] = counts.get(ch, 0) + 1\nreturn counts",
     "counts = {}\nfor ch in $a:\n    if ch in counts:\n        counts[ch] += 1\n    else:\n        counts[ch] = 1\n"
     "return counts"],
    lambda s: dict(Counter(s)), lambda r: (r.word(),))
fam("first_unique_char", "strings", "first_unique_char first_non_repeating unique_index", "s|word|text", [S], I,
    ["Return the index of the first character in $a that appears exactly once, or -1 if there is none.",
     "Find the position of the first non-repeating character of $a. Return -1 when every character repeats."],
    ["for i, ch in enumerate($a):\n    if $a.count(ch) == 1:\n        return i\nreturn -1",
     "counts = {}\nfor ch in $a:\n    counts[ch] = counts.get(ch, 0) + 1\nfor i, ch in enumerate($a):\n"
     "    if counts[ch] == 1:\n        return i\nreturn -1"],
    lambda s: next((i for i, c in enumerate(s) if s.count(c) == 1), -1),
    lambda r: (r.word() + r.word() if r.random() < 0.5 else r.choice(["aabb", "abab", "", "z"]),))
fam("is_anagram", "strings", "is_anagram are_anagrams same_letters", "a,b|first,second|word1,word2", [S, S], "bool",
    ["Return True if $a and $b contain exactly the same letters, ignoring case and spaces.",
     "Two strings are anagrams when one is a rearrangement of the other. Decide whether $a and $b are anagrams "
     "(case and spaces do not matter)."],
    ['return sorted($a.replace(" ", "").lower()) == sorted($b.replace(" ", "").lower())',
     'def letters(s):\n    counts = {}\n    for ch in s.lower():\n        if ch != " ":\n'
     '            counts[ch] = counts.get(ch, 0) + 1\n    return counts\nreturn letters($a) == letters($b)'],
    lambda a, b: sorted(a.replace(" ", "").lower()) == sorted(b.replace(" ", "").lower()),
    lambda r: (lambda w: (w, r.shuffled(w) if r.random() < 0.6 else r.word()))(r.word()))
fam("compress_runs", "strings", "compress_runs run_length_encode squeeze_repeats", "s|text", [S], S,
    ["Compress $a by replacing each run of the same character with the character followed by the run length, "
     "for example 'aaabcc' becomes 'a3b1c2'.",
     "Run-length encode $a: every maximal block of one repeated character becomes that character and its count."],
    ['if not $a:\n    return ""\nresult = []\ncurrent, count = $a[0], 1\nfor ch in $a[1:]:\n    if ch == current:\n'
     '        count += 1\n    else:\n        result.append(current + str(count))\n        current, count = ch, 1\n'
     'result.append(current + str(count))\nreturn "".join(result)'],
    lambda s: "".join(f"{c}{len(list(g))}" for c, g in __import__("itertools").groupby(s)),
    lambda r: (r.runs(),))
fam("count_char_class", "strings", "count_kind count_matching tally_chars", "s|text", [S], I,
    ["Return how many characters of $a are $desc.", "Count the $desc in $a."],
    ["return sum(1 for ch in $a if ch.$method())",
     "total = 0\nfor ch in $a:\n    if ch.$method():\n        total += 1\nreturn total"],
    lambda s, method, desc: sum(getattr(c, method)() for c in s), lambda r: (r.mixed(),),
    params=lambda r: r.choice([{"method": "isdigit", "desc": "digits"},
                               {"method": "isupper", "desc": "upper-case letters"},
                               {"method": "isspace", "desc": "whitespace characters"},
                               {"method": "isalpha", "desc": "letters"}]))
fam("swap_case", "strings", "swap_case invert_case flip_case", "s|text", [S], S,
    ["Return $a with upper-case letters made lower-case and lower-case letters made upper-case.",
     "Swap the case of every letter in $a without using str.swapcase."],
    ['result = ""\nfor ch in $a:\n    if ch.isupper():\n        result += ch.lower()\n    elif ch.islower():\n'
     '        result += ch.upper()\n    else:\n        result += ch\nreturn result'],
    lambda s: "".join(c.lower() if c.isupper() else c.upper() if c.islower() else c for c in s),
    lambda r: (r.mixed(),))
fam("acronym", "strings", "acronym make_acronym initials", "phrase|s|words", [S], S,
    ["Return the acronym of $a: the first letter of each word, in upper case.",
     "Build an abbreviation from the first letters of the words in $a, upper-cased."],
    ['return "".join(word[0].upper() for word in $a.split())',
     'letters = []\nfor word in $a.split():\n    letters.append(word[0])\nreturn "".join(letters).upper()'],
    lambda s: "".join(w[0].upper() for w in s.split()), lambda r: (r.text(),))
fam("replace_spaces", "strings", "replace_spaces join_with slugify", "s|text|title", [S], S,
    ["Return $a with every space replaced by '$sep'.", "Turn the spaces in $a into '$sep' characters."],
    ['return $a.replace(" ", "$sep")', 'return "$sep".join($a.split(" "))'],
    lambda s, sep: s.replace(" ", sep), lambda r: (r.text(),),
    params=lambda r: {"sep": r.choice(["_", "-", "+", "."])})
fam("remove_vowels", "strings", "remove_vowels drop_vowels consonants_only", "s|text|word", [S], S,
    ["Return $a without its vowels (a, e, i, o, u in either case).", "Strip every vowel out of $a."],
    ['return "".join(ch for ch in $a if ch.lower() not in "aeiou")',
     'result = ""\nfor ch in $a:\n    if ch.lower() not in "aeiou":\n        result += ch\nreturn result'],
    lambda s: "".join(c for c in s if c.lower() not in "aeiou"), lambda r: (r.mixed(),))
fam("censor_word", "strings", "censor_word hide_word mask_word", "text,word|s,bad|sentence,target", [S, S], S,
    ["Return $a with every occurrence of $b replaced by as many '*' characters as $b has letters.",
     "Hide the word $b inside $a by overwriting it with stars of the same length."],
    ['return $a.replace($b, "*" * len($b))'],
    lambda t, w: t.replace(w, "*" * len(w)), lambda r: (lambda ws: (" ".join(ws), r.choice(ws)))(r.words(2, 6)))
fam("count_substring", "strings", "count_substring occurrences count_pattern", "s,sub|text,pattern|haystack,needle",
    [S, S], I,
    ["Return how many times $b occurs in $a, counting overlapping occurrences. $b is not empty.",
     "Count the positions in $a where $b starts (matches may overlap)."],
    ["count = 0\nfor i in range(len($a) - len($b) + 1):\n    if $a[i:i + len($b)] == $b:\n        count += 1\n"
     "return count", "return sum(1 for i in range(len($a)) if $a.startswith($b, i))"],
    lambda s, p: sum(s.startswith(p, i) for i in range(len(s))),
    lambda r: (r.runs("ab", 12), r.choice(["a", "ab", "aa", "ba", "b"])))
fam("pig_latin", "strings", "pig_latin to_pig_latin piglatin_word", "word|w", [S], S,
    ["Translate the lower-case $a to Pig Latin: if it starts with a vowel add 'way'; otherwise move the letters "
     "before the first vowel to the end and add 'ay'. Words without vowels just get 'ay'.",
     "Return the Pig Latin form of $a (vowel first: add 'way'; else move the leading consonants to the end, "
     "then add 'ay')."],
    ['if $a[0] in "aeiou":\n    return $a + "way"\nfor i, ch in enumerate($a):\n    if ch in "aeiou":\n'
     '        return $a[i:] + $a[:i] + "ay"\nreturn $a + "ay"'],
    lambda w: w + "way" if w[0] in "aeiou" else next((w[i:] + w[:i] + "ay" for i, c in enumerate(w) if c in "aeiou"),
                                                       w + "ay"),
    lambda r: (r.word(),))
fam("caesar_shift", "strings", "caesar_shift shift_letters encode_caesar", "s|text|message", [S], S,
    ["Shift every lower-case letter of $a $k places forward in the alphabet, wrapping from z to a. Other "
     "characters stay as they are.", "Apply a Caesar cipher with shift $k to the lower-case letters of $a."],
    ['result = []\nfor ch in $a:\n    if "a" <= ch <= "z":\n        result.append(chr((ord(ch) - ord("a") + $k) % 26 + ord("a")))\n'
     '    else:\n        result.append(ch)\nreturn "".join(result)'],
    lambda s, k: "".join(chr((ord(c) - 97 + k) % 26 + 97) if "a" <= c <= "z" else c for c in s),
    lambda r: (r.text(),), params=lambda r: {"k": r.randint(1, 25)})
fam("is_pangram", "strings", "is_pangram uses_every_letter has_all_letters", "s|sentence|text", [S], "bool",
    ["Return True if $a contains every letter of the English alphabet at least once (case does not matter).",
     "Decide whether $a is a pangram."],
    ['return set("abcdefghijklmnopqrstuvwxyz") <= set($a.lower())',
     'for letter in "abcdefghijklmnopqrstuvwxyz":\n    if letter not in $a.lower():\n        return False\nreturn True'],
    lambda s: set("abcdefghijklmnopqrstuvwxyz") <= set(s.lower()),
    lambda r: (r.choice(["The quick brown fox jumps over the lazy dog", "Pack my box with five dozen liquor jugs"])
               if r.random() < 0.4 else r.text(),))
fam("repeat_chars", "strings", "repeat_chars stretch_word echo_letters", "s|word", [S], S,
    ["Return a string in which every character of $a is repeated $k times.",
     "Stretch $a by writing each of its characters $k times in a row."],
    ['return "".join(ch * $k for ch in $a)', 'out = ""\nfor ch in $a:\n    out += ch * $k\nreturn out'],
    lambda s, k: "".join(c * k for c in s), lambda r: (r.word(),), params=lambda r: {"k": r.randint(2, 4)})
fam("alternate_case", "strings", "alternate_case zigzag_case wave_case", "s|text", [S], S,
    ["Return $a with characters at even positions in upper case and at odd positions in lower case.",
     "Make the letters of $a alternate: upper, lower, upper, ... counting positions from 0."],
    ['return "".join(ch.upper() if i % 2 == 0 else ch.lower() for i, ch in enumerate($a))'],
    lambda s: "".join(c.upper() if i % 2 == 0 else c.lower() for i, c in enumerate(s)), lambda r: (r.word(),))
fam("common_prefix", "strings", "common_prefix longest_common_prefix shared_start", "words|strings|items",
    ["list[str]"], S,
    ["Return the longest string that every word in $a starts with. Return '' for an empty list.",
     "Find the longest common prefix of the strings in $a."],
    ['if not $a:\n    return ""\nprefix = $a[0]\nfor word in $a[1:]:\n    while not word.startswith(prefix):\n'
     '        prefix = prefix[:-1]\nreturn prefix'],
    lambda ws: __import__("os").path.commonprefix(ws) if ws else "",
    lambda r: ((lambda p: [p + r.word()[:r.randint(0, 3)] for _ in range(r.randint(0, 4))])(r.word()[:r.randint(0, 4)]),))
fam("word_lengths", "strings", "word_lengths lengths_of_words measure_words", "s|sentence", [S], L,
    ["Return a list with the length of each word in $a, in order.",
     "Split $a into words and return how long each one is."],
    ["return [len(word) for word in $a.split()]",
     "lengths = []\nfor word in $a.split():\n    lengths.append(len(word))\nreturn lengths"],
    lambda s: [len(w) for w in s.split()], lambda r: (r.text(),))
fam("sort_letters", "strings", "sort_letters alphabetize_word letters_in_order", "word|s", [S], S,
    ["Return the characters of $a sorted in alphabetical order.", "Rearrange $a so its letters are in sorted order."],
    ['return "".join(sorted($a))'], lambda s: "".join(sorted(s)), lambda r: (r.word(),))
fam("dedupe_chars", "strings", "dedupe_chars unique_letters remove_repeats", "s|word|text", [S], S,
    ["Return $a with repeated characters removed, keeping the first occurrence of each, in order.",
     "Keep only the first copy of every character of $a."],
    ['seen = set()\nresult = ""\nfor ch in $a:\n    if ch not in seen:\n        seen.add(ch)\n        result += ch\n'
     'return result', 'return "".join(dict.fromkeys($a))'],
    lambda s: "".join(dict.fromkeys(s)), lambda r: (r.word() + r.word(),))
fam("middle_char", "strings", "middle_char middle_of center_letters", "word|s", [S], S,
    ["Return the middle character of $a, or the middle two characters when its length is even.",
     "Give the center of $a: one character for odd lengths, two for even lengths."],
    ["mid = len($a) // 2\nif len($a) % 2 == 0:\n    return $a[mid - 1:mid + 1]\nreturn $a[mid]"],
    lambda s: s[len(s) // 2 - 1:len(s) // 2 + 1] if len(s) % 2 == 0 else s[len(s) // 2], lambda r: (r.word(),))
fam("truncate_text", "strings", "truncate_text shorten clip_text", "text,limit|s,n|message,max_len", [S, I], S,
    ["Return $a unchanged if it has at most $b characters; otherwise return its first $b characters followed "
     "by '...'.", "Shorten $a to $b characters, adding '...' when something was cut off."],
    ['if len($a) <= $b:\n    return $a\nreturn $a[:$b] + "..."'],
    lambda s, n: s if len(s) <= n else s[:n] + "...", lambda r: (r.text(), r.randint(0, 20)))
fam("is_isogram", "strings", "is_isogram no_repeated_letters all_letters_unique", "word|s", [S], "bool",
    ["Return True if no letter appears more than once in $a (ignoring case).",
     "An isogram has no repeating letters. Is $a one? Case does not matter."],
    ["letters = $a.lower()\nreturn len(set(letters)) == len(letters)",
     "seen = set()\nfor ch in $a.lower():\n    if ch in seen:\n        return False\n    seen.add(ch)\nreturn True"],
    lambda s: len(set(s.lower())) == len(s), lambda r: (r.choice([r.word(), "lamp", "Dog", "moon", "Aa"]),))
fam("vowel_positions", "strings", "vowel_positions vowel_indices where_vowels", "s|word|text", [S], L,
    ["Return the list of indices at which $a has a vowel (a, e, i, o, u, lower case only).",
     "Find every position of a lower-case vowel in $a."],
    ['return [i for i, ch in enumerate($a) if ch in "aeiou"]'],
    lambda s: [i for i, c in enumerate(s) if c in "aeiou"], lambda r: (r.word(),))
fam("count_words_starting", "strings", "count_words_starting words_beginning_with count_initial",
    "text,letter|s,ch|sentence,c", [S, S], I,
    ["Return how many words of $a start with the letter $b (case-sensitive).",
     "Count the words in $a whose first character is $b."],
    ["return sum(1 for word in $a.split() if word.startswith($b))"],
    lambda s, c: sum(w.startswith(c) for w in s.split()), lambda r: (r.text(), r.choice("abcdefghilmnoprst")))

# ---- lists ------------------------------------------------------------------------------------------------
fam("sum_even", "lists", "sum_even sum_of_evens add_even_numbers", "nums|numbers|values", [L], I,
    ["Return the sum of the even numbers in $a.", "Add up only the even values of $a."],
    ["return sum(n for n in $a if n % 2 == 0)",
     "total = 0\nfor n in $a:\n    if n % 2 == 0:\n        total += n\nreturn total"],
    lambda xs: sum(x for x in xs if x % 2 == 0), lambda r: (r.ints(),))
fam("value_range", "lists", "value_range spread max_minus_min", "nums|numbers|data", [L], I,
    ["Return the difference between the largest and the smallest number in $a, or 0 for an empty list.",
     "How far apart are the extremes of $a? Return max - min (0 when $a is empty)."],
    ["if not $a:\n    return 0\nreturn max($a) - min($a)",
     "if not $a:\n    return 0\nlow = high = $a[0]\nfor n in $a:\n    low = min(low, n)\n    high = max(high, n)\n"
     "return high - low"],
    lambda xs: max(xs) - min(xs) if xs else 0, lambda r: (r.ints(),))
fam("count_greater", "lists", "count_greater count_above how_many_over", "nums,limit|values,threshold|scores,bar",
    [L, I], I,
    ["Return how many numbers in $a are strictly greater than $b.", "Count the elements of $a that exceed $b."],
    ["return sum(1 for n in $a if n > $b)", "count = 0\nfor n in $a:\n    if n > $b:\n        count += 1\nreturn count"],
    lambda xs, t: sum(x > t for x in xs), lambda r: (r.ints(), r.randint(-5, 20)))
fam("keep_positive", "lists", "keep_positive positives only_positive", "nums|numbers|values", [L], L,
    ["Return a new list with only the positive numbers of $a, in their original order.",
     "Filter $a down to the numbers greater than zero."],
    ["return [n for n in $a if n > 0]", "result = []\nfor n in $a:\n    if n > 0:\n        result.append(n)\nreturn result"],
    lambda xs: [x for x in xs if x > 0], lambda r: (r.ints(-20, 20),))
fam("square_each", "lists", "square_each squares square_all", "nums|numbers|values", [L], L,
    ["Return a list containing the square of each number in $a.", "Square every element of $a."],
    ["return [n * n for n in $a]", "return list(map(lambda n: n ** 2, $a))"],
    lambda xs: [x * x for x in xs], lambda r: (r.ints(-9, 9),))
fam("running_sum", "lists", "running_sum prefix_sums cumulative_sum", "nums|numbers|values", [L], L,
    ["Return the running totals of $a: element i of the result is the sum of $a[0] to $a[i].",
     "Compute the prefix sums of $a."],
    ["result = []\ntotal = 0\nfor n in $a:\n    total += n\n    result.append(total)\nreturn result"],
    lambda xs: [sum(xs[:i + 1]) for i in range(len(xs))], lambda r: (r.ints(),))
fam("second_largest", "lists", "second_largest runner_up second_biggest", "nums|numbers|scores", [L], "int | None",
    ["Return the second largest distinct value in $a, or None if there are fewer than two distinct values.",
     "Find the runner-up value of $a (duplicates of the maximum do not count). None when it does not exist."],
    ["values = sorted(set($a))\nreturn values[-2] if len(values) >= 2 else None",
     "first = second = None\nfor n in $a:\n    if first is None or n > first:\n        if first is not None and n != first:\n"
     "            second = first\n        first = n\n    elif n != first and (second is None or n > second):\n"
     "        second = n\nreturn second"],
    lambda xs: sorted(set(xs))[-2] if len(set(xs)) >= 2 else None, lambda r: (r.ints(0, 9),))
fam("unique_in_order", "lists", "unique_in_order remove_duplicates dedupe", "items|nums|values", [L], L,
    ["Return the elements of $a without duplicates, keeping the order of first appearance.",
     "Remove repeated values from $a; the first occurrence of each value stays."],
    ["seen = set()\nresult = []\nfor x in $a:\n    if x not in seen:\n        seen.add(x)\n        result.append(x)\n"
     "return result", "return list(dict.fromkeys($a))"],
    lambda xs: list(dict.fromkeys(xs)), lambda r: (r.ints(0, 6),))
fam("chunk_list", "lists", "chunk_list split_into_chunks batches", "items,size|nums,n|values,k", [L, I], "list[list[int]]",
    ["Split $a into consecutive chunks of length $b; the last chunk may be shorter. $b is positive.",
     "Group the elements of $a into lists of $b (the final group holds whatever is left)."],
    ["return [$a[i:i + $b] for i in range(0, len($a), $b)]"],
    lambda xs, n: [xs[i:i + n] for i in range(0, len(xs), n)], lambda r: (r.ints(), r.randint(1, 4)))
fam("rotate_left", "lists", "rotate_left rotate shift_left", "items,k|nums,steps|values,n", [L, I], L,
    ["Return $a rotated $b positions to the left (elements that fall off the front go to the back).",
     "Rotate the list $a left by $b places; $b may be larger than the list."],
    ["if not $a:\n    return []\n$b %= len($a)\nreturn $a[$b:] + $a[:$b]"],
    lambda xs, k: xs[k % len(xs):] + xs[:k % len(xs)] if xs else [], lambda r: (r.ints(), r.randint(0, 12)))
fam("flatten_once", "lists", "flatten_once flatten concat_lists", "lists|nested|groups", ["list[list[int]]"], L,
    ["Return one list with the elements of all the lists in $a, in order.", "Flatten $a by one level."],
    ["return [x for inner in $a for x in inner]",
     "result = []\nfor inner in $a:\n    result.extend(inner)\nreturn result"],
    lambda ls: [x for l in ls for x in l], lambda r: ([r.ints(n=r.randint(0, 3)) for _ in range(r.randint(0, 4))],))
fam("pairwise_diffs", "lists", "pairwise_diffs differences gaps", "nums|values|readings", [L], L,
    ["Return the differences between consecutive numbers of $a: element i is $a[i + 1] - $a[i].",
     "Compute the step from each element of $a to the next."],
    ["return [b - a for a, b in zip($a, $a[1:])]"], lambda xs: [b - a for a, b in zip(xs, xs[1:])],
    lambda r: (r.ints(),))
fam("index_of_max", "lists", "index_of_max argmax position_of_largest", "nums|values|scores", [L], I,
    ["Return the index of the largest number in $a (the first one if it appears more than once), or -1 for an "
     "empty list.", "Where is the maximum of $a? Return its first index, -1 when $a is empty."],
    ["if not $a:\n    return -1\nbest = 0\nfor i in range(1, len($a)):\n    if $a[i] > $a[best]:\n        best = i\nreturn best",
     "return $a.index(max($a)) if $a else -1"],
    lambda xs: xs.index(max(xs)) if xs else -1, lambda r: (r.ints(0, 9),))
fam("mean_value", "lists", "mean_value average mean", "nums|values|scores", [L], "float",
    ["Return the average of $a rounded to 2 decimal places, or 0.0 for an empty list.",
     "Compute the arithmetic mean of $a (two decimals); an empty list has mean 0.0."],
    ["if not $a:\n    return 0.0\nreturn round(sum($a) / len($a), 2)"],
    lambda xs: round(sum(xs) / len(xs), 2) if xs else 0.0, lambda r: (r.ints(),))
fam("median_value", "lists", "median_value median middle_value", "nums|values|data", [L], "float",
    ["Return the median of the non-empty list $a as a float: the middle value after sorting, or the mean of "
     "the two middle values.", "Find the median of $a, which has at least one element."],
    ["ordered = sorted($a)\nmid = len(ordered) // 2\nif len(ordered) % 2:\n    return float(ordered[mid])\n"
     "return (ordered[mid - 1] + ordered[mid]) / 2"],
    lambda xs: float(sorted(xs)[len(xs) // 2]) if len(xs) % 2 else (sorted(xs)[len(xs) // 2 - 1] + sorted(xs)[len(xs) // 2]) / 2,
    lambda r: (r.ints(n=r.randint(1, 8)),))
fam("merge_sorted", "lists", "merge_sorted merge_lists combine_sorted", "a,b|left,right|first,second", [L, L], L,
    ["Merge the two sorted lists $a and $b into one sorted list without calling sort.",
     "Given sorted $a and $b, return all their elements in sorted order, walking both lists once."],
    ["result = []\ni = j = 0\nwhile i < len($a) and j < len($b):\n    if $a[i] <= $b[j]:\n        result.append($a[i])\n"
     "        i += 1\n    else:\n        result.append($b[j])\n        j += 1\nreturn result + $a[i:] + $b[j:]"],
    lambda a, b: sorted(a + b), lambda r: (sorted(r.ints()), sorted(r.ints())))
fam("interleave", "lists", "interleave alternate_merge weave", "a,b|first,second|xs,ys", [L, L], L,
    ["Return a list that takes elements from $a and $b in turn; when one list runs out, the rest of the "
     "other follows.", "Weave $a and $b together: $a[0], $b[0], $a[1], $b[1], ... then the leftovers."],
    ["result = []\nfor i in range(max(len($a), len($b))):\n    if i < len($a):\n        result.append($a[i])\n"
     "    if i < len($b):\n        result.append($b[i])\nreturn result"],
    lambda a, b: [x for i in range(max(len(a), len(b))) for x in (a[i:i + 1] + b[i:i + 1])],
    lambda r: (r.ints(), r.ints()))
fam("zip_sum", "lists", "zip_sum add_lists elementwise_sum", "a,b|xs,ys|first,second", [L, L], L,
    ["Return the element-wise sums of $a and $b, stopping at the end of the shorter list.",
     "Add $a and $b position by position (as far as both have elements)."],
    ["return [x + y for x, y in zip($a, $b)]"], lambda a, b: [x + y for x, y in zip(a, b)], lambda r: (r.ints(), r.ints()))
fam("every_other", "lists", "every_other even_positions skip_one", "items|nums|values", [L], L,
    ["Return the elements of $a at even positions (0, 2, 4, ...).", "Keep every second element of $a, starting with the first."],
    ["return $a[::2]", "return [x for i, x in enumerate($a) if i % 2 == 0]"], lambda xs: xs[::2], lambda r: (r.ints(),))
fam("clamp_all", "lists", "clamp_all clip_values limit_values", "nums,low,high|values,lo,hi|data,minimum,maximum",
    [L, I, I], L,
    ["Return $a with every number below $b raised to $b and every number above $c lowered to $c.",
     "Clip each element of $a into the range [$b, $c]."],
    ["return [min(max(n, $b), $c) for n in $a]"],
    lambda xs, lo, hi: [min(max(x, lo), hi) for x in xs], lambda r: (r.ints(-10, 30), r.randint(-3, 5), r.randint(6, 15)))
fam("product_of", "lists", "product_of multiply_all list_product", "nums|values|factors", [L], I,
    ["Return the product of all numbers in $a (1 for an empty list).", "Multiply the elements of $a together."],
    ["result = 1\nfor n in $a:\n    result *= n\nreturn result"], lambda xs: math.prod(xs), lambda r: (r.ints(-5, 6, n=r.randint(0, 6)),))
fam("count_pairs_sum", "lists", "count_pairs_sum pairs_adding_to two_sum_count", "nums,target|values,total|items,goal",
    [L, I], I,
    ["Return how many pairs of positions i < j have $a[i] + $a[j] == $b.",
     "Count index pairs (i, j) with i < j whose values in $a add up to $b."],
    ["count = 0\nfor i in range(len($a)):\n    for j in range(i + 1, len($a)):\n        if $a[i] + $a[j] == $b:\n"
     "            count += 1\nreturn count"],
    lambda xs, t: sum(xs[i] + xs[j] == t for i in range(len(xs)) for j in range(i + 1, len(xs))),
    lambda r: (r.ints(0, 9), r.randint(2, 14)))
fam("zeros_to_end", "lists", "zeros_to_end move_zeros push_zeros_back", "nums|values|items", [L], L,
    ["Return $a with all zeros moved to the end; the other numbers keep their order.",
     "Move every 0 in $a to the back without changing the order of the rest."],
    ["non_zero = [n for n in $a if n != 0]\nreturn non_zero + [0] * ($a.count(0))"],
    lambda xs: [x for x in xs if x] + [0] * xs.count(0), lambda r: (r.ints(0, 3),))
fam("longest_rising_run", "lists", "longest_rising_run longest_increasing_streak rising_run", "nums|values|prices",
    [L], I,
    ["Return the length of the longest run of strictly increasing consecutive numbers in $a (0 for an empty list).",
     "How long is the longest stretch of $a in which every number is bigger than the one before?"],
    ["if not $a:\n    return 0\nbest = current = 1\nfor prev, n in zip($a, $a[1:]):\n    current = current + 1 if n > prev else 1\n"
     "    best = max(best, current)\nreturn best"],
    lambda xs: max((j - i for i in range(len(xs)) for j in range(i + 1, len(xs) + 1)
                    if all(xs[k] < xs[k + 1] for k in range(i, j - 1))), default=0), lambda r: (r.ints(0, 9),))
fam("is_sorted", "lists", "is_sorted in_order is_ascending", "nums|values|items", [L], "bool",
    ["Return True if $a is sorted in non-decreasing order.", "Check that every element of $a is at least the one before it."],
    ["return all($a[i] <= $a[i + 1] for i in range(len($a) - 1))",
     "for i in range(1, len($a)):\n    if $a[i] < $a[i - 1]:\n        return False\nreturn True"],
    lambda xs: xs == sorted(xs), lambda r: (sorted(r.ints()) if r.random() < 0.5 else r.ints(),))
fam("running_max", "lists", "running_max cumulative_max best_so_far", "nums|values|scores", [L], L,
    ["Return a list whose element i is the largest value among $a[0] ... $a[i].",
     "Track the maximum of $a seen so far at every position."],
    ["result = []\nbest = None\nfor n in $a:\n    best = n if best is None else max(best, n)\n    result.append(best)\nreturn result"],
    lambda xs: [max(xs[:i + 1]) for i in range(len(xs))], lambda r: (r.ints(),))
fam("sign_changes", "lists", "sign_changes count_sign_flips crossings", "nums|values|readings", [L], I,
    ["Return how many times consecutive numbers in $a change sign (one negative, the next positive or the other "
     "way round). Zeros are skipped.", "Count the sign flips between neighbouring non-zero numbers of $a."],
    ["signs = [n > 0 for n in $a if n != 0]\nreturn sum(1 for a, b in zip(signs, signs[1:]) if a != b)"],
    lambda xs: (lambda s: sum(a != b for a, b in zip(s, s[1:])))([x > 0 for x in xs if x]), lambda r: (r.ints(-9, 9),))
fam("majority_element", "lists", "majority_element dominant_value majority", "nums|votes|values", [L], "int | None",
    ["Return the value that appears more than half of the time in $a, or None if there is no such value.",
     "Find the majority element of $a (strictly more than len($a) // 2 copies), else None."],
    ["for value in set($a):\n    if $a.count(value) > len($a) // 2:\n        return value\nreturn None"],
    lambda xs: next((v for v in set(xs) if xs.count(v) > len(xs) // 2), None), lambda r: (r.ints(0, 2),))
fam("split_even_odd", "lists", "split_even_odd evens_and_odds partition_parity", "nums|values|numbers", [L],
    "tuple[list[int], list[int]]",
    ["Return a tuple (evens, odds) with the even and the odd numbers of $a, each in their original order.",
     "Partition $a into its even numbers and its odd numbers."],
    ["evens = [n for n in $a if n % 2 == 0]\nodds = [n for n in $a if n % 2 != 0]\nreturn evens, odds"],
    lambda xs: ([x for x in xs if x % 2 == 0], [x for x in xs if x % 2]), lambda r: (r.ints(),))

# ---- dictionaries -----------------------------------------------------------------------------------------
fam("word_frequencies", "dicts", "word_frequencies count_each_word word_histogram", "text|s|sentence", [S], D,
    ["Return a dictionary that maps each word of $a (split on whitespace, lower-cased) to how often it occurs.",
     "Count the words of $a, ignoring case."],
    ["counts = {}\nfor word in $a.lower().split():\n    counts[word] = counts.get(word, 0) + 1\nreturn counts"],
    lambda s: dict(Counter(s.lower().split())), lambda r: (r.text(repeat=True),))
fam("invert_dict", "dicts", "invert_dict swap_keys_values reverse_mapping", "mapping|d|table", [D], D,
    ["Return a new dictionary with the keys and values of $a swapped. The values of $a are all different.",
     "Swap keys and values in $a (its values are unique)."],
    ["return {value: key for key, value in $a.items()}",
     "result = {}\nfor key in $a:\n    result[$a[key]] = key\nreturn result"],
    lambda d: {v: k for k, v in d.items()}, lambda r: ({w: i for i, w in enumerate(r.distinct_words(0, 5))},))
fam("group_by_length", "dicts", "group_by_length words_by_length bucket_words", "words|items|names", ["list[str]"], D,
    ["Return a dictionary mapping each word length to the list of words in $a with that length, in order.",
     "Group the strings in $a by how long they are."],
    ["groups = {}\nfor word in $a:\n    groups.setdefault(len(word), []).append(word)\nreturn groups"],
    lambda ws: {n: [w for w in ws if len(w) == n] for n in dict.fromkeys(len(w) for w in ws)}, lambda r: (r.words(0, 6),))
fam("merge_counts", "dicts", "merge_counts add_tallies combine_counts", "a,b|first,second|left,right", [D, D], D,
    ["Return a new dictionary with every key of $a and $b; keys found in both get the sum of their values.",
     "Combine two tallies $a and $b by adding the counts of shared keys."],
    ["result = dict($a)\nfor key, value in $b.items():\n    result[key] = result.get(key, 0) + value\nreturn result"],
    lambda a, b: {**a, **{k: a.get(k, 0) + v for k, v in b.items()}}, lambda r: (r.tally(), r.tally()))
fam("key_of_max", "dicts", "key_of_max best_key top_scorer", "scores|d|counts", [D], "str | None",
    ["Return the key of $a with the largest value (the alphabetically first key on ties), or None when $a is empty.",
     "Which key of $a holds the biggest value? Break ties alphabetically; None for an empty dictionary."],
    ["if not $a:\n    return None\nreturn min($a, key=lambda k: (-$a[k], k))"],
    lambda d: min(d, key=lambda k: (-d[k], k)) if d else None, lambda r: (r.tally(),))
fam("filter_by_value", "dicts", "filter_by_value at_least keep_large", "d,minimum|scores,limit|counts,threshold",
    [D, I], D,
    ["Return a new dictionary with only the items of $a whose value is at least $b.",
     "Keep the entries of $a with values of $b or more."],
    ["return {k: v for k, v in $a.items() if v >= $b}"],
    lambda d, t: {k: v for k, v in d.items() if v >= t}, lambda r: (r.tally(), r.randint(0, 9)))
fam("first_letter_counts", "dicts", "first_letter_counts initials_histogram count_by_initial", "words|names|items",
    ["list[str]"], D,
    ["Return a dictionary mapping each first letter to how many words in $a start with it.",
     "Tally the initial letters of the words in $a."],
    ["counts = {}\nfor word in $a:\n    counts[word[0]] = counts.get(word[0], 0) + 1\nreturn counts"],
    lambda ws: dict(Counter(w[0] for w in ws)), lambda r: (r.words(0, 8),))
fam("dict_from_lists", "dicts", "dict_from_lists pair_up make_mapping", "keys,values|names,scores|labels,numbers",
    ["list[str]", L], D,
    ["Return a dictionary that maps $a[i] to $b[i]; extra items in the longer list are ignored.",
     "Pair the keys $a with the values $b."],
    ["return dict(zip($a, $b))", "result = {}\nfor i in range(min(len($a), len($b))):\n    result[$a[i]] = $b[i]\nreturn result"],
    lambda ks, vs: dict(zip(ks, vs)), lambda r: (r.distinct_words(0, 5), r.ints()))
fam("most_common_word", "dicts", "most_common_word top_word frequent_word", "text|s|sentence", [S], S,
    ["Return the word that appears most often in $a (split on spaces); on a tie, the alphabetically smallest. "
     "$a has at least one word.", "Find the most frequent word of $a, breaking ties alphabetically."],
    ["counts = {}\nfor word in $a.split():\n    counts[word] = counts.get(word, 0) + 1\n"
     "return min(counts, key=lambda w: (-counts[w], w))"],
    lambda s: (lambda c: min(c, key=lambda w: (-c[w], w)))(Counter(s.split())), lambda r: (r.text(repeat=True),))
fam("sum_values", "dicts", "sum_values total_of_values add_up_values", "d|prices|counts", [D], I,
    ["Return the sum of all the values in $a.", "Add up the values of the dictionary $a."],
    ["return sum($a.values())", "total = 0\nfor key in $a:\n    total += $a[key]\nreturn total"],
    lambda d: sum(d.values()), lambda r: (r.tally(),))
fam("keys_by_value", "dicts", "keys_by_value rank_keys sorted_keys", "scores|d|counts", [D], "list[str]",
    ["Return the keys of $a sorted by value from largest to smallest; equal values keep alphabetical order.",
     "Rank the keys of $a by their values, highest first, ties alphabetically."],
    ["return sorted($a, key=lambda k: (-$a[k], k))"], lambda d: sorted(d, key=lambda k: (-d[k], k)), lambda r: (r.tally(),))
fam("count_values", "dicts", "count_values value_histogram how_many_each", "d|mapping|table", [D], D,
    ["Return a dictionary mapping each value of $a to how many keys have that value.",
     "Count how many times each value occurs among the values of $a."],
    ["counts = {}\nfor value in $a.values():\n    counts[value] = counts.get(value, 0) + 1\nreturn counts"],
    lambda d: dict(Counter(d.values())), lambda r: (r.tally(3),))

# ---- math ---------------------------------------------------------------------------------------------------
fam("factorial", "math", "factorial fact product_up_to", "n|number|k", [I], I,
    ["Return n! = 1 * 2 * ... * $a for a non-negative integer $a (0! is 1).", "Compute the factorial of $a."],
    ["result = 1\nfor i in range(2, $a + 1):\n    result *= i\nreturn result",
     "if $a <= 1:\n    return 1\nreturn $a * $name($a - 1)"],
    lambda n: math.factorial(n), lambda r: (r.randint(0, 12),))
fam("fibonacci", "math", "fibonacci fib nth_fibonacci", "n|index|k", [I], I,
    ["Return the $a-th Fibonacci number, where fib(0) = 0 and fib(1) = 1.",
     "Compute Fibonacci number $a (0, 1, 1, 2, 3, 5, ... counting from 0)."],
    ["a, b = 0, 1\nfor _ in range($a):\n    a, b = b, a + b\nreturn a"],
    lambda n: (lambda f: f(f, n))(lambda f, k: k if k < 2 else f(f, k - 1) + f(f, k - 2)), lambda r: (r.randint(0, 20),))
fam("is_prime", "math", "is_prime prime_check check_prime", "n|number|value", [I], "bool",
    ["Return True if $a is a prime number.", "Decide whether the integer $a is prime (numbers below 2 are not)."],
    ["if $a < 2:\n    return False\nfor d in range(2, int($a ** 0.5) + 1):\n    if $a % d == 0:\n        return False\nreturn True"],
    lambda n: n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1)), lambda r: (r.randint(-3, 120),))
fam("gcd", "math", "gcd greatest_common_divisor common_factor", "a,b|x,y|m,n", [I, I], I,
    ["Return the greatest common divisor of the non-negative integers $a and $b (not both zero).",
     "Find gcd($a, $b) with Euclid's algorithm."],
    ["while $b:\n    $a, $b = $b, $a % $b\nreturn $a"], lambda a, b: math.gcd(a, b),
    lambda r: (r.randint(1, 200), r.randint(0, 200)))
fam("lcm", "math", "lcm least_common_multiple smallest_multiple", "a,b|x,y|m,n", [I, I], I,
    ["Return the least common multiple of the positive integers $a and $b.",
     "Find the smallest positive number that both $a and $b divide."],
    ["def gcd(p, q):\n    while q:\n        p, q = q, p % q\n    return p\nreturn $a * $b // gcd($a, $b)"],
    lambda a, b: a * b // math.gcd(a, b), lambda r: (r.randint(1, 40), r.randint(1, 40)))
fam("digit_sum", "math", "digit_sum sum_of_digits add_digits", "n|number|value", [I], I,
    ["Return the sum of the decimal digits of the non-negative integer $a.", "Add up the digits of $a."],
    ["return sum(int(d) for d in str($a))", "total = 0\nwhile $a > 0:\n    total += $a % 10\n    $a //= 10\nreturn total"],
    lambda n: sum(map(int, str(n))), lambda r: (r.randint(0, 100000),))
fam("reverse_number", "math", "reverse_number reverse_digits flip_number", "n|number|value", [I], I,
    ["Return the non-negative integer $a with its digits reversed (leading zeros disappear).",
     "Reverse the decimal digits of $a."],
    ["result = 0\nwhile $a > 0:\n    result = result * 10 + $a % 10\n    $a //= 10\nreturn result", "return int(str($a)[::-1])"],
    lambda n: int(str(n)[::-1]), lambda r: (r.randint(0, 99999),))
fam("count_divisors", "math", "count_divisors number_of_divisors divisor_count", "n|number|value", [I], I,
    ["Return how many positive integers divide the positive integer $a.", "Count the divisors of $a."],
    ["return sum(1 for d in range(1, $a + 1) if $a % d == 0)"],
    lambda n: sum(n % d == 0 for d in range(1, n + 1)), lambda r: (r.randint(1, 200),))
fam("is_perfect_square", "math", "is_perfect_square is_square square_check", "n|number|value", [I], "bool",
    ["Return True if $a is the square of an integer.", "Check whether $a is a perfect square (negative numbers are not)."],
    ["if $a < 0:\n    return False\nroot = int($a ** 0.5)\nwhile root * root > $a:\n    root -= 1\n"
     "while (root + 1) * (root + 1) <= $a:\n    root += 1\nreturn root * root == $a"],
    lambda n: n >= 0 and math.isqrt(n) ** 2 == n, lambda r: (r.choice([r.randint(-5, 200), r.randint(0, 15) ** 2]),))
fam("collatz_steps", "math", "collatz_steps collatz_length hailstone_steps", "n|start|number", [I], I,
    ["Return how many steps the Collatz process needs to reach 1 from the positive integer $a (halve even "
     "numbers, turn odd n into 3n + 1).", "Count the Collatz steps from $a down to 1."],
    ["steps = 0\nwhile $a != 1:\n    $a = $a // 2 if $a % 2 == 0 else 3 * $a + 1\n    steps += 1\nreturn steps"],
    lambda n: (lambda f: f(f, n, 0))(lambda f, m, s: s if m == 1 else f(f, m // 2 if m % 2 == 0 else 3 * m + 1, s + 1)),
    lambda r: (r.randint(1, 60),))
fam("digital_root", "math", "digital_root repeated_digit_sum single_digit", "n|number|value", [I], I,
    ["Repeatedly add the digits of the non-negative integer $a until one digit is left, and return it.",
     "Return the digital root of $a."],
    ["while $a >= 10:\n    $a = sum(int(d) for d in str($a))\nreturn $a"],
    lambda n: 0 if n == 0 else 1 + (n - 1) % 9, lambda r: (r.randint(0, 10 ** 6),))
fam("is_power_of", "math", "is_power_of power_check is_exact_power", "n|number|value", [I], "bool",
    ["Return True if $a is a power of $base ($base ** k for some k >= 0).", "Is $a equal to $base raised to a whole power?"],
    ["if $a < 1:\n    return False\nwhile $a % $base == 0:\n    $a //= $base\nreturn $a == 1"],
    lambda n, base: n >= 1 and base ** round(math.log(n, base)) == n,
    lambda r: (r.choice([r.randint(-2, 100), 2 ** r.randint(0, 10), 3 ** r.randint(0, 6)]),),
    params=lambda r: {"base": r.choice([2, 3])})
fam("celsius_to_fahrenheit", "math", "celsius_to_fahrenheit c_to_f to_fahrenheit", "celsius|c|degrees", ["float"],
    "float", ["Convert the temperature $a from Celsius to Fahrenheit and round to one decimal place.",
              "Return $a degrees Celsius in Fahrenheit (F = C * 9 / 5 + 32), rounded to 1 decimal."],
    ["return round($a * 9 / 5 + 32, 1)"], lambda c: round(c * 9 / 5 + 32, 1), lambda r: (r.randint(-40, 100),))
fam("triangle_number", "math", "triangle_number triangular sum_to_n", "n|number|k", [I], I,
    ["Return 1 + 2 + ... + $a (0 when $a is 0).", "Compute the $a-th triangular number."],
    ["total = 0\nfor i in range(1, $a + 1):\n    total += i\nreturn total", "return $a * ($a + 1) // 2"],
    lambda n: n * (n + 1) // 2, lambda r: (r.randint(0, 100),))
fam("sum_multiples", "math", "sum_multiples multiples_sum add_multiples", "limit|n|below", [I], I,
    ["Return the sum of all natural numbers below $a that are multiples of $x or $y.",
     "Add up the numbers smaller than $a that are divisible by $x or by $y."],
    ["return sum(i for i in range($a) if i % $x == 0 or i % $y == 0)"],
    lambda n, x, y: sum(i for i in range(n) if i % x == 0 or i % y == 0), lambda r: (r.randint(0, 100),),
    params=lambda r: dict(zip("xy", r.sample([2, 3, 5, 7], 2))))
fam("to_binary", "math", "to_binary binary_string as_binary", "n|number|value", [I], S,
    ["Return the binary representation of the non-negative integer $a as a string, without using bin().",
     "Write $a in base 2 (as a string of 0s and 1s)."],
    ['if $a == 0:\n    return "0"\ndigits = ""\nwhile $a > 0:\n    digits = str($a % 2) + digits\n    $a //= 2\nreturn digits'],
    lambda n: format(n, "b"), lambda r: (r.randint(0, 300),))
fam("from_binary", "math", "from_binary binary_to_int parse_binary", "bits|s|binary", [S], I,
    ["Return the integer whose binary representation is the string $a.", "Convert the base-2 string $a to an int."],
    ["value = 0\nfor bit in $a:\n    value = value * 2 + int(bit)\nreturn value"],
    lambda s: int(s, 2), lambda r: (format(r.randint(0, 500), "b"),))
fam("is_armstrong", "math", "is_armstrong is_narcissistic armstrong_check", "n|number|value", [I], "bool",
    ["Return True if $a equals the sum of its digits each raised to the number of digits (e.g. 153 = 1^3 + 5^3 + 3^3).",
     "Is the non-negative integer $a an Armstrong number?"],
    ["digits = str($a)\nreturn $a == sum(int(d) ** len(digits) for d in digits)"],
    lambda n: n == sum(int(d) ** len(str(n)) for d in str(n)),
    lambda r: (r.choice([153, 370, 371, 407, 9474, r.randint(0, 1000)]),))
fam("primes_below", "math", "primes_below list_primes sieve", "n|limit|bound", [I], L,
    ["Return the list of prime numbers smaller than $a, in increasing order.", "Find all primes below $a."],
    ["primes = []\nfor candidate in range(2, $a):\n    if all(candidate % p for p in primes if p * p <= candidate):\n"
     "        primes.append(candidate)\nreturn primes",
     "if $a < 3:\n    return []\nsieve = [True] * $a\nsieve[0] = sieve[1] = False\nfor i in range(2, int($a ** 0.5) + 1):\n"
     "    if sieve[i]:\n        for j in range(i * i, $a, i):\n            sieve[j] = False\nreturn [i for i, p in enumerate(sieve) if p]"],
    lambda n: [k for k in range(2, n) if all(k % d for d in range(2, int(k ** 0.5) + 1))], lambda r: (r.randint(0, 60),))
fam("is_leap_year", "math", "is_leap_year leap_year has_feb_29", "year|y", [I], "bool",
    ["Return True if $a is a leap year in the Gregorian calendar.",
     "A year is a leap year when it is divisible by 4, except centuries, which must be divisible by 400. Is $a one?"],
    ["return $a % 4 == 0 and ($a % 100 != 0 or $a % 400 == 0)"],
    lambda y: y % 4 == 0 and (y % 100 != 0 or y % 400 == 0), lambda r: (r.choice([1900, 2000, r.randint(1800, 2100)]),))
fam("manhattan_distance", "math", "manhattan_distance taxicab_distance grid_distance", "x1,y1,x2,y2|a,b,c,d",
    [I, I, I, I], I,
    ["Return the Manhattan distance between the points ($a, $b) and ($c, $d).",
     "How many grid steps separate ($a, $b) from ($c, $d) when moving only horizontally and vertically?"],
    ["return abs($a - $c) + abs($b - $d)"], lambda a, b, c, d: abs(a - c) + abs(b - d),
    lambda r: tuple(r.randint(-10, 10) for _ in range(4)))
fam("circle_area", "math", "circle_area area_of_circle disk_area", "radius|r", ["float"], "float",
    ["Return the area of a circle with the given $a, rounded to 2 decimal places.",
     "Compute pi * $a ** 2 rounded to two decimals."],
    ["import math\nreturn round(math.pi * $a ** 2, 2)"], lambda r_: round(math.pi * r_ ** 2, 2), lambda r: (r.randint(0, 20),))
fam("count_digits", "math", "count_digits number_length digit_count", "n|number|value", [I], I,
    ["Return how many decimal digits the integer $a has (the sign does not count).", "Count the digits of $a."],
    ["return len(str(abs($a)))"], lambda n: len(str(abs(n))), lambda r: (r.randint(-99999, 99999),))

# ---- recursion ------------------------------------------------------------------------------------------------
fam("nested_sum", "recursion", "nested_sum deep_sum sum_nested", "items|data|nested", ["list"], I,
    ["Return the sum of all integers in $a, which may contain nested lists at any depth.",
     "Add up every number inside the nested list $a, using recursion."],
    ["total = 0\nfor item in $a:\n    if isinstance(item, list):\n        total += $name(item)\n    else:\n"
     "        total += item\nreturn total"],
    lambda xs: (lambda f: f(f, xs))(lambda f, v: sum(f(f, x) if isinstance(x, list) else x for x in v)),
    lambda r: (r.nested(),))
fam("max_depth", "recursion", "max_depth nesting_depth depth", "items|data|nested", ["list"], I,
    ["Return how deeply lists are nested in $a: a flat list has depth 1, [[1]] has depth 2.",
     "Compute the nesting depth of the list $a recursively."],
    ["deepest = 0\nfor item in $a:\n    if isinstance(item, list):\n        deepest = max(deepest, $name(item))\nreturn deepest + 1"],
    lambda xs: (lambda f: f(f, xs))(lambda f, v: 1 + max([f(f, x) for x in v if isinstance(x, list)], default=0)),
    lambda r: (r.nested(),))
fam("power", "recursion", "power fast_power raise_to", "base,exp|x,n|b,e", [I, I], I,
    ["Return $a raised to the non-negative integer power $b, using recursion (no ** operator).",
     "Compute $a ** $b recursively by repeated squaring."],
    ["if $b == 0:\n    return 1\nhalf = $name($a, $b // 2)\nif $b % 2 == 0:\n    return half * half\nreturn half * half * $a"],
    lambda b, e: b ** e, lambda r: (r.randint(-5, 9), r.randint(0, 10)))
fam("string_permutations", "recursion", "string_permutations all_orderings arrangements", "s|word|letters", [S],
    "list[str]",
    ["Return all distinct rearrangements of the characters of $a, sorted alphabetically.",
     "List every permutation of $a (no duplicates) in sorted order."],
    ["if len($a) <= 1:\n    return [$a]\nresult = set()\nfor i, ch in enumerate($a):\n"
     "    for rest in $name($a[:i] + $a[i + 1:]):\n        result.add(ch + rest)\nreturn sorted(result)"],
    lambda s: sorted(set("".join(p) for p in permutations(s))) if s else [""], lambda r: (r.word()[:r.randint(1, 4)],))
fam("all_subsets", "recursion", "all_subsets power_set subsets", "items|nums|values", [L], "list[list[int]]",
    ["Return all subsets of $a as lists that keep the original order, sorted (Python list order).",
     "Build the power set of $a recursively and return it sorted."],
    ["if not $a:\n    return [[]]\nrest = $name($a[1:])\nreturn sorted(rest + [[$a[0]] + s for s in rest])"],
    lambda xs: sorted([[x for i, x in enumerate(xs) if m >> i & 1] for m in range(1 << len(xs))]),
    lambda r: (r.ints(0, 9, n=r.randint(0, 4)),))
fam("hanoi_moves", "recursion", "hanoi_moves tower_of_hanoi count_hanoi", "n|disks", [I], I,
    ["Return how many moves the Tower of Hanoi puzzle needs for $a disks, computed recursively.",
     "Count the moves to solve Tower of Hanoi with $a disks."],
    ["if $a == 0:\n    return 0\nreturn 2 * $name($a - 1) + 1"], lambda n: 2 ** n - 1, lambda r: (r.randint(0, 15),))
fam("flatten_deep", "recursion", "flatten_deep deep_flatten flatten_all", "items|nested|data", ["list"], L,
    ["Return a flat list with all the integers of the nested list $a, in order.",
     "Flatten $a completely, however deep the nesting goes."],
    ["result = []\nfor item in $a:\n    if isinstance(item, list):\n        result.extend($name(item))\n    else:\n"
     "        result.append(item)\nreturn result"],
    lambda xs: (lambda f: f(f, xs))(lambda f, v: [y for x in v for y in (f(f, x) if isinstance(x, list) else [x])]),
    lambda r: (r.nested(),))
fam("count_paths", "recursion", "count_paths grid_paths lattice_paths", "rows,cols|m,n|height,width", [I, I], I,
    ["Return how many paths lead from the top-left to the bottom-right cell of a $a x $b grid moving only right "
     "or down.", "Count the monotone lattice paths through a grid with $a rows and $b columns."],
    ["if $a == 1 or $b == 1:\n    return 1\nreturn $name($a - 1, $b) + $name($a, $b - 1)"],
    lambda m, n: math.comb(m + n - 2, m - 1), lambda r: (r.randint(1, 7), r.randint(1, 7)))
fam("binary_search_recursive", "recursion", "binary_search_recursive find_recursive bsearch", "items,target|nums,value",
    [L, I], I,
    ["Return an index of $b in the sorted list $a using recursive binary search, or -1 if it is absent.",
     "Search the sorted list $a for $b recursively; return its index or -1."],
    ["def search(lo, hi):\n    if lo > hi:\n        return -1\n    mid = (lo + hi) // 2\n    if $a[mid] == $b:\n"
     "        return mid\n    if $a[mid] < $b:\n        return search(mid + 1, hi)\n    return search(lo, mid - 1)\n"
     "return search(0, len($a) - 1)"],
    lambda xs, t: xs.index(t) if t in xs else -1, lambda r: (lambda xs: (xs, r.choice(xs + [100])))(r.sorted_unique()))

# ---- searching --------------------------------------------------------------------------------------------
fam("linear_search", "searching", "linear_search find_index position_of", "items,target|nums,value|values,x", [L, I], I,
    ["Return the index of the first occurrence of $b in $a, or -1 if it is not there.",
     "Scan $a from the left and report where $b first appears (-1 if never)."],
    ["for i, item in enumerate($a):\n    if item == $b:\n        return i\nreturn -1"],
    lambda xs, t: xs.index(t) if t in xs else -1, lambda r: (r.ints(0, 9), r.randint(0, 9)))
fam("binary_search", "searching", "binary_search bisect_find sorted_index", "items,target|nums,value|arr,x", [L, I], I,
    ["Return the index of $b in the sorted list $a of distinct numbers, or -1 when absent. Use binary search.",
     "Find $b in the sorted list $a in logarithmic time; return -1 if it is missing."],
    ["lo, hi = 0, len($a) - 1\nwhile lo <= hi:\n    mid = (lo + hi) // 2\n    if $a[mid] == $b:\n        return mid\n"
     "    if $a[mid] < $b:\n        lo = mid + 1\n    else:\n        hi = mid - 1\nreturn -1"],
    lambda xs, t: xs.index(t) if t in xs else -1, lambda r: (lambda xs: (xs, r.choice(xs + [-1, 100])))(r.sorted_unique()))
fam("first_greater", "searching", "first_greater first_above next_bigger", "nums,limit|values,threshold|items,x",
    [L, I], "int | None",
    ["Return the first number in $a that is greater than $b, or None if there is none.",
     "Find the earliest element of $a exceeding $b (None if no element does)."],
    ["for n in $a:\n    if n > $b:\n        return n\nreturn None"],
    lambda xs, t: next((x for x in xs if x > t), None), lambda r: (r.ints(), r.randint(0, 20)))
fam("missing_number", "searching", "missing_number find_missing lost_number", "nums|values|numbers", [L], I,
    ["$a holds every number from 0 to len($a) except one. Return the missing number.",
     "Exactly one of 0, 1, ..., len($a) is absent from $a; find it."],
    ["n = len($a)\nreturn n * (n + 1) // 2 - sum($a)", "present = set($a)\nfor i in range(len($a) + 1):\n    if i not in present:\n        return i"],
    lambda xs: (set(range(len(xs) + 1)) - set(xs)).pop(), lambda r: (r.missing(),))
fam("two_sum", "searching", "two_sum pair_indices find_pair", "nums,target|values,goal", [L, I], "tuple[int, int] | None",
    ["Return the indices (i, j), i < j, of the first pair in $a (ordered by j, then i) whose values add up to $b, "
     "or None.", "Find two positions in $a whose numbers sum to $b; prefer the smallest j, then the smallest i."],
    ["seen = {}\nfor j, n in enumerate($a):\n    if $b - n in seen:\n        return seen[$b - n], j\n"
     "    seen.setdefault(n, j)\nreturn None"],
    lambda xs, t: next(((i, j) for j in range(len(xs)) for i in range(j) if xs[i] + xs[j] == t), None),
    lambda r: (r.ints(0, 9), r.randint(0, 18)))
fam("count_in_range", "searching", "count_in_range between_count how_many_between", "nums,low,high|values,lo,hi",
    [L, I, I], I,
    ["Return how many numbers in $a lie between $b and $c, both included.",
     "Count the elements x of $a with $b <= x <= $c."],
    ["return sum(1 for n in $a if $b <= n <= $c)"],
    lambda xs, lo, hi: sum(lo <= x <= hi for x in xs), lambda r: (r.ints(), r.randint(0, 5), r.randint(5, 15)))

# ---- sorting ------------------------------------------------------------------------------------------------
fam("bubble_sort", "sorting", "bubble_sort sort_with_bubbles simple_sort", "nums|items|values", [L], L,
    ["Return a sorted copy of $a using bubble sort.", "Sort $a in ascending order with the bubble sort algorithm."],
    ["result = list($a)\nfor end in range(len(result) - 1, 0, -1):\n    for i in range(end):\n"
     "        if result[i] > result[i + 1]:\n            result[i], result[i + 1] = result[i + 1], result[i]\nreturn result"],
    sorted, lambda r: (r.ints(),))
fam("insertion_sort", "sorting", "insertion_sort sort_by_inserting insert_sort", "nums|items|values", [L], L,
    ["Return a sorted copy of $a using insertion sort.", "Sort $a ascending by inserting each element into place."],
    ["result = []\nfor n in $a:\n    i = len(result)\n    while i > 0 and result[i - 1] > n:\n        i -= 1\n    result.insert(i, n)\nreturn result"],
    sorted, lambda r: (r.ints(),))
fam("selection_sort", "sorting", "selection_sort sort_by_selecting select_sort", "nums|items|values", [L], L,
    ["Return a sorted copy of $a using selection sort.", "Sort $a by repeatedly moving the smallest remaining element to the front."],
    ["result = list($a)\nfor i in range(len(result)):\n    smallest = min(range(i, len(result)), key=lambda j: result[j])\n"
     "    result[i], result[smallest] = result[smallest], result[i]\nreturn result"],
    sorted, lambda r: (r.ints(),))
fam("merge_sort", "sorting", "merge_sort sort_by_merging msort", "nums|items|values", [L], L,
    ["Return a sorted copy of $a using merge sort.", "Sort $a recursively: split it in halves, sort each, merge them."],
    ["if len($a) <= 1:\n    return list($a)\nmid = len($a) // 2\nleft, right = $name($a[:mid]), $name($a[mid:])\n"
     "merged = []\nwhile left and right:\n    merged.append(left.pop(0) if left[0] <= right[0] else right.pop(0))\n"
     "return merged + left + right"],
    sorted, lambda r: (r.ints(),))
fam("sort_by_length", "sorting", "sort_by_length order_by_length shortest_first", "words|items|names", ["list[str]"],
    "list[str]",
    ["Return the strings of $a sorted from shortest to longest; strings of equal length keep their order.",
     "Order $a by length (stable)."],
    ["return sorted($a, key=len)"], lambda ws: sorted(ws, key=len), lambda r: (r.words(0, 7),))
fam("sort_by_last_letter", "sorting", "sort_by_last_letter order_by_ending last_letter_sort", "words|items", ["list[str]"],
    "list[str]",
    ["Return the non-empty strings of $a sorted by their last character; ties keep their original order.",
     "Sort $a by the final letter of each word (stable)."],
    ["return sorted($a, key=lambda w: w[-1])"], lambda ws: sorted(ws, key=lambda w: w[-1]), lambda r: (r.words(0, 7),))
fam("kth_smallest", "sorting", "kth_smallest nth_smallest order_statistic", "nums,k|values,n", [L, I], I,
    ["Return the $b-th smallest number of $a, counting from 1. Duplicates count separately.",
     "After sorting $a, which value is at position $b (1-based)?"],
    ["return sorted($a)[$b - 1]"], lambda xs, k: sorted(xs)[k - 1],
    lambda r: (lambda xs: (xs, r.randint(1, len(xs))))(r.ints(n=r.randint(1, 8))))
fam("sort_descending_unique", "sorting", "sort_descending_unique distinct_desc unique_high_to_low", "nums|values",
    [L], L, ["Return the distinct numbers of $a from largest to smallest.", "Remove duplicates from $a and sort it in descending order."],
    ["return sorted(set($a), reverse=True)"], lambda xs: sorted(set(xs), reverse=True), lambda r: (r.ints(0, 9),))
fam("sort_pairs_by_second", "sorting", "sort_pairs_by_second order_by_score rank_pairs", "pairs|records|items",
    ["list[tuple[str, int]]"], "list[tuple[str, int]]",
    ["Return the (name, score) tuples of $a sorted by score, highest first; equal scores keep their order.",
     "Sort $a by the second item of each pair, descending (stable)."],
    ["return sorted($a, key=lambda pair: pair[1], reverse=True)"],
    lambda ps: sorted(ps, key=lambda p: -p[1]), lambda r: ([(w, r.randint(0, 9)) for w in r.words(0, 5)],))

# ---- simulation -----------------------------------------------------------------------------------------------
fam("bank_balance", "simulation", "bank_balance final_balance run_account", "start,operations|balance,ops", [I, "list[tuple[str, int]]"], I,
    ["Start with $a money and apply $b, a list of ('deposit', amount) or ('withdraw', amount). A withdrawal "
     "larger than the current balance is ignored. Return the final balance.",
     "Simulate an account that begins at $a and processes the operations $b; refuse overdrafts."],
    ["for kind, amount in $b:\n    if kind == \"deposit\":\n        $a += amount\n    elif amount <= $a:\n        $a -= amount\nreturn $a"],
    lambda s, ops: (lambda f: f(f, s, ops))(lambda f, bal, o: bal if not o else f(
        f, bal + o[0][1] if o[0][0] == "deposit" else (bal - o[0][1] if o[0][1] <= bal else bal), o[1:])),
    lambda r: (r.randint(0, 50), [(r.choice(["deposit", "withdraw"]), r.randint(1, 40)) for _ in range(r.randint(0, 6))]))
fam("robot_position", "simulation", "robot_position final_position walk_robot", "moves|path|commands", [S],
    "tuple[int, int]",
    ["A robot starts at (0, 0). Each letter of $a moves it one step: U up (y + 1), D down, L left (x - 1), R right. "
     "Return its final (x, y).", "Follow the moves in $a (letters U, D, L, R) from the origin and return where you end."],
    ["x = y = 0\nfor move in $a:\n    if move == \"U\":\n        y += 1\n    elif move == \"D\":\n        y -= 1\n"
     "    elif move == \"L\":\n        x -= 1\n    elif move == \"R\":\n        x += 1\nreturn x, y"],
    lambda m: (m.count("R") - m.count("L"), m.count("U") - m.count("D")),
    lambda r: ("".join(r.choice("UDLR") for _ in range(r.randint(0, 12))),))
fam("traffic_light", "simulation", "traffic_light next_light light_after", "color,steps|light,n|state,ticks", [S, I], S,
    ["A traffic light cycles green -> yellow -> red -> green. Return its color after $b changes, starting from $a.",
     "Advance the traffic light $a by $b steps in the cycle green, yellow, red."],
    ['order = ["green", "yellow", "red"]\nreturn order[(order.index($a) + $b) % 3]'],
    lambda c, n: ["green", "yellow", "red"][(["green", "yellow", "red"].index(c) + n) % 3],
    lambda r: (r.choice(["green", "yellow", "red"]), r.randint(0, 10)))
fam("make_change", "simulation", "make_change coins_for change_coins", "amount|cents|total", [I], L,
    ["Return the coins (from $coins) that make up $a cents using the greedy method, largest coins first.",
     "Give change for $a cents with coins worth $coins, always taking the biggest coin that fits."],
    ["coins = []\nfor coin in $coins:\n    while $a >= coin:\n        coins.append(coin)\n        $a -= coin\nreturn coins"],
    lambda a, coins: (lambda f: f(f, a, coins))(lambda f, x, cs: [] if not cs else [cs[0]] * (x // cs[0]) + f(f, x % cs[0], cs[1:])),
    lambda r: (r.randint(0, 99),), params=lambda r: {"coins": r.choice([[25, 10, 5, 1], [50, 20, 10, 5, 2, 1]])})
fam("elevator_distance", "simulation", "elevator_distance floors_travelled lift_distance", "floors|stops|requests", [L], I,
    ["An elevator starts at floor 0 and visits the floors in $a in order. Return the total number of floors it travels.",
     "Sum the distances an elevator covers going from floor 0 through each floor of $a."],
    ["total = 0\ncurrent = 0\nfor floor in $a:\n    total += abs(floor - current)\n    current = floor\nreturn total"],
    lambda fs: sum(abs(b - a) for a, b in zip([0] + fs, fs)), lambda r: (r.ints(0, 12),))
fam("update_inventory", "simulation", "update_inventory apply_changes restock", "stock,changes|inventory,updates",
    [D, "list[tuple[str, int]]"], D,
    ["Apply each (item, change) in $b to the counts in $a (missing items start at 0) and return a new dictionary "
     "without the items whose count dropped to 0 or below.",
     "Update the inventory $a with the signed changes $b; leave out items that run out."],
    ["result = dict($a)\nfor item, change in $b:\n    result[item] = result.get(item, 0) + change\n"
     "return {item: count for item, count in result.items() if count > 0}"],
    lambda st, ch: (lambda res: {k: v for k, v in res.items() if v > 0})(
        __import__("functools").reduce(lambda d, c: {**d, c[0]: d.get(c[0], 0) + c[1]}, ch, dict(st))),
    lambda r: (r.tally(), [(r.word(), r.randint(-5, 5)) for _ in range(r.randint(0, 4))]))
fam("longest_hot_streak", "simulation", "longest_hot_streak warm_spell longest_streak_above", "temps,limit|readings,threshold",
    [L, I], I,
    ["Return the length of the longest run of consecutive values in $a that are above $b.",
     "How many days in a row, at most, were warmer than $b in the readings $a?"],
    ["best = current = 0\nfor t in $a:\n    current = current + 1 if t > $b else 0\n    best = max(best, current)\nreturn best"],
    lambda ts, lim: max([len(g) for g in "".join("1" if t > lim else "0" for t in ts).split("0")], default=0),
    lambda r: (r.ints(0, 30), r.randint(5, 20)))
fam("league_points", "simulation", "league_points total_points score_season", "results|games|record", [S], I,
    ["$a is a string of match results: W for a win (3 points), D for a draw (1 point), L for a loss (0). "
     "Return the total points.", "Score the season $a (W=3, D=1, L=0)."],
    ['points = {"W": 3, "D": 1, "L": 0}\nreturn sum(points[r] for r in $a)'],
    lambda s: 3 * s.count("W") + s.count("D"), lambda r: ("".join(r.choice("WDL") for _ in range(r.randint(0, 10))),))
fam("add_minutes", "simulation", "add_minutes clock_after time_plus", "hour,minute,delta|h,m,minutes", [I, I, I], S,
    ["A 24-hour clock shows $a:$b. Return the time $c minutes later as 'HH:MM'.",
     "Add $c minutes to the time $a:$b on a 24-hour clock and format it with two digits each."],
    ['total = ($a * 60 + $b + $c) % (24 * 60)\nreturn f"{total // 60:02d}:{total % 60:02d}"'],
    lambda h, m, d: "%02d:%02d" % divmod((h * 60 + m + d) % 1440, 60), lambda r: (r.randint(0, 23), r.randint(0, 59), r.randint(0, 3000)))
fam("queue_wait", "simulation", "queue_wait total_waiting wait_times", "durations|service_times|jobs", [L], I,
    ["Customers are served one after another; $a lists how long each takes. Return the total time all customers "
     "spend waiting before their own service starts.",
     "Sum the waiting times in a single queue whose service durations are $a."],
    ["waited = 0\nclock = 0\nfor d in $a:\n    waited += clock\n    clock += d\nreturn waited"],
    lambda ds: sum(sum(ds[:i]) for i in range(len(ds))), lambda r: (r.ints(1, 9),))
fam("count_survivors", "simulation", "count_survivors plants_alive garden_survivors", "heights,days|plants,n", [L, I], I,
    ["Each day every plant in $a grows by 1 and the tallest plant is cut down to 0 (the first one on ties). "
     "Return how many plants are taller than 3 after $b days.",
     "Simulate $b days of growing and cutting the plants $a; count those above 3 at the end."],
    ["plants = list($a)\nfor _ in range($b):\n    plants = [p + 1 for p in plants]\n    if plants:\n"
     "        tallest = plants.index(max(plants))\n        plants[tallest] = 0\nreturn sum(1 for p in plants if p > 3)"],
    lambda ps, n: (lambda f: f(f, list(ps), n))(lambda f, p, k: sum(x > 3 for x in p) if k == 0 else f(
        f, (lambda q: q[:q.index(max(q))] + [0] + q[q.index(max(q)) + 1:] if q else q)([x + 1 for x in p]), k - 1)),
    lambda r: (r.ints(0, 6), r.randint(0, 6)))

# ---- a few more everyday tasks ----------------------------------------------------------------------------
fam("grade_letter", "conditionals", "grade_letter letter_grade score_to_grade", "score|points|mark", [I], S,
    ["Return 'A' for a $a of 90 or more, 'B' for 80-89, 'C' for 70-79, 'D' for 60-69 and 'F' below 60.",
     "Turn the numeric $a into a letter grade (A >= 90, B >= 80, C >= 70, D >= 60, otherwise F)."],
    ['if $a >= 90:\n    return "A"\nif $a >= 80:\n    return "B"\nif $a >= 70:\n    return "C"\nif $a >= 60:\n    return "D"\nreturn "F"'],
    lambda s: "A" if s >= 90 else "B" if s >= 80 else "C" if s >= 70 else "D" if s >= 60 else "F", lambda r: (r.randint(0, 100),))
fam("fizzbuzz_word", "conditionals", "fizzbuzz_word fizz_buzz game_word", "n|number|i", [I], S,
    ["Return '$w1$w2' if $a is divisible by both $x and $y, '$w1' if only by $x, '$w2' if only by $y, otherwise str($a).",
     "Play one turn of the $w1-$w2 game for $a (multiples of $x say $w1, of $y say $w2)."],
    ['if $a % $x == 0 and $a % $y == 0:\n    return "$w1$w2"\nif $a % $x == 0:\n    return "$w1"\nif $a % $y == 0:\n    return "$w2"\nreturn str($a)'],
    lambda n, x, y, w1, w2: w1 + w2 if n % x == 0 and n % y == 0 else w1 if n % x == 0 else w2 if n % y == 0 else str(n),
    lambda r: (r.randint(1, 60),), params=lambda r: {**dict(zip("xy", r.sample([2, 3, 5, 7], 2))),
                                                    **r.choice([{"w1": "Fizz", "w2": "Buzz"}, {"w1": "Ping", "w2": "Pong"}])})
fam("bmi_category", "conditionals", "bmi_category weight_class classify_bmi", "bmi|index|value", ["float"], S,
    ["Return 'underweight' for a $a below 18.5, 'normal' below 25, 'overweight' below 30 and 'obese' otherwise.",
     "Classify the body-mass index $a into underweight, normal, overweight or obese."],
    ['if $a < 18.5:\n    return "underweight"\nif $a < 25:\n    return "normal"\nif $a < 30:\n    return "overweight"\nreturn "obese"'],
    lambda b: "underweight" if b < 18.5 else "normal" if b < 25 else "overweight" if b < 30 else "obese",
    lambda r: (round(r.uniform(14, 40), 1),))
fam("triangle_kind", "conditionals", "triangle_kind classify_triangle triangle_type", "a,b,c|x,y,z|side1,side2,side3",
    [I, I, I], S,
    ["Return 'invalid' if sides $a, $b, $c cannot form a triangle, else 'equilateral', 'isosceles' or 'scalene'.",
     "Classify the triangle with side lengths $a, $b and $c."],
    ['x, y, z = sorted([$a, $b, $c])\nif x <= 0 or x + y <= z:\n    return "invalid"\nif x == z:\n    return "equilateral"\n'
     'if x == y or y == z:\n    return "isosceles"\nreturn "scalene"'],
    lambda a, b, c: (lambda s: "invalid" if s[0] <= 0 or s[0] + s[1] <= s[2] else "equilateral" if s[0] == s[2]
                     else "isosceles" if s[0] == s[1] or s[1] == s[2] else "scalene")(sorted([a, b, c])),
    lambda r: tuple(r.randint(1, 6) for _ in range(3)))
fam("max_of_three", "conditionals", "max_of_three largest_of_three biggest", "a,b,c|x,y,z", [I, I, I], I,
    ["Return the largest of $a, $b and $c without using max().", "Which of the three numbers $a, $b, $c is biggest? Do not call max."],
    ["largest = $a\nif $b > largest:\n    largest = $b\nif $c > largest:\n    largest = $c\nreturn largest"],
    lambda a, b, c: max(a, b, c), lambda r: tuple(r.randint(-20, 20) for _ in range(3)))
fam("count_matches", "loops", "count_matches same_position_count hamming_similarity", "a,b|first,second|s,t", [S, S], I,
    ["Return how many positions hold the same character in $a and $b, comparing up to the shorter length.",
     "Count the indices i where $a[i] == $b[i]."],
    ["return sum(1 for x, y in zip($a, $b) if x == y)"], lambda a, b: sum(x == y for x, y in zip(a, b)),
    lambda r: (r.word(), r.word()))
fam("multiplication_row", "loops", "multiplication_row times_table table_row", "n,upto|number,count", [I, I], L,
    ["Return [$a * 1, $a * 2, ..., $a * $b].", "Build the first $b entries of the $a times table."],
    ["return [$a * i for i in range(1, $b + 1)]"], lambda n, k: [n * i for i in range(1, k + 1)],
    lambda r: (r.randint(1, 12), r.randint(0, 10)))
fam("staircase", "loops", "staircase stair_lines draw_stairs", "n|height|steps", [I], "list[str]",
    ["Return a list of $a strings drawing a staircase: line i (from 1) has $a - i spaces then i '$ch' characters.",
     "Draw a right-aligned staircase of height $a with the character '$ch', one string per line."],
    ['return [" " * ($a - i) + "$ch" * i for i in range(1, $a + 1)]'],
    lambda n, ch: [" " * (n - i) + ch * i for i in range(1, n + 1)], lambda r: (r.randint(0, 6),),
    params=lambda r: {"ch": r.choice("#*+@")})
fam("digits_product", "loops", "digits_product multiply_digits product_of_digits", "n|number|value", [I], I,
    ["Return the product of the decimal digits of the non-negative integer $a.", "Multiply together the digits of $a."],
    ["product = 1\nfor d in str($a):\n    product *= int(d)\nreturn product"], lambda n: math.prod(map(int, str(n))),
    lambda r: (r.randint(0, 99999),))
fam("count_steps_to_zero", "loops", "count_steps_to_zero steps_to_zero reduce_to_zero", "n|number|value", [I], I,
    ["Return how many steps it takes to reduce the non-negative integer $a to zero: halve it when even, subtract 1 when odd.",
     "Count the halve-or-subtract-one steps that bring $a down to 0."],
    ["steps = 0\nwhile $a > 0:\n    $a = $a // 2 if $a % 2 == 0 else $a - 1\n    steps += 1\nreturn steps"],
    lambda n: (lambda f: f(f, n))(lambda f, m: 0 if m == 0 else 1 + f(f, m // 2 if m % 2 == 0 else m - 1)),
    lambda r: (r.randint(0, 1000),))
fam("matrix_transpose", "lists", "matrix_transpose transpose flip_matrix", "matrix|grid|rows", ["list[list[int]]"],
    "list[list[int]]", ["Return the transpose of the rectangular matrix $a (rows become columns).",
                        "Swap the rows and columns of the grid $a."],
    ["return [list(row) for row in zip(*$a)]",
     "return [[$a[i][j] for i in range(len($a))] for j in range(len($a[0]))] if $a else []"],
    lambda m: [list(r_) for r_ in zip(*m)], lambda r: (r.matrix(),))
fam("matrix_row_sums", "lists", "matrix_row_sums row_totals sum_rows", "matrix|grid|table", ["list[list[int]]"], L,
    ["Return a list with the sum of each row of $a.", "Total every row of the grid $a."],
    ["return [sum(row) for row in $a]"], lambda m: [sum(r_) for r_ in m], lambda r: (r.matrix(),))
fam("diagonal_sum", "lists", "diagonal_sum trace main_diagonal_total", "matrix|grid|square", ["list[list[int]]"], I,
    ["Return the sum of the main diagonal of the square matrix $a.", "Add up $a[i][i] for every i."],
    ["return sum($a[i][i] for i in range(len($a)))"], lambda m: sum(m[i][i] for i in range(len(m))),
    lambda r: (r.matrix(square=True),))
fam("count_islands_1d", "lists", "count_islands_1d count_groups count_runs_of_ones", "cells|bits|row", [L], I,
    ["$a is a list of 0s and 1s. Return how many separate groups of consecutive 1s it contains.",
     "Count the runs of 1s in the 0/1 list $a."],
    ["groups = 0\nprevious = 0\nfor cell in $a:\n    if cell == 1 and previous == 0:\n        groups += 1\n    previous = cell\nreturn groups"],
    lambda xs: sum(1 for i, x in enumerate(xs) if x == 1 and (i == 0 or xs[i - 1] == 0)), lambda r: (r.ints(0, 1, n=r.randint(0, 12)),))
fam("word_score", "strings", "word_score letter_value_sum scrabble_like", "word|w|s", [S], I,
    ["Return the score of the lower-case $a, where a = 1, b = 2, ..., z = 26.", "Add up the alphabet positions of the letters of $a."],
    ['return sum(ord(ch) - ord("a") + 1 for ch in $a)'], lambda w: sum(ord(c) - 96 for c in w), lambda r: (r.word(),))
fam("is_subsequence", "strings", "is_subsequence appears_in_order hidden_in", "small,big|needle,haystack|part,whole",
    [S, S], "bool",
    ["Return True if the characters of $a appear in $b in the same order (not necessarily next to each other).",
     "Decide whether $a is a subsequence of $b."],
    ["it = iter($b)\nreturn all(ch in it for ch in $a)",
     "i = 0\nfor ch in $b:\n    if i < len($a) and $a[i] == ch:\n        i += 1\nreturn i == len($a)"],
    lambda a, b: (lambda it: all(c in it for c in a))(iter(b)), lambda r: (r.word()[:3], r.word() + r.word()))
