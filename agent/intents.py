"""Intent classification: which request a shopper message makes, out of a fixed set.

A logistic regression reads two views of the message: MiniLM sentence embeddings (meaning, so
paraphrases land together) and character n-gram TF-IDF (keywords and their misspellings, which
the embeddings blur: "exhange", "cancl", "swap"). Its probabilities are temperature-scaled on
cross-validated logits, so the out-of-scope threshold means the same thing whatever the data.

Labelling guideline (training data and evaluations follow it): explicit exchange/swap/trade
wording, or replacing something already received, is ``exchange_item``; changing an order not yet
received (or of unstated status), including its address, payment or items, is ``modify_order``;
the customer's own/default/home address is ``update_address``; tracking, delivery time and "where
is" are ``order_status``; a message with several requests takes the label of its first actionable
one (the dialogue still handles all of them). Introductions with no request ("I'm Ana Ruiz, zip
10001") are ``greeting``.

The trained artifact is a small ``.npz`` (arrays and JSON, no pickle) under ``settings.models_dir``,
keyed by a fingerprint of the training data and hyperparameters, so it is rebuilt only when
either changes and two trainings with the same seed give the same file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from shopagent.settings import Settings


class Intent(StrEnum):
    ORDER_STATUS = "order_status"
    CANCEL_ORDER = "cancel_order"
    MODIFY_ORDER = "modify_order"
    RETURN_ITEM = "return_item"
    EXCHANGE_ITEM = "exchange_item"
    UPDATE_ADDRESS = "update_address"
    ACCOUNT_INFO = "account_info"
    PRODUCT_SEARCH = "product_search"
    PRODUCT_QUESTION = "product_question"
    POLICY_QUESTION = "policy_question"
    HUMAN_AGENT = "human_agent"
    COMPLAINT = "complaint"
    GREETING = "greeting"
    GOODBYE = "goodbye"
    OUT_OF_SCOPE = "out_of_scope"


# Labels that ask the agent to do or answer something; the others only set the tone of a turn.
ACTIONABLE = frozenset(Intent) - {Intent.GREETING, Intent.GOODBYE, Intent.COMPLAINT, Intent.OUT_OF_SCOPE}

DATA_DIR = Path(__file__).parent / "data" / "intents"
TRAIN_DATA = DATA_DIR / "train.jsonl"
HELDOUT_DATA = DATA_DIR / "heldout.jsonl"

VERSION = 1
DEFAULT_THRESHOLD = 0.3
# Hyperparameters (and the segment rule below) chosen by 5-fold cross-validation on train.jsonl.
_C = 10.0
_NGRAMS = (2, 5)

# A condition on an order's status ("if the desk hasn't shipped yet, cancel that order too"): a request of its
# own, which the policy checks (only a pending order can be cancelled), not the fallback of the one before it.
_IF_STATUS = (r"if\b(?:(?!\b(?:cancel|return|exchange|swap)\b)[^,;.])*?"
              r"\b(?:shipped|sent out|dispatched|gone out|pending|processing|delivered|arrived)\b")
STATUS_CONDITION = re.compile(rf"\W*(?:and\s+)?{_IF_STATUS}", re.I)
# Sentence ends and the connectives people use to chain requests ("..., and then ...", "also ...").
_SEGMENT_BREAK = re.compile(
    r"(?<=[.!?;])\s+|\s*,?\s*\b(?:and then|then|and also|also|after that|plus|besides)\b[\s,]*"
    # spoken, unpunctuated: "what's the tracking number and i want to return …"
    r"|\s*,?\s+and\s+(?=i(?: also)?\s+(?:want|would like|'d like|need|wanna)\b)"
    rf"|\s*,?\s+and\s+(?={_IF_STATUS})",  # "…, and if the desk hasn't shipped …"
    re.IGNORECASE,
)
_MIN_SEGMENT_WORDS = 3
_FILLERS = frozenset("um umm uh uhh er erm so well okay ok yes yeah yep sure right please alright oh".split())
# What makes a segment a request rather than scene-setting ("I bought a kettle last week."): a
# question, a want/need/please, or an imperative verb first.
_REQUEST = re.compile(
    r"\?|\b(?:want|wanna|need|like to|please|pls|plz|can you|could you|can i|could i|would you|help|let me)\b"
    r"|\b(?:what'?s|where'?s|where is|when will|how much|how many|is it still)\b"  # questions said without "?"
    r"|^\W*(?:\w+\W+)?(?:cancel|return|exchange|swap|trade|change|update|modify|edit|track|check|show|find|tell"
    r"|give|send|refund|transfer|connect|get|put|switch|look|search|list|ship|replace|remind|stop|void)\b",
    re.IGNORECASE,
)


# A message announcing its requests by count and kind ("so two exchanges …", "a couple of returns: …"): the
# guideline's explicit exchange/return/cancel wording, not a question about exchanges ("are returns free?").
_ANNOUNCED = re.compile(
    r"\W*(?:(?:um+|uh+|so|well|okay|ok|oh|hi|hello|hey|right|alright|and)\W+)*(?:i(?:'ve| have) got |i have |there are )?"
    r"(?:two|three|four|five|several|multiple|some|a few|a couple(?: of)?|\d+)\s+(?:(?:quick|small|more|other)\s+)?"
    r"(?P<kind>exchanges|swaps|returns|refunds|cancellations)\b"
    r"(?!\s+(?:are|is|do|does|can|could|will|would|should|cost|take|usually|need)\b)(?![^.!?]*\?)", re.IGNORECASE)
_ANNOUNCED_KIND = {"exchanges": Intent.EXCHANGE_ITEM, "swaps": Intent.EXCHANGE_ITEM, "returns": Intent.RETURN_ITEM,
                   "refunds": Intent.RETURN_ITEM, "cancellations": Intent.CANCEL_ORDER}


class Encoder(Protocol):
    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class IntentPrediction:
    label: Intent
    confidence: float  # probability of the best label; below the threshold the label is out_of_scope
    probabilities: dict[Intent, float]


def load_examples(path: Path) -> tuple[list[str], list[Intent]]:
    """Read a JSONL file of ``{"text", "intent"}`` lines."""
    texts: list[str] = []
    labels: list[Intent] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            try:
                labels.append(Intent(row["intent"]))
            except ValueError:
                raise ValueError(f"{path}:{number}: unknown intent {row['intent']!r}") from None
            texts.append(row["text"])
    return texts, labels


_ACTION_VERB = r"(?:cancel|return|exchange|swap|trade|change|update|modify|switch|move|refund|replace|remove|track|ship|send)"
# Where a new sentence starts in speech written without punctuation: a question, a failure condition
# ("if you can't ..."), "(and) please <verb>", "and <verb>", "the lamp: return it", "I want to ...", "my
# order is ...". Only the words decide, so it works on any recogniser's output.
_QUESTION_START = (r"(?:what|where|when|how|which)(?:'s| is| are| was| will| do| does| did| much| many| long)\b"
                   r"|(?:can|could|would|will) you\b|(?:is|are) there\b|do you\b")
# A sentence that asks (it gets a "?"): a question word or an auxiliary before its subject, after any filler.
_QUESTION = re.compile(
    r"\s*(?:(?:um+|uh+|so|well|okay|ok|and|also|hi|hello|hey|oh)\s+)*"
    rf"(?:{_QUESTION_START}|(?:what|which|where|when|how|why|who|whose)\b"
    r"|(?:is|are|was|were|does|do|did|will|has|have|can|could|would|should)"
    r" (?:it|its|they|you|there|my|the|this|that|these|those|i|we|your|any)\b)",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(
    rf"\s+(?=(?P<cue>(?:and |also |and also )?(?:{_QUESTION_START})"
    r"|if (?:you|it|that|this)(?:'s| is)? ?(?:can'?t|cannot|not|isn'?t|doesn'?t|won'?t)\b|if not\b"
    rf"|(?:and )?(?:also )?please {_ACTION_VERB}\b|and (?:also )?(?:then )?{_ACTION_VERB}\b"
    rf"|(?:the|my) (?:(?!(?:the|my|a|an)\b)[\w'-]+ ){{1,3}}(?:please |just )?{_ACTION_VERB} (?:it|them|those|these|that|this)\b"
    rf"|{_ACTION_VERB} (?:the|my|both|all|one of|it|them)\b"  # a bare imperative: "… a red one swap the bag for a black one"
    r"|(?:it|that)(?:'s| is) (?:the|my|on|in|at|from)\b"  # "… to my home address it's the one on my profile"
    r"|i(?: (?:also |just |really )?(?:want|wanna|need|would like)|'d (?:also |really )?like) (?:to|a|an|the|my)\b"
    r"|(?:one of |both of |all of |some of )?(?:my|our) (?:[\w'-]+ )?(?:orders?|packages?|parcels?|deliver(?:y|ies)|items?)"
    r" (?:is|are|was|were|has|have|hasn'?t|haven'?t|isn'?t|aren'?t|still|never|got|came|arrived|went)\b"
    r"|(?:for|on) (?:my|our) (?:[\w'-]+ ){0,2}?order (?=(?:the|my|a|an|i|please)\b)"  # "… for my open order the lamp in red"
    r"|(?:(?<=\bit )|(?<=\bthem ))(?P<next>(?:the|my)\b)))",  # "… return them the rug from …" (verb checked below)
    re.IGNORECASE,
)
_OTHERWISE = re.compile(r"\s+(?=(?:otherwise|or else|failing that)\b)", re.IGNORECASE)
# Words after which those cues continue the sentence ("tell me what's", "the one I want to return").
_NO_BREAK_AFTER = frozenset(
    "know wonder wondering ask asking tell me see check about and or so but if whether to not sure idea um uh well also"
    " just please i you yes yeah okay ok what where when how which why who that this those these in on of from for"
    " with at by into do does did can could would will should am is are was were has have had"
    " a an the my your our their his her its any some no every each"  # no sentence ends on these
    " think guess hope believe mean say said because since than wanna gonna gotta lemme".split()
)
# "how many options are there", "which sizes do you have": a question still waiting for its verb goes on,
# and starts its own sentence ("… cancelled also what colors do you have").
_WH_TAIL = re.compile(r"(?:^|\s)(?P<q>(?:(?:um+|uh+|so|well|okay|ok|and|also)\s+)*(?:how|what|which)"
                      r"(?:\s+(?!(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have)\b)[\w'-]+)*)\s*$",
                      re.IGNORECASE)
_ITS_VERB = re.compile(r"(?:is|are) there\b|(?:do|can|could|would|will) you\b", re.IGNORECASE)
_RELATIVE_HEADS = frozenset("one ones thing things something anything everything stuff".split())


def punctuate(text: str) -> str:
    """Sentence breaks for a message written with no punctuation at all (speech recognisers often
    give none): the dialogue's clause rules and :func:`segments` read sentences. Punctuated text is
    returned as it is."""
    if re.search(r"[.,;!?:]", text):
        return text
    out, start, cue_end = [], 0, 0
    for m in _CLAUSE_START.finditer(text):
        cut = m.start()
        if _ITS_VERB.match(m.group("cue")) and (tail := _WH_TAIL.search(text[start:cut])):
            cut = start + tail.start("q")
        before = text[start:cut].split()
        if m.start() < cue_end or not before:
            continue
        if before[-1].lower() in _NO_BREAK_AFTER and not (before[-1].lower() == "please" and m.group("cue")[:4].lower() == "and "):
            continue  # "please and can you …": that please ended a request
        if before[-1].lower() in _RELATIVE_HEADS and re.match(r"i\b", m.group("cue"), re.IGNORECASE):
            continue  # "the one I want to return"
        if m.group("next") and not (len(before) > 1 and re.fullmatch(_ACTION_VERB, before[-2], re.IGNORECASE)):
            continue  # "is it the blue one": only a change done to it ends a request
        cue_end = m.end("cue")
        clause = text[start:cut]
        inner = re.search(r"\s(?=if\s)", clause.strip(), re.IGNORECASE)
        if inner and _QUESTION.match(clause):  # "what does it cost if it's cheap I'd like it": the if goes on
            out.append(clause.strip()[: inner.start()] + _end(clause))
            clause = clause.strip()[inner.end() :]
        # "if you can't, ...", "my order is late, please cancel it"; else a new sentence
        comma = re.match(r"\s*if\b", clause, re.IGNORECASE) or re.match(r"(?:also )?please\b", m.group("cue"), re.I)
        out.append(clause.rstrip() + ("," if comma else _end(clause)))
        start = cut if cut < m.start() else m.end()
    last = text[start:]
    out.append(last + (_end(last) if out or _QUESTION.match(last) else ""))
    out = [re.sub(r"\s+(?=then\b)", ", ", s, count=1) if re.match(r"\s*if\b", s, re.IGNORECASE) else s for s in out]
    return _OTHERWISE.sub(", ", " ".join(out).strip())  # "if it's gone, then ...", ", otherwise ..."


def _end(sentence: str) -> str:
    return "?" if _QUESTION.match(sentence) else "."


# A slip taken back as it is said: "with tactile — no, sorry, clicky switches", "the rucksack — sorry,
# the backpack", "in blue, I mean black" (a dash then "no," / "sorry", or "I mean" / "make that").
_TAKEN_BACK = re.compile(r"\s*(?:(?:[—–]|\s-{1,2})\s*(?:(?:(?:no|nope)(?:[,!.]\s*|\s+(?=sorry|wait))(?:(?:sorry|wait)\b[,!.]?\s*)?"
                         r"|(?:sorry|oops)\b[,!.]?\s*)(?:i mean\b,?\s*)?|i mean\b,?\s*)"
                         r"|,\s*(?:no,?\s*sorry,?\s*|sorry,?\s*)?(?:i mean|make that)\b,?\s*)", re.I)
_SLIP_OPENERS = frozenset("a an the my one with in of for to on from and or but size".split())


def retract_slips(text: str) -> str:
    """The message as meant: a slip taken back mid-sentence is dropped with its cue, so "the blue one —
    no, sorry, the black one" asks for black only. The slip is the last few words before the cue, after
    the word that opens them ("with", "the", "in"), which stays unless the correction repeats it."""
    at = 0
    while (cue := _TAKEN_BACK.search(text, at)) is not None:
        before, after = text[: cue.start()], text[cue.end() :]
        words = list(re.finditer(r"[\w'-]+", before))
        at = cue.end()
        if not re.search(r"(?:^|\s)[a-z'-]+\W*$", before, re.I):
            continue  # "…3069@example.com — no wait, it might be …": an email or a number is weighed as said
        start = next((w.end() for w in reversed(words[-4:-1]) if w.group().lower() in _SLIP_OPENERS), None)
        if start is None:
            start = words[-1].start() if words else cue.start()
        opener = re.search(r"([\w'-]+)\s*$", before[:start])
        if opener and after.lower().startswith(opener.group(1).lower() + " "):
            start = opener.start(1)  # "in blue — no, in red": the correction says "in" again
        text = f"{before[:start].rstrip()} {after}".strip()
        at = len(before[:start].rstrip())
    return text


def segments(text: str) -> list[str]:
    """Split a message into its requests; fragments under three words join the next one, not counting
    fillers and answer words ("uh yes please, also …" is one request, not a yes and a please)."""
    parts = [p.strip() for p in _SEGMENT_BREAK.split(text) if p and p.strip()]
    merged: list[str] = []
    carry = ""
    for part in parts:
        part = f"{carry} {part}".strip()
        if len([w for w in re.findall(r"[\w']+", part.lower()) if w not in _FILLERS]) < _MIN_SEGMENT_WORDS:
            carry = part
            continue
        merged.append(part)
        carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    return merged


@dataclass(frozen=True)
class _Weights:
    """Everything :meth:`IntentClassifier.predict` needs, as plain arrays."""

    terms: np.ndarray  # TF-IDF vocabulary, in column order
    idf: np.ndarray
    coef: np.ndarray  # (classes, 384 + terms)
    intercept: np.ndarray
    classes: tuple[Intent, ...]
    temperature: float
    fingerprint: str


class IntentClassifier:
    """Trains on labelled utterances and predicts one :class:`Intent` per message."""

    def __init__(self, encoder: Encoder, threshold: float = DEFAULT_THRESHOLD, seed: int = 0) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self.seed = seed
        self._weights: _Weights | None = None
        self._vectorizer: TfidfVectorizer | None = None

    # --- training --------------------------------------------------------------------------

    def train(self, texts: Sequence[str], labels: Sequence[Intent | str], progress: bool = False) -> "IntentClassifier":
        labels = [Intent(label) for label in labels]
        embeddings = self.encoder.encode(list(texts), progress=progress)
        y = np.array([str(label) for label in labels])
        # The problem is small: BLAS threads only fight each other (8x slower on a busy 2-core box).
        with threadpool_limits(limits=1):
            temperature = self._fit_temperature(list(texts), embeddings, y)
            vectorizer, model = self._fit(list(texts), embeddings, y)
        coef, intercept = _class_weights(model)
        self._set(
            _Weights(
                terms=vectorizer.get_feature_names_out(),
                idf=vectorizer.idf_,
                coef=coef,
                intercept=intercept,
                classes=tuple(Intent(c) for c in model.classes_),
                temperature=temperature,
                fingerprint=fingerprint(texts, labels, self.seed),
            )
        )
        return self

    @staticmethod
    def _fit(texts: list[str], embeddings: np.ndarray, y: np.ndarray) -> tuple[TfidfVectorizer, LogisticRegression]:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=_NGRAMS, sublinear_tf=True, min_df=2)
        features = hstack([csr_matrix(embeddings), vectorizer.fit_transform(texts)]).tocsr()
        return vectorizer, LogisticRegression(C=_C, max_iter=5000).fit(features, y)

    def _fit_temperature(self, texts: list[str], embeddings: np.ndarray, y: np.ndarray) -> float:
        """The softmax temperature that minimises the log-loss of out-of-fold predictions."""
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=self.seed)
        logits = np.zeros((len(y), len(np.unique(y))))
        for train, test in folds.split(embeddings, y):
            vectorizer, model = self._fit([texts[i] for i in train], embeddings[train], y[train])
            features = hstack([csr_matrix(embeddings[test]), vectorizer.transform([texts[i] for i in test])])
            coef, intercept = _class_weights(model)
            logits[test] = features.tocsr() @ coef.T + intercept
        truth = np.searchsorted(np.unique(y), y)
        grid = np.geomspace(0.2, 5.0, 81)
        losses = [-np.log(_softmax(logits / t)[np.arange(len(y)), truth] + 1e-12).mean() for t in grid]
        return float(grid[int(np.argmin(losses))])

    def _set(self, weights: _Weights) -> None:
        self._weights = weights
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=_NGRAMS,
            sublinear_tf=True,
            vocabulary={str(term): i for i, term in enumerate(weights.terms)},
        )
        self._vectorizer.idf_ = weights.idf

    # --- prediction ------------------------------------------------------------------------

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities, columns in :attr:`classes` order."""
        weights = self._trained()
        embeddings = self.encoder.encode(list(texts))
        features = hstack([csr_matrix(embeddings), self._vectorizer.transform(texts)]).tocsr()
        logits = features @ weights.coef.T + weights.intercept
        return _softmax(np.asarray(logits) / weights.temperature)

    @property
    def classes(self) -> tuple[Intent, ...]:
        return self._trained().classes

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[IntentPrediction]:
        """Predict a batch; each message and its request segments are encoded together."""
        batch: list[str] = []
        spans: list[tuple[int, int]] = []  # rows of each message's segments (empty for one segment)
        for text in texts:
            parts = segments(punctuate(text))
            batch.append(text)
            parts = parts if len(parts) > 1 else []
            spans.append((len(batch), len(batch) + len(parts)))
            batch.extend(parts)
        probs = self.probabilities(batch)
        return [
            self._prediction(self._announced(text, self._first_request(batch[start:end], probs[start - 1], probs[start:end])))
            for text, (start, end) in zip(texts, spans)
        ]

    def _announced(self, text: str, probs: np.ndarray) -> np.ndarray:
        """"Two exchanges: the boots …, and the puzzle …" names its requests' kind before any product:
        that kind wins over the product words that follow (which read like a product question)."""
        said = _ANNOUNCED.match(text)
        if said is None:
            return probs
        announced = 0.1 * probs
        announced[self.classes.index(_ANNOUNCED_KIND[said.group("kind").lower()])] += 0.9
        return announced

    def _first_request(self, parts: list[str], whole: np.ndarray, part_probs: np.ndarray) -> np.ndarray:
        """Probabilities for the first segment that confidently asks for something actionable, else
        those of the whole message.

        A segment's probabilities are multiplied by the whole message's (then renormalised): the
        segment says which request comes first, the message gives the context a segment lacks
        ("The mat I got is purple. Can it be exchanged?").
        """
        for text, probs in zip(parts, part_probs):
            if not _REQUEST.search(text):
                continue
            joint = probs * whole
            joint /= joint.sum()
            best = int(joint.argmax())
            if self.classes[best] in ACTIONABLE and joint[best] >= self.threshold:
                return joint
        return whole

    def _prediction(self, probs: np.ndarray) -> IntentPrediction:
        best = int(probs.argmax())
        confidence = float(probs[best])
        label = self.classes[best] if confidence >= self.threshold else Intent.OUT_OF_SCOPE
        return IntentPrediction(label, confidence, {c: float(p) for c, p in zip(self.classes, probs)})

    def _trained(self) -> _Weights:
        if self._weights is None:
            raise RuntimeError("the intent classifier is not trained; call train() or load()")
        return self._weights

    # --- persistence -----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the artifact atomically (a reader never sees half a file)."""
        weights = self._trained()
        meta = {
            "version": VERSION,
            "classes": [str(c) for c in weights.classes],
            "temperature": weights.temperature,
            "fingerprint": weights.fingerprint,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                meta=np.array(json.dumps(meta)),
                terms=weights.terms.astype(str),
                idf=weights.idf,
                coef=weights.coef,
                intercept=weights.intercept,
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, encoder: Encoder, threshold: float = DEFAULT_THRESHOLD) -> "IntentClassifier":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta["version"] != VERSION:
                raise ValueError(f"{path}: artifact version {meta['version']}, expected {VERSION}")
            weights = _Weights(
                terms=data["terms"],
                idf=data["idf"],
                coef=data["coef"],
                intercept=data["intercept"],
                classes=tuple(Intent(c) for c in meta["classes"]),
                temperature=float(meta["temperature"]),
                fingerprint=meta["fingerprint"],
            )
        classifier = cls(encoder, threshold)
        classifier._set(weights)
        return classifier

    @classmethod
    def load_or_train(
        cls, settings: Settings, encoder: Encoder | None = None, progress: bool = False
    ) -> "IntentClassifier":
        """The classifier for the bundled training data: loaded from disk, or trained and saved once."""
        if encoder is None:
            from shopagent.fusion.text import TextEncoder

            encoder = TextEncoder.load(settings)
        texts, labels = load_examples(TRAIN_DATA)
        path = artifact_path(settings)
        if path.is_file():
            try:
                classifier = cls.load(path, encoder)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                pass  # unreadable or from another version: retrain below
            else:
                if classifier._trained().fingerprint == fingerprint(texts, labels, classifier.seed):
                    return classifier
        classifier = cls(encoder).train(texts, labels, progress=progress)
        classifier.save(path)
        return classifier


