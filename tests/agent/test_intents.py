"""The intent classifier: its data, its mechanics (fast, with a stand-in encoder) and its quality on
held-out utterances with the real MiniLM encoder (slow)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from shopagent.agent.intents import (
    HELDOUT_DATA,
    TRAIN_DATA,
    Intent,
    IntentClassifier,
    artifact_path,
    evaluate,
    load_examples,
    punctuate,
    segments,
)
from shopagent.settings import Settings


class HashingEncoder:
    """Bag of hashed words: instant and deterministic; counts its calls."""

    def __init__(self) -> None:
        self.texts = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.texts += len(texts)
        out = np.full((len(texts), 384), 1e-3, dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 384] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _subset(per_label: int) -> tuple[list[str], list[Intent]]:
    texts, labels = load_examples(TRAIN_DATA)
    seen: Counter[Intent] = Counter()
    keep = [i for i, label in enumerate(labels) if (seen := seen + Counter([label]))[label] <= per_label]
    return [texts[i] for i in keep], [labels[i] for i in keep]


# --- data ------------------------------------------------------------------------------------


def test_training_data_covers_every_label_with_varied_utterances() -> None:
    texts, labels = load_examples(TRAIN_DATA)
    counts = Counter(labels)
    assert set(counts) == set(Intent) and min(counts.values()) >= 25
    assert len(set(texts)) == len(texts)
    assert sum(t == t.lower() and not re.search(r"[.?!]", t) for t in texts) >= 100  # transcript style
    assert sum(len(segments(t)) > 1 for t in texts) >= 20  # several requests in one message


def test_heldout_data_shares_nothing_with_training() -> None:
    train, _ = load_examples(TRAIN_DATA)
    heldout, labels = load_examples(HELDOUT_DATA)
    assert not {t.lower() for t in train} & {t.lower() for t in heldout}
    assert set(labels) == set(Intent) and min(Counter(labels).values()) >= 15


def test_unknown_labels_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "hi", "intent": "greeting"}\n{"text": "x", "intent": "smalltalk"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        load_examples(path)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Please cancel the bookshelf order. Also, what's your return policy?",
         ["Please cancel the bookshelf order.", "what's your return policy?"]),
        ("i want to return the speaker and then cancel my other order",
         ["i want to return the speaker", "cancel my other order"]),
        ("Hi. I also want to exchange my boots", ["Hi. I want to exchange my boots"]),  # fragments join
        ("where is my order", ["where is my order"]),
        ("whats the tracking number of my lamp order and i want to return the rug",  # spoken, no punctuation
         ["whats the tracking number of my lamp order", "i want to return the rug"]),
        ("i want a red one and a blue one", ["i want a red one and a blue one"]),
    ],
)
def test_segments(text: str, parts: list[str]) -> None:
    assert segments(text) == parts


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        # a statement, then a question, then a request said as a question
        ("my parcel got lost on the way what's the tracking number can you send a new one",
         "my parcel got lost on the way. what's the tracking number? can you send a new one?"),
        # a failure condition ends with a comma; "and <verb>" starts a new request
        ("please swap the desk lamp for a brass one if you can't please refund it and cancel the rug order",
         "please swap the desk lamp for a brass one. if you can't, please refund it. and cancel the rug order."),
        # "the X: do this with it" said without the colon
        ("the blender works fine the toaster return it", "the blender works fine. the toaster return it."),
        # "please <verb>" after a statement is one sentence; a subject that starts a new one
        ("we moved last month both of our orders are going to the old flat please update them",
         "we moved last month. both of our orders are going to the old flat, please update them."),
        ("how much will i get back altogether", "how much will i get back altogether?"),
        ("um is the green kettle still in stock", "um is the green kettle still in stock?"),
        # a condition inside a question belongs to the request after it
        ("what colours does the scarf come in if a grey one is in stock i'd like to swap mine for it otherwise keep it",
         "what colours does the scarf come in? if a grey one is in stock, i'd like to swap mine for it, otherwise keep it."),
        # "and" / "also" before a question starts a new sentence
        ("please swap my lamp for the brass one and how long does shipping take",
         "please swap my lamp for the brass one. and how long does shipping take?"),
        ("i need the rug order cancelled also what colors do you have for the sofa",
         "i need the rug order cancelled. also what colors do you have for the sofa?"),
        # "please" ends the request before "and can you …"
        ("the kettle order status please and can you refund the toaster",
         "the kettle order status please. and can you refund the toaster?"),
        # a bare imperative after a noun starts the next request
        ("two things exchange the scarf for a green one return the gloves",
         "two things. exchange the scarf for a green one. return the gloves."),
    ],
)
def test_punctuate_restores_sentences_of_unpunctuated_speech(spoken: str, written: str) -> None:
    assert punctuate(spoken) == written


@pytest.mark.parametrize(
    "text",
    [
        "Cancel the rug order, please. And what's your return window?",  # already punctuated
        "please tell me what the return window is",  # cues that continue the sentence
        "the one i want to return is the grey scarf",
        "i would like to know where my package is",
        "return the vase if it costs more than forty dollars",
        "cancel my order",
    ],
)
def test_punctuate_leaves_single_sentences_alone(text: str) -> None:
    assert punctuate(text) == text


# --- mechanics (stand-in encoder) -----------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple[list[str], list[Intent]]:
    return _subset(12)


def test_training_is_deterministic_and_save_load_round_trips(small, tmp_path: Path) -> None:
    texts, labels = small
    first = IntentClassifier(HashingEncoder()).train(texts, labels)
    second = IntentClassifier(HashingEncoder()).train(texts, labels)
    first.save(tmp_path / "a.npz")
    second.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = IntentClassifier.load(tmp_path / "a.npz", HashingEncoder())
    probe = ["where is my parcel", "cancel it please", "hello there"]
    np.testing.assert_allclose(loaded.probabilities(probe), first.probabilities(probe), atol=1e-9)
    prediction = loaded.predict("cancel it please")
    assert set(prediction.probabilities) == set(Intent)
    assert prediction.confidence == pytest.approx(max(prediction.probabilities.values()))


def test_low_confidence_becomes_out_of_scope(small) -> None:
    texts, labels = small
    classifier = IntentClassifier(HashingEncoder(), threshold=1.01).train(texts, labels)
    assert {p.label for p in classifier.predict_many(["where is my order", "bye"])} == {Intent.OUT_OF_SCOPE}


def test_artifact_is_reused_until_the_data_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path / "data", llm="none")
    data = tmp_path / "train.jsonl"
    lines = TRAIN_DATA.read_text().splitlines()
    keep = [line for line in lines if '"intent": "greeting"' in line or '"intent": "goodbye"' in line]
    data.write_text("\n".join(keep[:40]) + "\n")
    monkeypatch.setattr("shopagent.agent.intents.TRAIN_DATA", data)
    encoder = HashingEncoder()
    IntentClassifier.load_or_train(settings, encoder)
    trained = encoder.texts
    assert trained > 0 and artifact_path(settings).is_file()
    IntentClassifier.load_or_train(settings, encoder)
    assert encoder.texts == trained  # loaded, not retrained
    data.write_text("\n".join(keep[:41]) + "\n")
    IntentClassifier.load_or_train(settings, encoder)
    assert encoder.texts > trained
    artifact_path(settings).write_bytes(b"not a zip")
    assert IntentClassifier.load_or_train(settings, encoder).predict("bye").label in Intent


def test_report_counts_and_formats(small) -> None:
    texts, labels = small
    classifier = IntentClassifier(HashingEncoder()).train(texts, labels)
    report = evaluate(classifier, texts[:30], labels[:30])
    assert report.confusion.sum() == 30 and report.confusion.shape == (len(Intent), len(Intent))
    assert 0.0 <= report.accuracy <= 1.0 and len(report.errors) == round(30 * (1 - report.accuracy))
    table = report.format(show_errors=True)
    for heading in ("accuracy", "macro-F1", "out_of_scope P/R", "confusion", "errors"):
        assert heading in table


# --- quality (real encoder) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> IntentClassifier:
    # One torch thread: on a shared CI box more threads contend and run several times slower.
    settings = Settings(data_dir=tmp_path_factory.mktemp("intents") / "data", llm="none", threads_torch=1)
    return IntentClassifier.load_or_train(settings)


@pytest.mark.slow
def test_heldout_accuracy(classifier: IntentClassifier) -> None:
    report = evaluate(classifier, *load_examples(HELDOUT_DATA))
    assert report.accuracy >= 0.95, report.format(show_errors=True)
    assert report.macro_f1 >= 0.95
    assert report.oos_precision >= 0.9 and report.oos_recall >= 0.9


# Utterances in neither data file, each testing one clause of the labelling guideline.
GUIDELINE = [
    ("Could I swap the jeans I just ordered for a smaller pair?", Intent.EXCHANGE_ITEM),  # swap wording
    ("the vacuum that came yesterday is bagged, i want the bagless one instead", Intent.EXCHANGE_ITEM),
    ("I ordered the green kettle an hour ago, please make it the white one", Intent.MODIFY_ORDER),
    ("please ship order #W5512093 to my sister's place instead", Intent.MODIFY_ORDER),
    ("i moved, update my home address to 8 Hill Road", Intent.UPDATE_ADDRESS),
    ("what address do you have on my profile?", Intent.ACCOUNT_INFO),
    ("any idea when my headphones will arrive", Intent.ORDER_STATUS),
    ("um where's order w two six one one three four zero", Intent.ORDER_STATUS),
    ("Please cancel my order for the grill. Also, how long do refunds take?", Intent.CANCEL_ORDER),
    ("Hi! I need to return a lamp I got, and then update my address.", Intent.RETURN_ITEM),
    ("I bought a tablet last month. It keeps crashing and I want a refund.", Intent.RETURN_ITEM),
    ("can I return things after thirty days?", Intent.POLICY_QUESTION),
    ("get me a real person", Intent.HUMAN_AGENT),
    ("what's the best pizza topping", Intent.OUT_OF_SCOPE),
]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "label"), GUIDELINE)
def test_guideline_cases(classifier: IntentClassifier, text: str, label: Intent) -> None:
    prediction = classifier.predict(text)
    assert prediction.label == label, prediction
