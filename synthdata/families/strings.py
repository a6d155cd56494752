"""Task families on strings: counting, changing and comparing characters and words."""
import os
from collections import Counter
from itertools import groupby

from synthdata.families.family import Family

FAMILIES = [
    Family(
        name="count_vowels", topic="strings",
        function_names=["count_vowels", "vowel_count", "num_vowels"],
        arg_names=["s", "text", "word"], arg_types=["str"], returns="int",
        docs=["Return how many vowels (a, e, i, o, u) are in $a, ignoring case.",
              "Count the vowels in the string $a. Upper-case vowels count too."],
        bodies=['count = 0\nfor ch in $a.lower():\n    if ch in "aeiou":\n        count += 1\nreturn count',
                'return sum(1 for ch in $a.lower() if ch in "aeiou")'],
        reference=lambda s: sum(c in "aeiou" for c in s.lower()),
        inputs=lambda r: (r.text(),)),
    Family(
        name="reverse_string", topic="strings",
        function_names=["reverse_string", "reversed_text", "flip_string"],
        arg_names=["s", "text"], arg_types=["str"], returns="str",
        docs=["Return $a with its characters in reverse order.", "Give back the string $a written backwards."],
        bodies=["return $a[::-1]", 'result = ""\nfor ch in $a:\n    result = ch + result\nreturn result'],
        reference=lambda s: s[::-1],
        inputs=lambda r: (r.text(),)),
    Family(
        name="is_palindrome", topic="strings",
        function_names=["is_palindrome", "palindrome_check", "reads_same_backwards"],
        arg_names=["s", "text", "phrase"], arg_types=["str"], returns="bool",
        docs=["Return True if $a reads the same forwards and backwards, looking only at letters and digits and "
              "ignoring case.",
              "Check whether $a is a palindrome. Spaces, punctuation and case do not matter."],
        bodies=["cleaned = [ch.lower() for ch in $a if ch.isalnum()]\nreturn cleaned == cleaned[::-1]",
                'cleaned = "".join(ch.lower() for ch in $a if ch.isalnum())\nleft, right = 0, len(cleaned) - 1\n'
                "while left < right:\n    if cleaned[left] != cleaned[right]:\n        return False\n    left += "
                "1\n"
                "    right -= 1\nreturn True"],
        reference=lambda s: [c.lower() for c in s if c.isalnum()] == [c.lower() for c in s if c.isalnum()][::-1],
        inputs=lambda r: (r.palindrome() if r.random() < 0.5 else r.text(),)),
    Family(
        name="capitalize_words", topic="strings",
        function_names=["capitalize_words", "title_words", "upper_first_letters"],
        arg_names=["s", "sentence", "text"], arg_types=["str"], returns="str",
        docs=["Return $a with the first letter of every word in upper case. Words are separated by single spaces.",
              "Make each space-separated word in $a start with a capital letter; leave the other letters as they "
              "are."],
        bodies=['return " ".join(w[:1].upper() + w[1:] for w in $a.split(" "))',
                'words = $a.split(" ")\nfor i in range(len(words)):\n'
                '    words[i] = words[i][:1].upper() + words[i][1:]\nreturn " ".join(words)'],
        reference=lambda s: " ".join(w[:1].upper() + w[1:] for w in s.split(" ")),
        inputs=lambda r: (r.text(),)),
    Family(
        name="count_words", topic="strings",
        function_names=["count_words", "word_count", "number_of_words"],
        arg_names=["s", "sentence", "text"], arg_types=["str"], returns="int",
        docs=["Return the number of words in $a. Words are separated by whitespace.",
              "How many words does $a contain? Any run of whitespace separates two words."],
        bodies=["return len($a.split())",
                "count = 0\nin_word = False\nfor ch in $a:\n    if ch.isspace():\n        in_word = False\n"
                "    elif not in_word:\n        in_word = True\n        count += 1\nreturn count"],
        reference=lambda s: len(s.split()),
        inputs=lambda r: (r.spaced_text(),)),
    Family(
        name="longest_word", topic="strings",
        function_names=["longest_word", "find_longest_word", "biggest_word"],
        arg_names=["s", "sentence"], arg_types=["str"], returns="str",
        docs=["Return the longest word in $a (words are separated by spaces). If several words are equally long, "
              "return the first one. Return an empty string when there are no words.",
              "Find the first word of maximal length in $a; return '' for a string without words."],
        bodies=['best = ""\nfor word in $a.split():\n    if len(word) > len(best):\n        best = word\nreturn '
                "best",
                'words = $a.split()\nreturn max(words, key=len) if words else ""'],
        reference=lambda s: max(s.split(), key=len) if s.split() else "",
        inputs=lambda r: (r.text(),)),
    Family(
        name="remove_char", topic="strings",
        function_names=["remove_char", "strip_char", "delete_letter"],
        arg_names=["s, ch", "text, letter", "word, c"], arg_types=["str", "str"], returns="str",
        docs=["Return $a with every occurrence of the character $b removed.",
              "Delete all copies of $b from $a and return what is left."],
        bodies=['return $a.replace($b, "")', 'return "".join(x for x in $a if x != $b)'],
        reference=lambda s, c: s.replace(c, ""),
        inputs=lambda r: (lambda t: (t, r.choice(t or "a")))(r.text())),
    Family(
        name="char_frequency", topic="strings",
        function_names=["char_frequency", "letter_counts", "count_chars"],
        arg_names=["s", "text", "word"], arg_types=["str"], returns="dict",
        docs=["Return a dictionary mapping each character of $a to the number of times it appears.",
              "Count how often every character occurs in $a; the result maps character -> count."],
        bodies=["counts = {}\nfor ch in $a:\n    counts[ch] = counts.get(ch, 0) + 1\nreturn counts",
                "counts = {}\nfor ch in $a:\n    if ch in counts:\n        counts[ch] += 1\n    else:\n"
                "        counts[ch] = 1\nreturn counts"],
        reference=lambda s: dict(Counter(s)),
        inputs=lambda r: (r.word(),)),
    Family(
        name="first_unique_char", topic="strings",
        function_names=["first_unique_char", "first_non_repeating", "unique_index"],
        arg_names=["s", "word", "text"], arg_types=["str"], returns="int",
        docs=["Return the index of the first character in $a that appears exactly once, or -1 if there is none.",
              "Find the position of the first non-repeating character of $a. Return -1 when every character "
              "repeats."],
        bodies=["for i, ch in enumerate($a):\n    if $a.count(ch) == 1:\n        return i\nreturn -1",
                "counts = {}\nfor ch in $a:\n    counts[ch] = counts.get(ch, 0) + 1\nfor i, ch in enumerate($a):\n"
                "    if counts[ch] == 1:\n        return i\nreturn -1"],
        reference=lambda s: next((i for i, c in enumerate(s) if s.count(c) == 1), -1),
        inputs=lambda r: (r.word() + r.word() if r.random() < 0.5 else r.choice(["aabb", "abab", "", "z"]),)),
    Family(
        name="is_anagram", topic="strings",
        function_names=["is_anagram", "are_anagrams", "same_letters"],
        arg_names=["a, b", "first, second", "word1, word2"], arg_types=["str", "str"], returns="bool",
        docs=["Return True if $a and $b contain exactly the same letters, ignoring case and spaces.",
              "Two strings are anagrams when one is a rearrangement of the other. Decide whether $a and $b are "
              "anagrams (case and spaces do not matter)."],
        bodies=['return sorted($a.replace(" ", "").lower()) == sorted($b.replace(" ", "").lower())',
                'def letters(s):\n    counts = {}\n    for ch in s.lower():\n        if ch != " ":\n'
                "            counts[ch] = counts.get(ch, 0) + 1\n    return counts\n"
                "return letters($a) == letters($b)"],
        reference=lambda a, b: sorted(a.replace(" ", "").lower()) == sorted(b.replace(" ", "").lower()),
        inputs=lambda r: (lambda w: (w, r.shuffled(w) if r.random() < 0.6 else r.word()))(r.word())),
    Family(
        name="compress_runs", topic="strings",
        function_names=["compress_runs", "run_length_encode", "squeeze_repeats"],
        arg_names=["s", "text"], arg_types=["str"], returns="str",
        docs=["Compress $a by replacing each run of the same character with the character followed by the run "
              "length, for example 'aaabcc' becomes 'a3b1c2'.",
              "Run-length encode $a: every maximal block of one repeated character becomes that character and its "
              "count."],
        bodies=['if not $a:\n    return ""\nresult = []\ncurrent, count = $a[0], 1\nfor ch in $a[1:]:\n'
                "    if ch == current:\n        count += 1\n    else:\n        result.append(current + "
                "str(count))\n"
                '        current, count = ch, 1\nresult.append(current + str(count))\nreturn "".join(result)'],
        reference=lambda s: "".join(f"{c}{len(list(g))}" for c, g in groupby(s)),
        inputs=lambda r: (r.runs(),)),
    Family(
        name="count_char_class", topic="strings",
        function_names=["count_kind", "count_matching", "tally_chars"],
        arg_names=["s", "text"], arg_types=["str"], returns="int",
        docs=["Return how many characters of $a are $desc.", "Count the $desc in $a."],
        bodies=["return sum(1 for ch in $a if ch.$method())",
                "total = 0\nfor ch in $a:\n    if ch.$method():\n        total += 1\nreturn total"],
        reference=lambda s, method, desc: sum(getattr(c, method)() for c in s),
        inputs=lambda r: (r.mixed(),),
        params=lambda r: r.choice([{"method": "isdigit", "desc": "digits"},
                                   {"method": "isupper", "desc": "upper-case letters"},
                                   {"method": "isspace", "desc": "whitespace characters"},
                                   {"method": "isalpha", "desc": "letters"}])),
    Family(
        name="swap_case", topic="strings",
        function_names=["swap_case", "invert_case", "flip_case"],
        arg_names=["s", "text"], arg_types=["str"], returns="str",
        docs=["Return $a with upper-case letters made lower-case and lower-case letters made upper-case.",
              "Swap the case of every letter in $a without using str.swapcase."],
        bodies=['result = ""\nfor ch in $a:\n    if ch.isupper():\n        result += ch.lower()\n'
                "    elif ch.islower():\n        result += ch.upper()\n    else:\n        result += ch\n"
                "return result"],
        reference=lambda s: "".join(c.lower() if c.isupper() else c.upper() if c.islower() else c for c in s),
        inputs=lambda r: (r.mixed(),)),
    Family(
        name="acronym", topic="strings",
        function_names=["acronym", "make_acronym", "initials"],
        arg_names=["phrase", "s", "words"], arg_types=["str"], returns="str",
        docs=["Return the acronym of $a: the first letter of each word, in upper case.",
              "Build an abbreviation from the first letters of the words in $a, upper-cased."],
        bodies=['return "".join(word[0].upper() for word in $a.split())',
                "letters = []\nfor word in $a.split():\n    letters.append(word[0])\n"
                'return "".join(letters).upper()'],
        reference=lambda s: "".join(w[0].upper() for w in s.split()),
        inputs=lambda r: (r.text(),)),
    Family(
        name="replace_spaces", topic="strings",
        function_names=["replace_spaces", "join_with", "slugify"],
        arg_names=["s", "text", "title"], arg_types=["str"], returns="str",
        docs=["Return $a with every space replaced by '$sep'.", "Turn the spaces in $a into '$sep' characters."],
        bodies=['return $a.replace(" ", "$sep")', 'return "$sep".join($a.split(" "))'],
        reference=lambda s, sep: s.replace(" ", sep),
        inputs=lambda r: (r.text(),),
        params=lambda r: {"sep": r.choice(["_", "-", "+", "."])}),
    Family(
        name="remove_vowels", topic="strings",
        function_names=["remove_vowels", "drop_vowels", "consonants_only"],
        arg_names=["s", "text", "word"], arg_types=["str"], returns="str",
        docs=["Return $a without its vowels (a, e, i, o, u in either case).", "Strip every vowel out of $a."],
        bodies=['return "".join(ch for ch in $a if ch.lower() not in "aeiou")',
                'result = ""\nfor ch in $a:\n    if ch.lower() not in "aeiou":\n        result += ch\nreturn result'],
        reference=lambda s: "".join(c for c in s if c.lower() not in "aeiou"),
        inputs=lambda r: (r.mixed(),)),
    Family(
        name="censor_word", topic="strings",
        function_names=["censor_word", "hide_word", "mask_word"],
        arg_names=["text, word", "s, bad", "sentence, target"], arg_types=["str", "str"], returns="str",
        docs=["Return $a with every occurrence of $b replaced by as many '*' characters as $b has letters.",
              "Hide the word $b inside $a by overwriting it with stars of the same length."],
        bodies=['return $a.replace($b, "*" * len($b))'],
        reference=lambda t, w: t.replace(w, "*" * len(w)),
        inputs=lambda r: (lambda ws: (" ".join(ws), r.choice(ws)))(r.words(2, 6))),
    Family(
        name="count_substring", topic="strings",
        function_names=["count_substring", "occurrences", "count_pattern"],
        arg_names=["s, sub", "text, pattern", "haystack, needle"], arg_types=["str", "str"], returns="int",
        docs=["Return how many times $b occurs in $a, counting overlapping occurrences. $b is not empty.",
              "Count the positions in $a where $b starts (matches may overlap)."],
        bodies=["count = 0\nfor i in range(len($a) - len($b) + 1):\n    if $a[i:i + len($b)] == $b:\n"
                "        count += 1\nreturn count",
                "return sum(1 for i in range(len($a)) if $a.startswith($b, i))"],
        reference=lambda s, p: sum(s.startswith(p, i) for i in range(len(s))),
        inputs=lambda r: (r.runs("ab", 12), r.choice(["a", "ab", "aa", "ba", "b"]))),
    Family(
        name="pig_latin", topic="strings",
        function_names=["pig_latin", "to_pig_latin", "piglatin_word"],
        arg_names=["word", "w"], arg_types=["str"], returns="str",
        docs=["Translate the lower-case $a to Pig Latin: if it starts with a vowel add 'way'; otherwise move the "
              "letters before the first vowel to the end and add 'ay'. Words without vowels just get 'ay'.",
              "Return the Pig Latin form of $a (vowel first: add 'way'; else move the leading consonants to the end, "
              "then add 'ay')."],
        bodies=['if $a[0] in "aeiou":\n    return $a + "way"\nfor i, ch in enumerate($a):\n    if ch in "aeiou":\n'
                '        return $a[i:] + $a[:i] + "ay"\nreturn $a + "ay"'],
        reference=lambda w: w + "way" if w[0] in "aeiou" else next(
            (w[i:] + w[:i] + "ay" for i, c in enumerate(w) if c in "aeiou"), w + "ay"),
        inputs=lambda r: (r.word(),)),
    Family(
        name="caesar_shift", topic="strings",
        function_names=["caesar_shift", "shift_letters", "encode_caesar"],
        arg_names=["s", "text", "message"], arg_types=["str"], returns="str",
        docs=["Shift every lower-case letter of $a $k places forward in the alphabet, wrapping from z to a. Other "
              "characters stay as they are.",
              "Apply a Caesar cipher with shift $k to the lower-case letters of $a."],
        bodies=['result = []\nfor ch in $a:\n    if "a" <= ch <= "z":\n'
                '        result.append(chr((ord(ch) - ord("a") + $k) % 26 + ord("a")))\n    else:\n'
                '        result.append(ch)\nreturn "".join(result)'],
        reference=lambda s, k: "".join(chr((ord(c) - 97 + k) % 26 + 97) if "a" <= c <= "z" else c for c in s),
        inputs=lambda r: (r.text(),),
        params=lambda r: {"k": r.randint(1, 25)}),
    Family(
        name="is_pangram", topic="strings",
        function_names=["is_pangram", "uses_every_letter", "has_all_letters"],
        arg_names=["s", "sentence", "text"], arg_types=["str"], returns="bool",
        docs=["Return True if $a contains every letter of the English alphabet at least once (case does not matter).",
              "Decide whether $a is a pangram."],
        bodies=['return set("abcdefghijklmnopqrstuvwxyz") <= set($a.lower())',
                'for letter in "abcdefghijklmnopqrstuvwxyz":\n    if letter not in $a.lower():\n'
                "        return False\nreturn True"],
        reference=lambda s: set("abcdefghijklmnopqrstuvwxyz") <= set(s.lower()),
        inputs=lambda r: (r.choice(["The quick brown fox jumps over the lazy dog",
                                    "Pack my box with five dozen liquor jugs"]) if r.random() < 0.4 else r.text(),)),
    Family(
        name="repeat_chars", topic="strings",
        function_names=["repeat_chars", "stretch_word", "echo_letters"],
        arg_names=["s", "word"], arg_types=["str"], returns="str",
        docs=["Return a string in which every character of $a is repeated $k times.",
              "Stretch $a by writing each of its characters $k times in a row."],
        bodies=['return "".join(ch * $k for ch in $a)', 'out = ""\nfor ch in $a:\n    out += ch * $k\nreturn out'],
        reference=lambda s, k: "".join(c * k for c in s),
        inputs=lambda r: (r.word(),),
        params=lambda r: {"k": r.randint(2, 4)}),
    Family(
        name="alternate_case", topic="strings",
        function_names=["alternate_case", "zigzag_case", "wave_case"],
        arg_names=["s", "text"], arg_types=["str"], returns="str",
        docs=["Return $a with characters at even positions in upper case and at odd positions in lower case.",
              "Make the letters of $a alternate: upper, lower, upper, ... counting positions from 0."],
        bodies=['return "".join(ch.upper() if i % 2 == 0 else ch.lower() for i, ch in enumerate($a))'],
        reference=lambda s: "".join(c.upper() if i % 2 == 0 else c.lower() for i, c in enumerate(s)),
        inputs=lambda r: (r.word(),)),
    Family(
        name="common_prefix", topic="strings",
        function_names=["common_prefix", "longest_common_prefix", "shared_start"],
        arg_names=["words", "strings", "items"], arg_types=["list[str]"], returns="str",
        docs=["Return the longest string that every word in $a starts with. Return '' for an empty list.",
              "Find the longest common prefix of the strings in $a."],
        bodies=['if not $a:\n    return ""\nprefix = $a[0]\nfor word in $a[1:]:\n'
                "    while not word.startswith(prefix):\n        prefix = prefix[:-1]\nreturn prefix"],
        reference=lambda ws: os.path.commonprefix(ws) if ws else "",
        inputs=lambda r: ((lambda p: [p + r.word()[:r.randint(0, 3)] for _ in range(r.randint(0, 4))])(
            r.word()[:r.randint(0, 4)]),)),
    Family(
        name="word_lengths", topic="strings",
        function_names=["word_lengths", "lengths_of_words", "measure_words"],
        arg_names=["s", "sentence"], arg_types=["str"], returns="list[int]",
        docs=["Return a list with the length of each word in $a, in order.",
              "Split $a into words and return how long each one is."],
        bodies=["return [len(word) for word in $a.split()]",
                "lengths = []\nfor word in $a.split():\n    lengths.append(len(word))\nreturn lengths"],
        reference=lambda s: [len(w) for w in s.split()],
        inputs=lambda r: (r.text(),)),
    Family(
        name="sort_letters", topic="strings",
        function_names=["sort_letters", "alphabetize_word", "letters_in_order"],
        arg_names=["word", "s"], arg_types=["str"], returns="str",
        docs=["Return the characters of $a sorted in alphabetical order.",
              "Rearrange $a so its letters are in sorted order."],
        bodies=['return "".join(sorted($a))'],
        reference=lambda s: "".join(sorted(s)),
        inputs=lambda r: (r.word(),)),
    Family(
        name="dedupe_chars", topic="strings",
        function_names=["dedupe_chars", "unique_letters", "remove_repeats"],
        arg_names=["s", "word", "text"], arg_types=["str"], returns="str",
        docs=["Return $a with repeated characters removed, keeping the first occurrence of each, in order.",
              "Keep only the first copy of every character of $a."],
        bodies=['seen = set()\nresult = ""\nfor ch in $a:\n    if ch not in seen:\n        seen.add(ch)\n'
                "        result += ch\nreturn result",
                'return "".join(dict.fromkeys($a))'],
        reference=lambda s: "".join(dict.fromkeys(s)),
        inputs=lambda r: (r.word() + r.word(),)),
    Family(
        name="middle_char", topic="strings",
        function_names=["middle_char", "middle_of", "center_letters"],
        arg_names=["word", "s"], arg_types=["str"], returns="str",
        docs=["Return the middle character of $a, or the middle two characters when its length is even.",
              "Give the center of $a: one character for odd lengths, two for even lengths."],
        bodies=["mid = len($a) // 2\nif len($a) % 2 == 0:\n    return $a[mid - 1:mid + 1]\nreturn $a[mid]"],
        reference=lambda s: s[len(s) // 2 - 1:len(s) // 2 + 1] if len(s) % 2 == 0 else s[len(s) // 2],
        inputs=lambda r: (r.word(),)),
    Family(
        name="truncate_text", topic="strings",
        function_names=["truncate_text", "shorten", "clip_text"],
        arg_names=["text, limit", "s, n", "message, max_len"], arg_types=["str", "int"], returns="str",
        docs=["Return $a unchanged if it has at most $b characters; otherwise return its first $b characters "
              "followed by '...'.",
              "Shorten $a to $b characters, adding '...' when something was cut off."],
        bodies=['if len($a) <= $b:\n    return $a\nreturn $a[:$b] + "..."'],
        reference=lambda s, n: s if len(s) <= n else s[:n] + "...",
        inputs=lambda r: (r.text(), r.randint(0, 20))),
    Family(
        name="is_isogram", topic="strings",
        function_names=["is_isogram", "no_repeated_letters", "all_letters_unique"],
        arg_names=["word", "s"], arg_types=["str"], returns="bool",
        docs=["Return True if no letter appears more than once in $a (ignoring case).",
              "An isogram has no repeating letters. Is $a one? Case does not matter."],
        bodies=["letters = $a.lower()\nreturn len(set(letters)) == len(letters)",
                "seen = set()\nfor ch in $a.lower():\n    if ch in seen:\n        return False\n    seen.add(ch)\n"
                "return True"],
        reference=lambda s: len(set(s.lower())) == len(s),
        inputs=lambda r: (r.choice([r.word(), "lamp", "Dog", "moon", "Aa"]),)),
    Family(
        name="vowel_positions", topic="strings",
        function_names=["vowel_positions", "vowel_indices", "where_vowels"],
        arg_names=["s", "word", "text"], arg_types=["str"], returns="list[int]",
        docs=["Return the list of indices at which $a has a vowel (a, e, i, o, u, lower case only).",
              "Find every position of a lower-case vowel in $a."],
        bodies=['return [i for i, ch in enumerate($a) if ch in "aeiou"]'],
        reference=lambda s: [i for i, c in enumerate(s) if c in "aeiou"],
        inputs=lambda r: (r.word(),)),
    Family(
        name="count_words_starting", topic="strings",
        function_names=["count_words_starting", "words_beginning_with", "count_initial"],
        arg_names=["text, letter", "s, ch", "sentence, c"], arg_types=["str", "str"], returns="int",
        docs=["Return how many words of $a start with the letter $b (case-sensitive).",
              "Count the words in $a whose first character is $b."],
        bodies=["return sum(1 for word in $a.split() if word.startswith($b))"],
        reference=lambda s, c: sum(w.startswith(c) for w in s.split()),
        inputs=lambda r: (r.text(), r.choice("abcdefghilmnoprst"))),
]


# added after the other topics, so they come last in FAMILIES (see __init__.py)
WORD_PUZZLES = [
    Family(
        name="word_score", topic="strings",
        function_names=["word_score", "letter_value_sum", "scrabble_like"],
        arg_names=["word", "w", "s"], arg_types=["str"], returns="int",
        docs=["Return the score of the lower-case $a, where a = 1, b = 2, ..., z = 26.",
              "Add up the alphabet positions of the letters of $a."],
        bodies=['return sum(ord(ch) - ord("a") + 1 for ch in $a)'],
        reference=lambda w: sum(ord(c) - 96 for c in w),
        inputs=lambda r: (r.word(),)),
    Family(
        name="is_subsequence", topic="strings",
        function_names=["is_subsequence", "appears_in_order", "hidden_in"],
        arg_names=["small, big", "needle, haystack", "part, whole"], arg_types=["str", "str"], returns="bool",
        docs=["Return True if the characters of $a appear in $b in the same order (not necessarily next to each "
              "other).",
              "Decide whether $a is a subsequence of $b."],
        bodies=["it = iter($b)\nreturn all(ch in it for ch in $a)",
                "i = 0\nfor ch in $b:\n    if i < len($a) and $a[i] == ch:\n        i += 1\nreturn i == len($a)"],
        reference=lambda a, b: (lambda it: all(c in it for c in a))(iter(b)),
        inputs=lambda r: (r.word()[:3], r.word() + r.word())),
]
