"""The apology corpus: load the hand-written sets, and generate the templated training part.

Three sources of training sentences (see tests/corpus/apology/GUIDE.md):
  * tests/corpus/apology/train.yaml — hand-written, second sitting;
  * tests/corpus/apology_sentences.yaml `sentences` — the phrase tables' own corpus;
  * `generate()` below — hand-written FRAGMENTS per domain, composed by TEMPLATES with a
    fixed seed. Nothing in the dev set came from here.
The dev set is tests/corpus/apology/dev.yaml; the old `holdout` section is a second unseen set.

Run `python -m bench.apology_corpus` to print counts, or `--dump` to print the generated part.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.domain.apology import MessageKind, Rule
from bot.domain.severity import Severity

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "tests" / "corpus" / "apology"
DEV = CORPUS_DIR / "dev.yaml"
TRAIN = CORPUS_DIR / "train.yaml"
OLD = ROOT / "tests" / "corpus" / "apology_sentences.yaml"
SEED = 20261201


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    labels: frozenset[Rule]
    kind: MessageKind = MessageKind.APOLOGY
    domain: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    kind: MessageKind
    severity: Severity
    expect: frozenset[Rule]


def _yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    return data


def load_groups(path: Path) -> list[Example]:
    out = []
    for group in _yaml(path)["groups"]:
        labels = frozenset(Rule(x) for x in group["labels"])
        kind = MessageKind(group.get("kind", "apology"))
        for entry in group["texts"]:
            # A text is a string, or {text, also: [labels added to the group's]}.
            text, extra = ((entry["text"], frozenset(Rule(x) for x in entry["also"]))
                           if isinstance(entry, dict) else (entry, frozenset()))
            out.append(Example(text, labels | extra, kind, group["domain"], path.stem))
    return out


def load_drafts(path: Path = DEV) -> list[Draft]:
    return [Draft(d["text"], MessageKind(d["kind"]), Severity(d["severity"]),
                  frozenset(Rule(x) for x in d["expect"]))
            for d in _yaml(path).get("drafts", [])]


def _old(section: str) -> list[Example]:
    out = []
    for e in _yaml(OLD).get(section, []):
        expect = e["expect"]
        labels = frozenset() if expect == "good" else frozenset(
            Rule(x) for x in ([expect] if isinstance(expect, str) else expect))
        out.append(Example(e["text"], labels, MessageKind(e.get("kind", "apology")), "",
                           f"apology_sentences:{section}"))
    return out


def dev() -> list[Example]:
    return load_groups(DEV)


def holdout() -> list[Example]:
    """The phrase tables' never-tuned set from an earlier round: a second unseen set."""
    return _old("holdout")


def train() -> list[Example]:
    return load_groups(TRAIN) + _old("sentences") + generate()


# ---- the generated part -----------------------------------------------------------------
# Per domain: events as (what we did, active; the thing; what happened to it, passive),
# third parties, tools, circumstances, fixes. All written by hand.

@dataclass(frozen=True, slots=True)
class Domain:
    events: tuple[tuple[str, str, str], ...]  # ("lost your parcel", "your parcel", "was lost")
    third: tuple[str, ...]
    tools: tuple[str, ...]
    circumstances: tuple[str, ...]
    fixes: tuple[str, ...]
    offers: tuple[str, ...]
    service: str


