"""The live-agent service's configuration: the project settings plus the service's own tunables.

Secrets, URLs and ports come from `bot.settings` (the environment, read once); the tunables
below are code defaults that tests override by building a config with other values.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from handoff.retry import Backoff
from handoff.throttle import Limit

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class HandoffConfig:
    settings: Settings
    static_dir: Path = HERE / "static"
    # DEMO ONLY: a copy of fixtures/demo.yml (agents to seed, users for the demo page).
    demo_file: Path = HERE / "demo.yml"
    # Estimated wait = position in the queue x this many minutes.
    average_handling_minutes: int = 4
    agent_token_ttl_seconds: int = 8 * 3600
    # Sign-in throttling (CONTRACT.md, handoff/throttle.py): wrong passwords within 15 minutes
    # per username and per client address before 429; the first lock's and the longest lock's
    # seconds (doubled on each repeat within the window).
    signin_user_limit: Limit = Limit(limit=20, window=900, lock=30, max_lock=900)
    signin_address_limit: Limit = Limit(limit=100, window=900, lock=60, max_lock=900)
    # A chat text (user or agent) may hold at most this many bytes of UTF-8.
    max_text_bytes: int = 4096
    # HTTP bodies (an intake carries a transcript) and websocket frames beyond these are refused.
    max_body_bytes: int = 512 * 1024
    max_frame_bytes: int = 64 * 1024
    # Token buckets: `burst` messages at once, then `rate` messages per second.
    connection_burst: int = 8
    connection_rate: float = 1.0
    sender_burst: int = 15
    sender_rate: float = 0.5
    # Agents are warned this long before an SLA deadline; the check runs every few seconds.
    sla_warning_minutes: int = 15
    sla_check_seconds: float = 30.0
    rasa_timeout_seconds: float = 30.0
    # A user message no Rasa process answered is tried again this often (and its agent_handled
    # event); a message waits at most this long for its conversation's lock before it is left
    # to the lock's holder or the retry job.
    relay_retry_seconds: float = 2.0
    relay_lock_wait_seconds: float = 60.0
    # An instance posting a conversation's agent_handled event holds its lease this long.
    tracker_event_lease_seconds: float = 30.0
    # An agent socket must authenticate within this time.
    auth_timeout_seconds: float = 10.0
    # Threads running blocking database work off the event loop.
    database_threads: int = 4
    # The integrations' outbox (webhooks, email): the retry schedule; how long a claimed delivery
    # is leased to one instance (longer than any send timeout: a crashed instance's lease runs
    # out and another instance tries again); how often an idle worker looks for due rows.
    outbox_backoff: Backoff = Backoff()
    outbox_lease_seconds: float = 30.0
    outbox_poll_seconds: float = 5.0
    outbox_batch: int = 20
    # Deliveries hold transcripts: delivered ones are deleted after a week, failed ones after 30 days.
    outbox_keep_delivered_days: float = 7
    outbox_keep_failed_days: float = 30
    webhook_timeout_seconds: float = 10.0
    smtp_timeout_seconds: float = 15.0
    # Presence and assignment (handoff/presence.py, handoff/assignment.py). Each instance marks
    # its agent sockets as seen every `presence_heartbeat_seconds`; an agent none of whose
    # sockets was seen for `presence_timeout_seconds` is offline (a reload within it is not).
    presence_heartbeat_seconds: float = 10.0
    presence_timeout_seconds: float = 30.0
    # Conversations assigned to one agent at most, unless the agent's row says otherwise.
    max_concurrent: int = 3
    # An agent offline this long has their conversations put back at the head of the queue.
    reassign_after_seconds: float = 120.0
    # Waiting P1/P2 conversations whose first-response deadline is this close, with nobody on
    # them, alert every online agent of the tier; the periodic round (reassignment, alerts,
    # assignments nobody triggered) runs every `assignment_check_seconds`, once across instances.
    deadline_alert_minutes: int = 10
    deadline_alert_priorities: tuple[str, ...] = ("P1", "P2")
    assignment_check_seconds: float = 5.0
    # A widget's typing frames are passed on at most this often per connection.
    typing_interval_seconds: float = 1.0
    # A user gets at most one transcript email per conversation within this time.
    transcript_email_cooldown_seconds: float = 300.0
    # The retention purge (TRANSCRIPT_RETENTION_DAYS) runs once per this interval across all
    # instances, deleting at most `retention_batch` conversations per run.
    retention_check_seconds: float = 3600.0
    retention_batch: int = 5000

    @property
    def database_url(self) -> str:
        return self.settings.database_url
