"""synth.py cloze: name-cloze records cut from held-out stories, in eval.py choice's format."""
import json
import re

import synth
from eval import read_choice_records
from synthdata.cloze import NAMES_BY_KIND, cloze_set, name_kind
from synthdata.stories import StoryGenerator


def test_each_record_cuts_a_story_just_before_a_later_mention():
    generator = StoryGenerator()
    records = cloze_set(60, seed=1)
    assert len(records) == 60
    for r in records:
        story = generator.story(1, r["story"])
        text, name = story["text"], r["name"]
        # the context is the story up to the name's mention, which follows a space
        assert text.startswith(r["context"]) and text[len(r["context"]):].startswith(" " + name)
        assert re.search(rf"\b{name}\b", r["context"])  # named before: remembering, not guessing
        assert r["choices"][r["label"]] == name
        assert len(r["choices"]) == len(set(r["choices"])) == 4
        # the story's own names are among the choices; the rest are names of the same kind it does not use
        assert set(r["story_names"]) <= set(r["choices"])
        assert r["story_names"] == [c["name"] for c in story["characters"] if name_kind(c["name"])]
        for other in set(r["choices"]) - set(r["story_names"]):
            assert other in NAMES_BY_KIND[name_kind(name)]
    assert len({r["label"] for r in records}) == 4  # the right name is not always in the same place
    assert any(len(r["story_names"]) == 2 and r["name"] != r["story_names"][0] for r in records)  # not only heroes


def test_the_set_is_deterministic_and_differs_by_seed():
    assert cloze_set(20, seed=3) == cloze_set(20, seed=3)
    assert cloze_set(20, seed=3) != cloze_set(20, seed=4)
    assert all(len(r["choices"]) == 2 for r in cloze_set(20, seed=3, n_choices=2))


def test_command_line_writes_records_eval_choice_reads(tmp_path):
    out = tmp_path / "cloze.jsonl"
    synth.main(["cloze", "--n", "25", "--seed", "1", "--out", str(out)])
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == cloze_set(25, seed=1)
    records = read_choice_records(str(out))
    assert [label for _, _, label in records] == [r["label"] for r in lines]
