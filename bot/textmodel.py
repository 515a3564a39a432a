"""Building blocks of the small linear text models trained from the project's data
(`bot.nlu_models`: the NLU's flags and the triage).

A message becomes sparse word (1-2) and character (2-5, within words) n-gram TF-IDF features
of its canonical form (lower case, apostrophes dropped, "ä"/"ae"/"a" alike, see
`bot.matching.canonical`), optionally next to dense features (the triage cues); a
scikit-learn logistic regression learns the weights. Training is deterministic and takes a few
seconds, so models are built from their data on first use and kept on disk under `var/nlu/`,
named by a digest of everything they were trained from: a changed example, cue or this code
makes a new file, and a stale one is never loaded.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from bot.matching import canonical

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile(r"['’`´]")
# The code that shapes a model: a change here must not load a model trained by older code.
MODEL_FORMAT = "textmodel-2"


def normalize(text: str) -> str:
    """The canonical words of `text` joined by single spaces ("Can't hören" -> "cant horen")."""
    return " ".join(canonical(word) for word in _WORD.findall(_APOSTROPHES.sub("", text or "")))


class TextFeaturizer:
    """Word (1-2) and character (2-5, within words) n-gram TF-IDF of canonical text.

    Fitted with scikit-learn's `TfidfVectorizer`; at prediction time the same features are
    computed by `rows` in plain Python + numpy (a vocabulary lookup per n-gram): scikit-learn's
    per-call checks and sparse-matrix construction cost ten times more than the arithmetic for
    the one message Rasa parses at a time.
    """

    def __init__(self, char_range: tuple[int, int] = (2, 5)) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizers = [
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"[^ ]+"),
            TfidfVectorizer(analyzer="char_wb", ngram_range=char_range, sublinear_tf=True),
        ]
        self._compiled = None

    def fit(self, texts: Sequence[str]) -> "TextFeaturizer":
        normalized = [normalize(t) for t in texts]
        for vectorizer in self.vectorizers:
            vectorizer.fit(normalized)
        self._compiled = None
        return self

    @property
    def width(self) -> int:
        return sum(len(vectorizer.vocabulary_) for vectorizer in self.vectorizers)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_compiled": None}  # analyzers are closures: rebuilt after loading

    def _compile(self):
        if self._compiled is None:
            parts, offset = [], 0
            for vectorizer in self.vectorizers:
                parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset))
                offset += len(vectorizer.vocabulary_)
            self._compiled = parts
        return self._compiled

    def rows(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text as (feature indices, values): the same numbers `transform` gives."""
        result = []
        for text in texts:
            normalized = normalize(text)
            indices: list[np.ndarray] = []
            values: list[np.ndarray] = []
            for analyzer, vocabulary, idf, offset in self._compile():
                counts: dict[int, int] = {}
                for gram in analyzer(normalized):
                    index = vocabulary.get(gram)
                    if index is not None:
                        counts[index] = counts.get(index, 0) + 1
                if not counts:
                    continue
                found = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[found]
                weights /= np.sqrt(weights @ weights)
                indices.append(found + offset)
                values.append(weights)
            if indices:
                result.append((np.concatenate(indices), np.concatenate(values)))
            else:
                result.append((np.zeros(0, dtype=np.int64), np.zeros(0)))
        return result

    def transform(self, texts: Sequence[str]):
        """The sparse TF-IDF matrix (training)."""
        from scipy.sparse import hstack

        normalized = [normalize(t) for t in texts]
        return hstack([vectorizer.transform(normalized) for vectorizer in self.vectorizers], format="csr")


def with_dense(sparse, dense: np.ndarray | None, scale: float = 1.0):
    """The sparse n-gram matrix with dense columns (e.g. cue scores) appended."""
    if dense is None:
        return sparse
    from scipy.sparse import csr_matrix, hstack

    return hstack([sparse, csr_matrix(np.asarray(dense, dtype=float) * scale)], format="csr")


class LinearHead:
    """A logistic regression on a feature matrix; `classes` in scikit-learn's order."""

    def __init__(self, classifier) -> None:
        self.classifier = classifier

    @classmethod
    def fit(cls, features, labels: Sequence, *, c: float = 4.0, class_weight: str | None = None) -> "LinearHead":
        from sklearn.linear_model import LogisticRegression

        classifier = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
        classifier.fit(features, list(labels))
        return cls(classifier)

    @property
    def classes(self) -> list:
        return list(self.classifier.classes_)

    def predict_proba(self, features) -> np.ndarray:
        return self.classifier.predict_proba(features)

    def predict_rows(self, rows: Sequence[tuple[np.ndarray, np.ndarray]], dense: np.ndarray | None = None,
                     width: int = 0) -> np.ndarray:
        """`predict_proba` of rows from `TextFeaturizer.rows`, with `dense` columns (already
        scaled) starting at column `width`: the same probabilities, without scikit-learn's
        per-call overhead."""
        coef, intercept = self.classifier.coef_, self.classifier.intercept_
        scores = np.empty((len(rows), coef.shape[0]))
        for i, (indices, values) in enumerate(rows):
            scores[i] = coef[:, indices] @ values
        if dense is not None:
            scores += np.asarray(dense, dtype=float) @ coef[:, width:width + dense.shape[1]].T
        scores += intercept
        if coef.shape[0] == 1:  # binary: the logistic of the one score
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        scores -= scores.max(axis=1, keepdims=True)  # multinomial: softmax
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)


def digest(parts: Iterable[bytes | str]) -> str:
    """A short digest of everything a model is trained from."""
    hasher = hashlib.sha256(MODEL_FORMAT.encode())
    for part in parts:
        hasher.update(part.encode() if isinstance(part, str) else part)
        hasher.update(b"\0")
    return hasher.hexdigest()[:16]


def file_inputs(paths: Iterable[Path]) -> list[bytes]:
    """Name and content of every file (sorted), for `digest`."""
    found: list[bytes] = []
    for path in sorted(paths):
        found.append(str(path.name).encode())
        found.append(path.read_bytes())
    return found


def model_dir() -> Path:
    """Read on every call (not the cached process settings), so a test can move it."""
    from bot.settings import from_environment

    return from_environment().nlu_model_dir


def cached_model(name: str, key: str, build: Callable[[], object]) -> object:
    """The model `name` trained from inputs with digest `key`: loaded from `var/nlu/` when
    there, else built now and saved (best effort: a read-only checkout still works)."""
    directory = model_dir()
    path = directory / f"{name}-{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
            logger.warning("could not load %s (%s); training it again", path, error)
    model = build()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob(f"{name}-*.pkl"):
            if old != path:
                old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False, suffix=".tmp") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError as error:
        logger.warning("could not save %s (%s); using it from memory", path, error)
    return model