FRAGMENTS: dict[str, Domain] = {
    "retail": Domain(
        events=(("sent you the wrong colour", "your order", "was sent in the wrong colour"),
                ("charged you the full price during the sale", "your order",
                 "was charged at full price"),
                ("lost your return", "your return", "was lost"),
                ("cancelled your order without telling you", "your order",
                 "was cancelled without notice"),
                ("forgot the charger in your box", "the charger", "was left out of your box"),
                ("delivered your table with a broken leg", "your table",
                 "was delivered with a broken leg")),
        third=("the courier", "our delivery partner", "Evri", "the manufacturer", "DPD",
               "the brand", "our fulfilment centre", "the packing agency"),
        tools=("the checkout", "the stock system", "the website"),
        circumstances=("the Black Friday rush", "record demand over the sale weekend",
                       "the move to our new warehouse", "staff sickness in the warehouse"),
        fixes=("we are sending the right colour today", "we have refunded the difference",
               "a new table leaves our warehouse on Monday"),
        offers=("keep the wrong item", "return it free at any drop-off point",
                "choose a refund instead"),
        service="delivery"),
    "travel": Domain(
        events=(("booked you into the wrong hotel", "your hotel", "was booked wrongly"),
                ("cancelled your flight at two days' notice", "your flight",
                 "was cancelled at two days' notice"),
                ("sent your luggage to Lisbon", "your luggage", "was sent to Lisbon"),
                ("sold your seats twice", "your seats", "were sold twice"),
                ("changed your departure time without telling you", "your departure time",
                 "was changed without notice")),
        third=("the airline", "the hotel", "our local agent", "the coach company",
               "the ferry operator", "the booking platform", "easyJet", "the tour operator"),
        tools=("the booking system", "the reservations platform", "our app"),
        circumstances=("air traffic control strikes", "the storm over the Alps",
                       "the busiest summer on record", "a shortage of coach drivers"),
        fixes=("we have rebooked you on Friday's flight", "we are refunding the first night",
               "your new tickets are attached"),
        offers=("rebook for any date this year", "claim back your taxi fare",
                "choose a full refund"),
        service="holidays"),
    "banking": Domain(
        events=(("took your loan repayment twice", "your loan repayment", "was taken twice"),
                ("blocked your card at the till", "your card", "was blocked"),
                ("charged you an overdraft fee you did not owe", "an overdraft fee",
                 "was charged in error"),
                ("sent your savings interest to the wrong account", "your interest",
                 "was paid into the wrong account"),
                ("closed your account by mistake", "your account", "was closed by mistake")),
        third=("the card network", "Mastercard", "our payments processor", "the other bank",
               "the credit reference agency", "our outsourced call centre"),
        tools=("the fraud system", "the banking app", "the payments engine"),
        circumstances=("the interest rate change", "the year-end rush", "a surge in fraud",
                       "the new regulations"),
        fixes=("we have returned the second payment", "your card works again",
               "we have refunded the fee"),
        offers=("move your account without a fee", "ask for a call at a time that suits you"),
        service="banking"),
    "health": Domain(
        events=(("cancelled your operation the night before", "your operation",
                 "was cancelled the night before"),
                ("gave you the wrong appointment time", "the wrong appointment time",
                 "was given to you"),
                ("lost your scan results", "your scan results", "were lost"),
                ("sent your letter to another patient", "your letter",
                 "was sent to another patient")),
        third=("the lab", "the hospital", "the ambulance service", "the agency nurse",
               "the pharmacy", "the referral service"),
        tools=("the booking system", "the patient portal"),
        circumstances=("winter pressures", "the junior doctors' strike", "a flu outbreak",
                       "staff shortages on the ward"),
        fixes=("a new date is booked for Tuesday", "Dr Khan will call you tomorrow"),
        offers=("choose a different clinic", "bring someone with you to the appointment"),
        service="patient care"),
    "saas": Domain(
        events=(("took your workspace offline for six hours", "your workspace",
                 "was offline for six hours"),
                ("deleted your team's files", "your team's files", "were deleted"),
                ("billed you for seats you had removed", "you", "were billed for removed seats"),
                ("broke the export feature", "the export feature", "was broken"),
                ("sent your alerts to the wrong channel", "your alerts",
                 "were sent to the wrong channel")),
        third=("AWS", "our cloud provider", "the CDN", "Cloudflare", "our email vendor",
               "a third-party library", "our payment provider", "the upstream API"),
        tools=("the system", "the scheduler", "our platform", "the deploy pipeline"),
        circumstances=("an unexpected spike in traffic", "the database migration",
                       "our rapid growth this quarter", "a holiday weekend"),
        fixes=("we have restored every file", "we rolled the release back at 14:05",
               "we are crediting a month of your plan"),
        offers=("export your data at any time", "book a call with our engineers"),
        service="platform"),
    "logistics": Domain(
        events=(("left your parcel at the wrong door", "your parcel",
                 "was left at the wrong door"),
                ("delivered your pallet to the wrong depot", "your pallet",
                 "was delivered to the wrong depot"),
                ("dropped your parcel in transit", "your parcel", "was dropped in transit"),
                ("marked your parcel as delivered when it wasn't", "your parcel",
                 "was marked as delivered"),
                ("kept your shipment in the yard for a week", "your shipment",
                 "was held in the yard for a week")),
        third=("the driver", "the subcontractor", "the sorting hub", "Royal Mail", "UPS",
               "the haulage firm", "the port", "the freight forwarder"),
        tools=("the routing system", "the scanner", "the tracking app"),
        circumstances=("the snow on the M62", "peak season", "a national driver shortage",
                       "the port strike"),
        fixes=("a driver will bring it tomorrow morning", "we are refunding the delivery fee"),
        offers=("pick a new delivery day", "collect it from the depot if that suits you"),
        service="deliveries"),
    "utilities": Domain(
        events=(("cut off your water supply", "your water supply", "was cut off"),
                ("billed you on an estimate for a year", "your bill",
                 "was based on an estimate for a year"),
                ("left a hole in your drive", "a hole", "was left in your drive"),
                ("fitted the wrong meter", "the wrong meter", "was fitted")),
        third=("the contractor", "the meter reading company", "the grid operator",
               "the roadworks crew", "the billing agency"),
        tools=("the billing system", "the meter"),
        circumstances=("the hot weather", "the freeze", "high demand on our lines",
                       "the network upgrade"),
        fixes=("your supply is back on", "your bill has been corrected"),
        offers=("ask for a meter reading visit", "spread the payment over six months"),
        service="water supply"),
    "telecoms": Domain(
        events=(("cut your broadband for three days", "your broadband",
                 "was cut for three days"),
                ("moved you to a dearer plan", "your plan", "was changed to a dearer one"),
                ("missed the engineer appointment", "the engineer appointment", "was missed"),
                ("ported your number to someone else", "your number",
                 "was ported to someone else")),
        third=("Openreach", "the engineer", "our network partner", "the handset maker",
               "the call centre"),
        tools=("the network", "the billing platform", "the router firmware"),
        circumstances=("storm damage to the lines", "the price change", "huge call volumes",
                       "the switch to digital phone lines"),
        fixes=("an engineer is booked for Friday", "we have credited a month"),
        offers=("leave your contract without a fee", "swap to a cheaper plan"),
        service="network"),
    "education": Domain(
        events=(("lost your son's exam script", "your son's exam script", "was lost"),
                ("enrolled you on the wrong course", "you", "were enrolled on the wrong course"),
                ("published your grade to the whole class", "your grade",
                 "was published to the whole class"),
                ("cancelled your daughter's trip place", "your daughter's place",
                 "was cancelled")),
        third=("the exam board", "the supply teacher", "the catering company",
               "the learning platform", "the bus operator"),
        tools=("the student portal", "the timetabling system"),
        circumstances=("the teachers' strike", "exam season", "staff illness",
                       "the start of term"),
        fixes=("the correct grade is on the portal now", "we have rebooked the trip place"),
        offers=("resit in August without a fee", "meet the head of year"),
        service="teaching"),
    "public services": Domain(
        events=(("sent your licence to the wrong address", "your licence",
                 "was sent to the wrong address"),
                ("stopped your benefit payments", "your benefit payments", "were stopped"),
                ("lost your application form", "your application form", "was lost"),
                ("charged you a penalty you did not owe", "a penalty", "was charged to you")),
        third=("the contractor", "the print supplier", "the post office", "another department",
               "the IT provider"),
        tools=("the case system", "the online form"),
        circumstances=("budget cuts", "record numbers of applications", "the office move",
                       "the new legislation"),
        fixes=("your payments restart on Monday", "we have cancelled the penalty"),
        offers=("ask for a review", "speak to a caseworker in person"),
        service="public service"),
    "groceries": Domain(
        events=(("delivered your shopping to the wrong flat", "your shopping",
                 "was delivered to the wrong flat"),
                ("sent you mouldy bread", "mouldy bread", "was sent to you"),
                ("left out half your order", "half your order", "was left out"),
                ("swapped your gluten-free pasta for ordinary pasta", "your pasta",
                 "was swapped for ordinary pasta")),
        third=("the farm", "the picker", "the van driver", "our supplier", "the bakery"),
        tools=("the substitutions system", "the app"),
        circumstances=("the heatwave", "supply shortages", "the Christmas rush",
                       "flooding on the roads"),
        fixes=("we have refunded the missing items", "a new delivery comes tonight"),
        offers=("turn off substitutions in the app", "choose a free delivery slot"),
        service="food"),
    "gyms": Domain(
        events=(("charged you after you had cancelled", "you", "were charged after cancelling"),
                ("gave your class place to someone else", "your class place",
                 "was given to someone else"),
                ("locked you out of the app", "you", "were locked out of the app")),
        third=("the payment provider", "the app developer", "the cleaning firm",
               "the personal trainer"),
        tools=("the booking app", "the membership system"),
        circumstances=("the January rush", "a broken boiler", "staff leaving"),
        fixes=("the payment is back on your card", "your place is restored"),
        offers=("freeze your membership for free", "bring a friend for free"),
        service="gym"),
}

