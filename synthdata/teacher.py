"""Teacher mode: the same recipes, with samples written by an LLM behind an OpenAI-compatible endpoint.

phi-1 and phi-1.5 got their textbooks and exercises from GPT-3.5/GPT-4, TinyStories from GPT-3.5/4. Any server
that speaks POST {base}/chat/completions works (vLLM, llama.cpp's server, Ollama, OpenAI); the key comes from
OPENAI_API_KEY when set. Only the standard library is used for HTTP.

Robustness, because a long generation run will meet every failure:
- requests run concurrently (--workers), each with a timeout; 429 and 5xx answers, timeouts and dropped
  connections are retried with exponential backoff and jitter; other 4xx answers are errors of the request
  itself and stop the run with the server's message;
- an answer that is not what the prompt asked for (no story with the required words, no parsable code, code
  that fails its own examples in the sandbox) is skipped and counted, never written;
- resumable: record i has the id "<kind>-<seed>-<i>"; each finished record is appended as one complete line
  (one write, flushed and fsynced) as soon as it passes the gates; a rerun of the same command reads the file,
  cuts off a half-written last line if a crash left one, and skips the ids already there. Ctrl-C loses no
  finished record.
"""
import ast
import doctest
import json
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from tqdm import tqdm

from files import read_complete_lines
from synthdata.quality import Decontaminator, Deduplicator

TOPICS_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "topics.json")

STORY_PROMPT = ('Write a short story (3-5 paragraphs) which only uses very simple words that a 3 year old child '
                'would likely understand. The story should use the verb "{verb}", the noun "{noun}" and the '
                'adjective "{adjective}". {features}Remember to only use simple words!')
FEATURE_TEXT = {"Dialogue": "should contain at least one dialogue", "BadEnding": "has a bad ending",
                "MoralValue": "has a moral value", "Twist": "has a plot twist",
                "Foreshadowing": "uses foreshadowing", "Conflict": "has some form of conflict in it"}
TEXTBOOK_PROMPT = ("Write a {style} about {topic} for {audience}. Explain the ideas clearly and step by step, "
                   "with concrete examples{code}. End with a short exercise. Do not mention that you are an AI.")
EXERCISE_PROMPT = ("Write one Python exercise about {topic} for {audience}. Give a single function: its "
                   "signature, then a docstring that states the task precisely and includes at least two "
                   "doctest examples (lines starting with >>> followed by the expected result), then the "
                   "solution. Use only the standard library. Reply with one ```python code block and nothing else.")


class TeacherError(Exception):
    """The endpoint cannot be used (bad URL, bad model name, rejected request): stops the run."""


class Malformed(Exception):
    """The answer came back but is not usable: counted and skipped."""


class RequestFailed(Malformed):
    """No usable answer after every retry (server errors, timeouts, refused connections)."""


def chat(base_url, model, prompt, timeout=120.0, retries=5, temperature=1.0, max_tokens=1024, counts=None,
         backoff=1.0):
    """One chat completion; returns the assistant's text. Retries 429/5xx/timeouts with backoff."""
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}],
                       "temperature": temperature, "max_tokens": max_tokens}).encode()
    headers = {"Content-Type": "application/json"}
    if os.environ.get("OPENAI_API_KEY"):
        headers["Authorization"] = "Bearer " + os.environ["OPENAI_API_KEY"]
    url = base_url.rstrip("/") + "/chat/completions"
    for attempt in range(retries + 1):
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
            break
        except urllib.error.HTTPError as e:
            if e.code != 429 and e.code < 500:
                detail = e.read()[:300].decode(errors="replace")
                raise TeacherError(f"{url} answered {e.code}: {detail} (check --teacher, --model and OPENAI_API_KEY)")
            reason = f"HTTP {e.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            reason = str(getattr(e, "reason", e))
        if attempt == retries:
            raise RequestFailed(f"gave up after {retries + 1} tries: {reason}")
        if counts is not None:
            counts["retries"] += 1
        time.sleep(backoff * 2 ** attempt * (0.5 + random.random()))  # jitter spreads out the workers
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise Malformed("answer is not an OpenAI chat completion")
    if not isinstance(content, str) or not content.strip():
        raise Malformed("empty answer")
    return content.strip()


