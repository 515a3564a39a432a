"""Secrets are masked before transcripts reach agents; phone numbers and meeting IDs are not."""
from __future__ import annotations

import random

import pytest

from bot.redaction import CARD_NUMBER, HOST_KEY, MASKS, PASSWORD, find_secrets, luhn_valid, redact

# (message, the secret that must disappear, its kind)
SECRETS = [
    ("Mein Hostschlüssel ist 739214, wieso geht er nicht?", "739214", HOST_KEY),
    ("Hostschlüssel: 482 913", "482 913", HOST_KEY),
    ("Der Host-Schlüssel lautet 118822", "118822", HOST_KEY),
    ("739214 ist mein Hostschlüssel", "739214", HOST_KEY),
    ("my host key is 123456 and it is rejected", "123456", HOST_KEY),
    ("Host-Key 654321 geht nicht", "654321", HOST_KEY),
    ("hostkey=908172", "908172", HOST_KEY),
    ("Meine PIN ist 4711", "4711", HOST_KEY),
    ("the meeting key is 55667788", "55667788", HOST_KEY),
    ("Mein Passwort ist Sommer2024!", "Sommer2024!", PASSWORD),
    ("Passwort: geheim123", "geheim123", PASSWORD),
    ("Kennwort lautet Tr0ub4dor", "Tr0ub4dor", PASSWORD),
    ("my password is hunter2.", "hunter2", PASSWORD),
    ("password=correct-horse-battery", "correct-horse-battery", PASSWORD),
    ("pw: abc", "abc", PASSWORD),
    ("pwd Xy9#kk", "Xy9#kk", PASSWORD),
    ('Das Kennwort ist "mein geheimes wort"', "mein geheimes wort", PASSWORD),
    ("Karte 4111 1111 1111 1111 wurde abgelehnt", "4111 1111 1111 1111", CARD_NUMBER),
    ("card number 5500-0000-0000-0004 please", "5500-0000-0000-0004", CARD_NUMBER),
    ("Kreditkarte 378282246310005", "378282246310005", CARD_NUMBER),
]

# Nothing in these is a secret: they must come through unchanged.
HARMLESS = [
    "Rufen Sie +49 30 8009 8621 an, Durchwahl 2",
    "Die Hotline ist 0800 0010429",
    "Telefon 0049 800 0010 4290 123",
    "US support: +1 888 799 9666 extension 2",
    "Meine Meeting-ID ist 123 456 7890",
    "meeting id 85012345678 does not start",
    "Ich habe mein Passwort vergessen",
    "mein Passwort ist falsch",
    "my password is wrong",
    "password reset does not work",
    "Fehlercode 1001 beim Start",
    "Wir haben 1500 Nutzer und 12 Admins",
    "Bestellnummer 4111 1111 1111 1112",  # fails the Luhn check
    "Wofür steht Priorität P1?",
    "Wo finde ich den Hostschlüssel?",
]


@pytest.mark.parametrize("message,secret,kind", SECRETS)
def test_secrets_are_found_and_masked(message, secret, kind):
    found = find_secrets(message)
    assert [(s.kind, message[s.start:s.end]) for s in found] == [(kind, secret)]
    masked = redact(message)
    assert secret not in masked
    assert "[REDACTED" in masked


@pytest.mark.parametrize("message,secret,kind", SECRETS)
def test_redacting_twice_changes_nothing_more(message, secret, kind):
    # A ticket's transcript is redacted by the action server and again when it is stored.
    once = redact(message)
    assert redact(once) == once and redact(f"{once} / {once}") == f"{once} / {once}"


@pytest.mark.parametrize("message", HARMLESS)
def test_harmless_messages_are_unchanged(message):
    assert find_secrets(message) == []
    assert redact(message) == message


def test_several_secrets_in_one_message():
    message = "Hostschlüssel 739214, Passwort: Geheim!1 und Karte 4111111111111111"
    masked = redact(message)
    assert masked == ("Hostschlüssel [REDACTED host key], Passwort: [REDACTED password] "
                      "und Karte [REDACTED card number]")


def test_empty_text():
    assert redact("") == "" and find_secrets("") == []


def _card(rng: random.Random, length: int) -> str:
    digits = [rng.choice("3456")] + [str(rng.randrange(10)) for _ in range(length - 2)]
    for check in "0123456789":
        if luhn_valid("".join(digits) + check):
            return "".join(digits) + check
    raise AssertionError("unreachable")