_FAIL_SAY = ("let us down", "dropped the ball", "made a mess of it", "got it wrong",
             "messed up", "failed us")
_CUSTOMER_ERR = ("you entered an old address", "you didn't confirm your email",
                 "you chose the wrong option at checkout", "you missed the cut-off time",
                 "the card details you gave us were out of date",
                 "you didn't read the confirmation email", "the postcode you typed was wrong",
                 "you forgot to tick the box")
_INCONV = ("inconvenience", "trouble", "disruption", "confusion", "frustration", "upset",
           "distress")
_FEW = ("a handful of", "very few", "a small number of", "only a few", "a tiny minority of")
_SHORT = ("a few minutes", "a short while", "an hour or so", "a day", "a couple of days")
_PRAISE_Q = ("award-winning", "industry-leading", "world-class", "market-leading",
             "five-star", "best-in-class")
_TIMES = ("by 16:00 today", "tomorrow at 10:00", "on Friday", "by the end of the day",
          "within 24 hours", "on Monday morning")
_CAUSE_OURS = ("we did not check it", "we rushed it", "we skipped a step", "we were careless",
               "we misread your request", "we had the wrong details on file")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _modal_passive(passive: str, modal: str) -> str:
    """"was lost" -> "may have been lost"."""
    head, _, rest = passive.partition(" ")
    return f"{modal} have been {rest}" if head in ("was", "were") else f"{modal} {passive}"