# ---- prompts and answer checks, per kind ----------------------------------------------------------------------
def load_topics():
    with open(TOPICS_PATH) as f:
        return json.load(f)


class StoryTask:
    def __init__(self):
        from synthdata.stories import StoryGenerator
        self.gen = StoryGenerator()
        self.lex = self.gen.lex

    def prompt(self, seed, i):
        rng = random.Random(f"teacher-story:{seed}:{i}")
        verb, noun, adjective, features = self.gen.words_and_features(rng)
        feats = ""
        if features:
            feats = "The story should have the following features: the story " + \
                    ", ".join(FEATURE_TEXT[f] for f in features) + ". "
        meta = {"words": {"verb": verb, "noun": noun, "adjective": adjective}, "features": features}
        return STORY_PROMPT.format(verb=verb, noun=noun, adjective=adjective, features=feats), meta

    def record(self, answer, meta):
        words = set(re.findall(r"[a-z]+", answer.lower()))
        v = self.lex.verbs[meta["words"]["verb"]]
        n = self.lex.nouns[meta["words"]["noun"]]
        if not ({v["word"], v["past"], v["third"], v["ing"]} & words and {n["word"], n.get("plural", "")} & words
                and meta["words"]["adjective"] in words):
            raise Malformed("the story does not use the required words")
        if len(answer.split()) < 40:
            raise Malformed("too short for a story")
        return {"text": answer, **meta}


class TextbookTask:
    def __init__(self, topics_file=None):
        self.topics = load_topics()
        if topics_file:  # topics made by `synth.py topics`
            from synthdata.topics import read_topics
            self.topics["textbook_topics"] = read_topics(topics_file)

    def prompt(self, seed, i):
        rng = random.Random(f"teacher-textbook:{seed}:{i}")
        t = self.topics
        topic, audience, style = rng.choice(t["textbook_topics"]), rng.choice(t["audiences"]), rng.choice(t["styles"])
        code = " and short Python code snippets where they help" if "Python" in topic or rng.random() < 0.3 else ""
        meta = {"topic": topic, "audience": audience, "style": style}
        return TEXTBOOK_PROMPT.format(topic=topic, audience=audience, style=style, code=code), meta

    def record(self, answer, meta):
        if len(answer.split()) < 80:
            raise Malformed("too short for a textbook section")
        return {"text": answer, **meta}


class ExerciseTask:
    def __init__(self):
        self.topics = load_topics()

    def prompt(self, seed, i):
        rng = random.Random(f"teacher-exercise:{seed}:{i}")
        topic = rng.choice(self.topics["exercise_topics"])
        audience = rng.choice(self.topics["audiences"])
        return EXERCISE_PROMPT.format(topic=topic, audience=audience), {"topic": topic, "audience": audience}

    def record(self, answer, meta):
        return {**exercise_from_answer(answer), **meta}


def exercise_from_answer(answer):
    """Signature + docstring -> prompt, the rest -> solution, the docstring's examples -> check(candidate)."""
    m = re.search(r"```(?:python)?\n(.*?)```", answer, re.S)
    code = (m.group(1) if m else answer).strip("\n") + "\n"
    try:
        tree = ast.parse(code)
    except SyntaxError:
        raise Malformed("the code does not parse")
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not funcs or not ast.get_docstring(funcs[0]) or len(funcs[0].body) < 2:
        raise Malformed("no function with a docstring and a body")
    fn = funcs[0]
    examples = doctest.DocTestParser().get_examples(ast.get_docstring(fn))
    if len(examples) < 1:
        raise Malformed("the docstring has no >>> examples")
    lines = code.split("\n")
    split = fn.body[0].end_lineno  # the line where the docstring ends
    prompt = "\n".join(lines[:split]) + "\n"
    solution = "\n".join(lines[split:]).rstrip() + "\n"
    test = "def check(candidate):\n    {0} = candidate\n".format(fn.name) + "".join(
        f"    assert ({ex.source.strip()}) == ({ex.want.strip()})\n" for ex in examples if ex.want.strip())
    return {"text": code, "prompt": prompt, "canonical_solution": solution, "test": test, "entry_point": fn.name}