@dataclass(frozen=True)
class IntentReport:
    """Quality of a classifier on labelled utterances (``shopagent eval intents``)."""

    labels: tuple[Intent, ...]
    accuracy: float
    macro_f1: float
    oos_precision: float
    oos_recall: float
    per_label: dict[Intent, tuple[float, float, float, int]]  # precision, recall, F1, support
    confusion: np.ndarray  # rows: true label, columns: predicted, in ``labels`` order
    errors: list[tuple[str, Intent, IntentPrediction]]  # text, true label, prediction

    def format(self, show_errors: bool = False) -> str:
        lines = [
            f"utterances        {int(self.confusion.sum())}",
            f"accuracy          {self.accuracy:.3f}",
            f"macro-F1          {self.macro_f1:.3f}",
            f"out_of_scope P/R  {self.oos_precision:.3f} / {self.oos_recall:.3f}",
            "",
            f"{'label':<18}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>5}",
        ]
        for label, (p, r, f1, n) in self.per_label.items():
            lines.append(f"{label:<18}{p:>10.3f}{r:>8.3f}{f1:>7.3f}{n:>5}")
        short = [str(label)[:5] for label in self.labels]
        lines += ["", "confusion (rows: true, columns: predicted)", " " * 18 + "".join(f"{s:>6}" for s in short)]
        for label, row in zip(self.labels, self.confusion):
            lines.append(f"{label:<18}" + "".join(f"{v if v else '.':>6}" for v in row))
        if show_errors:
            lines += ["", "errors"]
            lines += [f"  {truth} -> {pred.label} ({pred.confidence:.2f}): {text}" for text, truth, pred in self.errors]
        return "\n".join(lines)


