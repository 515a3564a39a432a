"""The custom NLU components on real Rasa `Message` objects."""
from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.components import KnowledgeEntityExtractor, LanguageDetector, SecretGuard


def message(text: str, intent: str = "ask_phone") -> Message:
    msg = Message(data={"text": text})
    msg.set("intent", {"name": intent, "confidence": 0.8})
    msg.set("intent_ranking", [{"name": intent, "confidence": 0.8}])
    return msg


def test_language_detector_marks_confident_languages_and_abstains_on_neutral_words():
    messages = LanguageDetector({}).process([message("Welche Nummer hat der Support?"), message("ok")])
    assert messages[0].get("language")["code"] == "de"
    assert messages[1].get("language")["code"] is None
    assert "language" in messages[0].as_dict(only_output_properties=True)


def test_entity_extractor_adds_knowledge_entities_with_its_name():
    [msg] = KnowledgeEntityExtractor({}).process([message("Hotline in der Schweiz für Premier+ und P1?")])
    found = {(e["entity"], e["value"]) for e in msg.get("entities")}
    assert {("country", "CH"), ("plan", "premier_plus"), ("priority", "P1")} <= found
    assert all(e["extractor"] == "KnowledgeEntityExtractor" for e in msg.get("entities"))


def test_secret_guard_forces_the_warning_intent_and_keeps_the_original():
    [secret, harmless] = SecretGuard({}).process([
        message("Mein Hostschlüssel lautet 739214, wieso geht er nicht?", "report_problem"),
        message("Hotline Schweiz"),
    ])
    assert secret.get("intent")["name"] == "share_secret"
    assert secret.get("intent_before_secret")["name"] == "report_problem"
    assert secret.get("secrets") == ["host_key"]
    assert harmless.get("intent")["name"] == "ask_phone"


def test_wordless_messages_get_the_help_menu_and_words_keep_their_intent():
    from bot.components import WordlessMessageGuard

    [blank, punctuation, words] = WordlessMessageGuard({}).process(
        [message("__no_words__", "nlu_fallback"), message("???", "affirm"), message("ok?", "affirm")]
    )
    assert blank.get("intent")["name"] == "help" and punctuation.get("intent")["name"] == "help"
    assert words.get("intent")["name"] == "affirm"


def test_tokenizer_gives_a_message_without_words_one_token():
    from bot.components import NO_WORDS_TOKEN, NeverEmptyTokenizer

    tokenizer = NeverEmptyTokenizer(NeverEmptyTokenizer.get_default_config())
    [empty, words] = tokenizer.process([Message(data={"text": "  "}), Message(data={"text": "Nummer Schweiz"})])
    assert [t.text for t in empty.get("text_tokens")] == [NO_WORDS_TOKEN]
    assert [t.text for t in words.get("text_tokens")] == ["Nummer", "Schweiz"]


def test_language_detector_marks_other_languages():
    [french, german] = LanguageDetector({}).process([message("Bonjour, je n'arrive pas à partager mon écran"),
                                                      message("Hallo, ich habe eine Frage")])
    assert french.get("language")["code"] == "other"
    assert german.get("language")["code"] == "de"


def test_signal_extractor_writes_signals_and_triage_into_the_parse_data():
    from bot.components import SignalExtractor

    [both, neither, empty] = SignalExtractor({}).process([
        message("Bei uns geht gar nichts mehr, verbinden Sie mich sofort mit einem Mitarbeiter", "report_problem"),
        message("are you a human?", "bot_challenge"),
        message("__no_words__", "nlu_fallback"),
    ])
    assert both.get("signals")["wants_person"]["value"] and both.get("signals")["describes_problem"]["value"]
    assert both.get("triage")["level"] == "P1"
    assert not neither.get("signals")["wants_person"]["value"]
    assert not empty.get("signals")["wants_person"]["value"]
    output = both.as_dict(only_output_properties=True)
    assert "signals" in output and "triage" in output


