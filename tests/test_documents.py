import hashlib
import json
import os
import random

from data.documents import EOT, SourceReport, iter_documents, iter_sources

WORDS = "the a fox bird tree ran sat happy little big red ball played found 漢字 😀 café".split()


def story(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40))) + "."


def write_damaged_corpus(root):
    """A JSONL file and a plain text file with every kind of damage, and the documents they should yield."""
    rng = random.Random(0)
    docs = [story(rng) for _ in range(150)]
    docs[3] = docs[7]  # an exact duplicate: both land in the same split
    docs[120] += "\n\n    an indented second paragraph\n\tand a tab"  # plain text documents span lines
    lines = [json.dumps({"text": d, "id": i}).encode() for i, d in enumerate(docs[:100])]
    lines[10:10] = [b"{not json", b'{"title": "no text field"}', b'{"text": 7}', b'["a list"]', b"",
                    json.dumps({"text": "  \n "}).encode(),  # empty document
                    b'{"text": "bad \xff byte"}', b'{"text": "lone \\ud800 escape"}']
    (root / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    text = f"{docs[100]}\n{EOT}\n\n{EOT}\n" + f"\n{EOT}\n".join(docs[101:]) + "\n"  # an empty doc, no final EOT
    (root / "b.txt").write_text(text)
    expected = docs[:10] + ["bad \ufffd byte", "lone \ufffd escape"] + docs[10:]
    return {"inputs": [str(root / "a.jsonl"), str(root / "b.txt")], "expected": expected}


def test_every_document_is_read_in_order(tmp_path):
    corpus = write_damaged_corpus(tmp_path)
    reports = [SourceReport(path) for path in corpus["inputs"]]
    assert [text for report in reports for text in iter_documents(report)] == corpus["expected"]


def test_problems_are_counted_and_reported(tmp_path):
    corpus = write_damaged_corpus(tmp_path)
    jsonl, text = reports = [SourceReport(path) for path in corpus["inputs"]]
    for report in reports:
        list(iter_documents(report))
    assert (jsonl.format, jsonl.documents, jsonl.bad_lines, jsonl.empty_documents, jsonl.non_utf8_lines) == \
        ("jsonl", 102, 4, 1, 2)
    assert jsonl.problems[0] == f"{jsonl.path}:11: not JSON (Expecting property name enclosed in double quotes)"
    assert len(jsonl.problems) == 5  # only the first few are kept
    assert (text.format, text.documents, text.empty_documents) == ("text", 50, 1)
    for report in reports:
        raw = open(report.path, "rb").read()
        assert report.sha256 == hashlib.sha256(raw).hexdigest() and report.bytes == len(raw)
    summary = jsonl.describe()
    assert summary.startswith(f"{jsonl.path}: 102 documents; skipped unreadable lines: 4; skipped empty "
                              "documents: 1; lines with invalid UTF-8 (kept, as U+FFFD): 2\n  ")
    assert text.describe().splitlines()[0] == f"{text.path}: 50 documents; skipped empty documents: 1"


def test_text_field_separator_and_byte_order_mark(tmp_path):
    (tmp_path / "c.jsonl").write_bytes('\ufeff{"body": "one"}\n{"text": "no body"}\n{"body": "two"}'.encode())
    (tmp_path / "d.txt").write_bytes("\ufefffirst\r\n---\r\nsecond\r\n".encode())
    jsonl, text = SourceReport(str(tmp_path / "c.jsonl")), SourceReport(str(tmp_path / "d.txt"))
    assert list(iter_documents(jsonl, text_field="body")) == ["one", "two"] and jsonl.bad_lines == 1
    assert list(iter_documents(text, separator="---")) == ["first", "second"]


def test_sources_count_the_bytes_read_across_files(tmp_path):
    corpus = write_damaged_corpus(tmp_path)
    reports = [SourceReport(path) for path in corpus["inputs"]]
    read = list(iter_sources(reports))
    assert [text for text, _ in read] == corpus["expected"]
    progress = [n for _, n in read]
    sizes = [os.path.getsize(path) for path in corpus["inputs"]]
    assert progress == sorted(progress) and sizes[0] < progress[-1] <= sum(sizes)
    assert all(n <= sizes[0] for n in progress[:102]) and all(n > sizes[0] for n in progress[102:])
