"""experiments/: resuming, the numbers it derives from runs, its measures and its tables (budget: < 30 s)."""
import json
import re
from types import SimpleNamespace

import torch

from experiments import common, tinystories
from experiments.__main__ import main


def test_train_skips_a_finished_run_and_resumes_a_partial_one(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(common, "run", lambda *args: calls.append(args))
    out_dir = tmp_path / "run"
    assert common.train(out_dir, 100, {"n_layer": 2}, init_from="other-run") is True
    assert calls[-1][-1] == "--init_from=other-run" and "--max_iters=100" in calls[-1] and "--n_layer=2" in calls[-1]
    out_dir.mkdir()
    torch.save({"iter_num": 60, "model": {}}, out_dir / "ckpt.pt")
    assert common.train(out_dir, 100, {}, init_from="other-run") is True
    assert calls[-1][-1] == "--init_from=resume"  # a run cut short goes on from its own checkpoint
    torch.save({"iter_num": 100, "model": {}}, out_dir / "ckpt.pt")
    assert common.train(out_dir, 100, {}) is False
    assert len(calls) == 2


def test_val_curve_counts_step_time_across_a_resume(tmp_path):
    entries = [{"iter": 0, "val_loss": 8.0},
               {"iter": 10, "loss": 6.0, "ms_per_iter": 100.0},
               {"iter": 20, "loss": 5.0, "ms_per_iter": 200.0, "val_loss": 5.5, "minutes": 0.1},
               # resumed from step 20: the clock of the new process restarts, the curve's does not
               {"iter": 30, "loss": 4.5, "ms_per_iter": 300.0, "val_loss": 4.8, "minutes": 0.05}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert common.val_curve(tmp_path) == [(0, 0.0, 8.0), (20, 3.0, 5.5), (30, 6.0, 4.8)]


def test_story_measures(tmp_path):
    bigrams = {("the", "cat"), ("cat", "sat"), ("sat", "down")}
    assert tinystories.well_formed("The cat sat down.", bigrams)
    assert not tinystories.well_formed("The sat cat down.", bigrams)  # word salad
    assert not tinystories.well_formed("the cat sat down.", bigrams)
    assert not tinystories.well_formed("The cat sat down", bigrams)
    assert tinystories.sentences("Pip ran. Pip sat! And then Pip") == ["Pip ran.", "Pip sat!"]
    stories = tmp_path / "stories.jsonl"
    stories.write_text(json.dumps({"text": "Pip had a ball. The sun was hot. Mom saw Coco and Lily. A lily grew.",
                                   "characters": [{"name": "Pip"}, {"name": "Coco"}, {"name": "Mom"},
                                                  {"name": "Aunt Mia"}, {"name": "the owl"}]}) + "\n")
    lexicon = tinystories.StoryLexicon(stories)
    assert lexicon.names == {"Pip", "Coco"} and "lily" in lexicon.words
    assert lexicon.names_in("Pip saw Mom. The Zorg had a ball.") == ["Pip", "Zorg"]  # Zorg: made up
    assert lexicon.hero_of("The sun saw Beatrix.") == "Beatrix"
    prompt = "Beatrix had a ball."
    kept = tinystories.judge(prompt, "Beatrix", " Beatrix saw Coco. The sun was hot. Beatrix had a ball.", lexicon)
    assert kept["hero_kept"] and kept["hero_mentions"] == 2 and kept["other_names"] == ["Coco"]
    assert kept["nonwords"] == [] and kept["words"] == 11  # the prompt's name is not a made-up word
    lost = tinystories.judge(prompt, "Beatrix", " Beatrix saw Coco. Pip had a ball. Beatrix hid it.", lexicon)
    assert not lost["hero_kept"]  # a second other name
    once = tinystories.judge(prompt, "Beatrix", " Beatrix saw the sun. The sun was hot.", lexicon)
    assert not once["hero_kept"]  # named only once more
    odd = tinystories.judge(prompt, "Beatrix", " Beatrix had a snowglop. Beatrix had a ball.", lexicon)
    assert odd["hero_kept"] and odd["nonwords"] == ["snowglop"]
    made_up = tinystories.judge(prompt, "Beatrix", " Beatrix saw Zorg. Zorg and Beatrix had a snowglop.", lexicon)
    assert made_up["nonwords"] == ["Zorg", "Zorg", "snowglop"]
    invented = tinystories.summarize([{**made_up, "hero": "Beatrix", "seen_name": False, "text": ""}], lexicon)
    assert invented["nonword_share"] == 0.3333 and invented["invented_word_share"] == 0.1111  # 3 and 1 of 9
    summary = tinystories.summarize([{**kept, "hero": "Beatrix", "seen_name": False, "text": " The sun was hot."},
                                     {**lost, "hero": "Beatrix", "seen_name": True, "text": " The hot sun was."}],
                                    lexicon)
    assert summary["hero_kept"] == 0.5 and summary["hero_kept_new_names"] == 1.0
    assert summary["hero_kept_seen_names"] == 0.0 and summary["median_other_names"] == 1.5
    assert summary["well_formed_sentences"] == 0.5


def test_a_name_that_is_also_a_word_is_read_as_the_word(tmp_path):
    stories = tmp_path / "stories.jsonl"
    stories.write_text(json.dumps({"text": "There was a cat. More came. The cat sat there, more or less. Daisy saw "
                                           "a daisy.", "characters": [{"name": "There"}, {"name": "More"},
                                                                      {"name": "Pip"}, {"name": "Daisy"}]}) + "\n")
    lexicon = tinystories.StoryLexicon(stories)
    assert lexicon.names == {"Pip", "Daisy"}  # Daisy is a listed name: it stays one
    assert lexicon.names_in("There was Pip. More came.") == ["Pip"]


def test_well_formed_reads_every_name_as_one_word(tmp_path):
    """A hero the stories never name writes sentences as well formed as one they do: names are masked in the
    word pairs of the training stories and of the judged sentence alike."""
    stories = tmp_path / "stories.jsonl"
    stories.write_text(json.dumps({"text": "Pip had a ball. Pip saw Coco.",
                                   "characters": [{"name": "Pip"}, {"name": "Coco"}]}) + "\n")
    lexicon = tinystories.StoryLexicon(stories)
    assert ("pip", "had") not in lexicon.bigrams and (tinystories.NAME, "had") in lexicon.bigrams
    assert tinystories.well_formed("Kwame had a ball.", lexicon.bigrams, {"Kwame"})
    assert tinystories.well_formed("Kwame saw Pip.", lexicon.bigrams, {"Kwame", "Pip"})
    assert not tinystories.well_formed("Kwame had a ball.", lexicon.bigrams)  # unmasked: an unknown pair
    assert not tinystories.well_formed("Kwame a had ball.", lexicon.bigrams, {"Kwame"})


def test_report_tables_from_a_results_file(tmp_path, monkeypatch, capsys):
    machine = {"cpu": "Test CPU", "cores": 2, "threads": 1, "gpu": None, "torch": "2.x", "python": "3.11"}
    heldout = {"n": 2000, "passed": 25, "pass@1": 0.0125, "ci95": [0.0084, 0.0184], "loss": 2.25}
    ablation_results = {"experiment": "phi1_ablation", "machine": machine, "git_commit": "abc1234",
                        "seconds": {"data": 60.0}, "arms": [{"name": "filtered", "size": "S", "params": 1_840_000,
                                                             "pretrain_tokens": 1_228_800, "after": {"heldout": heldout}}]}
    stories = {"experiment": "tinystories", "machine": machine, "git_commit": "abc1234", "seconds": {"train": 120.0},
               "tokens_per_step": 4096, "curve": [[0, 0.0, 8.3], [50, 30.0, 3.1]],
               "checkpoints": {"50": {"well_formed_sentences": 0.5, "hero_kept": 0.25, "hero_kept_new_names": 0.125,
                                      "hero_kept_seen_names": 0.5, "hero_kept_own_listed": 0.75,
                                      "hero_kept_own_new": 0.0625,
                                      "median_other_names": 2, "nonword_share": 0.012, "invented_word_share": 0.004,
                                      "cloze_acc": 0.31, "name_copy": {"own_names": 0.875, "new_names": 0.25},
                                      "sample": "Once | upon"}},
               "reference": {"well_formed_sentences": 0.97, "hero_kept": 0.9, "median_other_names": 1,
                             "nonword_share": 0.0}}
    for name, results in (("phi1_ablation", ablation_results), ("tinystories", stories)):
        (tmp_path / f"{name}.json").write_text(json.dumps(results))
    main(["report", "--results_dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "| S | 1.84M | 1.23M | filtered | yes | 1.2% [0.8, 1.8] (25/2000) | - | 2.250 |" in out
    assert "| 50 | 0.20M | 0.5 min | 3.100 | 50% | 25% (50%, 12%) | 75%, 6% | 2 | 1.2% (0.4%) | 31% | 88%, 25% | Once \\| upon |" in out
    assert "Test CPU, 2 cores" in out and "commit abc1234" in out


def test_a_run_from_scratch_does_not_keep_another_runs_measures(tmp_path, monkeypatch):
    """The results file of an earlier run (say, the committed one) holds measures for the same steps: a run that
    trains from scratch measures its own checkpoints; a resumed one keeps the measures it already took."""
    (tmp_path / "tinystories.json").write_text(json.dumps({"checkpoints": {"10": {"old": True}},
                                                           "reference": {"old": True}, "seconds": {"train": 9.0}}))
    trained, measured = [], []
    monkeypatch.setattr(tinystories, "REPO", tmp_path)
    monkeypatch.setattr(tinystories, "data_files", lambda data: None)
    monkeypatch.setattr(tinystories, "StoryLexicon", lambda path: None)
    monkeypatch.setattr(tinystories, "reference_scores", lambda path, lexicon: {"new": True})
    monkeypatch.setattr(tinystories, "train", lambda out, end, *a, **k: trained.append(end))
    monkeypatch.setattr(tinystories, "measure", lambda out, *a, **k: measured.append(out) or {"new": True})
    for name in ("val_curve", "tokens_per_step", "plot", "report"):
        monkeypatch.setattr(tinystories, name, lambda *a, **k: None)
    args = SimpleNamespace(data_dir="data", out_dir="out", measure=None, sample_at="10,20", config="c.py",
                           per_prompt=1, results_dir=tmp_path, data_only=False)
    monkeypatch.setattr(tinystories, "checkpoint_iter", lambda out: None)  # no checkpoint: from scratch
    tinystories.run(args)
    saved = json.loads((tmp_path / "tinystories.json").read_text())
    assert trained == [10, 20] and len(measured) == 2
    assert saved["checkpoints"] == {"10": {"new": True}, "20": {"new": True}} and saved["reference"] == {"new": True}
    assert "train" not in saved["seconds"] or saved["seconds"]["train"] < 9.0
    measured.clear()
    monkeypatch.setattr(tinystories, "checkpoint_iter", lambda out: 20)  # resumed: its own measures stay
    tinystories.run(args)
    assert measured == []


class CharTokenizer:
    """One token per character: a name of n letters and the space before it are n + 1 tokens."""

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


class NextCharModel:
    """Predicts each next character right, except as the `rule` says: a stand-in whose copies are known."""

    config = SimpleNamespace(block_size=512)

    def __init__(self, rule=lambda text, t: text[t + 1]):
        self.rule = rule

    def __call__(self, idx):
        text = "".join(chr(i) for i in idx[0].tolist())
        logits = torch.zeros(1, len(text), 128)
        for t in range(len(text) - 1):
            logits[0, t, ord(self.rule(text, t))] = 1.0
        return logits, None


def test_name_copy_counts_whole_copies_by_length(tmp_path, monkeypatch):
    import generate

    reference = tmp_path / "reference.jsonl"
    reference.write_text(json.dumps({"text": "Pip had a ball. Pip ran to the park. Then Pip sat down.",
                                     "characters": [{"name": "Pip"}]}) + "\n")
    monkeypatch.setattr(tinystories, "COPY_NAMES", ("Jo", "Rosalind", "Wilhelmina"))

    def copy_with(model):
        monkeypatch.setattr(generate, "load_model", lambda out_dir: (model, CharTokenizer()))
        return tinystories.name_copy(tmp_path, reference)

    perfect = copy_with(NextCharModel())
    assert perfect["own_names"] == perfect["new_names"] == 1.0
    assert perfect["new_names_by_tokens"] == {"3": {"share": 1.0, "mentions": 2},  # " Jo", named twice more
                                              "6+": {"share": 1.0, "mentions": 4}}

    def stops_after_five_letters(text, t):
        word = re.search(r"[A-Za-z]*$", text[:t + 1]).group()
        return "." if len(word) >= 5 and text[t + 1].isalpha() else text[t + 1]

    short = copy_with(NextCharModel(stops_after_five_letters))
    assert short["own_names"] == 1.0 and short["new_names"] == round(2 / 6, 3)
    assert short["new_names_by_tokens"]["3"]["share"] == 1.0 and short["new_names_by_tokens"]["6+"]["share"] == 0.0
    runs_on = copy_with(NextCharModel(lambda text, t: "x" if text[t].isalpha() and not text[t + 1].isalpha()
                                      else text[t + 1]))
    assert runs_on["own_names"] == runs_on["new_names"] == 0.0  # a copy must end where the name does