def test_linear_intent_classifier_predicts_what_the_logistic_regression_does(monkeypatch):
    """The loaded classifier's weights change their memory order only, never their values."""
    import numpy as np
    import scipy.sparse as sp
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
    from sklearn.linear_model import LogisticRegression

    from bot.components import LinearIntentClassifier

    rng = np.random.default_rng(7)
    X = sp.random(120, 400, density=0.05, format="csr", random_state=7)
    y = rng.choice(["ask_phone", "ask_plan", "greet"], size=120)
    fitted = LogisticRegression(max_iter=300).fit(X, y)
    expected = fitted.predict_proba(X)
    assert not fitted.coef_.T.flags["C_CONTIGUOUS"]

    class Loaded:
        clf = fitted

    monkeypatch.setattr(LogisticRegressionClassifier, "load", classmethod(lambda cls, *a, **k: Loaded()))
    component = LinearIntentClassifier.load({}, None, None, None)
    assert component.clf.coef_.T.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(component.clf.predict_proba(X), expected)


def test_linear_intent_classifier_builds_rasa_s_feature_matrix():
    """The same matrix as Rasa's `_create_X` (values, their order in each row, shape), from
    messages with several featurizers' sequence and sentence features, dense ones too."""
    import numpy as np
    import scipy.sparse as sp
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
    from rasa.shared.nlu.training_data.features import Features

    from bot.components import LinearIntentClassifier

    def with_features(seed: int, widths: list, dense: bool) -> Message:
        msg = Message(data={"text": f"message {seed}"})
        for n, width in enumerate(widths):
            tokens = 2 + seed % 3
            for kind, rows in (("sequence", tokens), ("sentence", 1)):
                matrix = sp.random(rows, width, density=0.3, format="coo", random_state=seed * 10 + n)
                msg.add_features(Features(matrix, kind, "text", f"featurizer{n}"))
        if dense:
            msg.add_features(Features(np.full((1, 3), 0.5 + seed), "sentence", "text", "dense"))
            msg.add_features(Features(np.ones((1, 2)), "sentence", "text", "dense2"))
        return msg

    messages = [with_features(seed, [7, 30, 5, 12], dense=seed == 2) for seed in range(4)]
    for batch in ([messages[0]], [messages[1]], messages[:2], messages[3:]):
        ours = LinearIntentClassifier._create_X(None, batch)
        rasa = LogisticRegressionClassifier._create_X(None, batch)
        assert ours.format == rasa.format and ours.shape == rasa.shape
        for attribute in ("data", "row", "col") if ours.format == "coo" else ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(ours, attribute), getattr(rasa, attribute))
    dense = LinearIntentClassifier._create_X(None, [messages[2]])
    np.testing.assert_array_equal(dense.toarray(), LogisticRegressionClassifier._create_X(None, [messages[2]]).toarray())


def routed(text: str, intent: str) -> Message:
    """The message after the signal, entity and routing components, as in the pipeline."""
    from bot.components import IntentRouter, SignalExtractor

    msg = message(text, intent)
    for component in (KnowledgeEntityExtractor({}), SignalExtractor({}), IntentRouter({})):
        [msg] = component.process([msg])
    return msg


def test_a_request_for_a_person_the_intent_missed_becomes_request_human():
    msg = routed("I'm so fed up, put me through to someone who knows what they're doing", "out_of_scope")
    assert msg.get("intent")["name"] == "request_human"
    assert msg.get("routed_from")["name"] == "out_of_scope"
    assert msg.get("intent_ranking")[0]["name"] == "request_human"
    # an FAQ question that also reports a problem and asks for a person is no FAQ question
    faq = routed("We have Premier. The reactions button does nothing since the update, get me an agent.", "ask_plan")
    assert faq.get("intent")["name"] == "request_human"


def test_faq_questions_and_questions_about_who_may_chat_are_not_requests():
    assert routed("Is phone support included in Premier?", "ask_plan").get("intent")["name"] == "ask_plan"
    for question in ("wer darf eigentlich den live chat mit einem mitarbeiter nutzen?",
                     "can people with a free account chat with a live agent?"):
        assert routed(question, "request_human").get("intent")["name"] == "ask_live_chat", question
    assert routed("Wer darf eigentlich den Live-Chat nutzen?", "ask_my_support").get("intent")["name"] \
        == "ask_live_chat"
    assert routed("Darf ich den Live-Chat nutzen?", "ask_my_support").get("intent")["name"] == "ask_my_support"
    # the asker speaking of themselves still asks for a person
    assert routed("Kann ich als Admin mit einem Mitarbeiter sprechen?", "request_human").get("intent")["name"] \
        == "request_human"


