"""Finds and masks secrets users type into the chat: host keys, passwords (API secrets and
tokens with them), card numbers.

Used before anything is stored or shown to agents (transcripts, tickets, the live-agent
service) and by the NLU to warn the user. The masks are language-neutral
(`[REDACTED host key]`), because a transcript is read by agents of either language.

What is deliberately *not* a secret: phone numbers, meeting IDs and error codes. A number only
counts as a host key when a key word (host key, Hostschlüssel, PIN, …) stands next to it, and a
long digit run only counts as a card number when it passes the Luhn check.

Redaction is idempotent: a text is redacted on its way into the tracker store, again when the
action server builds a transcript and once more in the live-agent service, and a mask is never
taken for a secret of its own ("password: [REDACTED password]" stays as it is).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

HOST_KEY = "host_key"
PASSWORD = "password"
CARD_NUMBER = "card_number"

MASKS = {
    HOST_KEY: "[REDACTED host key]",
    PASSWORD: "[REDACTED password]",
    CARD_NUMBER: "[REDACTED card number]",
}


@dataclass(frozen=True)
class Secret:
    kind: str
    start: int
    end: int


# --- host keys -------------------------------------------------------------------------------
# "Hostschlüssel", "Host-Schlüssel", "host key", "hostkey", "Host-Key", "Moderatorschlüssel",
# "PIN", and a bare "key"/"Schlüssel" (a labelled meeting key is a secret too).
_KEY_WORD = (
    r"(?:host|moderator|gastgeber)?[\s-]?(?:schl(?:ü|ue)ssel|key)s?"
    r"|(?:host[\s-]?)?pin(?:[\s-]?code)?"
)
# About six digits, possibly grouped ("739 214"); never part of a longer digit run.
_KEY_NUMBER = r"(?<![\d+])\d(?:[ -]?\d){3,9}(?![\d])"
# Keyword, then up to 40 characters without digits ("ist", "lautet:", "is still"), then the number.
_HOST_KEY_AFTER = re.compile(
    rf"\b(?:{_KEY_WORD})\b[^\d\n]{{0,40}}?(?P<value>{_KEY_NUMBER})", re.IGNORECASE
)
# The number first: "739214 ist mein Hostschlüssel", "739214 is my host key".
_HOST_KEY_BEFORE = re.compile(
    rf"(?P<value>{_KEY_NUMBER})[^\d\n]{{0,25}}?\b(?:{_KEY_WORD})\b", re.IGNORECASE
)

# --- passwords -------------------------------------------------------------------------------
# API credentials count as passwords: "mein api secret ist sk_live_…", "client secret: …".
_PASSWORD_WORD = (r"(?:passw(?:or)?[dt]|passwd|kennwort|pass(?:wort)?|pwd|pw|passcode"
                  r"|(?:api|client|app)[\s-]?(?:secret|key|token|schlüssel)|secret|access[\s-]?token|token)")
# "Passwort: x", "password = x", "mein Passwort ist x", "my password is x", "Kennwort lautet x",
# "das Passwort für mein Konto ist x", "the password of the admin account is x"
_PASSWORD_OF = r"(?:\s+(?:für|fuer|for|of|von|vom|zu|zum|zur|to|bei|beim)(?:\s+[^\s:=\"'„“»]+){1,3}?)?"
_PASSWORD_EXPLICIT = re.compile(
    rf"\b{_PASSWORD_WORD}\b{_PASSWORD_OF}\s*(?:[:=]|\s(?:ist|is|lautet|was|war|heißt|heisst)\b\s*:?)\s*"
    r"(?:[\"'„“»](?P<quoted>[^\"'“”«»\n]+)[\"'“”«»]|(?P<value>[^\s\"'“”«»]+))",
    re.IGNORECASE,
)
# "pw Sommer2024!": no verb, so the value must look like a password (a digit or symbol in it).
_PASSWORD_BARE = re.compile(
    rf"\b{_PASSWORD_WORD}\b\s+[\"'„“»]?(?P<value>(?=\S*[\d!@#$%^&*_=+?§/\\])[^\s\"'“”«»]{{4,}})",
    re.IGNORECASE,
)
# A credential recognisable by its own shape, whatever stands before it: payment-API keys
# ("sk_live_…", "rk_test_…"), GitHub/GitLab/Slack tokens, a JSON web token.
_CREDENTIAL_SHAPE = re.compile(
    r"\b(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|glpat-[\w-]{20,}"
    r"|xox[abposr]-[\w-]{10,}|eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,})"
)
# Words that follow "password is …" in questions about a password, not in a disclosure.
_NOT_A_PASSWORD = frozenset(
    """
    falsch richtig abgelaufen vergessen ungültig ungueltig gesperrt weg zu nicht kein keine
    noch immer schon leer geändert geaendert korrekt neu alt sicher unsicher zurückgesetzt
    wrong right correct incorrect expired forgotten invalid locked gone too not no still
    already empty changed new old safe unsafe reset required needed missing the a an my
    """.split()
)

# --- card numbers ----------------------------------------------------------------------------
# 13–19 digits, optionally grouped by single spaces or dashes. Card numbers never start with 0;
# a leading "+", "(" or "0" ("0049 …") marks a phone number, and so does a phone word before it.
# Every start position is tried (a lookahead), so a digit run glued to a word before it
# ("hunter22 4111 1111 1111 1111") does not hide the card number that follows.
_CARD_CANDIDATE = re.compile(r"(?<![\d+(])(?=([1-9](?:[ -]?\d){12,18})(?!\d))")
_PHONE_CONTEXT = re.compile(
    r"(?:tel\b|telefon|phone|fax|hotline|anruf|ruf\w* \w* ?an\b|call|durchwahl|extension|nummer|number)"
    r"[^\d\n]{0,15}$",
    re.IGNORECASE,
)
_CARD_CONTEXT = re.compile(r"(?:karte|card|kredit|credit|visa|master|amex)", re.IGNORECASE)


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_numbers(text: str) -> list[Secret]:
    found = []
    for match in _CARD_CANDIDATE.finditer(text):
        candidate = match.group(1)
        digits = re.sub(r"\D", "", candidate)
        if not (13 <= len(digits) <= 19 and luhn_valid(digits)):
            continue
        before = text[max(0, match.start() - 30):match.start()]
        if _PHONE_CONTEXT.search(before) and not _CARD_CONTEXT.search(before):
            continue
        found.append(Secret(CARD_NUMBER, match.start(), match.start() + len(candidate)))
    return found


def _host_keys(text: str) -> list[Secret]:
    # Every start position is tried: a digit run that reaches into a card number before it
    # ("4111 1111 1111 1111 739214 Hostschlüssel") must not hide the key that follows.
    found = []
    for pattern in (_HOST_KEY_AFTER, _HOST_KEY_BEFORE):
        position = 0
        while (match := pattern.search(text, position)) is not None:
            found.append(Secret(HOST_KEY, match.start("value"), match.end("value")))
            position = match.start("value") + 1
    return found


def _passwords(text: str) -> list[Secret]:
    found = []
    for match in _PASSWORD_EXPLICIT.finditer(text):
        if match.group("quoted"):
            found.append(Secret(PASSWORD, match.start("quoted"), match.end("quoted")))
            continue
        value = match.group("value").rstrip(".,;:)")
        if value and value.lower() not in _NOT_A_PASSWORD:
            found.append(Secret(PASSWORD, match.start("value"), match.start("value") + len(value)))
    for match in _PASSWORD_BARE.finditer(text):
        value = match.group("value").rstrip(".,;)")
        found.append(Secret(PASSWORD, match.start("value"), match.start("value") + len(value)))
    for match in _CREDENTIAL_SHAPE.finditer(text):
        found.append(Secret(PASSWORD, match.start(), match.end()))
    return found


# A mask already in the text ("Passwort ist [REDACTED password]") is no secret: redacting an
# already redacted text (a forwarded ticket, a transcript mailed later) must leave it as it is.
_MASK = re.compile("|".join(re.escape(mask) for mask in MASKS.values()))


def find_secrets(text: str) -> list[Secret]:
    """Every secret in `text`, in order, without overlaps (the earlier, longer span wins)."""
    if not text:
        return []
    # Each stretch between masks on its own: a mask's words ("key", "password") are no key word,
    # and what stood next to the masked secret is no secret of its own.
    candidates: list[Secret] = []
    position = 0
    for stretch_end, next_position in [(m.start(), m.end()) for m in _MASK.finditer(text)] + [(len(text), len(text))]:
        stretch = text[position:stretch_end]
        for secret in _card_numbers(stretch) + _host_keys(stretch) + _passwords(stretch):
            candidates.append(Secret(secret.kind, secret.start + position, secret.end + position))
        position = next_position
    candidates.sort(key=lambda s: (s.start, -(s.end - s.start)))
    secrets: list[Secret] = []
    for secret in candidates:
        if secrets and secret.start < secrets[-1].end:
            continue
        secrets.append(secret)
    return secrets


def redact(text: str) -> str:
    """`text` with every secret replaced by its mask, e.g. `[REDACTED host key]`."""
    if not text:
        return text
    parts = []
    position = 0
    for secret in find_secrets(text):
        parts.append(text[position:secret.start])
        parts.append(MASKS[secret.kind])
        position = secret.end
    parts.append(text[position:])
    return "".join(parts)


def contains_secret(text: str) -> bool:
    return bool(find_secrets(text))
