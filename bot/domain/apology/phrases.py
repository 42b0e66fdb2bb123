"""Phrase rules as data: each pattern says what it catches, why, and what to write instead.

Patterns are regular expressions matched case-insensitively and on word boundaries
(see `rules.compile_phrase`). They are deliberately narrow: a pattern needs a cue that
makes the phrase a problem (a causal "due to" before a supplier, a failure verb after
it; "may have" before a past participle), because a false alarm on a good sentence
teaches people to ignore the check. Trade-offs are noted next to the patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from bot.domain.apology.rules import MessageKind, Rule, alt, compile_phrase


class Guard(Enum):
    """Extra conditions a match must meet, beyond the regex."""

    NONE = auto()
    # Passive clauses: skip when the same sentence names us as the agent
    # ("Because we mixed up two labels, your parcel was sent to the wrong address").
    NO_AGENT = auto()
    # Reassurance ("no data was lost") is fine once we have owned the mistake.
    BEFORE_ADMISSION = auto()


@dataclass(frozen=True, slots=True)
class Pattern:
    rule: Rule
    regex: re.Pattern[str]
    reason: str
    suggestion: str
    kinds: frozenset[MessageKind] | None = None  # None: every kind the rule applies to
    guard: Guard = Guard.NONE


def _p(rule: Rule, pattern: str, reason: str, suggestion: str, *,
       kinds: frozenset[MessageKind] | None = None, guard: Guard = Guard.NONE) -> Pattern:
    return Pattern(rule, compile_phrase(pattern), reason, suggestion, kinds, guard)


# ---- shared vocabulary ----------------------------------------------------------------------

_CAUSE = alt("due to", "because of", "caused by", "owing to", "thanks to", "the fault of",
             "blame (?:lies )?(?:with|on)", "(?:was|is) down to", "(?:as )?a result of",
             "result of", "on account of", "problems? (?:at|with)", "issues? (?:at|with)",
             "(?:an? )?(?:outage|failure|delay|fault|error|strike) (?:at|with|from|in)",
             "(?:problem|issue|fault|error|delay|mistake)s? (?:\\w+ )?(?:started|began|happened|"
             "arose|occurred|came|originated|lies|lay|was) (?:at|with|in|from)")
# Gap between a cause and a third party: no comma or full stop, and not about us.
_GAP = r"(?:(?!\b(?:we|us|our own|and|but|so|then)\b)[^.,;:!?\n]){0,40}?"
_THIRD = alt(
    r"suppliers?", r"vendors?", r"partners?", r"carriers?", r"couriers?", r"providers?",
    r"manufacturers?", r"(?:sub)?contractors?", r"third[- ]part(?:y|ies)",
    r"external (?:company|firm|team|service|agency)", r"(?:shipping|delivery|logistics|"
    r"hosting|haulage|courier|cloud) (?:company|firm|driver|service|partner)s?",
    r"hauliers?", r"payment processors?", r"post office", r"postal service", r"distributors?",
    r"wholesalers?", r"agency", r"outsourcing (?:partner|company|firm)", r"banks?(?! holidays?)",
    r"printers?", r"labs?", r"laborator(?:y|ies)", r"factory", r"mill", r"customs",
    r"warehouses?", r"depots?", r"(?:sorting|distribution|fulfil?ment) (?:centre|center|hub|"
    r"office|partner)s?", r"(?:payment )?processors?",
    r"(?:other |outside |external |separate )?(?:company|firm|business|outfit|organi[sz]ation) "
    r"(?:that|who|which)(?! we\b)",
)
# Well-known carriers, clouds and payment firms, matched with their usual capitals so
# that "ups and downs" or "a square box" do not count.
_NAMED = "(?-i:" + alt(
    "DHL", "UPS", "FedEx", "USPS", "Royal Mail", "DPD", "Hermes", "Evri", "GLS", "TNT",
    "Parcelforce", "Yodel", "PostNL", "La Poste", "Deutsche Post", "Canada Post",
    "Australia Post", "AWS", "Amazon(?: Web Services)?", "Azure", "Microsoft",
    "Google(?: Cloud)?", "GCP", "Cloudflare", "Akamai", "Fastly", "Heroku", "DigitalOcean",
    "Stripe", "PayPal", "Adyen", "Braintree", "Klarna", "Twilio", "SendGrid", "Mailchimp",
    "Shopify", "Salesforce", "Okta", "GitHub",
    # Any capitalised name with a company suffix: "Swift Freight Ltd", "Acme Logistics".
    r"(?!(?:The|Our|We|This|That|Your|An?)\s)(?:[A-Z][\w&'-]*\s){1,3}(?:Ltd|Limited|Inc|LLC|GmbH|plc|PLC|Co|Corp|Logistics|Couriers?|"
    r"Express|Freight|Haulage|Payments|Bank|Group|Systems|Solutions|Technologies|Services)\b\.?",
) + ")"
# Causes that point at someone; "thanks to" is left out ("thanks to Maria, we found it").
_BLAME_CAUSE = alt("due to", "because of", "caused by", "owing to", "the fault of",
                   "blame (?:lies )?(?:with|on)", "(?:was|is) down to", "on account of")
# A capitalised name of one to three words, that is not a day, month or season.
_ORG_NAME = ("(?-i:(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|"
             "February|March|April|May|June|July|August|September|October|November|December|"
             "Christmas|Easter|Black Friday|Cyber Monday|Boxing Day|New Year|Covid|COVID|"
             "Brexit|Ramadan|Diwali|Thanksgiving|Storm|Hurricane|Typhoon|I)\\b)"
             "[A-Z][\\w&'-]+(?: (?:[A-Z][\\w&'-]+|&))*)")
_DET = alt("the", "our", "a", "an", "their", "one of (?:our|the)")
_FAIL = alt(
    "failed", "let (?:us|you) down", "made (?:a|an) (?:\\w+ )?(?:error|mistake)",
    "had (?:a|an) (?:\\w+ )?(?:outage|problem|issue|error|fault|failure|delay|breakdown|glitch)",
    "(?:was|were) (?:late|slow|down|delayed|unable|at fault|to blame|responsible)",
    "(?:did not|didn't|could not|couldn't|failed to|forgot to|neglected to) \\w+",
    "lost", "misplaced", "mislaid", "misrouted", "mis-?label(?:l)?ed", "mis-?sorted", "dropped",
    "damaged", "broke", "(?:sent|shipped|gave) (?:us |you )?(?:the |a )?wrong",
    "delivered (?:it |your \\w+ )?(?:late|to the wrong)", "went (?:down|offline|bust)",
    "is (?:responsible|to blame|at fault)", "caused", "messed up", "mixed up", "rejected",
    "refused", "declined", "blocked", "bounced", "overbooked", "miscounted", "misread", "missed",
    "returned (?:it|them|your)", "held (?:\\w+ ){0,3}?(?:at|for|over|up|back)",
    "(?:\\w+ed|put|sent|gave|took|made|held|kept|left|got|sold|set|read) (?:\\w+ ){0,3}?(?:wrong|"
    "incorrect(?:ly)?|in error|by mistake|twice|late|faulty|defective|damaged|broken|"
    "substandard|contaminated|out-of-date)",
    "(?:was|were|had been|kept|started) \\w+ing (?:\\w+ ){0,3}?(?:twice|wrong(?:ly)?|"
    "incorrect(?:ly)?|late|in error|by mistake)",
    # Reporting a third party's failure to the customer is still pointing at them.
    "(?:tells?|told|informs?|informed|says|said|reports?|reported|advised|advises|has "
    "confirmed|have confirmed|confirmed) (?:us |me )?(?:that )?[^.;!?\\n]{0,50}?(?:broke down|"
    "broken down|lost|damaged|delayed|failed|mistake|error|fault|wrong|late|missed|outage)",
)
_RELATIVE = r"(?:\s+(?:who|that|which|we)\b[^.,;!?\n]{0,30}?)?"

_BLAME_WHY = "It puts the mistake on someone else; to the customer, we chose them and it is ours."
_BLAME_FIX = "Own it: “We sent your parcel with a courier that…” → “We got your delivery wrong.”"

_DEMAND = alt(
    "(?:unexpected(?:ly)?|unusually|exceptionally|extremely|very|record|higher than "
    "(?:usual|expected|normal)|high|heavy|peak|seasonal|huge|massive|overwhelming) "
    "(?:high )?(?:demand|volumes?|traffic|order volumes?|call volumes?|"
    "numbers? of (?:orders|calls))"
)
_EXCUSE_CAUSE = alt("due to", "because of", "owing to", "caused by", "(?:as )?a result of",
                    "thanks to", "with", "amid", "given", "since", "following", "facing",
                    "experiencing", "dealing with")
_CIRCUMSTANCE = alt(
    "(?:bad |severe |extreme |heavy |poor |unusual |recent )?(?:weather|snow|snowfall|storms?|"
    "floods?|flooding|heat ?waves?|ice|fog)", "strikes?", "industrial action", "traffic",
    "road ?works", "(?:the )?pandemic", "covid(?:-19)?", "(?:the |a )?(?:bank |public )?holidays?",
    "supply[- ]chain (?:issues|problems|disruption)",
    "(?:a |the )?(?:global |chip |parts |industry-wide )?shortages?",
    "(?:a |the )?staff(?:ing)? shortages?", "(?:staff )?(?:illness|sickness)",
    "(?:a |the )?(?:recent |planned )?(?:system |warehouse |office )?(?:migration|upgrade|"
    "maintenance|relocation|move|restructure|reorganisation|reorganization)",
    "(?:a |the )?(?:huge |big |large |massive |growing |significant )?backlog",
    "(?:supply|shipping|staffing|recruitment|logistics|supply[- ]chain) (?:problems|issues|"
    "shortages|challenges|constraints|difficulties|disruption)",
)

_PARTICIPLE = alt("been", "had", "got", "gotten", "seen", "felt", "lost", "sent", "left", "made",
                  "done", "gone", "taken", "given", "shown", "paid", "\\w+ed")

_OBJECT = alt(
    "orders?", "parcels?", "packages?", "deliver(?:y|ies)", "shipments?", "invoices?", "bills?",
    "payments?", "accounts?", "cards?", "emails?", "refunds?", "items?", "box(?:es)?", "goods",
    "products?", "batch(?:es)?", "statements?", "subscriptions?", "bookings?", "appointments?",
    "data", "prices?", "amounts?", "labels?", "website", "site", "service", "app", "files?",
    "records?", "tickets?", "messages?", "letters?",
)
_BAD_OUTCOME = alt(
    "delayed", "lost", "misplaced", "mislaid", "misrouted", "misdirected", "mis-?label(?:l)?ed",
    "mis-?sent", "mishandled", "held up", "cancell?ed", "overcharged", "double[- ]charged",
    "(?:charged|billed) twice", "charged (?:the )?wrong", "damaged", "broken", "deleted",
    "corrupted", "exposed", "leaked",
    "(?:sent|shipped|posted|delivered|addressed|forwarded|emailed) (?:out )?to (?:the |an |your )?"
    "(?:old|previous|former|outdated|incorrect|wrong)",
    "(?:sent|shipped|posted|delivered) (?:out )?(?:twice|late|to the wrong|with the wrong|"
    "in error)",
    "not (?:sent|shipped|delivered|processed|refunded|updated|applied|paid)",
    "never (?:sent|shipped|delivered|processed|refunded)",
    "(?:accidentally|mistakenly|incorrectly|wrongly|erroneously|inadvertently) \\w+",
    "(?:\\w+ed|sent|given|shown|taken|made|put|set|sold|told|paid) (?:\\w+ ){0,2}?(?:with|to|at|on|"
    "for|from|under) (?:the|an?) (?:wrong|incorrect)",
    "(?:\\w+ed|sent|given|shown|taken|made|put|set|sold|told|paid) (?:twice|late|in error|by "
    "mistake|incorrectly|wrongly)",
    "(?:\\w+ed|sent|given|shown|taken|made|put|set|sold|told|paid) (?:[\\w-]+ ){1,4}?(?:in error|"
    "by mistake|by accident|accidentally|mistakenly|wrongly|incorrectly)",
    "(?:shared|disclosed|sent|shown|forwarded|emailed) (?:to|with) (?:another|other|the wrong|"
    "someone else|a different)",
)

_PASSIVE_FIX = "Name who did it — us: “Your order was delayed” → “We sent your order late.”"

# ---- the table --------------------------------------------------------------------------------

_FOLLOW_UP = frozenset({MessageKind.FOLLOW_UP})

PATTERNS: tuple[Pattern, ...] = (
    # BLAME ------------------------------------------------------------------------------
    _p(Rule.BLAME, rf"{_CAUSE}\s+{_GAP}\b{_THIRD}", _BLAME_WHY, _BLAME_FIX),
    _p(Rule.BLAME, rf"because {_DET} (?:[\w-]+ ){{0,2}}?{_THIRD}", _BLAME_WHY, _BLAME_FIX),
    _p(Rule.BLAME, rf"{_DET} (?:[\w-]+ ){{0,2}}?{_THIRD}{_RELATIVE}\s+{_FAIL}",
       _BLAME_WHY, _BLAME_FIX),
    _p(Rule.BLAME, rf"{_CAUSE}\s+{_GAP}{_NAMED}",
       "It names another company as the cause; the customer bought from us, not from them.",
       "Say what happened to them and what we are doing; leave the other company out."),
    _p(Rule.BLAME, rf"{_NAMED}(?:'s)?{_RELATIVE}\s+{_FAIL}",
       "It names another company as the cause; the customer bought from us, not from them.",
       "Say what happened to them and what we are doing; leave the other company out."),
    _p(Rule.BLAME, r"(?:the|our) (?:\w+ )?(?:system|software|computer|platform|algorithm|"
       r"website|app|tool|server|database|machine|robot|printer) (?:" + alt(
        "failed", "crashed", "glitched", "malfunctioned", "went down", "was down", "errored",
        "made (?:a|an) (?:error|mistake)", "(?:automatically|accidentally|mistakenly|wrongly|"
        "erroneously) \\w+", "charged", "double[- ]charged", "billed", "overcharged",
        "sent (?:out )?(?:the )?wrong", "did not", "didn't", "failed to \\w+", "lost") + ")",
       "It blames “the system”; the system is ours and so is what it did.",
       "Say “We charged you twice”, not “The system charged you twice”.",
       guard=Guard.NO_AGENT),
    _p(Rule.BLAME, rf"{_EXCUSE_CAUSE} (?:an? |the |some )?(?:system|computer|technical|software|IT)"
       r" (?:errors?|glitch(?:es)?|faults?|failures?|hiccups?|problems?|issues?|bugs?|"
       r"difficult(?:y|ies))",
       "It blames a faceless technical fault instead of saying what we got wrong.",
       "Say what we did: “We released a faulty update that…”."),
    _p(Rule.BLAME, r"(?:an? |the )(?:system|computer|technical|software) (?:error|glitch|fault|"
       r"failure|hiccup|bug) (?:meant|caused|led to|resulted in)",
       "It blames a faceless technical fault instead of saying what we got wrong.",
       "Say what we did: “We released a faulty update that…”."),
    _p(Rule.BLAME, r"(?:an? )?(?:glitch|fault|error|bug|problem) (?:in|with) the "
       r"(?:system|software|computer)",
       "It blames “the system”; the system is ours and so is what it did.",
       "Say what we got wrong: “We set up our billing wrongly, so…”."),
    _p(Rule.BLAME, rf"{_BLAME_CAUSE}\s+(?:the|our|a|an) (?:new |old |automated |online )?"
       r"(?:system|software|computer|platform|algorithm|machine|server)s?",
       "It blames “the system”; the system is ours and so is what it did.",
       "Say “We charged you twice”, not “The system charged you twice”.",
       guard=Guard.NO_AGENT),
    _p(Rule.BLAME, rf"{_BLAME_CAUSE}\s+(?:the )?{_ORG_NAME}",
       "It names another organisation as the cause; the customer bought from us, not from them.",
       "Say what happened to them and what we are doing; leave the other company out."),
    _p(Rule.BLAME, r"(?:were|was|been|got) let down by", _BLAME_WHY, _BLAME_FIX),
    _p(Rule.BLAME, r"your (?:bank|card issuer|card provider) (?:declined|rejected|refused|returned|"
       r"blocked|bounced|reversed|did not|didn't)",
       "It puts the problem on the customer's bank.",
       "Say what we will do: “We will send the refund again tomorrow by bank transfer.”"),
    _p(Rule.BLAME, r"on (?:the|their) (?:[\w-]+'s? )?(?:side|end)",
       "It says the fault was on someone else's side.",
       "Drop whose side it was on; say “we got this wrong” and what we are doing."),
    _p(Rule.BLAME, r"(?:because|as|since) you (?:entered|gave|typed|provided|chose|selected|"
       r"forgot|did not|didn't|failed to)",
       "It puts the mistake on the customer.",
       "Say what we should have caught: “We did not check the postcode with you.”"),
    _p(Rule.BLAME, r"(?:a|an|one of our|our) (?:new |junior |temporary |trainee )?(?:employee|"
       r"member of (?:staff|our team)|staff member|team member|colleague|agent|trainee|intern|"
       r"temp|packer|picker|driver|technician|engineer|developer) (?:made (?:a|an) (?:error|"
       r"mistake)|forgot|failed to|mis\w+|accidentally|wrongly|sent the wrong|packed the wrong|"
       r"entered the wrong|typed|did not|didn't)",
       "It singles out one colleague; the customer dealt with the company, so it is “we”.",
       "Say “we made a mistake when we entered your order”."),
    # DENIAL -----------------------------------------------------------------------------
    _p(Rule.DENIAL, r"(?:not|\w+n't) (?:our|my) (?:fault|doing|responsibility|mistake|error)"
       r"|no fault of (?:our|ours|mine)|not ours|not on us",
       "It denies that the mistake is ours.", "Say plainly: “This was our mistake.”"),
    _p(Rule.DENIAL, r"(?:we|I) (?:are|am|were|was) not (?:at fault|to blame|responsible|liable)"
       r"|(?:we|I)(?: have)? (?:done|did) nothing wrong",
       "It denies responsibility.", "Say what we are responsible for and what we will do."),
    _p(Rule.DENIAL, r"(?:strictly|technically|legally) speaking|(?:the|our|your) (?:contract|terms"
       r"(?: and conditions)?|t&cs|policy|sla|agreement) (?:\w+ )?(?:allows?|permits?|states?|"
       r"says|gives|only|does not|doesn't|covers?|requires?)|within (?:our|the) (?:terms|sla|"
       r"policy|agreed)|in fairness|to be fair|in our defen[cs]e|for the record",
       "It argues the rules instead of owning the mistake.",
       "Drop the small print; say what we got wrong and what we are doing."),
    _p(Rule.DENIAL, r"(?:only|just|(?:less|fewer) than) (?:" + alt(
        "a (?:few|handful|tiny|small (?:number|fraction|percentage|subset|group)|minority)",
        "(?:a )?(?:fraction|minority|handful)",
        "(?:\\d+|one|two|three|four|five|some|several)\\s*(?:%|percent|per cent)?",
        "one in (?:\\w+)") +
       r")(?: of)?(?: our| the| your)? (?:customers|users|orders|accounts|clients|shipments|"
       r"invoices|people|of you)",
       "It minimises: to each affected customer, the mistake was 100% of their experience.",
       "Drop the count; speak to the customer: “Your order…”."),
    _p(Rule.DENIAL, r"a (?:(?:small|tiny|limited|very small) (?:number|percentage|fraction|subset|"
       r"group|minority|proportion)|handful|minority|fraction) of (?:our |the |your )?(?:\w+ )?"
       r"(?:customers|users|accounts|clients|orders|people|shipments|deliveries|invoices|you)",
       "It minimises how many were hit; the reader is one of them.",
       "Drop the count; tell this customer what happened to them."),
    _p(Rule.DENIAL, r"(?:(?:it|this|that)(?:'s| is| was)|(?:just|only|merely)) (?:just |only |"
       r"merely |really )?(?:an? )?(?:minor|small|tiny|slight|brief|short|temporary|isolated|"
       r"one-off|rare|minimal|little) (?:issue|problem|glitch|hiccup|delay|error|inconvenience|"
       r"disruption|blip|incident|matter|thing|mistake|outage|setback)|(?:an )?isolated incident",
       "It plays the mistake down; the customer decides how big it was for them.",
       "Describe what happened to them instead of rating it."),
    _p(Rule.DENIAL, r"no (?:\w+ )?(?:data|money|information|details|customers?|payments?|"
       r"records?|harm|damage) (?:was|were|has been|have been) (?:lost|affected|harmed|exposed|"
       r"compromised|leaked|stolen|accessed|at risk|impacted)|nothing (?:was|has been) "
       r"(?:lost|affected|exposed|compromised|leaked)|no (?:real |lasting |actual )?harm "
       r"(?:was )?done",
       "It reassures before owning anything, which reads as denial.",
       "Own the mistake first (“We made a mistake…”), then reassure."
       , guard=Guard.BEFORE_ADMISSION),
    _p(Rule.DENIAL, r"(?:most|the (?:vast )?majority of|almost all|nearly all|\d+ ?%(?: of)?) "
       r"(?:our |the )?(?:customers|users|orders|accounts|clients|people|of you|deliveries|parcels|"
       r"shipments|invoices|bookings) (?:" + alt(
           "(?:were|was|are|have been|remain(?:ed)?) (?:entirely |completely |totally )?"
           "unaffected",
           "(?:were not|weren't|was not|wasn't|are not|aren't|have not been|haven't been) "
           "(?:\\w+ )?(?:affected|impacted)",
           "(?:\\w+ ){0,3}?(?:on time|without (?:a |any )?(?:problem|issue|hitch)s?|as normal|"
           "as usual|correctly|fine|safely|as expected)") + ")",
       "It points at the customers who were fine; this customer was not.",
       "Talk about what happened to this customer."),
    _p(Rule.DENIAL, r"(?:you|of you|customers|users) (?:may|might|probably|likely) (?:not |never |"
       r"didn't |did not |have not |haven't |won't |will not )(?:even )?(?:have )?notic\w*|"
       r"(?:you|of you) (?:won't|will not|wouldn't|would not) (?:even )?(?:have )?notic\w*",
       "It suggests the mistake did not matter because it went unnoticed.",
       "Tell them what happened, whether or not they noticed."),
    _p(Rule.DENIAL, r"(?:lasted|took|(?:was )?down for) only|only (?:lasted|took)|only (?:down|"
       r"offline|unavailable|late|delayed|affected|out|broken|wrong) for|only (?:a few|a "
       r"couple of|\d+|one|two|three|an?) (?:short )?(?:minutes?|seconds?|hours?)",
       "It minimises how long the customer was hurt.",
       "Say how long it lasted without “only”, and what it meant for them."),
    _p(Rule.DENIAL, r"(?:not|n't|no) (?:a |such a |that )?(?:big deal|that bad|serious|significant|"
       r"(?:real|big|major|huge|serious) (?:problem|issue))",
       "It plays the mistake down.", "Say what it meant for the customer instead."),
    _p(Rule.DENIAL, r"technically|(?:this|it|that) (?:was|is) (?:a|an) (?:\w+ )?(?:one-off|"
       r"exception|anomaly|fluke|blip|aberration)|(?:very |highly |extremely )?(?:unlikely|rare) "
       r"(?:ever )?to (?:happen|occur|recur|be repeated)",
       "It plays the mistake down as a technicality or a one-off.",
       "Say what happened to the customer and what we changed."),
    _p(Rule.DENIAL, r"only (?:your |the |one |an? |two |three |some |part of )?(?:[\w-]+ ){0,2}?"
       r"(?:was|were|is|are|has been|have been) (?:affected|impacted|wrong|incorrect|late|delayed|"
       r"missing|damaged|lost|charged|hit|down)|(?:everything|everyone|all) else (?:was|is|were|"
       r"has been|remained|stayed) (?:\w+ )?(?:fine|ok|okay|unaffected|as normal)|only (?:a small "
       r"(?:number|part|amount|portion|fraction|percentage)|minor|slightly|partly|partially|"
       r"briefly|marginally)|(?:just|only|merely) (?:a |an )?(?:small|minor|tiny|slight|little)",
       "It minimises: to this customer, what went wrong was the whole experience.",
       "Drop “only”/“just”; say what happened to them."),
    _p(Rule.DENIAL, r"(?:happily|fortunately|luckily|thankfully|the good news is)[, ]+(?:\w+ )"
       r"{0,3}?(?:no|nothing|none|nobody|no one)(?![\w-])|no (?:real |lasting |actual |"
       r"significant |major |serious )(?:harm|damage|impact)|no (?:harm|damage|impact) (?:was |"
       r"were |has been )?(?:done|caused)|no (?:\w+ )?(?:money|funds|data|payments?) (?:ever )?"
       r"(?:left|went|was taken|were taken|was moved|were moved)",
       "It reassures before owning anything, which reads as denial.",
       "Own the mistake first (“We made a mistake…”), then reassure.",
       guard=Guard.BEFORE_ADMISSION),
    # EXCUSE -----------------------------------------------------------------------------
    _p(Rule.EXCUSE, r"unprecedented",
       "“Unprecedented” is an excuse word: it points at circumstances, not at what we did.",
       "Say what we did wrong and what we are doing about it."),
    _p(Rule.EXCUSE, rf"(?:{_EXCUSE_CAUSE}|(?:we are|we're|we have been|we've been|we were) "
       rf"(?:currently |now )?(?:experiencing|seeing|facing|dealing with|having)|faced with) "
       rf"(?:an? |the |some )?{_DEMAND}",
       "It blames demand; planning for demand is our job.",
       "Say how late we are and what we are doing: “Replies are taking 2 days; we have…”."),
    _p(Rule.EXCUSE, r"(?:beyond|outside(?: of)?|out of) (?:our|anyone's|anybody's|their) "
       r"(?:control|hands)|unforese(?:en|eable)|act of god|force majeure|(?:could not|couldn't|"
       r"could never) (?:have )?(?:been )?(?:foreseen|predicted|anticipated|prevented|avoided)",
       "It says nothing could have been done; the customer hears an excuse.",
       "Say what happened to them and what we are doing now."),
    _p(Rule.EXCUSE, r"(?:we were|we are|we're|we have been|we've been|(?:the|our) (?:\w+ )?team "
       r"(?:was|is|has been)|our (?:\w+ )?staff (?:was|were|are|have been)|I was|I am|I'm) "
       r"(?:very |extremely |badly |severely |a bit |a little |also )?(?:short[- ]staffed|"
       r"understaffed|short[- ]handed|overwhelmed|overstretched|stretched(?: thin)?|swamped|"
       r"inundated|snowed under|busier than \w+|busy(?! \w+ing))",
       "Being busy or short-staffed is our problem, not the customer's.",
       "Drop the reason; say how late we are and what we are doing about it."),
    _p(Rule.EXCUSE, r"despite (?:all )?(?:of )?(?:our|the team's|everyone's|our team's) (?:very )?"
       r"(?:best )?(?:efforts|intentions|hard work|care|precautions)|(?:we|I) (?:tried|did) "
       r"(?:our|my) (?:very )?best|(?:we|I) did (?:everything|all|what) (?:we|I) could|"
       r"(?:we|I) tried everything",
       "It asks for credit for trying; the customer only sees the result.",
       "Drop it and say what we will do now."),
    _p(Rule.EXCUSE, r"these things happen|mistakes happen|it happens to (?:everyone|the best)|"
       r"(?:nobody|no one|no company)(?: is|'s) perfect|(?:human|honest|understandable|easy) "
       r"(?:error|mistake)|(?:industry|sector)[- ]wide",
       "It excuses the mistake as normal.", "Own it: “We made a mistake.”"),
    _p(Rule.EXCUSE, r"(?:we are|we're) (?:only |just )?a (?:small|tiny|young|family|new|little)"
       r"(?:[- ]\w+)? (?:business|company|team|shop|firm|start-?up|operation)|doing (?:the best "
       r"(?:we|I) can|(?:our|my) (?:very )?best)|as you (?:may |might |will |probably |surely )?"
       r"(?:know|be aware|have (?:heard|seen|read))|(?:the whole|the entire|across the|throughout "
       r"the) (?:industry|sector|market)",
       "It asks the customer to understand our situation; they need to hear about theirs.",
       "Drop it; say what happened to them and what we are doing."),
    _p(Rule.EXCUSE, r"(?:with|given|because of|due to|owing to) (?:so many|so much|the (?:sheer )?"
       r"(?:number|volume|amount) of) (?:\w+ )?(?:orders|calls|customers|requests|emails|tickets|"
       r"work|parcels)|bound to (?:happen|occur|go wrong)|bedding in|teething (?:problems|troubles|"
       r"issues)|settling in|learning curve|growing pains",
       "It explains the mistake away with our circumstances.",
       "Drop the reason; say what happened to them and what we are doing."),
    _p(Rule.EXCUSE, r"unavoidabl[ey]|inevitabl[ey]",
       "It says the mistake could not have been avoided; the customer hears an excuse.",
       "Say what we are changing so it will not happen again."),
    _p(Rule.EXCUSE, rf"{_EXCUSE_CAUSE} (?:the |a |an |some )?{_CIRCUMSTANCE}",
       "It blames circumstances instead of saying what we did.",
       "Leave the circumstances out; say what happened to them and what we are doing."),
    _p(Rule.EXCUSE, r"(?:the |heavy |severe |bad |a )?(?:weather|snow|storms?|strikes?|floods?|"
       r"flooding|traffic|power (?:cut|outage|failure)|blackout|fire|flu|illness|sickness|"
       r"heat ?wave|pandemic|virus) (?:\w+ ){0,3}?(?:slowed|delayed|disrupted|held up|caused|"
       r"meant|closed|stopped|hit|forced|left)",
       "It blames the weather or the roads instead of saying what we did.",
       "Say how late we are and what we are doing about it."),
    _p(Rule.EXCUSE, r"(?:with|amid|due to|because of|given|owing to) the (?:christmas|holiday|"
       r"festive|seasonal|summer|black friday|end-of-year|year-end|busy|peak) (?:rush|period|"
       r"season|peak|sales)",
       "It blames the busy season; planning for it is our job.",
       "Drop the reason; say how late we are and what we are doing."),
    _p(Rule.EXCUSE, r"(?:people|staff|colleagues|members of (?:staff|the team|our team)|team "
       r"members|drivers|agents|engineers|packers|pickers|of (?:us|the team|our team)) (?:\w+ )"
       r"{0,2}?(?:off sick|off ill|out sick|on sick leave|on holiday|on leave|absent|ill|away)"
       r"(?![\w-])|(?:off|out) sick|(?:fell|fallen|falling|got|gotten|get) (?:a (?:bit|little) |"
       r"badly |far )?behind|playing catch-?up",
       "Who was off and how far behind we fell is our problem, not the customer's.",
       "Drop the reason; say how late we are and what we are doing about it."),
    _p(Rule.EXCUSE, r"(?:demand|volumes?|orders|calls|returns|requests|traffic|emails|tickets|"
       r"enquiries|inquiries|bookings|customers) (?:[\w-]+ ){0,4}?(?:was|were|has been|have been|"
       r"is|are)? ?(?:much |far |a lot |significantly |considerably )?(?:higher|greater|bigger|"
       r"heavier|larger|busier) than|(?:far |many |a lot |much |significantly )?more (?:\w+ )?"
       r"(?:orders|calls|returns|requests|emails|tickets|enquiries|inquiries|bookings|customers|"
       r"traffic|demand) than (?:usual|normal|expected|planned|anticipated|forecast|ever|we "
       r"(?:\w+ )?(?:planned|expected|anticipated|forecast|predicted|prepared))|"
       r"(?:exceptional|extraordinary|unusual|unexpected|unforeseen|difficult|challenging|"
       r"unprecedented) circumstances",
       "It blames volume or circumstances; planning for them is our job.",
       "Say how late we are and what we are doing: “Replies are taking 2 days; we have…”."),
    _p(Rule.EXCUSE, r"(?:difficult|challenging|tough|hard|busy|hectic|trying|testing|stressful) "
       r"(?:time|period|week|month|year|few \w+|season|day|quarter)s? (?:\w+ )?for (?:us|"
       r"everyone|all of us|the (?:whole )?team|our (?:whole )?team|the "
       r"business|everyone here)|(?:we(?:'ve| have) had|we are having|we're having|it(?:'s| has)"
       r" been|it was) (?:a |an )?(?:very |really |extremely |incredibly |particularly )?"
       r"(?:difficult|challenging|tough|hard|busy|hectic|trying|testing|stressful) (?:time|period|"
       r"week|month|year|few \w+|season|day|quarter)(?! for you)",
       "It asks the customer to sympathise with us.",
       "Drop it; say what happened to them and what we are doing."),
    _p(Rule.EXCUSE, r"(?:we are|we're|we were|I am|I'm|I was|our (?:\w+ )?(?:team|staff|people|"
       r"colleagues?) (?:is|are|was|were)) (?:still |quite |very |fairly |relatively |all )?new "
       r"(?:to|in|on)(?![\w-])|still (?:learning|getting used to)|in spite of (?:all )?(?:of )?"
       r"(?:our|the team's|everyone's) (?:very )?(?:best )?(?:efforts|intentions|hard work|care)|"
       r"as you (?:can|may|might|will|could) (?:well )?(?:imagine|appreciate|understand)",
       "It asks the customer to make allowances for us.",
       "Drop it; say what happened to them and what we are doing."),
    # HEDGING ----------------------------------------------------------------------------
    _p(Rule.HEDGING, r"any inconvenience|(?:(?<=for )|(?<=about )|(?<=regarding )|(?<=caused )|"
       r"(?<=cause )|(?<=caused you )|(?<=cause you ))any (?:\w+ )?(?:inconvenience|trouble|"
       r"frustration|confusion|disruption|distress|discomfort|upset|disappointment|hassle|delays?|"
       r"harm|worry|difficult(?:y|ies)|issues?|problems?|errors?|mistakes?|stress|annoyance|"
       r"loss|damage|impact)",
       "“Any …” suggests there may have been none; we know there was.",
       "Name it: “We are sorry we sent your order two days late.”"),
    _p(Rule.HEDGING, r"inconvenienc(?:e|es|ed)",
       "“Inconvenience” is a weasel word that plays down what happened.",
       "Say what it was: a late delivery, a wrong bill, a day without service."),
    _p(Rule.HEDGING, r"(?:if|in case|where|should) (?:you|anyone|any of you|your(?: \w+){0,2}?) "
       r"(?:(?:were|was|have been|has been|are|is|got|felt|feel) )?(?:in any way |at all )?"
       r"(?:affected|impacted|inconvenienced|upset|offended|disappointed|bothered|troubled|"
       r"frustrated|hurt|involved)|(?:if|should|in case|where) (?:you|your(?: \w+){0,2}?) (?:(?:be|"
       r"are|were|was|is) )?(?:one of|among) (?:those|the)|(?:if|in case) (?:this|it|that|"
       r"the \w+) (?:has |may have |might have )?"
       r"(?:affected|impacted|inconvenienced|upset|caused|disrupted|bothered)",
       "It doubts that the customer was hurt; we are writing because they were.",
       "Say what happened to them: “Your order arrived two days late.”"),
    # Trade-off: "may have" is flagged only before a past participle ("may have shipped",
    # "may have been"), so "we may have to call you" and "you may have a refund" pass;
    # a rare honest "you may have needed it for Monday" is flagged too.
    _p(Rule.HEDGING, rf"(?:may|might) (?:well |possibly |also )?(?:not )?have {_PARTICIPLE}",
       "“May have” hedges about what happened; we know what happened.",
       "State it: “Your order shipped with the wrong item.”"),
    _p(Rule.HEDGING, r"(?:may|might|could) (?:possibly |also )?be (?:affected|impacted|"
       r"inconvenienced)|(?:you|of you|customers) (?:may|might) (?:well |also )?(?:be |have )?"
       r"(?:feel\w*|felt|upset|unhappy|disappointed|frustrated|concerned|worried|annoyed|"
       r"angry|dissatisfied|let down|confused)|"
       r"(?:it is|it's|it was) (?:possible|likely|probable|conceivable)|(?:is|are|was|were) "
       r"(?:likely|possibly|potentially) (?:to have|affected|impacted)|(?:possibly|potentially|"
       r"perhaps|maybe) (?:been )?(?:affected|impacted|"
       r"charged|delayed|wrong|incorrect|lost)|there (?:may|might|could) (?:be|have been) "
       r"(?:an? |some )?(?:issue|problem|error|mistake|delay|discrepancy|inaccurac\w+)",
       "It hedges about whether anything went wrong; we know it did.",
       "State it plainly: “We sent you a wrong statement.”"),
    _p(Rule.HEDGING, r"(?:sorry|apologi[sz]e|apologies) if|(?:regret|sorry|apologi[sz]e) "
       r"(?:that )?you (?:feel|felt|think|thought|believe|found|perceived?|were (?:upset|unhappy|"
       r"disappointed))",
       "It apologises for the customer's feelings, not for our mistake.",
       "Apologise for what we did: “We are sorry we charged you twice.”"),
    _p(Rule.HEDGING, r"to the extent(?: that)?|to whatever extent|in ?so ?far as",
       "It is legal hedging; it sounds like we are limiting what we admit.",
       "Say what happened to them, plainly."),
    _p(Rule.HEDGING, r"(?:appears?|seems?) to have|it (?:seems|appears|looks like)|apparently|"
       r"seemingly",
       "It sounds unsure about our own mistake.",
       "Check, then state it: “We sent your parcel to your old address.”"),
    _p(Rule.HEDGING, r"(?:received|had|seen|heard) (?:some |a few |several )?(?:reports|claims)"
       r" (?:that|of)|(?:perceived|alleged|supposed) (?:issue|problem|error|mistake|delay|fault)",
       "It treats the mistake as someone's claim rather than a fact.",
       "State what we got wrong."),
    _p(Rule.HEDGING, r"(?:sorry|sad|saddened|disappointed|concerned|upset) to (?:hear|learn|read|"
       r"see)(?: (?:that|about|of))?|(?:if|in case|should|where) (?:there (?:was|were|has been|"
       r"have been|had been)|(?:anything|something) (?:went|has gone|had gone) wrong)",
       "It treats the problem as the customer's report, not as our mistake.",
       "Say what we got wrong: “We sent your order without the charger.”"),
    # "could have" only hedges when it is not about us ("we could have caught this" owns it)
    # and not after a negative ("no one could have predicted" is an excuse, not a hedge).
    _p(Rule.HEDGING, r"(?<!\bwe )(?<!\bI )(?<!\bwe'd )(?<!\bone )(?<!\bnobody )(?<!\bus )"
       r"(?<!\banyone )could (?:possibly |well |also )?(?:not )?"
       r"have (?:been )?(?!avoided|prevented|caught|spotted|handled|done|better|clearer)"
       r"(?:\w+ed|been|lost|sent|taken|given|shown|charged)",
       "“Could have” hedges about what happened; we know what happened.",
       "State it: “We charged your card twice.”"),
    # PASSIVE ----------------------------------------------------------------------------
    _p(Rule.PASSIVE, r"(?:mistakes|errors|an error|a mistake|an oversight) (?:were|was|have been|"
       r"has been|had been) made(?! by (?:us|me|our|my))",
       "“Mistakes were made” hides who made them.", "Say “We made a mistake.”"),
    _p(Rule.PASSIVE, r"(?:an?|the|some) (?:\w+ )?(?:error|issue|problem|mistake|fault|glitch|"
       r"outage|incident|failure|bug|mix-?up|oversight|slip|lapse|discrepancy|breach)s? "
       r"(?:occurred|has occurred|had occurred|happened|"
       r"has happened|arose|has arisen|crept in|(?:was|were|(?:has|have) (?:now )?been) "
       r"(?:experienced|encountered|"
       r"introduced|discovered|detected|identified|found|spotted|noticed|uncovered|reported))",
       "It says the error “occurred”, as if nobody made it.", "Say “We made an error when…”."),
    _p(Rule.PASSIVE, r"(?:was|were|has been|have been) experienced",
       "“Was experienced” hides who caused it and who suffered it.",
       "Say “We broke the checkout page; you could not pay.”"),
    _p(Rule.PASSIVE, r"something (?:went|has gone|had gone|must have gone) wrong|things (?:went|"
       r"have gone) wrong",
       "“Something went wrong” avoids saying what we did.",
       "Say what we did: “We sent your delivery to the wrong depot.”"),
    _p(Rule.PASSIVE, r"there (?:was|were|has been|have been|had been) (?:an? |some )?(?:\w+ )?"
       r"(?:error|issue|problem|mix-?up|glitch|hiccup|oversight|mistake)s?",
       "“There was an issue” avoids saying what we did.",
       "Say what we did: “We billed you for the wrong plan.”"),
    _p(Rule.PASSIVE, rf"(?:the|your|an|a|some|this|that|these|those|many|several|all|our) "
       rf"(?:[\w-]+ ){{0,3}}?(?:{_OBJECT}|[\w-]+) (?:was|were|has been|have been|had been|got|"
       rf"is being|are being) {_BAD_OUTCOME}",
       "It says what happened to the order but not who did it.", _PASSIVE_FIX,
       guard=Guard.NO_AGENT),
    _p(Rule.PASSIVE, r"(?:(?:the|an?|some) )?(?:wrong|incorrect|inaccurate|outdated|misleading)"
       r" (?:\w+ ){1,2}?(?:was|were|has been|have been|had been|got) (?:\w+ed|sent|put|set|given|"
       r"shown|taken|made|told)",
       "It says something wrong was done but not who did it.", _PASSIVE_FIX,
       guard=Guard.NO_AGENT),
    _p(Rule.PASSIVE, r"(?:it|the decision) (?:was|has been) (?:decided|agreed)|(?:a|the) "
       r"(?:\w+ )?decision (?:was|has been|had been) (?:taken|made|reached)",
       "It hides who decided.", "Say “We decided…”."),
    # SELF-PRAISE ------------------------------------------------------------------------
    _p(Rule.SELF_PRAISE, r"prides? (?:ourselves|myself|itself|themselves)|take "
       r"(?:great |real |huge |enormous |a lot of |such )?pride in|hold (?:ourselves|myself) to|"
       r"(?:we are|we're|we have always been|I am|I'm) (?:very |so |always |rightly )?proud "
       r"(?:of|to|that)",
       "Pride in ourselves has no place in an apology.", "Delete it; the fix speaks for us."),
    _p(Rule.SELF_PRAISE, r"(?:(?:an?|the) )?(?:(?:global|leading|recognised|recognized|trusted) )?"
       r"(?:industry|market|sector|world) leaders?|(?:industry|market|sector|world)[- ]leading|"
       r"world[- ]class|best[- ]in[- ]class|award[- ]winning|(?:the |a )?leading (?:provider|"
       r"supplier|retailer|company|brand)|(?:number one|no\.? ?1|#1) (?:provider|choice|supplier"
       r"|retailer|brand)",
       "It advertises us while the customer is hurting.", "Delete it."),
    _p(Rule.SELF_PRAISE, r"above and beyond|the extra mile|(?:our|a|the) (?:strong |unwavering |"
       r"deep |total |absolute |continued |ongoing )?(?:commitment|dedication) to (?:excellence|"
       r"quality|(?:great |excellent |outstanding )?(?:customer )?(?:service|satisfaction|care|"
       r"experience)|our customers)",
       "It praises our service in the message that says we failed.", "Delete it."),
    _p(Rule.SELF_PRAISE, r"(?:our|the) (?:usual |normally |typically )?(?:high(?:est)?|"
       r"exceptional|excellent|outstanding|impeccable|exacting|rigorous) (?:standards|service|"
       r"quality|track record|reputation)|(?:excellent|impeccable|spotless|flawless|strong|proven|"
       r"outstanding|unblemished|perfect) (?:track record|record|reputation|history)",
       "It praises our standards in the message that says we missed them.", "Delete it."),
    _p(Rule.SELF_PRAISE, r"(?:very |highly |extremely |most )?(?:unusual|rare|uncharacteristic|"
       r"out of character) (?:for us|for our (?:team|company|business))|"
       r"(?:we|our team)(?: have| has|'ve)? always (?:been )?(?:strive|aim|try|go|put|deliver|"
       r"provide|take great|take pride|"
       r"do our best|get it right|exceed)|striv(?:e|es|ing) (?:for|to (?:be|deliver|provide)) "
       r"(?:excellence|perfection|the best)|(?:we|our (?:\w+ )?team) (?:always |constantly |"
       r"continually )?striv(?:e|es)|exceed(?:s|ing)? (?:your|customers'?|customer) expectations",
       "It tells the customer how good we usually are; they judge us by this time.",
       "Delete it; say what we are doing."),
    _p(Rule.SELF_PRAISE, r"(?:we have|we've)(?: always)? (?:been )?\w+ing (?:\w+ ){0,4}?for "
       r"(?:over |more than |nearly |almost |well over )?(?:\w+ )?(?:years|decades)|(?:over|more "
       r"than) (?:\d+|\w+) years of (?:experience|service|excellence)",
       "It points at our record; the customer is judging us by this mistake.",
       "Delete it; say what we are doing."),
    _p(Rule.SELF_PRAISE, r"(?:shows?|showed|proves?|proved|demonstrates?|demonstrated) (?:just )?"
       r"(?:how (?:seriously|much|committed|quickly)|our (?:commitment|dedication|care))|"
       r"(?:we|I) take (?:\w+ ){1,3}?(?:very |extremely |incredibly )?seriously",
       "It tells the customer how much we care instead of showing it.",
       "Delete it; the fix and the next update show it."),
    _p(Rule.SELF_PRAISE, r"(?:thousands|millions|hundreds) of (?:happy|satisfied|loyal|"
       r"delighted) (?:customers|clients)|(?:customers|clients|people) (?:love|trust|know|rely "
       r"on|choose) us|(?<!have )(?<!had )(?<!'ve )(?:well[- ])?(?:known|famous|renowned|"
       r"respected) (?:(?:across|in|throughout|around|all over) (?:[\w-]+ ){1,3}?)?for|"
       r"reputation for",
       "It advertises us while the customer is hurting.", "Delete it."),
    _p(Rule.SELF_PRAISE, r"(?:our|the) (?:amazing|fantastic|brilliant|wonderful|great|excellent|"
       r"incredible|outstanding|superb|dedicated|hard-working|tireless|talented|expert) (?:\w+ )?"
       r"(?:team|engineers|staff|people|crew|colleagues)",
       "It praises our own people in a message about our mistake.",
       "Say what they are doing, without the adjective."),
    _p(Rule.SELF_PRAISE, r"(?:put(?:s|ting)?) (?:our |the |its )?(?:customers?|clients?|users?|"
       r"you) first|(?:customers?|clients?|you) (?:always )?(?:come|comes) first|(?:customer|"
       r"client)[- ](?:first|focused|centric|obsessed)|valued (?:customer|client|member)s?|"
       r"(?:went|go|goes|going|gone) to (?:extraordinary|great|enormous|huge|considerable|"
       r"incredible|extreme|exceptional) lengths|pulled out all the stops|left no stone unturned|"
       r"bent over backwards",
       "It praises us or our effort in the message that says we failed.",
       "Delete it; say what we did and what we are changing."),
    # Self-congratulation, follow-ups only: an apology may say "we immediately stopped the
    # batch"; a follow-up that praises our speed reads as a victory lap.
    _p(Rule.SELF_PRAISE, r"(?:we|our team|the team|our engineers|our staff) (?:very |incredibly |"
       r"really )?(?:quickly|swiftly|promptly|rapidly|immediately|heroically|tirelessly|"
       r"successfully|expertly|efficiently) \w+|(?:responded|reacted|acted|fixed it|"
       r"resolved it) within (?:minutes|seconds|the hour|an hour)",
       "It congratulates us on our speed; the customer still had the problem.",
       "Say what we did and what we changed, without rating it.", kinds=_FOLLOW_UP),
    _p(Rule.SELF_PRAISE, r"thanks to (?:our|the|their) (?:team's )?(?:very )?(?:swift|quick|rapid|"
       r"prompt|fast|tireless|hard|dedicated|excellent|heroic|outstanding|amazing|great|expert)|"
       r"(?:worked|working|work) (?:tirelessly|around the clock|day and night|through the night|"
       r"night and day|non-stop|flat out)|in (?:record|no) time|in (?:a matter of )?minutes|so "
       r"quickly|lightning[- ]fast|(?:impressive|remarkable|record|"
       r"lightning|incredible) (?:speed|time|turnaround|response)",
       "It congratulates us; the customer still had the problem.",
       "Say what we did and what we changed, without rating it.", kinds=_FOLLOW_UP),
    _p(Rule.SELF_PRAISE, r"(?:our|the) (?:\w+ )?(?:team|engineers|staff|people|crew) (?:did|has "
       r"done|have done|deserves?|did such) (?:an? |such an? )?(?:amazing|fantastic|great|"
       r"excellent|incredible|outstanding|brilliant|heroic|stellar|superb|wonderful|tremendous) "
       r"(?:job|work)",
       "It congratulates us; the customer still had the problem.",
       "Say what we did and what we changed, without rating it.", kinds=_FOLLOW_UP),
)
