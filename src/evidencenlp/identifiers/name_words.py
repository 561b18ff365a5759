"""The words and patterns behind name detection (:mod:`evidencenlp.identifiers.names`).

Titles, relations and roles that come before a name; cues such as "called" and "thanks to"; words
that turn a name into a place, an organisation or an eponym; and known look-alikes (characters,
brands, charities and hospitals named after people).
"""

from __future__ import annotations

import re

from evidencenlp.identifiers.lexicon import DAYS, MONTHS

#: titles after which a capitalised word is a surname unless it is a common word ("Mr Happy")
STRONG_TITLES = frozenset("mr mrs ms miss mx dr drs prof professor cllr councillor rev revd reverend sir dame "
                          "mister".split())
#: titles that are also everyday nouns ("the nurse said"), so a lower-case word after them must be a known name
ROLE_TITLES = frozenset("nurse sister matron doctor father brother auntie aunty uncle baby".split())
#: strong titles that keep their force in lower case ("dr patel"); "miss" and "ms" are also a verb and a disease
LOWER_STRONG = frozenset("mr mrs dr prof mx".split())
TITLES = STRONG_TITLES | ROLE_TITLES

RELATIONS = frozenset("""
mum mam mom mummy mother dad daddy father husband wife son daughter brother sister nan nana nanna nanny gran
granny grandma grandmother grandad granddad grandpa grandfather grandson granddaughter grandchild partner friend
neighbour neighbor aunt auntie aunty uncle niece nephew cousin fiance fiancee boyfriend girlfriend stepson
stepdaughter stepmum stepdad stepmother stepfather twin sibling godson goddaughter
""".split())
ROLES = frozenset("""
nurse matron doctor consultant registrar surgeon gp physio physiotherapist ot therapist hca carer carers
keyworker worker assistant manager receptionist pharmacist midwife paramedic porter cleaner housekeeper chef cook
volunteer chaplain student apprentice dietitian dietician podiatrist optician dentist hygienist psychologist
psychiatrist anaesthetist radiographer sonographer phlebotomist technician secretary administrator coordinator
co-ordinator advocate interpreter resident patient client lead leader deputy senior salt slt sw cpn anp acp rgn rmn
navigator practitioner officer visitor driver escort buddy hairdresser handyman gardener caretaker chiropodist
befriender warden barber
""".split())

#: cues before a name, in one pattern: ``strong`` ones ("called Tom", "ask for priya") make the next
#: word a name if it can be one; ``weak`` ones ("thanks to Will", "spoke to Sue") only a known first name
CUES = re.compile(
    r"(?:\b(?P<strong>call(?:s|ed)?\s+(?:him|her|them|me|us)|called|named|name\s+is|name\s+was|name['’]s"
    r"|names\s+are|known\s+as|goes\s+by|ask(?:ed|ing)?\s+for|ask(?:ed)?\s+after"
    r"|introduced\s+(?:her|him|them)sel(?:f|ves)\s+as|dear|hi|hello)[ \t]*[,:-]?"
    r"|(?:\b(?P<weak>thanks?(?:\s+you)?(?:\s+so\s+much)?(?:\s+to)?|shout[\s-]?out\s+to|kudos\s+to"
    r"|mention\s+(?:to|for)|praise\s+for|spoke\s+(?:to|with)|speak\s+(?:to|with)|talked\s+(?:to|with)|talk\s+to"
    r"|seen\s+by|looked\s+after\s+by|cared\s+for\s+by|helped\s+by|supported\s+by|visited\s+by|reviewed\s+by"
    r"|examined\s+by|assessed\s+by|treated\s+by|met\s+with|met|told|asked|and)|(?P<amp>&))[ \t]*,?)[ \t]*", re.I)

