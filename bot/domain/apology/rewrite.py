"""Rewrite a flawed sentence so that it owns the mistake, from the sentence's own parts.

`rewrite(sentence, rule)` returns a sentence a person can paste, or None when no safe
rewrite can be built from the words there ("Our award-winning team" → "Our team"; "DHL
misrouted your parcel." → "We misrouted your parcel."; "Your order was delayed." → "We
delayed your order."). Pure string work: no model, no I/O. The check offers a rewrite only
when the rewritten sentence passes the check itself (see `check.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.domain.apology.rules import Rule

# ---- small grammar helpers ---------------------------------------------------------------

_IRREGULAR_PAST = {  # participle -> simple past, where they differ
    "given": "gave", "taken": "took", "shown": "showed", "done": "did", "gone": "went",
    "forgotten": "forgot", "broken": "broke", "written": "wrote", "chosen": "chose",
    "stolen": "stole", "driven": "drove", "seen": "saw", "begun": "began", "frozen": "froze",
    "overtaken": "overtook", "mistaken": "mistook", "eaten": "ate", "known": "knew",
}
_BASE = {  # past or participle -> base, for "did not …"
    "sent": "send", "lost": "lose", "left": "leave", "made": "make", "put": "put",
    "held": "hold", "told": "tell", "paid": "pay", "kept": "keep", "sold": "sell",
    "given": "give", "taken": "take", "shown": "show", "done": "do", "brought": "bring",
    "forgotten": "forget", "broken": "break", "written": "write", "read": "read", "set": "set",
    "cut": "cut", "shut": "shut", "built": "build", "caught": "catch", "found": "find",
    "gone": "go", "spent": "spend", "mislaid": "mislay", "misread": "misread",
    "frozen": "freeze", "chosen": "choose", "won": "win", "heard": "hear", "met": "meet",
}
_PARTICIPLE = (r"(?:\w+ed|sent|lost|left|made|put|held|told|paid|kept|sold|given|taken|shown|"
               r"done|brought|forgotten|broken|written|read|set|cut|shut|built|caught|found|"
               r"gone|spent|mislaid|misread|frozen|chosen|overtaken|stolen)")
_PAST_VERB = (r"(?:(?:never |also |then |just |accidentally |wrongly )?(?:\w+ed|lost|sent|left|"
              r"broke|gave|took|put|kept|held|forgot|made|misread|mislaid|sold|told|paid|"
              r"brought|built|caught|cut|let|set|shut|threw|went|sat|had)|did not|didn't|"
              r"failed to|forgot to|could not|couldn't)")
_VOWELS = "aeiou"


def _past(participle: str) -> str:
    return _IRREGULAR_PAST.get(participle.lower(), participle)


def _base(verb: str) -> str:
    """"recorded" -> "record", "emptied" -> "empty", "cancelled" -> "cancel"; best effort."""
    v = verb.lower()
    if v in _BASE:
        return _BASE[v]
    if v.endswith("ied"):
        return v[:-3] + "y"
    if not v.endswith("ed"):
        return v
    stem = v[:-2]
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]  # stopped -> stop
    if stem.endswith("ll") and len(stem) > 4:
        return stem[:-1]  # cancelled -> cancel
    # closed -> close, issued -> issue, priced -> price; processed -> process
    if stem[-1] in "csvzgu" and stem[-2:] not in ("ss", "ck", "ng") or stem.endswith(
            ("at", "it", "ut", "ot")) and len(stem) > 5 and stem[-3] in _VOWELS:
        return stem + "e"
    return stem


def _object(np: str) -> str:
    """A subject noun phrase as an object: "Your order" -> "your order", "You" -> "you"."""
    words = np.split(" ", 1)
    first = words[0]
    if first in ("You", "I"):
        return np if first == "I" else "you" + np[3:]
    if first.isupper() and len(first) > 1 or (first[:1].isupper() and first[1:2].isupper()):
        return np  # an acronym stays as it is
    if first[:1].isupper() and first[1:].islower() and len(words) > 1:
        return first.lower() + np[len(first):]  # capitalised only because it came first
    if first.lower() in ("the", "your", "a", "an", "some", "our", "this", "that", "these",
                         "those", "several", "many", "all", "every", "each", "one", "two",
                         "three", "four", "five", "half", "most"):
        return first.lower() + np[len(first):]
    return np


def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _split_end(sentence: str) -> tuple[str, str]:
    s = sentence.strip()
    if s and s[-1] in ".!?":
        return s[:-1], s[-1]
    return s, "."


_LEAD = re.compile(r"^(?:unfortunately|sadly|regrettably|i'm afraid|we regret to say|"
                   r"it turns out|it has come to light that)\s*,?\s*", re.IGNORECASE)


def _drop_lead(s: str) -> str:
    return _LEAD.sub("", s)


# ---- per rule ------------------------------------------------------------------------------

_THIRD_AGENT = (r"(?:(?i:the|our|a|an|their|one of our|your)\s+(?:[\w'-]+\s+){0,5}?"
                r"(?:[\w'-]+)|[A-Z][\w&'.-]*(?:\s+[A-Z][\w&'.-]*){0,2}|\d\w*)")


def _blame(s: str) -> str | None:
    body, end = _split_end(_drop_lead(s))
    # "The address you entered was missing a house number."
    m = re.match(r"^the (\w+(?: \w+)?) you (?:entered|gave|typed|provided|chose|selected|"
                 r"used) (was|were) (.+)$", body, re.IGNORECASE)
    if m:
        return _sentence(f"We did not notice that the {m[1]} {m[2]} {m[3]}{end}")
    # "…because you entered the wrong postcode" -> "…, and we should have caught it"
    m = re.match(r"^(.+?),? (?:because|as|since) (?:you|your)\b.+$", body, re.IGNORECASE)
    if m and not re.match(r"^(?:because|as|since)\b", body, re.IGNORECASE):
        return _sentence(f"{m[1]}, and we should have caught it{end}")
    # "The glitch was on Stripe's end." -> "The glitch was ours."
    m = re.match(r"^(.+?) (was|is|were|are) on (?:the |their )?[\w' -]*?(?:side|end)\b.*$",
                 body, re.IGNORECASE)
    if m:
        return _sentence(f"{m[1]} {m[2]} ours{end}")
    # "The delay was caused by DHL." -> "We caused the delay."
    m = re.match(r"^(the|your|this|that) (.+?) (?:was|were|has been|had been) caused by .+$",
                 body, re.IGNORECASE)
    if m:
        return _sentence(f"We caused {m[1].lower()} {m[2]}{end}")
    # "…, due to a problem with our courier." -> "…, and that is our mistake."
    m = re.match(r"^(.+?),? (?:due to|because of|owing to|caused by|thanks to) .+$", body,
                 re.IGNORECASE)
    if m and len(m[1].split()) >= 2:
        return _sentence(f"{m[1]}, and that is our mistake{end}")
    # "A glitch in the system meant your invoice showed the wrong amount."
    m = re.match(r"^(?:an?|the) (?:\w+ )?(?:glitch|bug|error|fault|problem|issue)s? (?:in|with|"
                 r"on) [^,]+? (?:meant|caused|led to)(?: that)? (.+)$", body, re.IGNORECASE)
    if m:
        return _sentence(f"We made an error, and {m[1]}{end}")
    # "It was the haulier who left the wardrobe in the rain." -> "We left the wardrobe…"
    m = re.match(rf"^it was {_THIRD_AGENT} (?:who|that|which) ({_PAST_VERB}\b.*)$", body,
                 re.IGNORECASE)
    if m:
        return _sentence(f"We {m[1]}{end}")
    # "Your deposit was held up by the scheme." -> "We held up your deposit."
    m = re.match(rf"^(.+?) (?:was|were|has been|have been|had been) ({_PARTICIPLE})"
                 rf"( (?:up|back|out|off|over))? by (?:the|our|a|an|their|[A-Z])[^,]*(,.*)?$",
                 body)
    if m and len(m[1].split()) <= 5:
        return _sentence(f"We {_past(m[2])}{m[3] or ''} {_object(m[1])}{m[4] or ''}{end}")
    # "Your quote went up because the underwriter changed their pricing."
    m = re.match(r"^(.+?),? because (?:the|our|a|an|their) .+$", body, re.IGNORECASE)
    if m and len(m[1].split()) >= 3 and not body.lower().startswith("because"):
        return _sentence(f"{m[1]}, and that is our mistake{end}")
    # "DHL misrouted your parcel." / "Our 3PL dropped the ball." -> "We misrouted…"
    m = re.match(rf"^{_THIRD_AGENT}(?:'s?)? ((?:has |have |had )?(?:also |then |just )?"
                 rf"{_PAST_VERB}\b.*)$", body)
    if m and not re.search(r"\b(?:our|us|we)\b", m[1], re.IGNORECASE):
        rest = re.sub(r"^has ", "have ", m[1])
        rest = re.sub(r",? not us$", "", rest)
        return _sentence(f"We {rest}{end}")
    return None


_PASSIVE_SUBJ = re.compile(
    rf"^(?P<subj>.+?) (?P<aux>was|were|has been|have been|had been|got|is being|are being) "
    rf"(?P<adv>(?:also |then |accidentally |mistakenly |wrongly |incorrectly )?)"
    rf"(?P<neg>not |never )?(?P<adv2>(?:\w+ly )?)(?P<verb>{_PARTICIPLE})\b(?P<rest>.*)$")


def _passive(s: str) -> str | None:
    body, end = _split_end(_drop_lead(s))
    cause = _CAUSE_LEAD.match(body)  # "Due to demand, your order was delayed" -> the clause
    if cause:
        body = cause[1]
    lower = body.lower()
    m = re.match(r"^(?:mistakes|errors|an error|a mistake|an oversight) (?:were|was|have been|"
                 r"has been|had been) made\b(.*)$", body, re.IGNORECASE)
    if m:
        what = body.split(" ", 1)[0].lower()
        noun = {"mistakes": "mistakes", "errors": "errors"}.get(what)
        noun = noun or " ".join(body.split(" ", 2)[:2]).lower()
        return _sentence(f"We made {noun}{m[1]}{end}")
    m = re.match(r"^(?:an?|the|some) (?:\w+ )?(?:error|issue|problem|mistake|fault|glitch|"
                 r"outage|incident|failure|bug|mix-?up)s? (?:occurred|has occurred|happened|"
                 r"arose|has arisen)\b(.*)$", body, re.IGNORECASE)
    if m:
        return _sentence(f"We made an error{m[1]}{end}")
    m = re.match(r"^(?:something|things) (?:went|has gone|have gone|had gone) wrong(?: with "
                 r"(.+))?$", body, re.IGNORECASE)
    if m:
        return _sentence(f"We got {_object(m[1])} wrong{end}" if m[1] else
                         f"We made a mistake{end}")
    m = re.match(r"^there (?:was|were|has been|have been|had been) (?:an? |some )?(?:\w+ )?"
                 r"(?:error|issue|problem|mix-?up|glitch|hiccup|oversight|mistake)s? (?:with|"
                 r"in) (.+)$", body, re.IGNORECASE)
    if m:
        return _sentence(f"We got {_object(m[1])} wrong{end}")
    m = _PASSIVE_SUBJ.match(body)
    if not m or " by " in m["rest"] and not re.search(r"\bby (?:mistake|accident)\b",
                                                       m["rest"]):
        return None
    subj = re.sub(r"\s+(?:may|might|could|should|would|must|will|can)(?: possibly| well)?$",
                  "", m["subj"], flags=re.IGNORECASE)
    if (re.search(r"\b(?:we|us|our team)\b", subj, re.IGNORECASE) or len(subj.split()) > 6
            or "," in subj):
        return None
    verb = m["verb"]
    if m["neg"]:
        base = _base(verb)
        phrase = f"did not {base}" if m["neg"] == "not " else f"never {_past(verb)}"
    else:
        phrase = _past(verb)
    adv = (m["adv"] + m["adv2"]).strip()
    adv = f"{adv} " if adv else ""
    if lower.startswith(("you were", "you have been", "you had been")):
        obj = "you"
    else:
        obj = _object(subj)
    return _sentence(f"We {adv}{phrase} {obj}{m['rest']}{end}")


def _hedging(s: str) -> str | None:
    body, end = _split_end(s)
    out = body
    out = re.sub(r"^(?:it (?:seems|appears|looks like|looks as though|is possible|is likely)|"
                 r"apparently|possibly|perhaps)(?: that)?,?\s+", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\b(?:appears?|seems?) to have (\w+)",
                 lambda m: "was" if m[1].lower() == "been" else _past(m[1]), out,
                 flags=re.IGNORECASE)
    out = re.sub(r"^(if|where|should|in case) (you|your \w+(?: \w+)?) (?:were|was|have been|"
                 r"has been|are|is|be) (?:in any way )?(affected|impacted|inconvenienced)"
                 r"(?: by (.+?))?, (?:please accept our apologies|we apologi[sz]e|we(?:'re| are)"
                 r" sorry)$",
                 lambda m: (f"We are sorry that {m[4]} affected {_object(m[2])}" if m[4] else
                            f"We are sorry for what this did to {_object(m[2])}"),
                 out, flags=re.IGNORECASE)
    out = re.sub(r"\b(sorry|apologi[sz]e) if\b", r"\1 that", out, flags=re.IGNORECASE)
    out = re.sub(r"\bwe regret that you (?:feel|felt|think|thought|believe) (?:that )?",
                 "We are sorry that ", out, flags=re.IGNORECASE)
    out = re.sub(r"\b(sorry|apologi[sz]e) (?:that )?you (?:feel|felt|think|thought) "
                 r"(?:that )?", r"\1 that ", out, flags=re.IGNORECASE)
    out = re.sub(r"\byou any\b", "you", out, flags=re.IGNORECASE)
    out = re.sub(r"\bto (?:hear|learn|read) (?:about |of )", "about ", out, flags=re.IGNORECASE)
    out = re.sub(r"\bto (?:hear|learn|read) (?:that )?", "that ", out, flags=re.IGNORECASE)
    out = re.sub(r"^to the extent(?: that)? ", "", out, flags=re.IGNORECASE)

    def modal(m: re.Match[str]) -> str:
        subject = out[:m.start()].split()
        plural = bool(subject) and (subject[-1].lower().endswith("s") or
                                    subject[0].lower() in ("some", "many", "several"))
        if m[2]:
            return ("were " if plural else "was ") + m[3]
        return _past(m[3])

    def negated(m: re.Match[str]) -> str:
        said = modal(m)
        if not m[1]:
            return said
        head, _, rest = said.partition(" ")
        return f"{head} not {rest}" if rest else f"did not {_base(head)}"

    out = re.sub(r"\b(?:may|might|could) (?:possibly |well |also )?(not )?have (been )?(\w+)",
                 negated, out, flags=re.IGNORECASE)
    out = re.sub(r"\b(?:this|it|that) (?:may|might) have caused\b", "this caused", out,
                 flags=re.IGNORECASE)
    out = re.sub(r"\bfor any (\w+)", r"for the \1", out, flags=re.IGNORECASE)
    out = re.sub(r"\bany (inconvenience|trouble|disruption|confusion|frustration|upset|"
                 r"distress|worry|hassle)\b", r"the \1", out, flags=re.IGNORECASE)
    out = re.sub(r"\bthe inconvenience\b", "the trouble", out, flags=re.IGNORECASE)
    out = re.sub(r"\binconvenienced\b", "let down", out, flags=re.IGNORECASE)
    return _sentence(out + end) if out != body else None


def _denial(s: str) -> str | None:
    body, end = _split_end(s)
    out = body
    out = re.sub(r"\b(?:was|is) not our fault\b", "was our fault", out, flags=re.IGNORECASE)
    out = re.sub(r"\bwe are not (responsible|to blame|at fault)\b", r"we are \1", out,
                 flags=re.IGNORECASE)
    out = re.sub(r"\b(?:only|just|merely|simply|technically|actually|really|strictly "
                 r"speaking|in fairness|in fact|honestly),?\s+", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\b(?:a |an )(?:minor|small|tiny|slight|short|brief) ", lambda m: m[0][:2]
                 if m[0].lower().startswith("a ") else "an ", out, flags=re.IGNORECASE)
    out = re.sub(r"\ban (?=[bcdfghjklmnpqrstvwxyz])", "a ", out, flags=re.IGNORECASE)
    out = re.sub(r"^(?:rest assured|fortunately|happily|thankfully|luckily),?\s+", "", out,
                 flags=re.IGNORECASE)
    if out == body:
        return None
    if re.match(r"^(?:no|none|nothing|nobody|your \w+ (?:was|were) never)\b", out,
                re.IGNORECASE):
        # Reassurance is fine once the mistake is owned: put the admission first.
        return _sentence(f"We made a mistake, and we are sorry; {out[0].lower()}{out[1:]}{end}")
    return _sentence(out + end)


_CAUSE_LEAD = re.compile(
    r"^(?:due to|because of|owing to|with|given|despite|following|as a result of|amid|thanks "
    r"to|in spite of|as you can imagine|as you know|like (?:every|many|all) "
    r"[\w ]+?)\b[^,]*,\s*(.+)$", re.IGNORECASE)
_CAUSE_TAIL = re.compile(r"^(.+?),?\s+(?:due to|because of|owing to|as a result of)\s+.+$",
                         re.IGNORECASE)


def _excuse(s: str) -> str | None:
    body, end = _split_end(s)
    m = _CAUSE_LEAD.match(body) or _CAUSE_TAIL.match(body)
    if not m:
        return None
    rest = m[1]
    if len(rest.split()) < 3:
        return None
    owned = _passive(rest + end)
    return owned or _sentence(rest + end)


_PRAISE_WORDS = re.compile(
    r"\b(?:award-winning|industry-leading|market-leading|world-class|best-in-class|"
    r"five-star|amazing|fantastic|brilliant|wonderful|incredible|outstanding|superb|"
    r"dedicated|hard-working|tireless|talented|expert|excellent|renowned|famous)\s+"
    r"(?=(?:\w+ )?(?:team|staff|engineers|support|service|people|crew|colleagues|company|"
    r"network|platform|products?|shop|store|hotel|school|clinic)\b)", re.IGNORECASE)
_PRAISE_LEAD = re.compile(r"^as (?:an?|the) [^,]{3,60},\s*(.+)$", re.IGNORECASE)


def _self_praise(s: str) -> str | None:
    body, end = _split_end(s)
    m = _PRAISE_LEAD.match(body)
    out = m[1] if m else body
    out = _PRAISE_WORDS.sub("", out)
    out = re.sub(r",? (?:which shows|to show) how [^,.]+", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\b(?:swiftly|quickly|promptly|rapidly|heroically|brilliantly|tirelessly|"
                 r"expertly|efficiently)\s+", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\s+(?:in record time|in no time|within minutes|so quickly|so fast)\b", "",
                 out, flags=re.IGNORECASE)
    if out == body or len(out.split()) < 3:
        return None
    return _sentence(out + end)


_REWRITERS: dict[Rule, Callable[[str], str | None]] = {
    Rule.BLAME: _blame,
    Rule.PASSIVE: _passive,
    Rule.HEDGING: _hedging,
    Rule.DENIAL: _denial,
    Rule.EXCUSE: _excuse,
    Rule.SELF_PRAISE: _self_praise,
}


def rewrite(sentence: str, rule: Rule) -> str | None:
    """The sentence rewritten to own the mistake, or None when its parts do not allow it."""
    rewriter = _REWRITERS.get(rule)
    if rewriter is None or not sentence.strip():
        return None
    text = " ".join(sentence.replace("\u2019", "'").split())
    out = rewriter(text)
    if out is not None and rule is not Rule.PASSIVE:
        # "It seems your order was lost" -> "Your order was lost" -> "We lost your order".
        out = _passive(out) or out
    if out is None or out.rstrip(".!?").lower() == text.rstrip(".!?").lower():
        return None
    return out