def test_a_change_of_mind_that_names_a_value_is_a_correction():
    assert routed("scratch that, P1", "cancel").get("intent")["name"] == "correction"
    assert routed("nee, doch Spanien", "deny").get("intent")["name"] == "correction"
    assert routed("vergiss es", "cancel").get("intent")["name"] == "cancel"
    assert routed("no wait, Singapore", "leave_queue").get("intent")["name"] == "correction"
    assert routed("ich mein Frankreich", "nlu_fallback").get("intent")["name"] == "correction"
    assert routed("i mean Brazil", "goodbye").get("intent")["name"] == "correction"


def test_a_question_about_a_level_is_no_choice_of_it():
    assert routed("was heißt eigentlich P3", "set_priority").get("intent")["name"] == "ask_priority"
    assert routed("eher P3, nicht P2", "set_priority").get("intent")["name"] == "set_priority"
    assert routed("moment, was bedeutet P2 eigentlich?", "set_priority").get("intent")["name"] == "ask_priority"


def test_a_polite_request_phrased_as_a_question_stays_a_request():
    assert routed("Would it be possible to talk to a member of your team?", "request_human") \
        .get("intent")["name"] == "request_human"
    assert routed("wäre es eventuell möglich, mit einer mitarbeiterin zu chatten?", "request_human") \
        .get("intent")["name"] == "request_human"


def test_a_question_about_one_s_own_support_that_names_a_plan_is_about_the_plan():
    assert routed("we have premier, what does that get us", "ask_my_support").get("intent")["name"] == "ask_plan"
    assert routed("what does my plan include?", "ask_my_support").get("intent")["name"] == "ask_my_support"


def test_a_message_about_a_country_and_nothing_else_asks_for_its_number():
    for text, intent in (("CH", "nlu_fallback"), ("aus Zürich", "thanks"), ("und in Indien", "ask_priority"),
                         ("Telefon-Support japanische Niederlassung?", "ask_plan")):
        assert routed(text, intent).get("intent")["name"] == "ask_phone", text
    assert routed("meetings crash on my laptop only. what's the hotline for austria?", "report_problem") \
        .get("intent")["name"] == "ask_phone"
    assert routed("die hotline in österreich ist dauernd besetzt", "report_problem").get("intent")["name"] \
        == "report_problem"
    # a plan named too, or a question of its own: the classifier's intent stays
    assert routed("Hat Premier Telefon-Support in Deutschland?", "ask_plan").get("intent")["name"] == "ask_plan"
    assert routed("wie ist das wetter in Spanien", "out_of_scope").get("intent")["name"] == "out_of_scope"


def test_a_wish_for_a_web_ticket_starts_the_form_and_a_question_does_not():
    def starts(text: str) -> bool:
        return any(e["entity"] == "ticket_start" for e in routed(text, "open_ticket").get("entities") or [])

    assert starts("Ich möchte ein Webticket aufmachen") and starts("Webticket bitte")
    assert not starts("Wie reiche ich ein Webticket ein?") and not starts("how do tickets work?")


def test_a_faq_intent_with_a_request_and_a_how_to_question_is_a_request():
    # the need is a how-to question (P4), no problem is described
    msg = routed("Wie lege ich Breakout-Räume vorab an? Das würde ich gern mit jemandem im Chat klären.",
                 "ask_live_chat")
    assert msg.get("intent")["name"] == "request_human"
    assert routed("Wie lange ist der Live-Chat besetzt?", "ask_live_chat").get("intent")["name"] == "ask_live_chat"