def _grouped(number: str, separator: str) -> str:
    return separator.join(number[i:i + 4] for i in range(0, len(number), 4))


def test_seeded_card_numbers():
    rng = random.Random(20261125)
    for _ in range(200):
        number = _card(rng, rng.randint(13, 19))
        text = f"Meine Karte {_grouped(number, rng.choice(['', ' ', '-']))} geht nicht"
        masked = redact(text)
        assert number[-6:] not in masked.replace(" ", "").replace("-", ""), text
        assert "[REDACTED card number]" in masked


def test_seeded_host_keys_and_phone_numbers():
    rng = random.Random(7)
    for _ in range(200):
        key = f"{rng.randrange(100000, 999999)}"
        label = rng.choice(["Hostschlüssel", "host key", "Host-Key", "PIN", "Host-PIN"])
        assert key not in redact(f"{label}: {key}")
        phone = f"+{rng.randint(1, 99)} {rng.randint(10, 999)} {rng.randint(1000, 9999)} {rng.randint(100, 9999)}"
        assert redact(f"Bitte rufen Sie {phone} an") == f"Bitte rufen Sie {phone} an"


# --- idempotence: texts are redacted again on every hop (tracker store, transcript, service) ---

@pytest.mark.parametrize("message,secret,kind", SECRETS)
def test_redacting_twice_changes_nothing(message, secret, kind):
    once = redact(message)
    assert redact(once) == once
    assert redact(redact(once)) == once


def test_agent_summary_of_a_request_with_a_password_shows_one_mask():
    # The agent's summary is redacted from an already redacted problem slot (issue 9, #11).
    stored = redact("Ich brauche sofort einen Mitarbeiter, mein Passwort ist Sommer2024! geht nicht")
    summary = redact(stored)
    assert summary.count("[REDACTED password]") == 1
    assert "password]" not in summary.replace("[REDACTED password]", "")


def test_a_mask_is_never_a_secret_of_its_own():
    for mask in ("[REDACTED password]", "[REDACTED host key]", "[REDACTED card number]"):
        for label in ("Passwort:", "password is", "pw", "Hostschlüssel", "PIN", "Karte"):
            assert find_secrets(f"{label} {mask}") == []


@pytest.mark.parametrize("message,secret", [
    ("das Passwort für mein Konto ist Blume77, verbinden Sie mich", "Blume77"),
    ("my password for the admin account is Secret99, get me an agent", "Secret99"),
    ("Kennwort vom Hauptkonto: Tulpe#12", "Tulpe#12"),
])
def test_passwords_named_with_what_they_belong_to(message, secret):
    assert secret not in redact(message)


def test_words_about_a_password_of_something_are_no_secret():
    for message in ("Mein Passwort für Zoom ist abgelaufen", "the password for my account is wrong"):
        assert redact(message) == message


from hypothesis import given, settings, strategies as st  # noqa: E402

# Words of messages that mix secrets, key words, masks and harmless numbers, in any order.
_PIECES = st.sampled_from([
    "Passwort ist", "password:", "pw", "Hostschlüssel", "PIN", "Karte", "mein", "is", "für mein Konto",
    "Sommer2024!", "hunter22", "739214", "4111 1111 1111 1111", "[REDACTED password]",
    "[REDACTED host key]", ",", "Mitarbeiter bitte", "agent please", "+49 30 8009 8621", "Meeting-ID",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=8).map(" ".join))
def test_redaction_is_idempotent_on_any_mix(text):
    once = redact(text)
    assert redact(once) == once


@pytest.mark.parametrize("text, secret", [
    ("mein api secret ist sk_live_93kfa8QZ0p, damit klappt die anmeldung nicht", "sk_live_93kfa8QZ0p"),
    ("client secret: 8f9a0b1c2d3e", "8f9a0b1c2d3e"),
    ("here is the key rk_test_51Habcdefgh for the webhook", "rk_test_51Habcdefgh"),
])
def test_api_credentials_are_secrets(text, secret):
    assert secret not in redact(text) and MASKS[PASSWORD] in redact(text)


@pytest.mark.parametrize("text", ["the token is expired", "Wie bekomme ich einen API token?",
                                  "I have a question about the API key", "das secret ist abgelaufen"])
def test_questions_about_credentials_are_no_secrets(text):
    assert redact(text) == text
