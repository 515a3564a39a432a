"""Database work of the live-agent service: plain functions taking a session.

They run inside `Database.read` / `Database.write` (one transaction each, off the event loop)
and return plain dicts, so nothing lazy escapes the session. Every text is redacted before it
is stored. Callers use the package (`repository.claim(...)`); the modules are split by concern:

| module | what |
|---|---|
| `records.py` | `AgentInfo` and the dict builders every other module returns |
| `queue.py` | queue order and positions, computed in SQL (a window function) |
| `conversations.py` | open/resume, messages, state (pending relays, the tracker event's lease and SLA reminders are claimed in `handoff/claims.py`) |
| `intake.py` | `Escalation`, `escalate`: a conversation enters the queue |
| `agents.py` | agents, sign-in, audit log; claim, agent messages, transfer, resolve/release |
| `sessions.py` | agent sessions that can end (sign-out, disable), the security events of the audit log |
| `tickets.py` | tickets |
| `presence.py` | agents online/away/offline across instances (their console sockets) |
| `assignment.py` | waiting conversations to online agents, reassignment, first-response alerts, "mine" |
| `waiting.py` | the waiting user: leaving the queue, correcting the priority, the acknowledgement |
"""
from handoff.repository.agents import (
    agent_info,
    agent_message,
    agent_password_hash,
    audit,
    claim,
    close,
    find_agent,
    record_login,
    seed_agents,
    transfer,
)
from handoff.repository.conversations import (
    add_message,
    add_messages,
    conversation_detail,
    conversation_state,
    get_conversation,
    open_conversation,
    touch_conversation,
    transcript,
)
from handoff.repository.assignment import assign_waiting, due_deadline_alerts, my_conversations, reassign_offline
from handoff.repository.presence import (
    online_usernames,
    presence_list,
    presence_of,
    set_status,
    socket_closed,
    socket_connected,
    sockets_seen,
)
from handoff.repository.waiting import (
    acknowledge_waiting, hand_to_bot, leave_queue, owner_of, queue_status, require_owner, set_priority,
)
from handoff.repository.intake import Escalation, escalate
from handoff.repository.queue import position_of, queue_positions, queue_view, urgency_order
from handoff.repository.records import AgentInfo, conversation_dict, iso, message_dict, sla_dict
from handoff.repository.sessions import (
    SECURITY_ACTIONS,
    end_session,
    record_security_event,
    security_events,
    session_agent,
    set_agent_active,
)
from handoff.repository.tickets import get_ticket, list_tickets, store_ticket, ticket_dict

__all__ = [
    "AgentInfo", "conversation_dict", "iso", "message_dict", "sla_dict",
    "position_of", "queue_positions", "queue_view", "urgency_order",
    "add_message", "add_messages", "conversation_detail", "conversation_state",
    "get_conversation", "open_conversation", "touch_conversation", "transcript",
    "Escalation", "escalate",
    "agent_info", "agent_message", "agent_password_hash", "audit", "claim", "close",
    "find_agent", "record_login", "seed_agents", "transfer",
    "get_ticket", "list_tickets", "store_ticket", "ticket_dict",
    "assign_waiting", "due_deadline_alerts", "my_conversations", "reassign_offline",
    "online_usernames", "presence_list", "presence_of", "set_status",
    "socket_closed", "socket_connected", "sockets_seen",
    "acknowledge_waiting", "hand_to_bot", "leave_queue", "owner_of", "queue_status", "require_owner", "set_priority",
]
