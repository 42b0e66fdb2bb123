"""The reviewer model's client: one POST to `{AMENDS_REVIEWER_URL}/chat/completions`
(OpenAI's API, or any compatible server such as a local vLLM, llama.cpp or Ollama), with
the answer schema as `response_format`, a hard time limit, and a cache by text.

    client = ReviewerClient("http://127.0.0.1:8000/v1", "my-model", api_key=None)
    advice = await client.review(text, MessageKind.APOLOGY)   # or a ReviewerError

Only successful answers are cached (a timeout is tried again next time). No retries: the
reviewer is advice, and a second attempt would only make the advice later.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import OrderedDict
from typing import Any

import httpx

from bot.domain.apology.review import SCHEMA, Advice, accept, messages
from bot.domain.apology.rules import MessageKind
from integrations.reviewer.errors import (
    ReviewerAuthError,
    ReviewerBadAnswer,
    ReviewerError,
    ReviewerRequestError,
    ReviewerUnavailable,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 4.0  # seconds for the whole exchange; the thread shows advice after it


class ReviewerClient:
    def __init__(self, url: str, model: str, *, api_key: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, cache_size: int = 256,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        base = url.rstrip("/")
        self.endpoint = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.AsyncClient(headers=headers, transport=transport,
                                      timeout=httpx.Timeout(timeout))
        self._cache: OrderedDict[str, list[Advice]] = OrderedDict()
        self._cache_size = cache_size
        self.calls = 0  # requests actually sent (the cache's hits are not counted)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def review(self, text: str, kind: MessageKind) -> list[Advice]:
        key = hashlib.sha256(f"{self.model}\0{kind.value}\0{text}".encode()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            answer = await asyncio.wait_for(self._ask(text, kind), timeout=self.timeout)
        except TimeoutError:
            raise ReviewerUnavailable(f"no answer within {self.timeout:g} s") from None
        advice = accept(answer, text)
        self._cache[key] = advice
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        log.info("reviewer: %d findings kept", len(advice))
        return advice

    async def _ask(self, text: str, kind: MessageKind) -> Any:
        body = {
            "model": self.model,
            "messages": messages(text, kind),
            "temperature": 0,
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "apology_review", "strict": True, "schema": SCHEMA}},
        }
        self.calls += 1
        try:
            response = await self.http.post(self.endpoint, json=body)
        except httpx.TimeoutException:
            raise ReviewerUnavailable(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ReviewerUnavailable(f"cannot reach the reviewer ({type(exc).__name__})") \
                from None
        status = response.status_code
        if status in (401, 403):
            raise ReviewerAuthError("the reviewer refused AMENDS_REVIEWER_API_KEY",
                                    status=status)
        if status == 429 or status >= 500:
            raise ReviewerUnavailable("the reviewer is busy or failing", status=status)
        if status >= 400:
            raise ReviewerRequestError("the reviewer rejected the request (check "
                                       "AMENDS_REVIEWER_MODEL)", status=status)
        try:
            content = response.json()["choices"][0]["message"]["content"]
            return json.loads(_unfenced(content))
        except (ValueError, KeyError, IndexError, TypeError):
            raise ReviewerBadAnswer("the reviewer's answer is not JSON in the schema",
                                    status=status) from None


def _unfenced(content: str) -> str:
    """Some local models wrap JSON in a ``` fence even when asked not to."""
    s = content.strip()
    if s.startswith("```"):
        s = s.split("\n", 1)[1] if "\n" in s else ""
        s = s.rsplit("```", 1)[0]
    return s


def build_reviewer(url: str | None, model: str | None, api_key: str | None,
                   timeout: float = DEFAULT_TIMEOUT) -> ReviewerClient | None:
    """The client when AMENDS_REVIEWER_URL is set (off by default: drafts would leave)."""
    if not url or not model:
        return None
    return ReviewerClient(url, model, api_key=api_key, timeout=timeout)


__all__ = ["ReviewerClient", "ReviewerError", "build_reviewer"]
