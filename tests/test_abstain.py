"""Tests for evidencenlp.abstain: which notes get no suggested labels, and why.

Every note below was written for these tests (none is copied from a real data set).
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from evidencenlp import abstain
from evidencenlp.abstain import NO_CONTENT, NOT_ENGLISH, REASONS, abstention_reason, abstention_reasons

# ---------------------------------------------------------------------------------------------
# The case table: (note, expected reason). None means "assessable English: must not abstain".
# ---------------------------------------------------------------------------------------------

SHORT_ENGLISH = [
    # Examples named in the requirements.
    "Staff were rude",
    "Very kind staff",
    "waited 3 hours",
    "Excellent care",
    "Call bell ignored",
    "Nurses lovely",
    "No falls with harm in 12 months",
    "Long wait",
    "Parking",
    "Waiting",
    "staff v nice n helpful",
    "gr8 service",
    "ward was filthy",
    "Obs 14:10 call bell rm 12 rang 9 min, no staff came",
    "MAR charts: 3 gaps in 2 wks",
    "GP appt wait 3 wks",
    # One topical word, or a quality word that names a dimension of care.
    "Cleanliness",
    "Medication",
    "Staff",
    "A&E",
    "TV",
    "Really caring",
    "I felt safe here",
    # Short, informal, typo-ridden feedback.
    "The doctor explained everything clearly",
    "food was cold",
    "Nobody told me what was happening",
    "toilets dirty",
    "Receptionist very helpful",
    "couldnt get an appointment",
    "lovely nurses on ward 7",
    "Dr was brill",
    "too long in A&E",
    "pain relief given late",
    "Physio was fab",
    "discharge delayed 2 days",
    "meds late again",
    "Smelly corridors",
    "Communication poor",
    "not enough staff on nights",
    "no hot water",
    "Brilliant midwives",
    "rude receptionist",
    "bed sores not treated",
    "PPE not worn",
    "car park too expensive",
    "Doctor didnt listen to me",
    "cant get thru on the phone",
    "recepcionist was rude",
    "nurses wer amazin",
    "ther was no soap in the toilets",
    "wating time 2 long",
    "staff r brill",
    "the hca's were run off there feet",
    "waited ages for pain killers",
    "lots of shouting on the ward at nite",
    "Ward 4 noisy at nite, couldnt sleep",
    "food was stone cold n the tea was luke warm",
    "Toast was cold and soggy",
    "Too much noise on the ward overnight",
    "Need more nurses on weekends",
    "wifi keeps dropping",
    "No telly in my bay",
    "Noisy bay. Poor communication.",
    "Emailed physio exercises to me.",
    "No radio or TV on the ward, very boring.",
    "Wheelchair access poor",
    "Clean and tidy ward",
    "No one answered the phone",
    "Lack of privacy in bay 4",
    "Staff great 👍",
    "Food ❤️",
    "listen to me",
    # Capital-I typing artefacts, redaction markers and names.
    "PolIte and effIcIent reception staff.",
    "XXXX was an excellent physio.",
    "Bernadette is great",
    "Dr Kowalczyk very good.",
    "dr kowalczyk was very kind",
    "dr szczepankiewicz very good",
    "nurse wojciechowska v good",
    "Nurse Agnieszka was wonderful",
    # English with a foreign word or two.
    "Staff were lovely, merci",
    "the food was muy bueno",
    "staff were kind, dziekuje",
    "Everything was great, the staff were very friendly, muchas gracias",
    "Everyone on the ward was lovely, merci beaucoup",
    # Clinical and inspection shorthand.
    "Safeguarding referral made same day",
    "DNACPR form not signed",
    "BP not recorded x3 shifts",
    "No MUST score on admission",
    "Pt c/o pain 8/10, PRN given 1hr late",
    "HCA v rushed, no time to chat",
    "Waited 5 hrs in A&E with chest pain",
    "resident c/o chest pain, 999 called 14:20, amb arrived 16:05",
    "RM reports 2 staff short on nights x3 this wk",
    "Pt's NOK not informed of transfer",
    "Sat 02 dropped to 88%, O2 commenced",
    "hand hygiene audit 62% compliance",
    "Inspector noted fire door wedged open on first floor",
    "Manager couldnt provide evidence of staff supervisions",
    "Treated with dignity and respect",
    "Needs more activities for residents",
]

LONG_ENGLISH = [
    "I was treated very well by all the staff, they were kind, polite and explained everything to me "
    "before the procedure.",
    "The waiting time was far too long and nobody came to tell us why we were waiting. The staff at "
    "reception seemed uninterested.",
    "Pt found on floor at 03:00, no injury, obs stable, DATIX completed, family informed.",
    "Care plan reviewed with service user and daughter; moving and handling risk assessment updated.",
    "Inspection observed medicines administration round on Oak unit: two residents received "
    "time-critical Parkinson's medication over an hour late, and the MAR chart had unexplained gaps.",
    "My mum was on the ward for two weeks and the nurses were wonderful with her, always making time "
    "to chat even when they were obviously very busy.",
    "Handover between day and night staff was rushed and key information about the patient's fluid "
    "restriction was not passed on.",
    "Registered manager confirmed that DoLS applications had been submitted for 4 residents but none "
    "had been authorised by the local authority yet.",
    "no one came when i rang the bell and i was left sat in wet sheets for over an hour, the night "
    "staff just dont care and the day staff are run ragged",
]

NO_CONTENT_NOTES = [
    # Empty, whitespace, punctuation, digits, emoji and symbols.
    "",
    "   ",
    "\n\t",
    "-",
    "...",
    "?",
    "!!!",
    "--- ---",
    ":)",
    "10/10",
    "12345",
    "+++",
    "😊",
    "👍👍",
    "🙂 🙂 🙂",
    "🙏🙏",
    "¯\\_(ツ)_/¯",
    # Placeholder answers.
    "N/A",
    "n/a",
    "N/A.",
    "na",
    "n.a.",
    "none",
    "nothing",
    "no comment",
    "no comments",
    "ok",
    "okay",
    "fine",
    "not applicable",
    "N/A - not applicable",
    "nil",
    "Nil.",
    "see above",
    "as above",
    "Same as above",
    "dont know",
    "don't know",
    "Don’t know",
    "no",
    "yes",
    "test",
    # Key-mashing.
    "asdfgh jkl",
    "qwerty",
    "sdfsdf",
    "asdasd",
    "jkjkjk",
    "kjhkjh",
    "fjdksla",
    "ghfhgfhg",
    "aaaaaa",
    "asdf",
    "hjkl",
    "zxcvbn",
    "xxxx",
    "zzzzz",
    # Verdicts, thanks and "nothing" answers that name no topic.
    "Good",
    "Very good",
    "All good",
    "Excellent!",
    "Amazing",
    "Thank you",
    "Keep up the good work",
    "Everything was perfect",
    "No complaints",
    "Nothing at all really",
    "no not really thanks",
    "Not one thing",
    "NothIng",
    "Nothing 😊",
    "Absolutely nothing",
    "Nothing comes to mind",
    "Can't think of anything",
    "nothing to say",
]

NOT_ENGLISH_NOTES = [
    # Welsh
    "Roedd y staff yn garedig iawn ac roedd y gofal yn ardderchog",
    "Diolch yn fawr i bawb ar y ward am eu gofal",
    "Roedd rhaid aros am oriau cyn gweld meddyg",
    "Gwasanaeth da iawn, staff cyfeillgar a chymwynasgar",
    "Doedd neb wedi esbonio beth oedd yn digwydd i fy nhad",
    "Roedd y meddyg yn garedig",
    "Nid wyf yn siarad Saesneg",
    "Roedd y nyrsys yn wych. Diolch!",
    "Mae'r staff yn gweithio'n galed iawn",
    # Spanish
    "El personal fue muy amable y la atención excelente",
    "Tuve que esperar tres horas para ver al médico",
    "Muy buena atención, gracias a todos",
    "La comida estaba fría y nadie me ayudó",
    "Necesito un intérprete por favor",
    "No hablo inglés",
    "La enfermera fue muy grosera",
    # French
    "Le personnel était très gentil et les soins excellents",
    "J'ai attendu trop longtemps aux urgences",
    "Merci beaucoup à toute l'équipe de soins",
    "Je ne parle pas anglais",
    "On a attendu quatre heures",
    "Personne ne m'a expliqué",
    # Polish
    "Personel był bardzo miły i pomocny",
    "Czekałem bardzo długo na wizytę u lekarza",
    "Bardzo dziękuję za opiekę nad moją mamą",
    "Lekarz nie wytłumaczył mi wyników badań",
    "Potrzebuję tłumacza",
    "Nie mówię po angielsku",
    "Pielęgniarki były niegrzeczne",
    # Other Latin-script languages
    "Personalul a fost foarte amabil si de ajutor",
    "Am nevoie de un traducător",
    "A equipe foi muito atenciosa e o atendimento excelente",
    "Não falo inglês",
    "Il personale è stato molto gentile e disponibile",
    "Io non parlo inglese, serve un interprete",
    "Das Personal war sehr freundlich und hilfsbereit",
    "Ich musste drei Stunden warten",
    "Personalas buvo labai malonus ir paslaugus",
    "Shaqaaluhu aad bay u fiicnaayeen, mahadsanid",
    "Personel çok nazik ve yardımseverdi",
    "A személyzet nagyon kedves volt",
    "Het personeel was erg vriendelijk",
    "Personál byl velmi milý a ochotný",
    "Asante sana kwa msaada",
    "Salamat po sa tulong",
    # Urdu / Hindi / Punjabi written in Latin letters
    "Doctor sahab bohat ache thay aur staff ne meri madad ki",
    "Mujhe bohat intezar karna para, koi nahi aya",
    "Sab log bohat ache thay, aap ka bohat shukriya",
    "Bahut accha ilaaj hua, sab ka dhanyavaad",
    "Mera naam Ahmed hai aur mujhe dard ho raha hai",
    "Mujhe angrezi nahi aati",
    "Mainu angrezi nahi aundi",
    # Other scripts
    "كان الموظفون لطفاء جدا",
    "工作人员非常友好",
    "عملہ بہت اچھا تھا",
    "ਸਟਾਫ ਬਹੁਤ ਵਧੀਆ ਸੀ",
    "কর্মীরা খুব ভালো ছিল",
    "Персонал был очень вежливым",
    "Το προσωπικό ήταν πολύ ευγενικό",
]

CASES: list[tuple[str, str | None]] = (
    [(note, None) for note in SHORT_ENGLISH + LONG_ENGLISH]
    + [(note, NO_CONTENT) for note in NO_CONTENT_NOTES]
    + [(note, NOT_ENGLISH) for note in NOT_ENGLISH_NOTES]
)


@pytest.fixture(scope="module")
def table_results() -> list[str | None]:
    """The whole table through the batch function, once."""
    return abstention_reasons([note for note, _ in CASES])


def test_table_is_big_and_varied() -> None:
    assert len(CASES) >= 100
    assert len(SHORT_ENGLISH) >= 40
    assert len({note for note, _ in CASES}) == len(CASES), "duplicate notes in the table"


def test_table_counts(table_results: list[str | None]) -> None:
    """No false abstentions on English, no missed abstentions on the rest."""
    false_abstentions = [
        i for i, ((_, want), got) in enumerate(zip(CASES, table_results)) if want is None and got is not None
    ]
    missed = [i for i, ((_, want), got) in enumerate(zip(CASES, table_results)) if want is not None and got != want]
    assert (false_abstentions, missed) == ([], [])


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"case{i:03d}" for i in range(len(CASES))])
def test_case(index: int, table_results: list[str | None]) -> None:
    note, want = CASES[index]
    assert table_results[index] == want, f"{note!r}: expected {want}, got {table_results[index]}"


# ---------------------------------------------------------------------------------------------
# Focused behaviour
# ---------------------------------------------------------------------------------------------


def test_reasons_constant() -> None:
    assert REASONS == ("no_content", "not_english")
    assert (NO_CONTENT, NOT_ENGLISH) == REASONS


def test_empty_string_is_no_content() -> None:
    assert abstention_reason("") == NO_CONTENT


@pytest.mark.parametrize("note", ["Good", "Ok", "Fine", "Very good", "Brilliant, thanks"])
def test_bare_verdict_without_topic_is_no_content(note: str) -> None:
    assert abstention_reason(note) == NO_CONTENT


@pytest.mark.parametrize("note", ["Parking", "Waiting", "Cleanliness", "Good food", "Very good care"])
def test_one_topic_word_is_enough(note: str) -> None:
    assert abstention_reason(note) is None


@pytest.mark.parametrize("note", ["Gracias", "Danke", "Merci"])
def test_too_short_to_call_foreign(note: str) -> None:
    """Under MIN_LETTERS letters the detector is not trusted, so nothing is called foreign."""
    assert abstention_reason(note) is None


def test_long_foreign_notes_decided_by_fast_detector() -> None:
    welsh = (
        "Roedd y staff ar y ward yn garedig iawn gyda fy mam, ac fe wnaethon nhw esbonio popeth yn "
        "glir cyn y llawdriniaeth. Diolch o galon i bawb."
    )
    spanish = (
        "Mi madre estuvo ingresada dos semanas y las enfermeras siempre fueron muy atentas con ella, "
        "aunque la comida era bastante mala y fría."
    )
    assert abstention_reasons([welsh, spanish]) == [NOT_ENGLISH, NOT_ENGLISH]


def test_single_and_batch_agree() -> None:
    notes = [note for note, _ in CASES[::7]]
    assert [abstention_reason(note) for note in notes] == abstention_reasons(notes)


def test_batch_accepts_any_sequence_and_empty() -> None:
    assert abstention_reasons([]) == []
    assert abstention_reasons(("Parking", "N/A")) == [None, NO_CONTENT]


def test_non_str_raises_without_echoing_the_value() -> None:
    secret = "Mrs Example in bed 4"
    with pytest.raises(TypeError) as excinfo:
        abstention_reason(secret.encode())  # type: ignore[arg-type]
    assert "Example" not in str(excinfo.value)
    with pytest.raises(TypeError):
        abstention_reasons(["fine", None])  # type: ignore[list-item]


def test_never_prints_or_logs_the_note(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    marker = "Zebedee"
    notes = [
        f"{marker} said the night staff ignored the call bell again",
        f"{marker.lower()} said the nurses were very good",
        f"Roedd {marker} yn garedig iawn ac roedd y gofal yn ardderchog",
    ]
    with caplog.at_level(logging.DEBUG):
        abstention_reasons(notes)
    captured = capsys.readouterr()
    assert marker.lower() not in (captured.out + captured.err).lower()
    assert all(marker.lower() not in record.getMessage().lower() for record in caplog.records)


def test_detectors_are_built_once() -> None:
    abstention_reasons(["The nurses on the day shift were very kind and answered every question I had."])
    first = abstain._detector("fast")
    abstention_reasons(["The night shift was short staffed again and the call bell rang for ages."])
    assert abstain._detector("fast") is first
    assert abstain._detector("accurate") is abstain._detector("accurate")


def test_import_is_cheap() -> None:
    """Importing the module must not import or build a language detector."""
    code = "import sys, evidencenlp.abstain as a; print('lingua' in sys.modules, len(a._DETECTORS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "0"]


def test_plainly_english_never_takes_a_foreign_note() -> None:
    """The detector-free shortcut must not claim any foreign test note (or it would hide it as English)."""
    for note in NOT_ENGLISH_NOTES:
        _, evidence = abstain._screen(note)
        assert evidence is None or not abstain._plainly_english(evidence), NOT_ENGLISH_NOTES.index(note)


def test_plainly_english_spares_the_detector_for_ordinary_notes() -> None:
    plain = [abstain._plainly_english(abstain._screen(note)[1] or "") for note in LONG_ENGLISH]
    assert sum(plain) >= 0.7 * len(LONG_ENGLISH)
    # too few words, or words that are not common English: the detector decides
    assert not abstain._plainly_english("staff were kind")
    assert not abstain._plainly_english("the staff were muy amables y the enfermeras")


def test_a_plainly_english_batch_builds_no_detector() -> None:
    code = ("import evidencenlp.abstain as a; "
            "r = a.abstention_reasons(['The staff were very kind and they always listened to my mother.']); "
            "print(r, len(a._DETECTORS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[None]", "0"]