#: capitalised words after a name that make the whole a place or organisation ("Mary Seacole House")
ORG_WORDS = frozenset("""
hospital hospitals infirmary clinic clinics surgery practice centre center unit ward wards wing house home homes
lodge court hospice trust foundation school college university academy church chapel mosque temple synagogue
library station road street lane avenue drive close crescent way place square gardens park terrace grove mews
building buildings suite theatre theatres department team service services group partnership network board council
commission society association charity club scheme programme award awards fund room lounge block annexe pavilion
manor grange mill view heights medical health care nursing dental pharmacy community general memorial royal
district county city primary village hotel cottage cottages institute museum bridge units ltd limited plc
nursery nurseries pub inn arms cafe café shop store market prize lecture foundation palace fellowship
""".split())
#: lower-case words after a name that make it a place ("Charles Darwin ward")
PLACE_AFTER = frozenset("ward wards unit hospital hospice infirmary suite wing centre center".split())
#: words after a name that make it an eponym ("Addison's disease", "Norton scale", "Abbey pain scale")
EPONYM_WORDS = frozenset("""
disease syndrome palsy sign test score scale criteria classification procedure manoeuvre maneuver tube catheter
fracture oesophagus esophagus ulcer reflex node lymphoma sarcoma chart index tool model pathway method position line
""".split())
#: lower-case words between an eponym and its word ("Abbey pain scale", "Lewy body", "Glasgow coma scale")
EPONYM_CONNECTORS = frozenset("pain body coma".split())
#: a capitalised word before a name that makes it a place ("St Mary's", "Queen Elizabeth", "Royal Victoria")
PLACE_PREFIXES = frozenset("st saint sainte san santa queen king kings prince princess royal duke duchess fort port "
                           "mount lake cape new north south east west upper lower great little storm hurricane"
                           .split())
PARTICLES = frozenset("de da das dos di du del della der den van von la le bin binti ibn al el ap ter".split())
#: words after a first name that show it is a person ("Dawn said", "Grace was lovely")
PERSON_VERBS = frozenset("""
said says told tells was is has had helped helps came comes explained explains looked listened asked asks rang
phoned took made gave showed always never did does sat spent went knew knows remembered cared treated checked
washed dressed fed brought stayed talked spoke smiled laughed noticed who herself himself works worked really
""".split())
TRIGGERS = RELATIONS | ROLES
CUE_GAP = re.compile(r"[ \t]*[,:(-]?[ \t]*")
#: words that are never a name after "Mr" or "Dr" ("Mr And Mrs Smith", "Dr On Call")
FUNCTION_WORDS = frozenset("""
a an and are as at be but by for from had has have he her his i in is it its my no not of on or our she so than
that the their them then there they this to up us was we were what when which who will with you your
""".split())
TITLE_GAP = re.compile(r"\.?[ \t\u00a0]{0,2}")
DETERMINERS = frozenset("the a an this that these those our your their its my his her of in on at for from by to "
                         "with".split())

LOOKALIKES = re.compile(
    r"\b(?:mr\.?\s*(?:men|tumble|bean|blobby|motivator|kipling|muscle|sheen|whippy|benn|potato\s*head|happy|tickle"
    r"|greedy|bump|strong|silly|messy|grumpy|nosey|small|noisy|lazy|funny|tall|worry|sneeze|snow|clever|rush"
    r"|chatterbox|mean|forgetful|bounce|bloom|maker|selfridge|freeze)|little\s+miss\s+\w+"
    r"|dr\.?\s*(?:foster|who|seuss|martens?|pepper|oetker"
    r"|dolittle|zhivago|jekyll)|doctor\s+(?:who|foster|strange)|sister\s+(?:act|sledge)|mrs\.?\s*(?:brown['’]s\s+boys"
    r"|doubtfire|hinch)|miss\s+(?:marple|saigon|havisham|world|universe)|father\s+(?:christmas|ted)"
    r"|florence\s+nightingale|mary\s+seacole|(?:nye|aneurin)\s+bevan|captain\s+tom|edith\s+cavell"
    r"|cicely\s+saunders|sue\s+ryder|marie\s+curie|leonard\s+cheshire|marie\s+stopes|john\s+radcliffe"
    r"|james\s+cook|george\s+eliot|william\s+harvey|joseph\s+rowntree|elizabeth\s+garrett\s+anderson"
    r"|tom\s+(?:and|&)\s+jerry|thomas\s+the\s+tank(?:\s+engine)?|dora\s+the\s+explorer|winnie\s+the\s+pooh"
    r"|shaun\s+the\s+sheep|fireman\s+sam|postman\s+pat|bob\s+the\s+builder|ben\s+(?:and|&)\s+holly"
    r"|will\s+(?:and|&)\s+grace|earl\s+grey|granny\s+smith|victoria\s+sponge|chelsea\s+buns?|father\s+brown"
    r"|miss\s+selfridge|marks\s*(?:and|&)\s*spencer|john\s+lewis|harvey\s+nichols|ronald\s+mcdonald"
    r"|jacob['’]?s\s+(?:cream\s+)?crackers|sara\s+(?:stedy|plus|flex|lite|combilizer)|martha['’]?s\s+rule"
    r"|jack\s+russells?|billy\s+goat|lazy\s+susan|peeping\s+tom|bloody\s+mary|jack\s+daniels?"
    r"|tia\s+maria)\b", re.I)