def evaluate(classifier: IntentClassifier, texts: Sequence[str], labels: Sequence[Intent]) -> IntentReport:
    """Score ``classifier`` on labelled utterances."""
    predictions = classifier.predict_many(texts)
    truth = [str(label) for label in labels]
    predicted = [str(p.label) for p in predictions]
    order = tuple(Intent)
    names = [str(label) for label in order]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=names, zero_division=0)
    oos = names.index(Intent.OUT_OF_SCOPE)
    present = support > 0  # macro-F1 over the labels the data contains
    return IntentReport(
        labels=order,
        accuracy=float(np.mean([t == p for t, p in zip(truth, predicted)])) if truth else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        oos_precision=float(precision[oos]),
        oos_recall=float(recall[oos]),
        per_label={
            label: (float(p), float(r), float(f), int(n))
            for label, p, r, f, n in zip(order, precision, recall, f1, support)
        },
        confusion=confusion_matrix(truth, predicted, labels=names),
        errors=[(t, Intent(y), p) for t, y, p in zip(texts, truth, predictions) if y != str(p.label)],
    )


def artifact_path(settings: Settings) -> Path:
    return settings.models_dir / f"intents-v{VERSION}.npz"


def fingerprint(texts: Sequence[str], labels: Sequence[Intent], seed: int) -> str:
    """Identifies a training run: data, hyperparameters, seed and artifact version."""
    digest = hashlib.sha256(json.dumps([VERSION, _C, _NGRAMS, seed]).encode())
    for text, label in zip(texts, labels):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def _class_weights(model: LogisticRegression) -> tuple[np.ndarray, np.ndarray]:
    """``(coef, intercept)`` with one row per class (scikit-learn keeps a single row for two)."""
    if len(model.classes_) == 2:
        return np.vstack([np.zeros_like(model.coef_), model.coef_]), np.concatenate([[0.0], model.intercept_])
    return model.coef_, model.intercept_


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
