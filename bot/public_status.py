"""The built-in status page, for teams without one (rule 5: everyone affected means a public
post as well). Off unless AMENDS_PUBLIC_STATUS=true.

    GET /status             a small, accessible HTML page: open incidents with their public
                            updates and the promised next update; recent resolved ones
    GET /status.json        the same, as JSON
    GET /status/feed.atom   an Atom feed (RFC 4287) for subscribers, one entry per update

Only approved public text is ever shown: the public title and version a supervisor
approved with each customer message of an incident marked "everyone is affected"
(`storage.messages.approved_public`). Nothing else of the incident (its internal title,
what went wrong as the team wrote it, names, remedies, amounts) is read here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - we only write XML, never parse it
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.domain.public_status import RECENT, PublicIncident, public_page
from storage import messages

if TYPE_CHECKING:
    from bot.runtime import Runtime

ATOM = "http://www.w3.org/2005/Atom"
CACHE = "public, max-age=30"
_LABELS = {"investigating": "Investigating", "identified": "Identified",
           "monitoring": "Monitoring", "resolved": "Resolved", "update": "Update"}

_TIME = '<time datetime="{{ m.isoformat() }}">{{ m.strftime("%d %b %Y %H:%M UTC") }}</time>'
_PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""\
{%- macro when(m) -%}""" + _TIME + """{%- endmacro -%}
{%- macro show(i) -%}
<article id="incident-{{ i.id }}" aria-labelledby="incident-{{ i.id }}-title">
<h3 id="incident-{{ i.id }}-title">{{ i.title }}</h3>
<p><span class="status">{{ label(i.status) }}</span>
{%- if i.next_update_at %} · next update by {{ when(i.next_update_at) }}{% endif %}</p>
<ol>{% for u in i.updates %}
<li>{{ when(u.at) }}
{% for para in u.body.split("\\n\\n") %}<p>{{ para }}</p>{% endfor %}</li>{% endfor %}
</ol>
</article>
{%- endmacro -%}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="icon" href="data:,">
<link rel="alternate" type="application/atom+xml" title="{{ title }} (Atom feed)"
 href="{{ feed }}">
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:44rem;padding:1rem;
 color:#1b1b1b;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
h3{font-size:1.1rem;margin-bottom:.25rem}
article{border-top:1px solid #767676;padding:.5rem 0}.status{font-weight:700}
ol{list-style:none;padding:0}li{margin:.75rem 0}time{color:#4a4a4a}
a{color:#0b57d0}a:focus,a:hover{outline:2px solid #0b57d0}
</style>
</head>
<body>
<header><h1>{{ title }}</h1>
<p>{% if open %}{{ open|length }} open incident{{ "s" if open|length != 1 }}.
{%- else %}No open incidents.{% endif %}
<a href="{{ feed }}">Subscribe (Atom feed)</a></p></header>
<main>
<section aria-labelledby="open-heading"><h2 id="open-heading">Open incidents</h2>
{% for incident in open %}{{ show(incident) }}
{% else %}<p>Everything is running normally.</p>{% endfor %}
</section>
<section aria-labelledby="resolved-heading">
<h2 id="resolved-heading">Resolved in the last {{ days }} days</h2>
{% for incident in resolved %}{{ show(incident) }}
{% else %}<p>Nothing was resolved recently.</p>{% endfor %}
</section>
</main>
<footer><p>Updated {{ when(now) }}.</p></footer>
</body>
</html>
""")


async def _incidents(runtime: Runtime) -> tuple[list[PublicIncident], datetime]:
    now = runtime.deps.clock.now()
    async with runtime.deps.sessions() as session:
        rows = await messages.approved_public(session, now - RECENT)
    return public_page(rows, now), now


def _label(status: str) -> str:
    return _LABELS.get(status, status.capitalize())


def render_html(incidents: list[PublicIncident], now: datetime, title: str) -> str:
    return _PAGE.render(title=title, open=[i for i in incidents if i.open],
                        resolved=[i for i in incidents if not i.open], label=_label, now=now,
                        feed="/status/feed.atom", days=RECENT.days)


def as_json(incidents: list[PublicIncident], now: datetime) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return moment.astimezone(UTC).isoformat() if moment else None

    return {"updated_at": when(now), "incidents": [
        {"id": i.id, "title": i.title, "status": i.status, "open": i.open,
         "started_at": when(i.started_at), "updated_at": when(i.updated_at),
         "next_update_at": when(i.next_update_at),
         "updates": [{"at": when(u.at), "status": u.status, "body": u.body}
                     for u in i.updates]}
        for i in incidents]}


def render_atom(incidents: list[PublicIncident], now: datetime, title: str,
                base_url: str) -> bytes:
    """Atom 1.0: feed id/title/updated/link, an author, one entry per public update."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None,
            **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", f"{base_url}/status")
    sub(feed, "title", title)
    entries = [(i, u) for i in incidents for u in i.updates]
    latest = max((u.at for _, u in entries), default=now)
    sub(feed, "updated", latest.astimezone(UTC).isoformat())
    sub(feed, "link", rel="self", href=f"{base_url}/status/feed.atom")
    sub(feed, "link", rel="alternate", href=f"{base_url}/status")
    author = sub(feed, "author")
    sub(author, "name", title)
    for incident, update in sorted(entries, key=lambda e: e[1].at, reverse=True):
        entry = sub(feed, "entry")
        stamp = update.at.astimezone(UTC)
        sub(entry, "id", f"{base_url}/status#incident-{incident.id}-{int(stamp.timestamp())}")
        sub(entry, "title", f"{incident.title} ({_label(update.status)})")
        sub(entry, "updated", stamp.isoformat())
        sub(entry, "link", rel="alternate", href=f"{base_url}/status#incident-{incident.id}")
        sub(entry, "content", update.body, type="text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def routes(runtime: Callable[[], Runtime]) -> list[Route]:
    """The three routes, mounted only when AMENDS_PUBLIC_STATUS is true."""

    def title() -> str:
        return runtime().settings.amends_public_status_title

    async def page(_request: Request) -> Response:
        incidents, now = await _incidents(runtime())
        return HTMLResponse(render_html(incidents, now, title()),
                            headers={"Cache-Control": CACHE})

    async def json_page(_request: Request) -> Response:
        incidents, now = await _incidents(runtime())
        return JSONResponse(as_json(incidents, now), headers={"Cache-Control": CACHE})

    async def feed(request: Request) -> Response:
        incidents, now = await _incidents(runtime())
        base = (runtime().settings.amends_public_url or str(request.base_url)).rstrip("/")
        return Response(render_atom(incidents, now, title(), base),
                        media_type="application/atom+xml; charset=utf-8",
                        headers={"Cache-Control": CACHE})

    return [Route("/status", page, methods=["GET"]),
            Route("/status.json", json_page, methods=["GET"]),
            Route("/status/feed.atom", feed, methods=["GET"])]
