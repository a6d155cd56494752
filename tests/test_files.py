"""files.py: atomic writes, JSONL reading and resuming an appended file."""
import json

import pytest

from files import (append_jsonl, atomic_write, file_sha256, iter_jsonl, read_complete_lines, read_jsonl, tokenizer_spec,
                   write_jsonl)


def test_atomic_write_leaves_the_old_file_whole_on_an_error(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    with atomic_write(path, "w") as f:
        f.write("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("half of the new")
            raise RuntimeError("crash")
    assert path.read_text() == "old"
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]  # no temporary file left behind


def test_jsonl_round_trip_and_clear_errors(tmp_path):
    path = tmp_path / "a.jsonl"
    write_jsonl(path, [{"text": "é"}, {"text": "b", "n": 1}])
    assert read_jsonl(path, ("text",)) == [{"text": "é"}, {"text": "b", "n": 1}]
    with pytest.raises(SystemExit, match="a.jsonl:1: a sample needs text, n; this one lacks n"):
        list(iter_jsonl(path, ("text", "n"), "sample"))
    path.write_text('{"text": "a"}\n\n[1, 2]\n')
    with pytest.raises(SystemExit, match="a.jsonl:3 is not a JSON object"):
        read_jsonl(path)
    path.write_text('{"text": \n')
    with pytest.raises(SystemExit, match="a.jsonl:1 is not JSON"):
        read_jsonl(path)
    with pytest.raises(SystemExit, match="does not exist"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_read_complete_lines_cuts_a_torn_last_line_and_keeps_blank_ones(tmp_path):
    path = tmp_path / "results.jsonl"
    assert read_complete_lines(path) == []
    with open(path, "w") as f:
        append_jsonl(f, {"i": 0})
        f.write("\n")  # a blank line in the middle is not damage
        append_jsonl(f, {"i": 1})
        f.write('{"i": 2, "half')  # a crash mid-write
    assert read_complete_lines(path) == [{"i": 0}, {"i": 1}]
    assert path.read_text() == '{"i": 0}\n\n{"i": 1}\n'  # truncated after the last whole record
    with open(path, "a") as f:
        append_jsonl(f, {"i": 2})
    assert [json.loads(line)["i"] for line in path.read_text().split("\n") if line] == [0, 1, 2]


def test_a_run_finds_the_tokenizer_it_was_trained_with_and_refuses_another(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tok.tiktoken").write_text("the ranks the run was trained with\n")
    checkpoint = {"tokenizer": "data/tok.tiktoken", "tokenizer_sha256": file_sha256("data/tok.tiktoken")}
    assert tokenizer_spec(checkpoint) == "data/tok.tiktoken"
    assert tokenizer_spec({"tokenizer": "codegen", "tokenizer_sha256": None}) == "codegen"
    assert tokenizer_spec({"tokenizer": "data/tok.tiktoken"}) == "data/tok.tiktoken"  # an older checkpoint
    (tmp_path / "data" / "tok.tiktoken").write_text("ranks of data rebuilt since\n")
    with pytest.raises(SystemExit, match="data/tok.tiktoken is not the tokenizer this run was trained with"):
        tokenizer_spec(checkpoint)