TASKS = {"tinystories": StoryTask, "textbook": TextbookTask, "exercises": ExerciseTask}


# ---- the resumable, concurrent run ------------------------------------------------------------------------------
def generate_with_teacher(kind, args):
    task = TextbookTask(args.topics) if kind == "textbook" and getattr(args, "topics", None) else TASKS[kind]()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    existing = read_complete_lines(args.out)
    done = {r.get("id") for r in existing}
    dedup = Deduplicator(threshold=args.near_dup) if args.near_dup < 1 else None
    decon = Decontaminator()
    for r in existing:
        if dedup:
            dedup.add(r["text"])
    counts = {"requested": args.n, "already_done": 0, "written": 0, "malformed": 0, "exact_duplicates": 0,
              "near_duplicates": 0, "contaminated": 0, "failed_checks": 0, "failed_requests": 0, "retries": 0}
    todo = []
    for i in range(args.n):
        if f"{kind}-{args.seed}-{i}" in done:
            counts["already_done"] += 1
        else:
            todo.append(i)
    lock = threading.Lock()
    out = open(args.out, "a", encoding="utf-8")
    bar = tqdm(total=len(todo), desc=f"{kind} (teacher)", unit="rec")

    def work(i):
        prompt, meta = task.prompt(args.seed, i)
        answer = chat(args.teacher, args.model, prompt, args.timeout, args.retries, args.temperature,
                      args.max_tokens, counts)
        record = task.record(answer, meta)
        if "test" in record:
            from sandbox import check_program  # the teacher's code runs only in the sandbox
            if not check_program(record["prompt"], record["canonical_solution"], record["test"], record["entry_point"],
                                 unsafe_no_isolation=getattr(args, "unsafe_no_isolation", False)).passed:
                return "failed_checks", None
        return None, {"id": f"{kind}-{args.seed}-{i}", **record, "teacher": args.model}

    def keep(record):
        """Gates, then one complete line appended and synced: a crash after this loses nothing."""
        if decon.hits(record["text"]):
            return "contaminated"
        verdict = dedup.add(record["text"]) if dedup else None
        if verdict:
            return f"{verdict}_duplicates"
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
        return "written"

    pool = ThreadPoolExecutor(max_workers=args.workers)
    pending = set()
    queue = iter(todo)
    try:
        while True:
            while len(pending) < 2 * args.workers:  # a bounded window: memory stays flat for any --n
                i = next(queue, None)
                if i is None:
                    break
                pending.add(pool.submit(work, i))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                try:
                    problem, record = fut.result()
                except RequestFailed:
                    problem, record = "failed_requests", None
                except Malformed:
                    problem, record = "malformed", None
                with lock:
                    outcome = problem or keep(record)
                    counts[outcome] += 1
                bar.update(1)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        out.close()
        raise SystemExit(f"interrupted: {counts['written']} new records are safe in {args.out}; rerun the same "
                         f"command to continue")
    except TeacherError as e:
        pool.shutdown(wait=False, cancel_futures=True)
        out.close()
        raise SystemExit(str(e))
    pool.shutdown()
    out.close()
    bar.close()
    if todo and counts["failed_requests"] == len(todo):
        raise SystemExit(f"no answer from {args.teacher} for any request: is the server running and is the URL "
                         f"its /v1 base (e.g. http://127.0.0.1:8000/v1)?")
    counts["decontamination"] = "HumanEval 13-grams" if decon.available else decon.reason
    return counts