def test_a_question_whether_an_account_type_or_licence_gets_a_person_is_a_rights_question():
    for question in ("Kann ich mit einem Gratis-Konto mit einem Mitarbeiter chatten?",
                     "can I chat with an agent without a licence?"):
        assert routed(question, "request_human").get("intent")["name"] == "ask_live_chat", question
    # a request, not a question; and a question with a problem in it stays a request
    assert routed("Ich habe ein Gratis-Konto, verbinde mich mit einem Mitarbeiter", "request_human") \
        .get("intent")["name"] == "request_human"
    # the asker describing themselves: the rule for that profile, also after the person override
    assert routed("Ich bin Mitglied ohne Lizenz auf einem Premier-Konto, darf ich mit dem Support chatten?",
                  "ask_my_support").get("intent")["name"] == "ask_live_chat"
    assert routed("we're on the free basic plan can we chat with an agent", "request_human") \
        .get("intent")["name"] == "ask_live_chat"
    assert routed("darf ich als nicht lizenzierter nutzer den live chat verwenden?", "ask_my_support") \
        .get("intent")["name"] == "ask_live_chat"
    assert routed("Kann ich ohne Lizenz mit jemandem sprechen? Bei uns ist alles ausgefallen, niemand kommt rein.",
                  "request_human").get("intent")["name"] == "request_human"


def test_asking_whether_the_bot_is_human_and_for_a_human_at_once_is_a_request():
    assert routed("Bist du ein Roboter? Dann hätte ich gern einen echten Menschen.", "bot_challenge") \
        .get("intent")["name"] == "request_human"
    assert routed("Bist du ein Roboter?", "bot_challenge").get("intent")["name"] == "bot_challenge"
    # the word "human" in an identity question alone is no request
    for question in ("one thing first, am I writing to a bot or to a human?",
                     "wer schreibt mir da gerade eigentlich, ein mensch?"):
        assert routed(question, "bot_challenge").get("intent")["name"] == "bot_challenge", question


def test_asking_to_speak_with_the_account_manager_is_a_question_for_ask_tam():
    msg = routed("Kann ich bitte mit unserem TAM sprechen? Es geht um neue Lizenzen.", "request_human")
    assert msg.get("intent")["name"] == "ask_tam"
    # a problem with it is still escalated
    outage = "Unser TAM antwortet nicht und seit heute ist alles ausgefallen, niemand kommt rein, holen Sie jemanden"
    assert routed(outage, "request_human").get("intent")["name"] == "request_human"


def test_an_escalation_intent_in_another_language_without_a_signal_is_out_of_scope():
    from bot.components import IntentRouter, SignalExtractor

    def route(text: str, intent: str) -> str:
        msg = message(text, intent)
        for component in (LanguageDetector({}), KnowledgeEntityExtractor({}), SignalExtractor({}), IntentRouter({})):
            [msg] = component.process([msg])
        return msg.get("intent")["name"]

    assert route("Bonjour, est-ce que vous avez une assistance en français pour mon compte ?", "request_human") \
        == "out_of_scope"
    assert route("Bitte verbinden Sie mich mit einem Mitarbeiter", "request_human") == "request_human"


def test_a_fallback_between_two_faq_intents_is_decided_by_the_entity_named():
    from bot.components import IntentRouter

    def ranked(text: str, first: str, second: str) -> str:
        msg = message(text, "nlu_fallback")
        msg.set("intent_ranking", [{"name": "nlu_fallback", "confidence": 0.3},
                                   {"name": first, "confidence": 0.52}, {"name": second, "confidence": 0.48}])
        for component in (KnowledgeEntityExtractor({}), IntentRouter({})):
            [msg] = component.process([msg])
        return msg.get("intent")["name"]

    assert ranked("Hat Premier die priorisierte Antwort dabei?", "ask_priority", "ask_plan") == "ask_plan"
    assert ranked("Wie schnell ist P2 bei Premier?", "ask_priority", "ask_plan") == "nlu_fallback"  # both named
    assert ranked("nummer italien und wie schnell kommt die antwort bei p1", "ask_phone", "ask_priority") == "ask_phone"
    assert ranked("blub blub", "ask_priority", "ask_plan") == "nlu_fallback"
    assert ranked("merci, und Spanien?", "thanks", "ask_phone") == "ask_phone"
    assert ranked("merci", "thanks", "ask_phone") == "nlu_fallback"
    assert ranked("bin gerade in Sydney, wie ruf ich euch an", "ask_phone", "out_of_scope") == "ask_phone"
    assert ranked("prio für eine idee: eigene sticker im chat", "out_of_scope", "ask_priority") == "ask_priority"
    # between a request and another intent, the wants_person signal decides
    assert ranked("quick question: are you a human", "request_human", "bot_challenge") == "bot_challenge"
