"""The slash command's small language: `/amends <sub-command> [arguments]`.

Parsing is pure so that every mistyped command can be answered with a short,
specific explanation instead of a stack trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_INCIDENT_ID = re.compile(r"^(?:#|inc-)?(\d{1,9})$", re.IGNORECASE)


class CommandError(Exception):
    """Bad arguments; the message says what to type instead."""


@dataclass(frozen=True, slots=True)
class Help:
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class Declare:
    title: str


@dataclass(frozen=True, slots=True)
class Status:
    incident_id: int


@dataclass(frozen=True, slots=True)
class ListOpen:
    page: int = 1


@dataclass(frozen=True, slots=True)
class SetSupervisor:
    member_id: str
    supervisor_id: str
    backup_id: str | None


@dataclass(frozen=True, slots=True)
class SetOncall:
    user_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShowTeam:
    pass


@dataclass(frozen=True, slots=True)
class ShowOncall:
    pass


@dataclass(frozen=True, slots=True)
class CoverOncall:
    user_id: str
    hours: int


@dataclass(frozen=True, slots=True)
class Customers:
    incident_id: int


@dataclass(frozen=True, slots=True)
class Update:
    incident_id: int


@dataclass(frozen=True, slots=True)
class Resolve:
    incident_id: int


@dataclass(frozen=True, slots=True)
class Reopen:
    incident_id: int


@dataclass(frozen=True, slots=True)
class MyActions:
    pass


class Period:
    """How far back `/amends report` looks: 30 or 90 days, or everything."""

    CHOICES = {"30d": 30, "90d": 90, "all": None}


@dataclass(frozen=True, slots=True)
class Report:
    days: int | None = 30  # None: every incident ever
    incident_id: int | None = None  # `/amends report 12`: one incident's timeline picture


@dataclass(frozen=True, slots=True)
class Remedies:
    """Upload the incident's remedies as CSV to its thread."""

    incident_id: int


Command = (Help | Declare | Status | ListOpen | SetSupervisor | SetOncall | ShowTeam | Customers
           | Update | ShowOncall | CoverOncall | Resolve | Reopen | MyActions | Report
           | Remedies)


def parse(text: str, command_name: str = "/amends") -> Command:
    words = text.split()
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    rest = text.strip()[len(words[0]):].strip()
    match verb:
        case "help":
            return Help()
        case "declare":
            return Declare(title=rest)
        case "status":
            return Status(_incident_id(args, f"{command_name} status 12"))
        case "update":
            return Update(_incident_id(args, f"{command_name} update 12"))
        case "customers":
            return Customers(_incident_id(args, f"{command_name} customers 12"))
        case "resolve":
            return Resolve(_incident_id(args, f"{command_name} resolve 12"))
        case "reopen":
            return Reopen(_incident_id(args, f"{command_name} reopen 12"))
        case "actions":
            return MyActions()
        case "report":
            return _report(args, command_name)
        case "remedies":
            return Remedies(_incident_id(args, f"{command_name} remedies 12"))
        case "list":
            return ListOpen(_page(args, f"{command_name} list 2"))
        case "team":
            return ShowTeam()
        case "supervisor":
            return _supervisor(args, command_name)
        case "oncall":
            return _oncall(args, command_name)
        case _:
            return Help(unknown=words[0])


def _incident_id(args: list[str], example: str) -> int:
    match = _INCIDENT_ID.match(args[0]) if len(args) == 1 else None
    if not match:
        raise CommandError(f"Give one incident number, e.g. `{example}`.")
    return int(match.group(1))


def _report(args: list[str], name: str) -> Report:
    usage = (f"Usage: `{name} report [30d|90d|all]` for the numbers, or `{name} report 12` "
             "for one incident's timeline picture.")
    if not args:
        return Report()
    if len(args) != 1:
        raise CommandError(usage)
    word = args[0].lower()
    if word in Period.CHOICES:
        return Report(days=Period.CHOICES[word])
    match = _INCIDENT_ID.match(word)
    if match:
        return Report(days=None, incident_id=int(match.group(1)))
    raise CommandError(usage)


def _page(args: list[str], example: str) -> int:
    if not args:
        return 1
    if len(args) != 1 or not args[0].isdecimal() or not 1 <= int(args[0]) <= 10_000:
        raise CommandError(f"Give a page number, e.g. `{example}`.")
    return int(args[0])


def mention(word: str) -> str | None:
    match = _MENTION.match(word)
    return match.group(1) if match else None


def _supervisor(args: list[str], name: str) -> SetSupervisor:
    usage = f"Usage: `{name} supervisor @member @supervisor [backup @backup]`."
    if len(args) not in (2, 4) or (len(args) == 4 and args[2].lower() != "backup"):
        raise CommandError(usage)
    ids = [mention(a) for a in (args[0], args[1], *args[3:])]
    if any(i is None for i in ids):
        raise CommandError(f"Mention people with @, picked from Slack's list. {usage}")
    member, supervisor, *backup = [i for i in ids if i]
    if member == supervisor:
        raise CommandError("Someone cannot be their own supervisor.")
    if backup and backup[0] == supervisor:
        raise CommandError("The backup must be someone other than the supervisor.")
    return SetSupervisor(member, supervisor, backup[0] if backup else None)


_DURATION = re.compile(r"^(\d{1,3})([hd])$", re.IGNORECASE)


def _cover(args: list[str], name: str) -> CoverOncall:
    usage = f"Usage: `{name} oncall cover @person 8h` (hours `h` or days `d`, up to 14 days)."
    who = mention(args[0]) if len(args) == 2 else None
    length = _DURATION.match(args[1]) if len(args) == 2 else None
    if who is None or length is None:
        raise CommandError(usage)
    hours = int(length.group(1)) * (24 if length.group(2).lower() == "d" else 1)
    if not 1 <= hours <= 14 * 24:
        raise CommandError(usage)
    return CoverOncall(who, hours)


def _oncall(args: list[str], name: str) -> SetOncall | ShowOncall | CoverOncall:
    usage = f"Usage: `{name} oncall @first @second …` (in rotation order)."
    if not args:
        return ShowOncall()
    if args[0].lower() == "cover":
        return _cover(args[1:], name)
    ids = [mention(a) for a in args]
    if any(i is None for i in ids):
        raise CommandError(f"Mention people with @, picked from Slack's list. {usage}")
    unique = tuple(dict.fromkeys(i for i in ids if i))
    return SetOncall(unique)
