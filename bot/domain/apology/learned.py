"""The learned layer of the apology check: per-category logistic regression over hashed
word and character n-gram TF-IDF features, scored in pure Python.

The weights are data (`model.json` beside this file), trained by `python -m
bench.train_apology` (scikit-learn, dev extra only) from the corpus in tests/corpus/apology.
This module is what both training and run time use to turn a sentence into features, so
the two cannot drift apart. Nothing here downloads anything, and numpy is not needed.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from bot.domain.apology.rules import Rule, Source

DIM = 1 << 20  # hash buckets; only the ones seen in training are stored
CHAR_NGRAMS = (2, 3, 4, 5)
WORD_NGRAMS = (1, 2, 3)
MODEL_RESOURCE = "model.json"

# What the model scores. Over-apology is a count across sentences and stays a rule.
CATEGORIES: tuple[Rule, ...] = (Rule.BLAME, Rule.DENIAL, Rule.EXCUSE, Rule.HEDGING,
                                Rule.PASSIVE, Rule.SELF_PRAISE)

_TOKEN = re.compile(r"[a-z0-9£$€%]+(?:['’][a-z]+)?", re.IGNORECASE)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # lower-cased, straight apostrophes
    start: int
    end: int


def tokens(sentence: str) -> list[Token]:
    norm = sentence.translate(_QUOTES)
    return [Token(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(norm)]


def _bucket(gram: str) -> int:
    return zlib.crc32(gram.encode("utf-8")) & (DIM - 1)


def grams(toks: list[Token]) -> list[tuple[int, int, int]]:
    """Every feature occurrence as (bucket, first token, last token)."""
    out: list[tuple[int, int, int]] = []
    words = ["<s>"] + [t.text for t in toks] + ["</s>"]
    for n in WORD_NGRAMS:
        for i in range(len(words) - n + 1):
            first, last = max(i - 1, 0), min(i + n - 2, len(toks) - 1)
            if first > last:
                continue
            out.append((_bucket("w" + str(n) + " " + " ".join(words[i:i + n])), first, last))
    for k, tok in enumerate(toks):
        out.extend((bucket, k, k) for bucket in _char_buckets(tok.text))
    return out


@lru_cache(maxsize=20_000)
def _char_buckets(word: str) -> tuple[int, ...]:
    """The character n-grams of one word, hashed (words repeat: cached)."""
    padded = f" {word} "
    return tuple(_bucket("c" + padded[i:i + n])
                 for n in CHAR_NGRAMS for i in range(len(padded) - n + 1))


# Cues: a few hand-made word lists and shapes the n-grams cannot generalise from a few
# hundred sentences (any carrier's name, any bad outcome, a passive, who is the subject).
# Each is one extra feature, weighted by training like any other; they are not rules.
def _words(*ws: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(ws) + r")\b", re.IGNORECASE)


_FIRST_PERSON = _words("we", "i", "us", "our team", "we've", "we'd", "we're", "i'm", "i've")
_WE_START = re.compile(r"^\W*(?:we|i)\b", re.IGNORECASE)
_BE_PASSIVE = re.compile(
    r"\b(?:was|were|has been|have been|had been|is being|are being|got|been|get)\s+"
    r"(?:\w+ly\s+|not\s+|never\s+)?(?:\w+ed|\w+en|sent|lost|left|given|taken|made|put|held|"
    r"shown|told|paid|kept|sold|brought|caught|built|cut|set|shut|spent|mixed|swapped|"
    r"overlooked|misplaced|missed|issued|applied|charged|cancell?ed|closed|frozen|"
    r"dispensed|done|known|said|found|hit|struck)\b", re.IGNORECASE)
_THIRD = _words(
    r"\w*(?:courier|supplier|vendor|partner|provider|contractor|carrier|manufacturer|"
    r"agency|agent|operator|processor|wholesaler|distributor|haulier|broker|engineer|"
    r"driver|crew|factory|lab|bank|airline|airport|hotel|venue|promoter|garage|landlord|"
    r"outsourcer|firm|company|gateway|scheme|board|council|department|authority|developer|"
    r"maker|insurer|underwriter|adjuster|examiner|surgery|hospital|pharmacy|bakery|farm|"
    r"school|university)s?",
    # Places and tools are someone else's unless they are "our" depot, warehouse, app…
    r"(?<!our )(?<!our \w{3} )(?<!our \w{4} )(?<!our \w{5} )(?<!our \w{6} )(?<!our \w{7} )"
    r"(?:depot|hub|warehouse|platform|network|office)s?",
    "3pl", "customs", "the system", "the software", "the app", "the algorithm", "the website",
    "the machine", "the robot", "their", "they", "them")
_NAME_MID = re.compile(r"(?<=\w )(?:the )?[A-Z][\w&'-]*[A-Za-z](?:'s)?\b")
# The customer as the one who got it wrong; "you did not get/receive…" is impact, not blame.
_YOU_DID = re.compile(r"\byou(?:r)? (?:\w+ ){0,2}?(?:entered|typed|gave|chose|selected|"
                      r"picked|forgot|(?:didn't|did not|failed to)(?! (?:get|receive|have|"
                      r"hear|see|need|know))|missed|used|ticked|provided|signed|put|wrote)\b",
                      re.IGNORECASE)
_BAD = _words(r"wrong\w*", "late", "lost", "missing", "missed", "twice", "double", r"error\w*",
              r"mistake\w*", "broken", "broke", "damaged", r"cancell?ed", "delayed", "delay",
              r"fail\w*", "fault", "faulty", r"incorrect\w*", "overcharged", "declined",
              "rejected", "left", "without", "never", "not", "n't", r"mis\w+", "bug", "glitch",
              "outage", "down", "crashed", "problem", "issue", "confusion", "frozen", "blocked")
_MINIMISE = _words("only", "just", "few", "handful", "minor", "small", r"slight\w*", "barely",
                   "tiny", "majority", "most", "technically", "actually", r"brief\w*",
                   "isolated", "one-off", "little", "minimal", "rare", "hardly", "short",
                   "strictly", "within", "acceptable", "no real", "nothing", "safe", "never",
                   "fortunately", "not our", "no fault", "in line with", "as such")
_CIRCUMSTANCE = _words(r"weather", r"storms?", "snow", "fog", r"flood\w*", r"heat\w*", "ice",
                       "demand", "busy", "busiest", "rush", "season", r"strikes?",
                       r"shortages?", "sick", "illness", "flu", "pandemic", "covid",
                       r"holidays?", "backlog", "migration", "upgrade", "new system",
                       "volumes?", "pressure", "stretched", "unprecedented", "beyond",
                       "despite", "small team", "small business", "growth", "record",
                       "circumstances", "control", "industry", "everyone")
_PRAISE = _words("proud", "pride", r"awards?", "award-winning", "best", "leading",
                 "leader", "excellent", "renowned", "trusted", "rated", "world-class",
                 "outstanding", "reputation", "famous", "known", "love", "stars", "envy",
                 "second to none", "highest", "finest", "exceptional", r"\w+est",
                 "always", "millions", "thousands", "record", r"brilliant\w*",
                 r"heroic\w*", r"swift\w*", "rapid", r"tireless\w*")
_HEDGE = _words("may", "might", "could", "any", "if", "seems?", "appears?", "apparently",
                "possible", "possibly", "likely", "perhaps", "should", "where",
                "in case", "hear", "feel", "felt", "reports?", "extent")
_APOLOGY = _words("sorry", r"apologi\w+", r"regret\w*")


def cues(sentence: str) -> list[str]:
    """The names of the cues present in one sentence."""
    s = sentence.translate(_QUOTES)
    first = bool(_FIRST_PERSON.search(s))
    found = {
        "first_person": first, "we_start": bool(_WE_START.search(s)),
        "passive": bool(_BE_PASSIVE.search(s)), "third": bool(_THIRD.search(s)),
        "name_mid": bool(_NAME_MID.search(s)), "you_did": bool(_YOU_DID.search(s)),
        "bad": bool(_BAD.search(s)), "minimise": bool(_MINIMISE.search(s)),
        "circumstance": bool(_CIRCUMSTANCE.search(s)), "praise": bool(_PRAISE.search(s)),
        "hedge": bool(_HEDGE.search(s)), "apology": bool(_APOLOGY.search(s)),
    }
    names = [k for k, v in found.items() if v]
    # Pairs that matter more than their parts: a bad outcome with nobody named as us.
    for a, b in (("passive", "bad"), ("third", "bad"), ("name_mid", "bad"),
                 ("bad", "minimise"), ("apology", "hedge")):
        if found[a] and found[b]:
            names.append(f"{a}+{b}")
    if not first:
        names.extend(f"{k}-we" for k in ("passive", "third", "name_mid", "bad", "praise",
                                          "circumstance", "minimise"))
        names[:] = [n for n in names if not n.endswith("-we") or found[n[:-3]]]
    return names


CUE_WEIGHT = 0.2  # the value of a present cue, beside the L2-normalised n-grams


def cue_buckets(sentence: str) -> list[int]:
    return [_bucket("k:" + name) for name in cues(sentence)]


def counts(sentence: str) -> dict[int, int]:
    """Hashed feature counts of one sentence (what training vectorises, too)."""
    c: dict[int, int] = {}
    for bucket, _, _ in grams(tokens(sentence)):
        c[bucket] = c.get(bucket, 0) + 1
    return c


def decode_floats(encoded: str) -> array[float]:
    """The inverse of `encode_floats`."""
    return _floats(encoded)


def _floats(encoded: str) -> array[float]:
    a = array("f")
    a.frombytes(base64.b64decode(encoded))
    if sys.byteorder != "little":
        a.byteswap()
    return a


def _ints(encoded: str) -> array[int]:
    a = array("I")
    a.frombytes(base64.b64decode(encoded))
    if sys.byteorder != "little":
        a.byteswap()
    return a


def encode_floats(values: list[float]) -> str:
    a = array("f", values)
    if sys.byteorder != "little":
        a.byteswap()
    return base64.b64encode(a.tobytes()).decode("ascii")


def encode_ints(values: list[int]) -> str:
    a = array("I", values)
    if sys.byteorder != "little":
        a.byteswap()
    return base64.b64encode(a.tobytes()).decode("ascii")


class Model:
    """Weights, IDF and thresholds, loaded once; `score` is pure and allocation-light."""

    def __init__(self, data: dict[str, Any]) -> None:
        buckets = _ints(data["buckets"])
        self.column: dict[int, int] = {b: i for i, b in enumerate(buckets)}
        self.idf = _floats(data["idf"])
        self.weights = {Rule(k): _floats(v) for k, v in data["weights"].items()}
        if tuple(self.weights) != CATEGORIES:
            raise ValueError(f"model categories {tuple(self.weights)} != {CATEGORIES}")
        # One tuple of the six weights per column: one pass over a sentence's features.
        self._rows = list(zip(*self.weights.values(), strict=True))
        self._bias = tuple(float(data["bias"][r.value]) for r in CATEGORIES)
        self.bias = {Rule(k): float(v) for k, v in data["bias"].items()}
        self.thresholds = {Rule(k): float(v) for k, v in data["thresholds"].items()}
        # "rule:blame": findings of that rule from that layer may block (see check._blocks).
        self.blocking = frozenset((Source(k.split(":")[0]), Rule(k.split(":")[1]))
                                  for k in data.get("blocking", []))
        self.meta: dict[str, Any] = {k: v for k, v in data.items()
                                     if k not in ("buckets", "idf", "weights")}

    def vector(self, feature_counts: dict[int, int],
               cue_list: Sequence[int] = ()) -> dict[int, float]:
        """Column -> sublinear TF × IDF, L2-normalised, then the cues at CUE_WEIGHT;
        buckets unseen in training dropped."""
        v: dict[int, float] = {}
        for bucket, n in feature_counts.items():
            col = self.column.get(bucket)
            if col is not None:
                v[col] = (1.0 + math.log(n)) * self.idf[col]
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        out = {col: x / norm for col, x in v.items()}
        for bucket in cue_list:
            col = self.column.get(bucket)
            if col is not None:
                out[col] = CUE_WEIGHT
        return out

    def probabilities(self, sentence: str) -> dict[Rule, float]:
        v = self.vector(counts(sentence), cue_buckets(sentence))
        a0, a1, a2, a3, a4, a5 = self._bias
        rows = self._rows
        for col, x in v.items():
            w0, w1, w2, w3, w4, w5 = rows[col]
            a0 += w0 * x
            a1 += w1 * x
            a2 += w2 * x
            a3 += w3 * x
            a4 += w4 * x
            a5 += w5 * x
        return dict(zip(CATEGORIES, map(_sigmoid, (a0, a1, a2, a3, a4, a5)), strict=True))

    def explain(self, sentence: str, rule: Rule) -> tuple[int, int]:
        """The run of words (at most six) whose features pushed `rule`'s score up most,
        as offsets into the sentence."""
        toks = tokens(sentence)
        if not toks:
            return 0, len(sentence)
        occurrences = grams(toks)
        c: dict[int, int] = {}
        for bucket, _, _ in occurrences:
            c[bucket] = c.get(bucket, 0) + 1
        return self._span(toks, occurrences, self.vector(c), self.weights[rule], c)

    def _span(self, toks: list[Token], occurrences: list[tuple[int, int, int]],
              v: dict[int, float], w: array[float], c: dict[int, int]) -> tuple[int, int]:
        per_token = [0.0] * len(toks)
        for bucket, first, last in occurrences:
            col = self.column.get(bucket)
            if col is None:
                continue
            share = w[col] * v[col] / c[bucket] / (last - first + 1)
            for k in range(first, last + 1):
                per_token[k] += share
        best = max(range(len(toks)), key=lambda k: per_token[k])
        top = max(per_token[best], 1e-9)
        lo = hi = best

        def content(a: int, b: int) -> int:
            return sum(1 for t in toks[a:b + 1] if t.text not in _STOPWORDS)

        # Grow towards the stronger neighbour while it still weighs (or until the quote
        # holds two words that mean something), at most six words.
        while hi - lo < 5:
            left = per_token[lo - 1] if lo > 0 else -math.inf
            right = per_token[hi + 1] if hi + 1 < len(toks) else -math.inf
            if max(left, right) < 0.3 * top and content(lo, hi) >= 2:
                break
            if left == right == -math.inf:
                break
            if left >= right:
                lo -= 1
            else:
                hi += 1
        while hi > lo and toks[hi].text in _STOPWORDS:
            hi -= 1
        while lo < hi and toks[lo].text in _STOPWORDS:
            lo += 1
        return toks[lo].start, toks[hi].end


_STOPWORDS = frozenset(
    "a an the of to in on at for with by from and or but so as it its this that these those "
    "is are be been being was were has have had do does did your you our we us i my me".split())


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@cache
def model() -> Model:
    """The shipped model, loaded on first use."""
    text = resources.files("bot.domain.apology").joinpath(MODEL_RESOURCE).read_text("utf-8")
    return Model(json.loads(text))
