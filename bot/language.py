"""Per-message language detection (German / English) and the conversation's language rule.

The detector is deliberately tiny: curated word lists (function words and support vocabulary)
plus a few orthographic / morphological cues for words that are in no list. It is tuned for the
short messages of a support chat ("und in Spanien?", "thanks", "P1?") and abstains - code ``None``
or a confidence below :data:`CONFIDENT` - when a message carries no clear evidence ("ok", "P1",
"Premier+", "USA", a number).

Language rule (docs/architecture.md): a conversation's language is the code of the most recent
user message detected with confidence; before any such message, the ``locale`` of the most recent
message metadata that has a valid one; else the default (German).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional

__all__ = [
    "CONFIDENT",
    "LANGUAGES",
    "OTHER",
    "Detection",
    "conversation_language",
    "detect",
    "identify",
    "is_confident",
    "normalize_locale",
]

LANGUAGES = ("de", "en")
#: The code of a message confidently in neither German nor English (French, Spanish, ...).
OTHER = "other"

#: A detection with at least this confidence may switch the conversation's language.
CONFIDENT = 0.5


@dataclass(frozen=True)
class Detection:
    code: Optional[str]  # "de" | "en" | None
    confidence: float  # 0..1

    def as_dict(self) -> dict:
        return {"code": self.code, "confidence": round(self.confidence, 3)}


NONE = Detection(None, 0.0)

# --------------------------------------------------------------------------------------------
# Word lists. Weight 1.0: (almost) only ever that language in a support chat; 0.6: typical
# vocabulary; lower: weak hints. Words used the same way in both languages ("in", "am", "an",
# "so", "also", "support", "meeting", "chat", "ticket", plan names, ...) are in NEUTRAL.
# --------------------------------------------------------------------------------------------


def _weights(spec: str, weight: float) -> dict[str, float]:
    return {w: weight for w in spec.split()}


_DE: dict[str, float] = {}
_DE.update(_weights(
    """
    der die das den dem des ein eine einen einem einer eines kein keine keinen keinem keiner
    ich du er sie es wir ihr mich mir dich dir uns euch ihn ihm ihnen sich
    mein meine meinen meinem meiner meins dein deine deinen deinem unser unsere unseren unserem
    unserer euer eure euren eurem ihre ihren ihrem ihrer sein seine seinen seinem
    ist sind bin bist seid war waren wäre wären gewesen hat habe hab hast haben hatte hätte hätten
    wird werden wurde wurden worden kann kannst könnt können konnte könnte könnten
    muss musst müssen müsste darf darfst dürfen dürfte soll sollte sollen möchte möchten möcht
    mag mögen will willst wollen würde würden
    nicht nichts nie niemals auch noch schon nur sehr aber oder und sondern doch denn dass weil
    wenn ob als wie wo woher wohin wer wen wem wessen wann warum wieso weshalb weswegen welche
    welcher welches welchen welchem womit wofür wobei worüber wozu
    mit von zu zum zur bei beim für über unter nach vor aus auf vom ins im ums fürs gegen ohne
    durch zwischen seit bis während wegen trotz
    ja nein nee nö jein bitte danke dankeschön tschüss tschüs hallo servus moin grüezi grüß
    gibt gibts geht gehts klappt funktioniert funktionieren läuft hier dort da jetzt heute
    morgen gestern immer wieder gerade gleich sofort schnell mehr weniger viel viele alle alles
    jemand jemanden niemand etwas was eigentlich vielleicht leider bereits trotzdem dann sonst
    mal halt eben genau richtig stimmt gut guten gute schlecht neue neuen bisschen ganz gar
    einfach zusammen bzw evtl usw zb ca
    """, 1.0))
_DE.update(_weights(
    """
    telefonnummer telefonnumer nummer rufnummer anrufen anruf rufe ruf erreiche erreichen
    erreichbar telefonisch telefon durchwahl gebühren kosten kostet kostenlos
    mitarbeiter mitarbeiterin menschen mensch echten echter echte person ansprechpartner
    berater kollegen weiterleiten verbinden verbinde weitergeleitet sprechen reden
    rechnung rechnungen abrechnung zahlung bezahlen abbuchung kündigen abonnement
    priorität prioritäten prio stufe stunden stunde minuten tage antwort antworten antwortzeit
    reaktionszeit wiederherstellung wiederherstellungszeit bedeutet bedeutung heißt
    kundenbetreuer kundenbetreuerin technischer technische technischen zuständig
    hilfecenter hilfe anleitung anleitungen artikel gemeinschaft
    frage fragen anfrage problem probleme fehler fehlermeldung kaputt ausgefallen ausfall
    aufzeichnung aufzeichnungen aufnahme bildschirm freigabe bildschirmfreigabe ton bild kamera
    mikrofon teilnehmer besprechung besprechungen anmelden anmeldung einloggen abgestürzt
    stürzt hängt startet beitreten gespeichert schwarz langsam
    passwort kennwort hostschlüssel schlüssel konto kontos abo plan pläne paket leistungen
    unterschied enthalten inklusive zusätzlich bekomme bekommt bekommen brauche brauchen
    benötige benötigen suche finde finden weiß wissen sagen erklären zeigen helfen hilf
    welchen lizenz lizenziert lizenzierte mitglied mitglieder administratoren zugriff
    deutschland österreich schweiz spanien frankreich italien brasilien indien mexiko
    neuseeland singapur australien großbritannien königreich vereinigte vereinigtes staaten
    kanada polen norwegen schweden niederlande dänemark belgien tschechien türkei
    sonntag montag dienstag mittwoch donnerstag freitag samstag wetter
    """, 0.6))
_DE.update({
    "gibt's": 1.0, "geht's": 1.0, "wie's": 1.0, "hab's": 1.0, "gehts": 1.0, "klappt's": 1.0,
    "vielen": 1.0, "dank": 0.8, "herzlichen": 1.0, "wiedersehen": 1.0, "ciao": 0.2,
    "hallöchen": 1.0, "ne": 0.3, "na": 0.3, "jo": 0.3, "jup": 0.3, "okey": 0.2,
    "euer": 1.0, "eurer": 1.0, "kriege": 0.6, "krieg": 0.4, "kriegt": 0.6,
    "damit": 1.0, "dabei": 1.0, "dafür": 1.0, "darum": 1.0, "davon": 1.0, "dazu": 1.0,
    "daran": 1.0, "darauf": 1.0, "darüber": 1.0, "nochmal": 1.0, "kurz": 0.6, "warte": 0.6,
    "moment": 0.3, "passt": 0.8, "verstehe": 0.8, "meinst": 0.8, "meinen": 0.6, "mache": 0.6,
    "machen": 0.6, "macht": 0.6, "sicher": 0.6, "dringend": 0.6, "eilig": 0.6, "wieder": 1.0,
    "weg": 0.6, "gerne": 0.8, "gern": 0.8, "klar": 0.6, "leider": 1.0, "merci": 0.3,
    # ambiguous between the languages, German reading far more frequent in this chat
    "im": 0.8, "was": 1.0,
    "deutsch": 1.0, "englisch": 1.0, "kontakt": 0.6, "kontaktdaten": 0.6, "lautet": 1.0,
    "lauten": 0.8, "nummern": 0.6, "funktionieren": 0.6, "bzw": 1.0, "hätt": 0.6,
})

_EN: dict[str, float] = {}
_EN.update(_weights(
    """
    the a is are was were be been being i you he she it we they me him her them
    my your yours our ours their this that these those there here
    what which who whom whose where when why how whats
    do does did done don't doesn't didn't can can't cannot could couldn't would wouldn't
    should shouldn't will won't shall may might must have has had haven't hasn't isn't aren't
    wasn't weren't i'm i've i'll i'd you're you've we're we've they're it's that's there's
    what's where's who's how's let's
    not no yes yeah yep nope and or but because if then than too very just only
    still already again always never with from for of to on at by about into onto over under
    after before without between through during since until
    please pls plz thanks thank thx hello goodbye bye
    any anyone anybody anything some someone somebody something all every everything nothing
    get got getting give gives want wants need needs know tell show find see make take
    one two three four first last same other else really right now today tomorrow yesterday
    good bad great fine sure maybe
    """, 1.0))
_EN.update(_weights(
    """
    number numbers phone telephone call calling called reach dial extension free charge
    charged costs people human representative rep someone connect transfer speak
    talk talking staff
    invoice bill billing payment refund subscription cancel
    priority priorities level levels hour hours minutes days response respond restoration restore
    mean means meaning
    manager technical assigned responsible
    help guide guides articles documentation
    question questions request issue issues problem problems error broken down outage crash
    crashes crashed recordings screen sharing share sound camera microphone mic
    participants join joining start starting log sign signing saved black slow
    password key plan plans package features include includes included difference
    between additional extra
    does doing works working work looks seems happened happening tried trying
    open submit file create send
    germany austria switzerland spain france italy brazil india mexico zealand singapore
    australia britain kingdom united states canada poland norway sweden netherlands denmark
    belgium turkey
    monday tuesday wednesday thursday friday saturday sunday weather
    """, 0.6))
_EN.update({
    "thanks!": 1.0, "cheers": 0.6, "dont": 1.0, "doesnt": 1.0,
    "cant": 1.0, "isnt": 1.0, "wont": 1.0, "didnt": 1.0, "im": 0.4, "ive": 0.8, "youre": 0.8,
    "u": 0.6, "ur": 0.6, "r": 0.3, "asap": 0.5, "tnx": 0.6, "ty": 0.5,
    "was": 0.3, "wait": 0.8, "hold": 0.6, "again": 1.0, "please!": 1.0,
    "understand": 0.8, "mean": 0.6, "urgent": 0.6, "urgently": 0.6, "gone": 0.6,
})

# Used the same way in German and English support chats: no evidence either way.
NEUTRAL = frozenset(
    """
    ok okay oki okidoki k kk super cool top hi hey yo lol hm hmm mhm ah oh aha
    in an am so also man hell fast hand name team link login online offline live chat
    support hotline service meeting meetings webinar webinars zoom bolt bot chatbot ticket
    tickets webticket email mail e-mail app client update browser desktop mobile ios android
    mac windows linux sso api admin admins owner account premier standard plus tier p p1 p2 p3
    p4 prio1 sla slas tam id pin usa us uk gb eu japan malaysia hongkong hong kong england
    london tokyo sydney berlin wien zürich paris madrid rom rome new york audio video
    recording status test demo business enterprise education basic pro
    community forum agent agents host
    """.split()
)

_EN_BEFORE_WAS = frozenset("i it he she that this there what who which call meeting it's".split())
_TOKEN = re.compile(r"[a-zäöüß]+(?:'[a-z]+)?")
_CAPITALISED = re.compile(r"(?<=[a-zäöüß,;:] )[A-ZÄÖÜ][a-zäöüß]{3,}")

_DE_SUFFIXES = ("ung", "ungen", "keit", "heit", "lich", "liche", "lichen", "isch", "ische",
                "ischen", "chen", "schaft", "ieren", "iert", "tät", "nahme", "bar", "los", "weise")
_EN_SUFFIXES = ("ing", "ings", "ness", "ful", "ous", "ship", "ly")
_EN_CONTRACTIONS = ("s", "t", "re", "ll", "ve", "m", "d")


def _cue_scores(token: str) -> tuple[float, float]:
    """Evidence of a word that is in no list (orthography and morphology), weak by design."""
    de = en = 0.0
    if any(ch in token for ch in "äöüß"):
        return 0.9, 0.0
    if "'" in token:
        base, _, suffix = token.partition("'")
        if base in _DE:
            return 0.8, 0.0
        if suffix in _EN_CONTRACTIONS:
            return 0.0, 0.9
        return 0.0, 0.0
    if len(token) < 4:
        return 0.0, 0.0
    if token.endswith(_DE_SUFFIXES):
        de += 0.45
    if "sch" in token:
        de += 0.35
    if "tz" in token or "pf" in token or token.startswith("ge") and token.endswith("t"):
        de += 0.2
    if token.endswith("en") and len(token) > 5:
        de += 0.15
    if token.startswith("wh"):
        en += 0.5
    if "th" in token:
        en += 0.35
    if token.endswith(_EN_SUFFIXES):
        en += 0.4
    elif token.endswith("ed") and len(token) > 4:
        en += 0.3
    if "ou" in token or token.endswith("y") or "ea" in token or "w" in token[1:]:
        en += 0.15
    return de, en


# Words in no list that the training data uses in one language only ("line", "times", "zeiten"):
# weak evidence, counted only when a message has nothing better. Learned from the NLU training
# examples the lists above detect confidently; a word must occur in at least LEARNED_MIN_COUNT of
# one language's examples and in none of the other's.
LEARNED_WEIGHT = 0.4
LEARNED_MIN_COUNT = 2
LEARNED_MIN_CONFIDENCE = 0.8


@lru_cache(maxsize=1)
def _learned() -> dict[str, tuple[float, float]]:
    from collections import Counter

    from bot.nlu_models import intent_examples, nlu_files
    from bot.settings import ROOT

    counts = {"de": Counter(), "en": Counter()}
    for path in nlu_files(ROOT / "data"):
        for _, text, _ in intent_examples(path):
            found = _detect_listed(text)
            if found.code in LANGUAGES and found.confidence >= LEARNED_MIN_CONFIDENCE:
                counts[found.code].update({token for token in _TOKEN.findall(text.lower())
                                           if len(token) > 2 and token not in NEUTRAL
                                           and token not in _DE and token not in _EN})
    learned = {}
    for token in counts["de"].keys() | counts["en"].keys():
        de, en = counts["de"][token], counts["en"][token]
        if de >= LEARNED_MIN_COUNT and not en:
            learned[token] = (LEARNED_WEIGHT, 0.0)
        elif en >= LEARNED_MIN_COUNT and not de:
            learned[token] = (0.0, LEARNED_WEIGHT)
    return learned


# Country names spelt one language's way ("Hong Kong" / "Hongkong", "Switzerland" / "Schweiz"):
# the names of knowledge/countries.yml that differ between German and English are evidence of
# their language next to other words (a name alone is no evidence), and their capitals are no
# German nouns.
COUNTRY_NAME_WEIGHT = 0.6


@lru_cache(maxsize=1)
def _country_names() -> tuple[Optional[re.Pattern], Mapping[str, str]]:
    from bot.knowledge import load_knowledge

    names: dict[str, str] = {}
    for country in load_knowledge().countries.values():
        localized = {"de": {country.name.de, country.dative.de}, "en": {country.name.en, country.dative.en}}
        for lang, other in (("de", "en"), ("en", "de")):
            others = {name.lower() for name in localized[other]}
            for name in localized[lang]:
                if name and name.lower() not in others and len(name) > 3:
                    names.setdefault(name.lower(), lang)
    if not names:
        return None, names
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), names


def _country_evidence(text: str) -> tuple[float, float, str]:
    """German and English evidence of the country names in `text`, and the text without them."""
    pattern, names = _country_names()
    if pattern is None:
        return 0.0, 0.0, text
    de = en = 0.0
    for match in pattern.finditer(text):
        if names.get(match.group(0).lower()) == "de":
            de += COUNTRY_NAME_WEIGHT
        else:
            en += COUNTRY_NAME_WEIGHT
    if not (de or en):
        return 0.0, 0.0, text
    rest = pattern.sub(" ", text)
    if not _TOKEN.search(rest.lower()):
        return 0.0, 0.0, text  # a name alone ("Hongkong") says nothing about the asker's language
    return de, en, rest


_CODE = re.compile(r"\b[A-Z]{2,3}\b")


def _codes(text: str) -> frozenset[str]:
    """Short all-capital words of a message that is not all capitals: country codes and
    acronyms ("nummer AT", "UK hotline?", "SSO"), no evidence of a language ("AT" is not "at")."""
    if text.upper() == text:
        return frozenset()
    return frozenset(code.lower() for code in _CODE.findall(text))


def detect(text: str) -> Detection:
    """Detect the language of one chat message: ``Detection("de"|"en"|None, confidence)``."""
    found = _detect_listed(text)
    if found.code is not None or not text:
        return found
    return _detect_listed(text, learned=_learned())


def _detect_listed(text: str, learned: Mapping[str, tuple[float, float]] | None = None) -> Detection:
    """`detect` by the word lists and cues, and the learned words (`_learned`) if given."""
    if not text:
        return NONE
    codes = _codes(text)
    de, en, text = _country_evidence(text)
    lowered = text.lower().replace("’", "'").replace("`", "'")
    previous = ""
    for token in _TOKEN.findall(lowered):
        if token in NEUTRAL or token in codes:
            previous = token
            continue
        if token == "was" and previous in _EN_BEFORE_WAS:  # "it was", "i was": English
            en += 1.0
            previous = token
            continue
        previous = token
        w_de = _DE.get(token)
        w_en = _EN.get(token)
        if w_de is None and w_en is None:
            c_de, c_en = (learned or {}).get(token) or _cue_scores(token)
            de += c_de
            en += c_en
        else:
            de += w_de or 0.0
            en += w_en or 0.0
    if text != lowered:  # capitalised nouns mid-sentence: a weak German hint
        de += 0.15 * sum(1 for m in _CAPITALISED.findall(text) if m.lower() not in _EN)
    margin = abs(de - en)
    if margin < 0.05:
        return NONE
    purity = margin / (de + en)
    confidence = (1.0 - math.exp(-margin / 0.6)) * math.sqrt(purity)
    return Detection("de" if de > en else "en", round(confidence, 4))


# --------------------------------------------------------------------------------------------
# Neither German nor English. The word lists above know German and English only, so another
# language needs a model of its own: lingua (n-gram models of whole languages, low-accuracy mode:
# about 25 MB and a fraction of a millisecond a message), asked to choose among German, English
# and the languages visitors of a German/English help center most likely write. It is not
# trusted on its own: lingua reads short English ("this is ridiculous") as French now and then,
# so a message counts as another language only when lingua is sure AND fewer than half of its
# words are German or English words of the lists above.
# --------------------------------------------------------------------------------------------

OTHER_CANDIDATES = ("FRENCH", "SPANISH", "ITALIAN", "DUTCH", "PORTUGUESE", "POLISH", "TURKISH",
                    "SWEDISH", "DANISH")
OTHER_MIN_PROBABILITY = 0.9
OTHER_MAX_KNOWN_SHARE = 0.5
OTHER_MIN_WORDS = 2
_ANY_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@lru_cache(maxsize=1)
def _other_detector():
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.GERMAN, Language.ENGLISH, *(getattr(Language, name) for name in OTHER_CANDIDATES)]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def other_language_probability(text: str) -> float:
    """How sure we are that `text` is in neither German nor English (0 when it may be)."""
    # single letters ("p" of "p3") are no words; the training data's one-language words count as known
    words = [w for w in _ANY_WORD.findall((text or "").lower().replace("’", "'")) if w not in NEUTRAL and len(w) > 1]
    if len(words) < OTHER_MIN_WORDS:
        return 0.0
    learned = _learned()
    known = sum(1 for w in words if _DE.get(w, 0.0) >= 0.6 or _EN.get(w, 0.0) >= 0.6 or w in learned)
    if known / len(words) >= OTHER_MAX_KNOWN_SHARE:
        return 0.0
    values = {v.language.iso_code_639_1.name.lower(): v.value
              for v in _other_detector().compute_language_confidence_values(" ".join(words))}
    other = 1.0 - values.get("de", 0.0) - values.get("en", 0.0)
    return other if other >= OTHER_MIN_PROBABILITY else 0.0


def identify(text: str) -> Detection:
    """`detect`, or ``Detection("other", p)`` for a message confidently in another language.

    What the NLU writes into the parse data; `conversation_language` never switches to "other"
    (it is no language the bot answers in)."""
    other = other_language_probability(text)
    if other:
        return Detection(OTHER, round(other, 4))
    return detect(text)


def is_confident(detection: Detection | Mapping[str, Any] | None) -> bool:
    """True if the detection names a language with at least :data:`CONFIDENT` confidence.

    Accepts a :class:`Detection` or its dict form as stored in Rasa parse data.
    """
    if detection is None:
        return False
    if isinstance(detection, Detection):
        code, confidence = detection.code, detection.confidence
    elif isinstance(detection, Mapping):
        code, confidence = detection.get("code"), detection.get("confidence")
    else:
        return False
    if code not in LANGUAGES:
        return False
    try:
        return float(confidence) >= CONFIDENT
    except (TypeError, ValueError):
        return False


def normalize_locale(locale: Any) -> Optional[str]:
    """"de", "de-DE", "en_US", "EN" -> "de"/"en"; anything else -> None."""
    if not isinstance(locale, str):
        return None
    code = re.split(r"[-_.@]", locale.strip().lower(), maxsplit=1)[0]
    return code if code in LANGUAGES else None


def conversation_language(
    user_turns: Iterable[tuple[Optional[dict], Optional[dict]]], default: str = "de"
) -> str:
    """The conversation's language from its user messages, oldest first.

    Each turn is ``(parse_data, metadata)``; ``parse_data["language"]`` is the detector's
    ``{"code", "confidence"}`` and ``metadata["locale"]`` the page's locale hint. With neither a
    confident detection nor a locale, a weak detection ("UK hotline?") beats the default.
    """
    locale: Optional[str] = None
    detected: Optional[str] = None
    guessed: Optional[str] = None
    for parse_data, metadata in user_turns:
        language = parse_data.get("language") if isinstance(parse_data, Mapping) else None
        code = (language.code if isinstance(language, Detection)
                else language.get("code") if isinstance(language, Mapping) else None)
        if code in LANGUAGES:
            guessed = code
        if is_confident(language):
            detected = code
        if isinstance(metadata, Mapping):
            hint = normalize_locale(metadata.get("locale"))
            if hint:
                locale = hint
    return detected or locale or guessed or default
