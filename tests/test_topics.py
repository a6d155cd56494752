"""synth.py topics and textbook --topics, against a fake OpenAI-compatible teacher."""
import http.server
import json
import re
import threading
from argparse import Namespace

import pytest

import synth
from synthdata.teacher import generate_with_teacher, load_topics
from synthdata.topics import normalise, parse_list, read_topics


ADJECTIVES = "quick lazy bright dark round flat sharp soft heavy light cold warm loud quiet deep shallow rich poor " \
             "early late".split()
NOUNS = "river mountain engine garden library market castle forest bridge tower island harbor desert valley " \
        "meadow canyon glacier volcano prairie lagoon".split()
VERBS = "building measuring sorting counting drawing mapping testing planting reading mixing".split()


def topic(c):
    """Topics that differ in at least one of their three words, so never near duplicates of each other."""
    return f"{ADJECTIVES[c % 20]} {NOUNS[c // 20 % 20]} {VERBS[c // 400 % 10]}"


class ListTeacher(http.server.BaseHTTPRequestHandler):
    """Numbered lists: each subject's subtopics; at first at most 25 topics per subject, given out again and
    again (and "The sorting of lists" by every subtopic), then, once told what not to repeat, new ones.
    Anything else gets a long text."""
    prompts, lock, fresh = [], threading.Lock(), 0

    def log_message(self, *args):
        pass

    def do_POST(self):
        prompt = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["messages"][0]["content"]
        with ListTeacher.lock:
            ListTeacher.prompts.append(prompt)
        if m := re.match(r'List (\d+) distinct subtopics of "(.*?)"', prompt):
            k, subject = int(m.group(1)), m.group(2)
            content = "Here are the subtopics:\n" + "".join(f"{i + 1}. {subject} idea {i}\n" for i in range(k))
        elif m := re.match(r'List (\d+) specific, distinct topics within "(.*?)"', prompt):
            k, subtopic = int(m.group(1)), m.group(2)
            number = int(subtopic.rsplit(" ", 1)[1])
            with ListTeacher.lock:
                cases = [(number * k + i) % 25 for i in range(k - 1)]
                if "Do not repeat these:" in prompt:
                    cases, ListTeacher.fresh = [1000 + ListTeacher.fresh + i for i in range(k - 1)], \
                        ListTeacher.fresh + k
            content = "\n".join(f"- **{topic(c)}** - why it matters" for c in cases) + "\n- The sorting of lists"
        else:
            content = "A section about it. " * 60
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def teacher():
    ListTeacher.prompts, ListTeacher.fresh = [], 0
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ListTeacher)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def topics_command(url, out, n, subjects=3):
    synth.main(["topics", "--teacher", url, "--model", "fake", "--n", str(n), "--out", str(out), "--workers", "3",
                "--subjects", str(subjects), "--retries", "0"])
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    return [r for r in lines if "topic" in r], [r for r in lines if "subtopics" in r]


def test_parse_list_and_normalise():
    answer = "Sure! Here is the list:\n1. Binary search\n2) \"Hash tables\": how they work\n* Linked lists - basics\n\n"
    assert parse_list(answer, 10) == ["Binary search", "Hash tables", "Linked lists"]
    assert parse_list(answer, 2) == ["Binary search", "Hash tables"]
    assert normalise("Sorting lists") == normalise("list sorting") == normalise("The sorting of lists")
    assert normalise("Binary search") != normalise("Binary trees")
    with pytest.raises(Exception, match="no list items"):
        parse_list("Here are the items:\n", 5)


def test_topics_expand_subjects_hierarchically_without_duplicates(teacher, tmp_path):
    out = tmp_path / "topics.jsonl"
    topics, trees = topics_command(teacher, out, 40)
    subjects = load_topics()["textbook_topics"][:3]
    assert sorted(t["subject"] for t in trees) == sorted(subjects)
    assert len(topics) == 40 and len({t["id"] for t in topics}) == 40
    assert len({normalise(t["topic"]) for t in topics}) == 40  # no two the same once normalised
    assert sum(t["topic"] == "The sorting of lists" for t in topics) == 1  # asked of every subtopic, kept once
    assert all(t["subtopic"] in next(tree["subtopics"] for tree in trees if tree["subject"] == t["subject"])
               for t in topics)
    assert not any("**" in t["topic"] or "matters" in t["topic"] for t in topics)
    assert read_topics(out) == [t["topic"] for t in topics]


def test_topics_resume_where_they_stopped(teacher, tmp_path):
    out = tmp_path / "topics.jsonl"
    first, trees = topics_command(teacher, out, 20)
    with open(out, "a") as f:
        f.write('{"id": "topic-0-0-9-9-9", "subj')  # a crash mid-write
    asked = len(ListTeacher.prompts)
    topics, trees_again = topics_command(teacher, out, 60)
    assert trees_again == trees  # the subtopics were not asked for again
    new_prompts = ListTeacher.prompts[asked:]
    assert not any("subtopics of" in p for p in new_prompts)
    assert topics[:20] == first and len(topics) == 60 and len({t["id"] for t in topics}) == 60
    assert len({normalise(t["topic"]) for t in topics}) == 60


def test_more_rounds_when_duplicates_leave_too_few(teacher, tmp_path):
    topics, trees = topics_command(teacher, tmp_path / "t.jsonl", 200, subjects=1)
    rounds = {t["id"].split("-")[2] for t in topics}
    assert len(topics) == 200 and len(rounds) > 1
    assert any("Do not repeat these:" in p for p in ListTeacher.prompts)


def test_textbook_draws_its_topics_from_the_file(teacher, tmp_path):
    topics_file = tmp_path / "topics.jsonl"
    topics_file.write_text('{"topic": "tail recursion in Python"}\n{"id": "subtopics-0-0", "subject": "x", '
                           '"subtopics": ["y"]}\n{"topic": "the Euclidean algorithm"}\n')
    args = Namespace(teacher=teacher, model="fake", n=6, seed=0, out=str(tmp_path / "tb.jsonl"), workers=2,
                     timeout=5.0, retries=0, temperature=1.0, max_tokens=64, near_dup=1.0, topics=str(topics_file))
    counts = generate_with_teacher("textbook", args)
    records = [json.loads(line) for line in (tmp_path / "tb.jsonl").read_text().splitlines()]
    assert counts["written"] == len(records) > 0
    assert {r["topic"] for r in records} <= {"tail recursion in Python", "the Euclidean algorithm"}
    assert all("tail recursion in Python" in p or "the Euclidean algorithm" in p for p in ListTeacher.prompts)


def test_topics_command_line_errors(tmp_path):
    with pytest.raises(SystemExit):
        synth.parse_args(["topics", "--out", str(tmp_path / "t.jsonl")])  # no teacher
    with pytest.raises(SystemExit):
        synth.parse_args(["textbook", "--out", str(tmp_path / "t.jsonl"), "--topics", "t.jsonl"])
    (tmp_path / "empty.jsonl").write_text('{"id": "subtopics-0-0", "subject": "x", "subtopics": ["y"]}\n')
    with pytest.raises(SystemExit, match="no lines with a \"topic\""):
        read_topics(tmp_path / "empty.jsonl")
    with pytest.raises(SystemExit, match="no subject could be expanded"):
        synth.main(["topics", "--teacher", "http://127.0.0.1:9/v1", "--model", "m", "--n", "5", "--out",
                    str(tmp_path / "t.jsonl"), "--retries", "0", "--subjects", "1"])
