"""Common US English (and US Spanish) given-name nicknames, as data.

``NICKNAMES`` maps a formal given name to the short forms people go by. A nickname may belong to several
formal names (Chris: Christopher, Christina, Christian, Christine); ``nickname_groups`` inverts the table
so that two given names are "the same person's name" when they share a formal name: Bob ~ Robert,
Bob ~ Rob, and Chris ~ Tina (both may be Christina). Spelling variants of one name (Mohammed, Muhammad)
are listed as nicknames of each other's formal form. Keys and values are lower case ASCII, the form
``matching.fold`` gives.
"""

from __future__ import annotations

from functools import lru_cache

NICKNAMES: dict[str, tuple[str, ...]] = {
    # Men's names
    "abraham": ("abe",),
    "albert": ("al", "bert", "bertie"),
    "alexander": ("alex", "al", "alec", "xander", "sandy", "lex"),
    "alfred": ("al", "alf", "fred", "freddie"),
    "andrew": ("andy", "drew", "andre"),
    "anthony": ("tony", "ant", "anton"),
    "arthur": ("art", "artie"),
    "benjamin": ("ben", "benny", "benji"),
    "bernard": ("bernie", "bern"),
    "bradley": ("brad",),
    "bradford": ("brad",),
    "brandon": ("brandy", "bran"),
    "calvin": ("cal",),
    "cameron": ("cam",),
    "charles": ("charlie", "chuck", "chaz", "chas", "chip"),
    "christian": ("chris", "christy"),
    "christopher": ("chris", "kit", "topher", "cris"),
    "clifford": ("cliff",),
    "curtis": ("curt",),
    "daniel": ("dan", "danny", "dani"),
    "david": ("dave", "davey", "davy"),
    "dennis": ("denny",),
    "dominic": ("dom", "nick"),
    "donald": ("don", "donnie", "donny"),
    "douglas": ("doug",),
    "edward": ("ed", "eddie", "eddy", "ted", "teddy", "ned"),
    "edwin": ("ed", "eddie"),
    "eugene": ("gene",),
    "francis": ("frank", "frankie", "fran"),
    "franklin": ("frank", "frankie"),
    "frederick": ("fred", "freddie", "freddy", "rick"),
    "gabriel": ("gabe", "gabby"),
    "gerald": ("jerry", "gerry"),
    "gerard": ("gerry", "jerry"),
    "gregory": ("greg", "gregg"),
    "harold": ("hal", "harry"),
    "henry": ("hank", "harry", "hal", "hen"),
    "herbert": ("herb", "bert"),
    "isaac": ("ike", "zac"),
    "jacob": ("jake", "jay", "coby"),
    "james": ("jim", "jimmy", "jimmie", "jamie", "jem", "jay"),
    "jeffrey": ("jeff",),
    "jeremy": ("jerry", "jer"),
    "jesse": ("jess",),
    "john": ("jack", "johnny", "jon", "jonny"),
    "jonathan": ("jon", "jonny", "john", "johnny", "nathan", "nate"),
    "joseph": ("joe", "joey", "jo", "jos"),
    "joshua": ("josh",),
    "kenneth": ("ken", "kenny"),
    "lawrence": ("larry", "laurie", "lars"),
    "laurence": ("larry", "laurie"),
    "leonard": ("leo", "len", "lenny", "leon"),
    "louis": ("lou", "louie"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mikey", "mick", "mickey", "mitch"),
    "mitchell": ("mitch",),
    "nathan": ("nate", "nat"),
    "nathaniel": ("nate", "nat", "nathan", "than"),
    "nicholas": ("nick", "nicky", "nico", "cole"),
    "patrick": ("pat", "patty", "paddy", "rick"),
    "peter": ("pete",),
    "philip": ("phil",),
    "phillip": ("phil",),
    "raymond": ("ray",),
    "richard": ("rick", "ricky", "rich", "richie", "dick", "rico"),
    "robert": ("bob", "bobby", "rob", "robbie", "robby", "bert", "bobbie"),
    "ronald": ("ron", "ronnie", "ronny"),
    "russell": ("russ",),
    "samuel": ("sam", "sammy"),
    "stanley": ("stan",),
    "stephen": ("steve", "stevie", "steph", "steven"),
    "steven": ("steve", "stevie", "stephen"),
    "terrence": ("terry",),
    "theodore": ("ted", "teddy", "theo"),
    "thomas": ("tom", "tommy", "thom"),
    "timothy": ("tim", "timmy"),
    "vincent": ("vince", "vinny", "vin"),
    "walter": ("walt", "wally"),
    "william": ("bill", "billy", "will", "willie", "willy", "liam"),
    "zachary": ("zach", "zack", "zac", "zak"),
    # Women's names
    "abigail": ("abby", "abbie", "gail"),
    "alexandra": ("alex", "alexa", "lexi", "sandra", "sandy", "allie"),
    "alexis": ("alex", "lexi"),
    "alice": ("allie", "ali"),
    "allison": ("allie", "ally", "ali"),
    "amanda": ("mandy", "manda", "amy"),
    "angela": ("angie", "ange"),
    "barbara": ("barb", "babs", "barbie"),
    "beatrice": ("bea", "trixie"),
    "caroline": ("carrie", "carol", "caro"),
    "catherine": ("cathy", "cat", "kate", "katie", "cate"),
    "charlotte": ("charlie", "lottie", "char"),
    "christina": ("chris", "tina", "christy", "chrissy", "kristina"),
    "christine": ("chris", "tina", "christy", "chrissy"),
    "cynthia": ("cindy", "cyndi"),
    "deborah": ("debbie", "deb", "debby", "debra"),
    "donna": ("donnie",),
    "dorothy": ("dot", "dottie", "dolly", "dora"),
    "eleanor": ("ellie", "nell", "nora", "elle"),
    "elizabeth": ("liz", "lizzie", "beth", "betsy", "betty", "eliza", "lisa", "libby", "liza", "ellie", "bess"),
    "emily": ("em", "emmy", "millie"),
    "frances": ("fran", "frannie", "frankie"),
    "gabriela": ("gaby", "gabby", "gabi"),
    "gabrielle": ("gaby", "gabby", "elle"),
    "isabella": ("bella", "izzy", "isa"),
    "isabel": ("bella", "izzy", "isa"),
    "jacqueline": ("jackie", "jacky"),
    "jennifer": ("jen", "jenny", "jenn", "jenna"),
    "jessica": ("jess", "jessie", "jessi"),
    "josephine": ("jo", "josie", "jojo"),
    "judith": ("judy", "jude"),
    "katherine": ("kate", "kathy", "katie", "kat", "kay", "kitty", "kathryn", "catherine"),
    "kathleen": ("kathy", "kate", "katie", "kay"),
    "kimberly": ("kim", "kimmy"),
    "madeline": ("maddie", "maddy"),
    "margaret": ("maggie", "peggy", "meg", "marge", "margie", "greta", "daisy", "molly", "peg"),
    "mary": ("molly", "polly", "mae", "mamie"),
    "melissa": ("mel", "missy", "lissa"),
    "michelle": ("shelly", "mich", "chelle"),
    "nicole": ("nikki", "nicky", "nic", "cole"),
    "pamela": ("pam", "pammy"),
    "patricia": ("pat", "patty", "patsy", "trish", "tricia", "trisha"),
    "rebecca": ("becky", "becca", "becki"),
    "rosalind": ("roz",),
    "samantha": ("sam", "sammy", "sami"),
    "sandra": ("sandy", "sandi"),
    "sarah": ("sally", "sadie", "sara"),
    "stephanie": ("steph", "stephie", "stevie"),
    "susan": ("sue", "susie", "suzy", "suzanne"),
    "suzanne": ("sue", "suzy", "susie"),
    "teresa": ("terry", "tess", "tessa", "terri"),
    "theresa": ("terry", "tess", "tessa", "terri"),
    "valerie": ("val",),
    "veronica": ("ronnie", "vera", "roni"),
    "victoria": ("vicky", "vickie", "tori", "vic", "toria"),
    "virginia": ("ginny", "ginger"),
    # US Spanish
    "alejandro": ("alex", "ale", "alejo", "jandro"),
    "alberto": ("beto", "al"),
    "antonio": ("tony", "tono", "tonio"),
    "daniela": ("dani", "danny"),
    "eduardo": ("lalo", "eddie", "edu", "ed"),
    "enrique": ("quique", "kike", "henry"),
    "francisco": ("paco", "pancho", "frank", "cisco", "kiko", "frankie"),
    "guadalupe": ("lupe", "lupita"),
    "guillermo": ("memo", "willie", "guille"),
    "ignacio": ("nacho",),
    "javier": ("javi",),
    "jesus": ("chuy", "chucho"),
    "jose": ("pepe", "joe", "chepe"),
    "manuel": ("manny", "manolo", "manu"),
    "rafael": ("rafa", "rafi"),
    "ricardo": ("rick", "ricky", "rico"),
    "roberto": ("beto", "rob", "bobby", "robert"),
    "rosario": ("chayo",),
    # Spelling variants kept as one name
    "mohammed": ("mohammad", "muhammad", "mohamed", "mohamad", "muhammed", "mo"),
    "aaliyah": ("aliyah", "aleah"),
}


@lru_cache(maxsize=1)
def nickname_groups() -> dict[str, frozenset[str]]:
    """Every known given name (formal or nickname) → the formal names it may stand for, itself included."""
    groups: dict[str, set[str]] = {}
    for formal, nicks in NICKNAMES.items():
        groups.setdefault(formal, set()).add(formal)
        for nick in nicks:
            groups.setdefault(nick, set()).add(formal)
    return {name: frozenset(formals) for name, formals in groups.items()}


def formal_names(name: str) -> frozenset[str]:
    """The formal names ``name`` may stand for (just ``{name}`` for a name the table does not know)."""
    return nickname_groups().get(name, frozenset((name,)))


@lru_cache(maxsize=65536)
def name_variants(name: str) -> frozenset[str]:
    """Every given name that may be the same person's name as ``name``: its formal names and their nicknames."""
    variants = {name}
    for formal in formal_names(name):
        variants.add(formal)
        variants.update(NICKNAMES.get(formal, ()))
    return frozenset(variants)
