"""What a whole message must contain, as markers: if a marker is found anywhere, the part
is there. Markers are lenient on purpose (a missing-part finding on a message that has
the part is worse than silence); the phrase rules are where strictness lives."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.apology.rules import Rule, alt, compile_phrase

_FIX_VERBS = alt(
    "fixed", "refunded", "re-?sent", "replaced", "corrected", "reversed", "cancell?ed",
    "credited", "restored", "rolled (?:it |them |this |the \\w+ )?back", "re-?issued", "switched",
    "rebuilt", "retrained", "hired", "introduced", "set up", "recalled", "rebooked",
    "rescheduled", "patched", "repaired", "re-?ran", "stopped", "paused", "halted", "blocked",
    "disabled", "added", "removed", "updated", "changed", "moved", "arranged", "booked",
    "contacted", "called", "upgraded", "made sure", "collected", "re-?packed", "reinstated",
)
_WEAK_FIX_VERBS = alt("sent", "shipped", "put", "found", "checked", "posted", "emailed", "written",
                      "applied", "started", "begun", "launched", "opened", "assigned", "reviewed",
                      "audited", "traced", "tested", "paid", "taken")

ADMISSION = compile_phrase("|".join((
    r"(?:we|I)(?:'ve| have| had)? (?:made|make) (?:a |an |this |the |two |several |some )?"
    r"(?:\w+ )?(?:mistakes?|errors?|blunders?)",
    r"(?<!not )(?<!n't )(?:our|my) (?:own )?(?:mistake|error|fault|doing|blunder|oversight)",
    r"(?:we|I) (?:got|have got|'ve got|had) (?:this|it|that|(?:your|the) \w+(?: \w+)?) wrong",
    r"(?:we|I)(?:'ve| have)? (?:\w+ ){0,2}?(?:sent|charged|billed|shipped|packed|delivered|"
    r"printed|posted|labell?ed|invoiced|entered|gave|given|put|applied|used|emailed|published|"
    r"told|quoted|set|configured|deployed|released|loaded|took|taken|roasted|baked|made|mixed up|"
    r"processed|added|deleted|cancell?ed|removed|changed|moved)\b[^.!?\n]{0,60}?(?:wrong|"
    r"incorrect|twice|late|by mistake|in error|by accident|without|before checking|too early|"
    r"too much|faulty|broken|burnt|instead)",
    r"(?:we|I)(?:'ve| have)? (?:forgot|forgotten|failed to|missed|lost|broke|broken|"
    r"mislabell?ed|misplaced|mixed up|overcharged|double[- ]charged|let you down|dropped the ball"
    r"|messed up|slipped up|did not|didn't|should have|should not have|shouldn't have|"
    r"were wrong|was wrong)",
    r"(?:we|I) (?:take|accept) (?:full |complete |total )?(?:responsibility|ownership|the blame)",
    r"(?:we|I) (?:are|am) (?:fully |entirely |completely )?(?:responsible|to blame|at fault)",
    r"(?:this|it|that) (?:is|was) on (?:us|me)",
)))

FIX = compile_phrase("|".join((
    r"(?:we|I)(?:'re| are| am|'m) (?:now |already |currently |also |still |urgently )?"
    r"(?!sorry\b|aware\b|so\b|very\b|truly\b|deeply\b|really\b|writing\b)[\w-]+ing",
    r"(?:we|I)(?:'ll| will| shall) (?!never\b|not\b)\w+",
    rf"(?:we|I)(?:'ve| have| had)? (?:now |already |also |just |then |since |immediately |"
    rf"today )?{_FIX_VERBS}",
    rf"(?:we|I)(?:'ve| have) (?:now |already |also |just |since )?{_WEAK_FIX_VERBS}",
    r"(?:has|have) (?:now |already )?been (?:fixed|resolved|restored|corrected|refunded|re-?sent|"
    r"reversed|replaced|credited|cancell?ed|rolled back|re-?issued|repaired)",
    r"(?:is|are) (?:now )?(?:on (?:its|their|the) way|fixed|resolved|back (?:up|online)|"
    r"working again|restored)|works again",
    r"(?:a|your) (?:full )?(?:refund|replacement|credit) (?:is|will be|has been)",
)))

_TIME = re.compile("|".join((
    r"\b(?:[01]?\d|2[0-3])[:.h][0-5]\d\b",
    r"\b(?:1[0-2]|0?[1-9])(?:[:.][0-5]\d)?\s?(?:am|pm|a\.m\.|p\.m\.)",
    r"\b(?:noon|midday|midnight|end of (?:the )?(?:day|week|business)|close of business)\b",
    r"\b(?-i:COB|EOD)\b",
    r"\bwithin (?:the next )?(?:an?|one|two|three|four|five|six|eight|twelve|\d+|a few) "
    r"(?:\w+ )?(?:minutes?|hours?|days?)\b",
    r"\bin (?:an?|one|two|three|four|\d+|half an) (?:minutes?|hours?|days?)\b",
    r"\b(?:today|tomorrow|tonight|this (?:morning|afternoon|evening))\b",
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    r"\b\d{1,2}(?:st|nd|rd|th)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b",
    r"\b(?:jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]* \d{1,2}\b",
    r"\b(?:every|each) (?:\d+ |two |three |four |few )?(?:hours?|days?|minutes)\b",
    r"\b\d{4}-\d{2}-\d{2}\b",
)), re.IGNORECASE)
_UPDATE_VERB = compile_phrase(
    r"updat\w*|hear (?:from|back from) (?:us|me)|write|writing|email|e-mail|message|call|phone|"
    r"contact|let you know|get back|be in touch|news|report back|post|check in|keep you posted|"
    r"status"
)

_YOU = compile_phrase(r"you|your|yours|you're|you've|you'd")
_HARM = compile_phrase(
    r"wrong|incorrect|late|later than|delay\w*|twice|double|missing|lost|damaged|broken|"
    r"faulty|spoil\w*|stale|defective|burnt|not|\w+n't|never|without|unable|cannot|down|outage|fail\w*|error|"
    r"overcharg\w*|charged|billed|waited|missed|short|instead|mixed up|offline|unavailable|"
    r"locked (?:\w+ )?out|no access|hit|hurt|affected|impacted|cost|stuck|blocked|expired|"
    r"cancell?ed|duplicate|extra|for nothing"
)

REMEDY = compile_phrase("|".join((
    r"refund\w*|credit(?! card)\w*|discount\w*|voucher\w*|coupon\w*|replace\w*|compensat\w*|"
    r"reimburs\w*|money back|waiv\w+|cover (?:your|the) \w+",
    r"free (?:of charge|shipping|delivery|month|upgrade|of cost)|no (?:extra )?(?:charge|cost)|"
    r"at no cost|on (?:us|the house)",
    r"reply to (?:this|me|us)|(?:call|ring|phone|contact|email|text) (?:me|us)|direct line|"
    r"whatsapp|expedit\w*|express (?:delivery|shipping)|priority",
    r"\+?\d[\d ()-]{7,}\d",
)))

PREVENTION = compile_phrase("|".join((
    r"(?:won't|will not|cannot|can't|does not|doesn't|never|not|can no longer) (?:\w+ ){0,3}?"
    r"(?:happen|occur|recur|repeat)",
    r"(?:cannot|can't|can no longer|won't|will not) (?:\w+ ){0,4}?again",
    r"from now on|going forward|in (?:the )?future|to (?:make sure|ensure|prevent|stop|avoid)|"
    r"prevent\w*|no longer",
    r"(?:we|I)(?:'ve| have) (?:now |also )?(?:changed|added|introduced|put in place|set up|"
    r"updated|replaced|switched|built|started|begun|retrained|trained|hired|automated|moved|"
    r"redesigned|rewritten|removed)",
    r"now (?:checks?|runs?|requires?|includes?|warns?|stops?|blocks?|tests?|tastes?|compares?|"
    r"confirms?|verifies|has|uses|prints?|sends?|needs?|scans?|reviews?)",
    r"(?:stops?|checks?|warns?) (?:by )?itself",
)))

# A renewed commitment: the customer can come back to us, and we say we will act on it.
COMMITMENT = compile_phrase("|".join((
    r"reply to (?:this|me|us)|(?:write|talk|speak) to (?:me|us)|(?:call|ring|phone|contact|email"
    r"|e-mail|text) (?:me|us)|get in touch|direct line|reach (?:me|us)",
    r"(?:we|I)(?:'ll| will) (?:\w+ ){0,2}?(?:pick (?:it|this) up|look into|make (?:it|this|that) "
    r"right|put (?:it|this|that) right|sort (?:it|this) out|keep (?:you|watching|checking)|"
    r"follow (?:it|this) (?:up|through))",
    r"(?:we|I)(?:'re| are| am|'m) (?:still |fully )?(?:committed|here for you|on (?:it|hand))|"
    r"(?:we|I) (?:promise|commit) to|you (?:can|will) (?:count|rely) on",
)))

APOLOGY = compile_phrase(
    r"sorry|apologi[sz](?:e|es|ed|ing)|apolog(?:y|ies)|forgive(?:ness)?|pardon|"
    r"regret(?:s|ful|table)?|(?:feel|felt) (?:terrible|awful|dreadful|bad)|mortified|ashamed"
)


def has_next_update(sentences: list[str]) -> bool:
    """A sentence that names a time and says we will be in touch."""
    return any(_TIME.search(s) and _UPDATE_VERB.search(s) for s in sentences)


def has_impact(sentences: list[str]) -> bool:
    """A sentence that speaks to the customer about something that went wrong for them."""
    return any(_YOU.search(s) and _HARM.search(s) for s in sentences)


@dataclass(frozen=True, slots=True)
class PartAdvice:
    reason: str
    suggestion: str


PART_ADVICE: dict[Rule, PartAdvice] = {
    Rule.MISSING_ADMISSION: PartAdvice(
        "It never says plainly that we made a mistake.",
        "Start with the admission: “We made a mistake: we sent your order to the wrong "
        "address.”"),
    Rule.MISSING_IMPACT: PartAdvice(
        "It does not say what happened to the customer.",
        "Add what it meant for them: “Your order arrived two days late, after your event.”"),
    Rule.MISSING_FIX: PartAdvice(
        "It does not say what we are doing about it.",
        "Add the fix: “We are re-sending your order today by express delivery.”"),
    Rule.MISSING_NEXT_UPDATE: PartAdvice(
        "It does not say when the customer will hear from us next.",
        "Promise a time: “We will write to you again by 15:30 today, even if there is no "
        "news.”"),
    Rule.MISSING_REMEDY: PartAdvice(
        "For a mistake this serious, it offers nothing and gives no way to reach us.",
        "Offer a remedy or a direct contact: “We have refunded your delivery fee; reply to "
        "this message if anything else went wrong.”"),
    Rule.MISSING_PREVENTION: PartAdvice(
        "It does not say what we changed so it will not happen again.",
        "Add the change: “Every label is now scanned against its order before it leaves.”"),
    Rule.MISSING_COMMITMENT: PartAdvice(
        "It closes the door: nothing says the customer can come back to us, or that we will "
        "act if they do.",
        "End with a renewed commitment: “If anything is still not right, reply to this "
        "message and we will put it right.”"),
}