#: performers and characters of reminiscence and film sessions, and works named after them, as folded
#: words (checked word by word, which is faster than one more alternative in :data:`LOOKALIKES`)
FAMOUS_NAMES = frozenset(tuple(name.split()) for name in """
elvis presley|frank sinatra|vera lynn|cliff richard|dolly parton|shirley bassey|cilla black|judy garland
marilyn monroe|johnny cash|bing crosby|nat king cole|dean martin|perry como|elton john|max bygraves|val doonican
engelbert humperdinck|daniel o'donnell|ken dodd|bruce forsyth|julie andrews|audrey hepburn|charlie chaplin
gracie fields|glenn miller|fred astaire|ginger rogers|gene kelly|andre rieu|katherine jenkins|michael buble
barry manilow|neil diamond|des o'connor|mary poppins|harry potter|peter pan|peter rabbit|paddington bear
james bond|sherlock holmes|robin hood|oliver twist|laurel and hardy|morecambe and wise
""".replace("\n", "|").strip("|").split("|"))
FAMOUS_LONGEST = max(len(name) for name in FAMOUS_NAMES)
#: performers known by one name, more often meant than a person of that name in care notes ("loves
#: Elvis"): like :data:`~evidencenlp.identifiers.lexicon.NOT_ALONE`, a name only with a title, a
#: strong cue or a surname
FAMOUS_ALONE = frozenset("elvis madonna beyonce liberace shakira rihanna".split())
#: words after a name that make it a performer or a work: "Mary Poppins film night", "Vera Lynn
#: songs", "an Elvis tribute act" (for a name of two words or more, or one in :data:`FAMOUS_ALONE`)
ENTERTAINMENT_AFTER = frozenset("""
film films movie movies song songs music musical musicals album albums record records tribute tributes concert
concerts singalong sing-along karaoke dvd dvds cd cds show shows impersonator impersonators lookalike
soundtrack medley quiz documentary
""".split())
#: words that, capitalised after an acronym role ("SALT In any way", "OT Will assess"), start a new
#: sentence whose full stop was left out, not a name
MODALS = frozenset("will would can could may might must shall should do does did".split())


#: words before a month or a name-word that make it a time ("since April the manager...")
TIME_WORDS = frozenset("since until till during before after last next every early late mid end".split())
ROLE_WORDS = "|".join(sorted(RELATIONS | ROLES, key=len, reverse=True))
ROLE_ADJECTIVES = (r"(?:night|day|student|senior|junior|ward|activities|activity|deputy|community|district|lovely|new"
                   r"|lead|staff|support|care|key)")
TEAM_WORDS = (r"(?:team|pharmacy|council|reception|office|kitchen|ward|unit|agency|crew|practice|surgery|laundry"
              r"|desk|porters|service|hospice)")
#: a role or relation in apposition after a word: "Bronagh the SALT", "Oyin, the manager", "Tunde (HCA)"
ROLE_AFTER = re.compile(
    rf"(?:\s*[,(–-]\s*(?:one\s+of\s+)?(?:(?:the|our|my|his|her|their|a|an)\s+)?"
    rf"|\s+(?:the|our|my|his|her|their|a|an)\s+)"
    rf"(?:(?:{ROLE_ADJECTIVES}|(?-i:[a-z][a-z-]+))\s+){{0,2}}(?:{ROLE_WORDS})s?\b", re.I)
#: "Jas from the pharmacy", "Angela from the council", "Hope from the district nursing team"
FROM_TEAM = re.compile(
    rf"\s+from\s+(?:the\s+)?(?:(?:{ROLE_ADJECTIVES}|[a-z][a-z&-]*)\s+){{0,3}}(?:{TEAM_WORDS}|{ROLE_WORDS})s?\b", re.I)
