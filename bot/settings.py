"""Every setting of the project, read once from the environment.

Development defaults let `make run` work with no configuration at all; production mode
(`BOT_ENV=production`) refuses the development secrets, see `Settings.check`.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEV_IDENTITY_SECRET = "dev-identity-secret-not-for-production"
DEV_SERVICE_TOKEN = "dev-service-token-not-for-production"
DEV_AGENT_TOKEN_SECRET = "dev-agent-token-secret-not-for-production"
DEV_RASA_API_TOKEN = "dev-rasa-api-token-not-for-production"
DEV_WEBHOOK_SECRET = "dev-webhook-secret-not-for-production"
DEV_ACTION_SERVER_SECRET = "dev-action-server-secret-not-for-production"


class InsecureSettings(RuntimeError):
    """Production mode was asked for with a development secret."""


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    identity_secret: str
    service_token: str
    agent_token_secret: str
    rasa_api_token: str
    rasa_url: str
    handoff_url: str
    action_server_port: int
    rasa_port: int
    handoff_port: int
    knowledge_dir: Path
    # Integrations (docs/webhooks.md, handoff/README.md): each is off while its URL is empty.
    webhook_url: str
    webhook_secret: str
    smtp_url: str
    mail_from: str
    support_inbox: str
    # Several Rasa processes: the live-agent service routes each conversation to one of them.
    rasa_urls: tuple[str, ...] = ()
    # Redis carries pushes, locks and rate limits between live-agent instances; none: one process.
    redis_url: str = ""
    # This live-agent instance's name in /health and the logs.
    instance: str = ""
    # Connections each process keeps to PostgreSQL (docs/scaling.md has the budget).
    database_pool_size: int = 5
    database_max_overflow: int = 5
    # How often the action server forwards what waits in its outbox.
    outbox_flush_seconds: float = 15.0
    # Rasa's Redis lock store (bot.lock_store): a lock of a killed process expires after this.
    rasa_lock_lifetime_seconds: float = 20.0
    # Rasa sends this in `X-Bolt-Action-Secret` (endpoints.yml); the action server refuses
    # /webhook without it (docs/security.md).
    action_server_secret: str = DEV_ACTION_SERVER_SECRET
    # The action server's listening address: loopback unless the cluster's private network
    # needs it wider. The live-agent service is public (the widget and the console).
    action_server_host: str = "127.0.0.1"
    handoff_host: str = "0.0.0.0"
    # Behind a proxy of ours (HAProxy under `make cluster`), the client's address for the
    # sign-in throttle is the last X-Forwarded-For entry; otherwise the connection's peer.
    trust_forwarded_for: bool = False
    # Conversations whose tracker a Rasa process keeps in memory (bot.tracker_store); 0: none.
    tracker_cache_size: int = 2000
    # User turns the dialogue policies see of a conversation (bot.dialogue_window); 0: all.
    dialogue_window_turns: int = 6
    # Transcripts (conversations, their tracker events, tickets) untouched this many days are
    # purged by the live-agent service (handoff/privacy.py); 0 keeps them forever.
    transcript_retention_days: float = 180.0
    # Where the NLU's own models (signals, triage: bot/nlu_models.py) are cached once trained.
    nlu_model_dir: Path = ROOT / "var" / "nlu"

    @property
    def production(self) -> bool:
        return self.env == "production"

    def check(self) -> "Settings":
        """Raise `InsecureSettings` when production runs on a development secret."""
        if self.production:
            insecure = [
                name
                for name, value, dev in (
                    ("BOT_IDENTITY_SECRET", self.identity_secret, DEV_IDENTITY_SECRET),
                    ("HANDOFF_SERVICE_TOKEN", self.service_token, DEV_SERVICE_TOKEN),
                    ("AGENT_TOKEN_SECRET", self.agent_token_secret, DEV_AGENT_TOKEN_SECRET),
                    ("RASA_API_TOKEN", self.rasa_api_token, DEV_RASA_API_TOKEN),
                    ("ACTION_SERVER_SECRET", self.action_server_secret, DEV_ACTION_SERVER_SECRET),
                )
                if not value or value == dev
            ]
            if self.webhook_url and self.webhook_secret in ("", DEV_WEBHOOK_SECRET):
                insecure.append("HANDOFF_WEBHOOK_SECRET")
            if insecure:
                raise InsecureSettings(
                    "BOT_ENV=production needs real secrets; still on the development default: "
                    + ", ".join(insecure)
                )
        return self


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _url_list(value: str) -> tuple[str, ...]:
    return tuple(url.strip().rstrip("/") for url in value.split(",") if url.strip())


def from_environment(environ: "os._Environ[str] | dict[str, str] | None" = None) -> Settings:
    """Build settings from an environment mapping (the process environment by default)."""
    env = os.environ if environ is None else environ
    rasa_url = env.get("RASA_URL", "http://localhost:5005")
    handoff_port = int(env.get("HANDOFF_PORT", "8080"))
    return Settings(
        env=env.get("BOT_ENV", "development"),
        database_url=env.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bolt.db'}"),
        identity_secret=env.get("BOT_IDENTITY_SECRET", DEV_IDENTITY_SECRET),
        service_token=env.get("HANDOFF_SERVICE_TOKEN", DEV_SERVICE_TOKEN),
        agent_token_secret=env.get("AGENT_TOKEN_SECRET", DEV_AGENT_TOKEN_SECRET),
        rasa_api_token=env.get("RASA_API_TOKEN", DEV_RASA_API_TOKEN),
        rasa_url=rasa_url,
        handoff_url=env.get("HANDOFF_URL", "http://localhost:8080"),
        action_server_port=int(env.get("ACTION_SERVER_PORT", "5055")),
        rasa_port=int(env.get("RASA_PORT", "5005")),
        handoff_port=handoff_port,
        knowledge_dir=Path(env.get("KNOWLEDGE_DIR", str(ROOT / "knowledge"))),
        # Outbound webhooks: POST target (empty: none are sent) and the HMAC signing secret.
        webhook_url=env.get("HANDOFF_WEBHOOK_URL", "").strip(),
        webhook_secret=env.get("HANDOFF_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET),
        # Email: smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://...
        # (TLS from the start); empty: no email is sent.
        smtp_url=env.get("SMTP_URL", "").strip(),
        mail_from=env.get("MAIL_FROM", "Bolt Support <bolt@localhost>"),
        # Where tickets created while no agent is online are mailed (empty: they are not).
        support_inbox=env.get("SUPPORT_INBOX", "").strip(),
        rasa_urls=_url_list(env.get("RASA_URLS", "")) or _url_list(rasa_url),
        redis_url=env.get("REDIS_URL", ""),
        instance=env.get("HANDOFF_INSTANCE") or f"{socket.gethostname()}:{handoff_port}",
        database_pool_size=int(env.get("DATABASE_POOL_SIZE", "5")),
        database_max_overflow=int(env.get("DATABASE_MAX_OVERFLOW", "5")),
        outbox_flush_seconds=float(env.get("OUTBOX_FLUSH_SECONDS", "15")),
        rasa_lock_lifetime_seconds=float(env.get("RASA_LOCK_LIFETIME_SECONDS", "20")),
        action_server_secret=env.get("ACTION_SERVER_SECRET", DEV_ACTION_SERVER_SECRET),
        action_server_host=env.get("ACTION_SERVER_HOST", "127.0.0.1"),
        handoff_host=env.get("HANDOFF_HOST", "0.0.0.0"),
        trust_forwarded_for=_flag(env.get("HANDOFF_TRUST_FORWARDED_FOR", "")),
        tracker_cache_size=int(env.get("TRACKER_CACHE_SIZE", "2000")),
        dialogue_window_turns=int(env.get("DIALOGUE_WINDOW_TURNS", "6")),
        transcript_retention_days=float(env.get("TRANSCRIPT_RETENTION_DAYS", "180")),
        nlu_model_dir=Path(env.get("BOLT_MODEL_DIR") or ROOT / "var" / "nlu"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (never at import time)."""
    return from_environment().check()
