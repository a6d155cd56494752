"""Topics for the teacher: data/topics.json's subjects grown into thousands of specific topics by a teacher.

    python synth.py topics   --teacher URL --model NAME --n 20000 --out topics.jsonl
    python synth.py textbook --teacher URL --model NAME --topics topics.jsonl --n 5000 --out textbook.jsonl

phi-1.5 seeded its 20B tokens of synthetic textbooks with 20K carefully chosen topics, and Cosmopedia used tens
of thousands: the variety of the data comes from the variety of its seeds. Each subject of data/topics.json
("textbook_topics") is expanded in two levels: the teacher lists subtopics of the subject, then specific topics
of each subtopic. A topic is kept only if it is new: not equal to an earlier one once normalised (lower case,
words only, no articles or prepositions, plural s dropped, word order ignored) and not a near duplicate
(MinHash Jaccard of those word sets >= --near_dup). Each subject gets about 1.3 sqrt(n / subjects) subtopics
and each subtopic 1.3 (n / subtopics) topics; when duplicates leave fewer than n, further rounds ask every
subtopic again for topics other than those it gave.

The output has two kinds of lines: {"id": "subtopics-<seed>-<s>", "subject", "subtopics"}, the first level of
the tree, kept so that a rerun expands the same subtopics, and {"id": "topic-<seed>-<round>-<s>-<t>-<k>",
"subject", "subtopic", "topic", "teacher"}, one per topic. `--topics FILE` reads the lines that have a "topic",
so a hand-written JSONL of {"topic": ...} lines works as well. Resumable as the rest of teacher mode is: every
line is appended and fsynced as it is made, a torn last line is cut, and a rerun skips the subjects and
subtopics already expanded.
"""
import math
import re
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from tqdm import tqdm

from files import append_jsonl, iter_jsonl, read_complete_lines
from synthdata.quality import Deduplicator
from synthdata.teacher import Malformed, RequestFailed, TeacherError, chat, load_topics

SUBTOPICS_PROMPT = ('List {k} distinct subtopics of "{subject}" that a textbook on it would cover, from the '
                    "basics to advanced ideas. Reply with a numbered list, one subtopic of a few words per line, "
                    "and nothing else.")
TOPICS_PROMPT = ('List {k} specific, distinct topics within "{subtopic}" (part of "{subject}"), each narrow enough '
                 "for one textbook section. Reply with a numbered list, one topic of a few words per line, and "
                 "nothing else.{avoid}")
AVOID = " Do not repeat these: {known}."
MAX_ROUNDS = 3
MAX_WORDS = 12
LIST_MARKER = re.compile(r"^\s*(?:\d+\s*[.)]|[-*\u2022])\s*")
STOPWORDS = {"a", "an", "the", "and", "or", "of", "in", "on", "for", "to", "with", "by", "at", "from", "into",
             "its", "their", "your", "how", "using"}


def parse_list(answer, limit):
    """The items of a list answer, one per line, without numbering, bullets, quotes or trailing explanation."""
    items = []
    for line in answer.splitlines():
        text = re.split(r"\s+[-\u2013\u2014]\s+|:\s", LIST_MARKER.sub("", line).strip(), maxsplit=1)[0]
        text = text.strip(" \"'*`").rstrip(".,;:").strip(" \"'*`")
        if text and not line.rstrip().endswith(":") and re.search(r"[^\W\d_]", text) \
                and len(text.split()) <= MAX_WORDS and len(text) <= 100:
            items.append(text)
    if not items:
        raise Malformed("no list items in the answer")
    return items[:limit]


def normalise(topic):
    """The words that make a topic, as a canonical string: equal for "Sorting lists" and "list sorting"."""
    words = {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
             for w in re.findall(r"\w+", topic.lower()) if w not in STOPWORDS}
    return " ".join(sorted(words)) or topic.lower()


def read_topics(path):
    """The topics of a JSONL file: every line that has a "topic" (others, such as subtopic lines, are skipped)."""
    topics = [r["topic"] for r in iter_jsonl(path) if isinstance(r.get("topic"), str) and r["topic"].strip()]
    if not topics:
        raise SystemExit(f"{path} has no lines with a \"topic\": make one with python synth.py topics --teacher URL "
                         "--model NAME --out FILE, or write {\"topic\": ...} lines")
    return topics