_CIRCS = ("the snow", "a surge in orders", "the rail strike", "the bank holiday",
          "staff sickness", "the heatwave", "the storm", "a flu outbreak in the team",
          "the move to a new system", "record demand", "the January sales",
          "a shortage of drivers", "supply problems", "the flooding", "the office move",
          "the price rise", "the summer holidays", "a backlog from last month",
          "the new regulations", "the busiest week of our year", "the school holidays",
          "a power cut", "the roadworks outside our depot", "staff turnover",
          "rising costs", "the end of the tax year", "the pandemic", "a freak hailstorm",
          "the Christmas rush", "the switch to our new supplier")
_STARS = ("five stars", "4.9 out of 5", "excellent on every review site",
          "best in class by our customers", "outstanding by inspectors")


def _templates() -> dict[tuple[Rule, ...], list[str]]:
    t: dict[tuple[Rule, ...], list[str]] = {
        (Rule.BLAME,): [
            "{Third} {act}.", "Unfortunately, {third} {act}.", "It was {third} who {act}.",
            "{Third} {act}, not us.", "The problem was on {third}'s side.",
            "{Third} {fail} and {act}.", "The blame lies with {third}, which {act}.",
            "We have been told that {third} {act}.", "Sadly {third} {fail}.",
            "This happened because {cust}.", "It went wrong because {cust}.",
            "{Tool} {act}.", "A glitch in {tool} {act}.", "A bug in {tool} meant {third} {act}.",
            "A new member of our team {act}.", "One of our agents {act}.",
            "{Third} made an error and {act}.", "The fault was with {third}.",
            "It turns out {third} {act}.", "{Third} is responsible for this.",
            "We were let down by {third}, who {act}.", "{Third} has admitted it {act}.",
            "This is down to {third}.", "{Third} dropped the ball: they {act}.",
            "The cause was {third}.", "{Third} {act}, and we only found out afterwards.",
            "The error came from {third}.", "{Third} got this wrong, not our team.",
            "A colleague on the night shift {act}.", "The automated system {act}.",
        ],
        (Rule.BLAME, Rule.PASSIVE): [
            "Because {cust}, {subject} {passive}.", "{Subject} {passive} because {cust}.",
            "{Third}'s mistake meant {subject} {passive}.",
            "{Subject} {passive} because {third} {fail}.",
        ],
        (Rule.HEDGING, Rule.PASSIVE): [
            "{Subject} {may}.", "If {subject} {passive}, we apologise.",
            "It seems that {subject} {passive}.", "We're sorry if {subject} {passive}.",
            "You may have noticed that {subject} {passive}.",
            "It is possible that {subject} {passive}.",
            "We regret that you feel {subject} {passive}.", "Apparently {subject} {passive}.",
            "It appears {subject} {passive}.",
        ],
        (Rule.DENIAL, Rule.PASSIVE): [
            "{Subject} {passive}, but only for {short}.",
            "{Subject} {passive}, but that is within our normal standards.",
        ],
        (Rule.PASSIVE,): [
            "{Subject} {passive}.", "Unfortunately, {subject} {passive}.",
            "{Subject} {passive} last week.", "An error occurred and {subject} {passive}.",
            "There was a problem with {subject}.", "Mistakes were made with {subject}.",
            "It has come to light that {subject} {passive}.", "{Subject} {passive} on Tuesday.",
            "An issue was identified: {subject} {passive}.", "Something went wrong and "
            "{subject} {passive}.", "A mix-up happened with {subject}.",
            "{Subject} {passive} earlier this week.", "I'm afraid {subject} {passive}.",
            "This is to let you know that {subject} {passive}.",
            "{Subject} {passive}, and it took days to notice.",
            "Regrettably, {subject} {passive}.", "It turns out {subject} {passive}.",
            "An error was made and {subject} {passive}.", "There has been an issue with "
            "{subject}.", "Sadly, {subject} {passive} over the weekend.",
        ],
        (Rule.HEDGING,): [
            "We apologise for any {inconv} caused.",
            "We apologise for any {inconv} this may have caused.",
            "We're sorry to hear about {subject}.",
            "If you were affected, we're sorry.",
            "Sorry for any {inconv} with {subject}.",
            "Should you have been affected, please contact us.",
            "We are sorry for any {inconv} to your "
            "{service}.", "If you experienced any {inconv}, please accept our apologies.",
            "We understand you may be upset.", "We regret any {inconv}.",
            "Please accept our apologies for any {inconv}.",
            "We are sorry to learn of your experience with {subject}.",
            "Where customers were affected, we apologise.",
            "We're sorry you feel let down by our {service}.",
            "We apologise if our {service} fell short.",
        ],
        (Rule.DENIAL,): [
            "Only {few} customers noticed.",
            "It was a minor issue with {subject}.", "This was not our fault.",
            "The vast majority of customers were not affected.",
            "{Subject} was never actually wrong.", "It was only {short}, nothing more.",
            "This was an isolated case.", "We are not responsible for what {third} did.",
            "Rest assured, nothing was lost.", "Strictly speaking, our terms allow for this.",
            "It was just a small hiccup with {subject}.", "Technically, nothing went wrong.",
            "This affected {few} accounts.", "We did nothing wrong here.",
            "In reality, the impact on you was minimal.",
            "Only {few} {service} customers were affected.", "It was nothing serious.",
            "Hardly anyone noticed.", "The impact was negligible.",
            "Your {service} was barely affected.", "It wasn't a real error, just a delay.",
            "The problem was limited to {few} accounts.", "Our terms allow us to do this.",
            "Nobody really lost out.", "It lasted {short} at most.",
        ],
        (Rule.EXCUSE,): [
            "{Circ} meant we fell behind.", "Due to {circ}, things took longer.",
            "We have been dealing with {circ}.", "{Circ} made this week very difficult.",
            "Despite our best efforts, we could not keep up.",
            "As you can imagine, {circ} has stretched us.",
            "{Circ} is beyond our control.", "With {circ}, we were short of people.",
            "It has been a hectic time because of {circ}.", "{Circ} hit us hard this month.",
            "We are a small team coping with {circ}.", "We were caught out by {circ}.",
            "{Circ} has made it hard to keep up.", "We've had {circ} to contend with.",
            "It's been a difficult few weeks with {circ}.",
            "Our team has been under pressure because of {circ}.",
            "{Circ} slowed everything down.", "We have been hit by {circ}, like everyone else.",
            "Things have been chaotic since {circ}.", "With {circ}, we simply ran out of hands.",
            "{Circ} put a strain on our {service}.", "Unfortunately {circ} got in the way.",
            "Our people have been working flat out through {circ}.",
            "{Circ} was more than we could handle.", "We could not have planned for {circ}.",
        ],
        (Rule.SELF_PRAISE,): [
            "Our {q} {service} is normally faultless.", "We pride ourselves on our {service}.",
            "As a {q} provider, we set high standards.", "We are proud of our {service}.",
            "Our {service} is the best around.", "Customers love our {q} {service}.",
            "We have an excellent record for {service}.",
            "Our team always goes the extra mile.", "We are known for our {q} {service}.",
            "Our {service} is rated {stars}.", "Nobody does {service} better than us.",
            "We are famous for our {service}.", "Our {service} has won awards.",
            "We have a proud record in {service}.", "Our people are the best in the business.",
        ],
        (): [
            "We {act}.", "We {act}, and that was our mistake.", "We are sorry: we {act}.",
            "We {act} because {ours}.", "{Subject} {passive} because {ours}.",
            "{Fix}.", "{Fix}, and we will write again {time}.",
            "We will update you {time}.", "You may {offer}.", "You may {offer} if you prefer.",
            "We will only close this once you are happy.", "We have just {fixverb}.",
            "{Third} did nothing wrong: we {act}.", "We gave {third} the wrong details.",
            "We chose {third}, and we {act}.", "This was our mistake, not {third}'s.",
            "We set up {tool} wrongly, so it {act}.", "We know how much this mattered to you.",
            "It was our error: we {act}.", "{Fix} at no cost to you.",
            "Just reply to this email if anything else is wrong.",
            "We know {circ} is no excuse: we {act}.",
            "We {act}, and you found out before we told you.", "{Fix}; we are sorry.",
            "We {act}, so you had to chase us.", "{Fix}, and {Third} has the tracking details.",
            "We will write to you {time} with the next step.", "Our next update comes {time}.",
            "We are refunding you in full {time}.",
            "You are right: we {act}.", "We {act}, and we did not tell you.",
            "I will call you {time} to check everything is right.", "We {act} on Tuesday.",
            "{Fix}, and you do not need to do anything.", "Only we could have caught this, and "
            "we did not.", "We now check every case twice, so this cannot happen again.",
            "We {act} and did not tell you until you asked.", "That was our mistake: we {act}.",
            "Nobody else is to blame: we {act}.", "We {act}; there is no excuse for it.",
            "We are sorry we {act}.", "I'm sorry that we {act}.",
            "We {act}, which meant you had to wait.", "We have put this right: {fix}.",
            "Here is what we are doing: {fix}.", "We will check back with you {time}.",
            "If you prefer, you may {offer}.", "We made the error, not {third}.",
            "{Third} did its job; we {act}.", "We set {tool} up badly and it {act}.",
            "{Third} will bring the replacement {time}, and we have paid for it.",
            "We planned badly for {circ}, and that is on us.",
            "We will only charge you again once {fix_short}.", "It's our fault that we {act}.",
        ],
    }
    return t


