"""Client of the Rasa server: the REST channel for user messages, the tracker API for events."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer properly."""


class RasaClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, api_token: str, timeout: float) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api_token = api_token
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one user message, as Rasa's REST channel gives them."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self.http.post(
                f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=self.timeout
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered {response.status}")
                replies = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise RasaUnavailable(f"{error.__class__.__name__}: {error}") from error
        if not isinstance(replies, list):
            raise RasaUnavailable("Rasa's answer is not a list of messages")
        return [r for r in replies if isinstance(r, dict)]

    async def agent_handled(self, sender: str) -> bool:
        """Append the `agent_handled` slot to the tracker; False when Rasa can't take it now."""
        url = f"{self.base_url}/conversations/{quote(sender, safe='')}/tracker/events"
        event = {"event": "slot", "name": "agent_handled", "value": True}
        try:
            async with self.http.post(
                url, params={"token": self.api_token}, json=event, timeout=self.timeout
            ) as response:
                if response.status == 200:
                    return True
                logger.warning("Rasa refused the agent_handled event for %s: %s", sender, response.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("Rasa unreachable for the agent_handled event of %s: %s", sender, error)
        return False