def run_concurrently(units, work, finish, workers):
    """work(unit) for every unit on `workers` threads, finish(unit, result) here as each completes (result is
    an exception when work raised one); stops submitting when finish returns True."""
    pool, pending, units = ThreadPoolExecutor(max_workers=workers), {}, iter(units)
    done = False
    try:
        while True:
            while not done and len(pending) < 2 * workers:  # a bounded window: memory stays flat
                unit = next(units, None)
                if unit is None:
                    break
                pending[pool.submit(work, unit)] = unit
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                unit = pending.pop(future)
                try:
                    result = future.result()
                except (Malformed, RequestFailed) as e:  # counted by finish; TeacherError stops the run
                    result = e
                done = finish(unit, result) or done
            if done:
                break
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def generate_topics(args):
    subjects = load_topics()["textbook_topics"][:args.subjects]
    existing = read_complete_lines(args.out)
    trees = {r["subject"]: r["subtopics"] for r in existing if "subtopics" in r}
    topics = [r for r in existing if "topic" in r]
    done_units = {r["id"].rsplit("-", 1)[0] for r in topics}
    given = {}  # (subject, subtopic) -> the topics it gave, duplicates too: what later rounds must not repeat
    dedup = Deduplicator(threshold=args.near_dup, ngram=1)
    for r in topics:
        dedup.add(normalise(r["topic"]))
        given.setdefault((r["subject"], r["subtopic"]), []).append(r["topic"])
    counts = {"requested": args.n, "already_done": len(topics), "written": 0, "subtopics": 0, "malformed": 0,
              "exact_duplicates": 0, "near_duplicates": 0, "failed_requests": 0, "retries": 0, "rounds": 0}
    out = open(args.out, "a", encoding="utf-8")
    bar = tqdm(total=args.n, initial=min(len(topics), args.n), desc="topics (teacher)", unit="topic")

    def ask(prompt):
        return chat(args.teacher, args.model, prompt, args.timeout, args.retries, args.temperature, args.max_tokens,
                    counts)

    def failed(result):
        if isinstance(result, Exception):
            counts["failed_requests" if isinstance(result, RequestFailed) else "malformed"] += 1
            return True
        return False

    # level 1: the subtopics of each subject
    per_subject = max(3, math.ceil(1.3 * math.sqrt(args.n / len(subjects))))
    todo = [(s, subject) for s, subject in enumerate(subjects) if subject not in trees]

    def expand_subject(unit):
        return parse_list(ask(SUBTOPICS_PROMPT.format(k=per_subject, subject=unit[1])), per_subject)

    def keep_subtopics(unit, result):
        if not failed(result):
            s, subject = unit
            trees[subject] = list(dict.fromkeys(result))
            append_jsonl(out, {"id": f"subtopics-{args.seed}-{s}", "subject": subject, "subtopics": trees[subject]})
            counts["subtopics"] += len(trees[subject])

    # level 2: the topics of each subtopic, in rounds until there are n
    def expand_subtopic(unit):
        _, _, _, subject, subtopic, k = unit
        before = given.get((subject, subtopic), [])
        avoid = AVOID.format(known="; ".join(before[-10:])) if before else ""
        return parse_list(ask(TOPICS_PROMPT.format(k=k, subject=subject, subtopic=subtopic, avoid=avoid)), k)

    def keep_topics(unit, result):
        if failed(result):
            return False
        round_, s, t, subject, subtopic, _ = unit
        given.setdefault((subject, subtopic), []).extend(result)
        for k, topic in enumerate(result):
            if len(topics) >= args.n:
                return True
            verdict = dedup.add(normalise(topic))
            if verdict:
                counts[f"{verdict}_duplicates"] += 1
                continue
            record = {"id": f"topic-{args.seed}-{round_}-{s}-{t}-{k}", "subject": subject, "subtopic": subtopic,
                      "topic": topic, "teacher": args.model}
            append_jsonl(out, record)
            topics.append(record)
            counts["written"] += 1
            bar.update(1)
        return len(topics) >= args.n

    try:
        run_concurrently(todo, expand_subject, keep_subtopics, args.workers)
        for round_ in range(MAX_ROUNDS):
            units = [(round_, s, t, subject, subtopic) for s, subject in enumerate(subjects)
                     for t, subtopic in enumerate(trees.get(subject, []))
                     if f"topic-{args.seed}-{round_}-{s}-{t}" not in done_units]
            if len(topics) >= args.n or not units:
                break
            counts["rounds"] += 1
            k = min(50, max(5, math.ceil(1.3 * (args.n - len(topics)) / len(units))))
            run_concurrently([unit + (k,) for unit in units], expand_subtopic, keep_topics, args.workers)
    except KeyboardInterrupt:
        raise SystemExit(f"interrupted: {counts['written']} new topics are safe in {args.out}; rerun the same "
                         "command to continue") from None
    except TeacherError as e:
        raise SystemExit(str(e)) from None
    finally:
        out.close()
        bar.close()
    if subjects and not trees:
        raise SystemExit(f"no subject could be expanded ({counts['failed_requests']} failed requests, "
                         f"{counts['malformed']} answers without a list): is {args.teacher} serving {args.model}?")
    return counts