_SORRY = ("We are so sorry.", "We apologise.", "Please accept our apologies.", "I'm sorry.",
          "Sorry again.", "We deeply regret this.", "We feel terrible.", "Our apologies.",
          "We are truly sorry for the trouble.", "I can't apologise enough.",
          "Sorry for all of this.", "We sincerely apologise.", "Please forgive us.",
          "We are very sorry indeed.", "Once more, sorry.")


def _over_apologies(rng: random.Random, n: int) -> list[Example]:
    """Three apologies, or two with no plan: grovelling (a rule counts them; no model)."""
    out, seen = [], set()
    while len(out) < n:
        k = rng.choice((2, 3, 3, 4))
        text = " ".join(rng.sample(_SORRY, k))
        if text not in seen:
            seen.add(text)
            out.append(Example(text, frozenset({Rule.OVER_APOLOGY}), MessageKind.APOLOGY,
                               "mixed", "generated"))
    return out


def generate(seed: int = SEED, per_template: int = 12) -> list[Example]:
    """Deterministic: the same seed gives the same sentences in the same order."""
    rng = random.Random(seed)
    out: list[Example] = []
    seen: set[str] = set()
    names = sorted(FRAGMENTS)
    for labels, templates in _templates().items():
        for template in templates:
            for _ in range(per_template):
                domain = rng.choice(names)
                d = FRAGMENTS[domain]
                act, subject, passive = rng.choice(d.events)
                fix = rng.choice(d.fixes)
                slots = {
                    "third": rng.choice(d.third), "act": act, "subject": subject,
                    "passive": passive if subject != "you" else passive,
                    "may": _modal_passive(passive, rng.choice(("may", "might", "could"))),
                    "tool": rng.choice(d.tools),
                    "circ": rng.choice(d.circumstances + _CIRCS),
                    "stars": rng.choice(_STARS),
                    "fix_short": "everything is fixed",
                    "fail": rng.choice(_FAIL_SAY), "cust": rng.choice(_CUSTOMER_ERR),
                    "inconv": rng.choice(_INCONV), "few": rng.choice(_FEW),
                    "short": rng.choice(_SHORT), "q": rng.choice(_PRAISE_Q),
                    "service": d.service, "fix": fix, "offer": rng.choice(d.offers),
                    "time": rng.choice(_TIMES), "ours": rng.choice(_CAUSE_OURS),
                    "act_bare": "go wrong",
                    "fixverb": fix.removeprefix("we have ") if fix.startswith("we have ")
                    else "refunded you",
                }
                slots |= {k[:1].upper() + k[1:]: _cap(v) for k, v in list(slots.items())}
                text = template.format(**slots)
                text = text.replace("You was", "You were").replace("you was", "you were")
                if text in seen:
                    continue
                seen.add(text)
                out.append(Example(text, frozenset(labels), MessageKind.APOLOGY, domain,
                                   "generated"))
    return out + _over_apologies(rng, 140)


def counts(examples: list[Example]) -> Counter[str]:
    c: Counter[str] = Counter()
    for e in examples:
        for label in e.labels or {"clean"}:
            c[str(label)] += 1
    return c


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if "--dump" in args:
        for e in generate():
            print(f"{','.join(sorted(e.labels)) or 'clean':<14} {e.domain:<16} {e.text}")
        return 0
    for name, examples in (("train (all)", train()), ("  hand-written", load_groups(TRAIN)),
                           ("  generated", generate()), ("dev", dev()),
                           ("holdout", holdout())):
        c = counts(examples)
        domains = len({e.domain for e in examples if e.domain})
        print(f"{name:<16} {len(examples):>5} sentences, {domains:>2} domains: "
              + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    print(f"dev drafts: {len(load_drafts())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