#: "Sue on reception", "Dawn on nights", "Carol in pharmacy", "Ruby in the day centre", "Frank in room 3"
#: (only for known first names)
ON_DUTY = re.compile(
    rf"\s+on\s+(?:the\s+)?(?:front\s+)?(?:{TEAM_WORDS}|nights|days|lates|earlies|desk)\b"
    r"|\s+in\s+(?:the\s+)?(?:(?:front|main|day|back|hospital)\s+)?(?:reception|pharmacy|kitchen|laundry|office|desk"
    r"|centre|activities|admin|maintenance|housekeeping|finance|catering|stores|ward)\b"
    r"|\s+(?:in|on|from)\s+(?:room|bed|bay|flat|ward|apartment)\s+\d", re.I)
#: verbs of speaking and doing that show a capitalised word before them is a person ("Mark said")
SPEECH_VERBS = frozenset("""
said says told tells explained explains asked asks rang phoned helped helps came smiled laughed listened apologised
promised shouted replied answered introduced showed stayed noticed took gave brought sorted arranged organised
""".split())
ABBREVIATED_CALENDAR = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs "
                                  "fri sat sun".split())
CALENDAR = MONTHS | DAYS | ABBREVIATED_CALENDAR
OPENERS = " \t\"'“‘([*•-–"
#: first names that are also words for any person: "Man in room 3 shouting", "Lady on the desk"
PERSON_NOUNS = frozenset("man woman lady gent gentleman boy girl lad lass chap guy bloke fellow".split())
#: form labels before a name, in any case: "Surname: HUGHES", "Forename: brenda", "Name: Jo Bloggs",
#: "Next of kin: Mary Smith (daughter)"
FORM_LABEL = re.compile(
    r"\b(?:(?P<field>sur|fore|first|given|family|last|middle|maiden|full|patient['’]?s?|resident['’]?s?"
    r"|client['’]?s?|preferred|carer['’]?s?|staff)\s?)?(?P<label>names?|next\s+of\s+kin|NOK|signed(?:\s+by)?"
    r"|completed\s+by|reported\s+by|witnessed\s+by|written\s+by)[ \t]*[:=]\Z", re.I)
#: words before a first name that make it a place: "a day trip to Preston", "moved to Chelsea",
#: "lives in Beverley" (matched against the text just before the name)
PLACE_BEFORE = re.compile(
    r"\b(?:(?:trip|trips|journey|outing|drive|drove|driven|travel(?:led|s)?|moved?|moving|relocated|holiday)"
    r"\s+(?:back\s+)?(?:to|from|in|at|near)|(?:lives|lived|living|born|visit(?:ed|s|ing)?)\s+(?:in|near))\s+$", re.I)
#: words that keep a name before "and the" a person: "Jo and the Night Staff", "Sue and the Care Team"
NOT_IN_TITLES = frozenset("staff family team residents nurses carers doctors management night day care senior "
                          "junior other rest whole new".split())
#: after a name, "and the" and two capitalised words: the title of a book, film or show ("Charlie and the
#: Chocolate Factory", "James and the Giant Peach")
TITLE_OF_WORK = re.compile(r"[ \t]+and[ \t]+the[ \t]+([A-Z][a-z]+)(?:['’]s)?[ \t]+([A-Z][a-z]+)")
#: a title run into a capitalised name: "DrAhmed", "MrsPatel"
JOINED_TITLE = re.compile(r"\b(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof)(?P<name>[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)*)\b")
#: capitalised words that end a run of names after a title ("Mrs Jones Care Home", "Dr Ahmed Consultant")
RUN_STOPS = FUNCTION_WORDS | MODALS | ORG_WORDS | TITLES | TRIGGERS | CALENDAR | PERSON_NOUNS
#: words of a found name that are not looked for elsewhere in the note: place words, roles and
#: relations, titles, particles, months and days, function words ("Mr Ward" does not make "Ward 3" a name)
NOT_PROPAGATED = FUNCTION_WORDS | MODALS | ORG_WORDS | TITLES | TRIGGERS | CALENDAR | PERSON_NOUNS | PARTICLES
