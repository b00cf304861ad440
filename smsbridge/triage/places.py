"""Where a report says it happened: the place phrase of an SMS, as written (pure).

Citizens write places as they speak, in SMS shorthand: "dpn masjid agung", "d
gg.mawar rt.03/rw.05", "JL. SLAMET RIYADI DEPAN PASAR GEDE". A place is the phrase a
locative word opens ("di", "dekat", "depan" …) or a place noun (jl., gg., RT, pasar,
masjid …), carried on through names, numbers and RT/RW until a word that is not a
place's ("tiap", "tolong", "jam" …). It is a span of the text as written, so an
operator sees the reporter's own words. ``place_words`` spells a place out for search
("jl" is "jalan"), ``place_key`` keeps the words that tell one place from another.

Measured on tests/data/places*.tsv by bench/bench_places.py (bench/RESULTS.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smsbridge.triage.folding import WORD, fold, words

if TYPE_CHECKING:
    from smsbridge.triage.gazetteer import Gazetteer

# --- words ----------------------------------------------------------------------------

# --- places -----------------------------------------------------------------------------

def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that open a place after "di" or alone: where, relative to something.
_RELATIONS = _set("""
depan dpn dpan dep didepan dekat dkt deket dket didekat dideket samping smpg sampng disamping
belakang blkg blakang belkang dibelakang sebelah sblh disebelah seberang sebrang sbrg
sekitar sekitaran sktr disekitar ujung pinggir dipinggir bawah dibawah luar diluar
sepanjang kawasan daerah wilayah area lingkungan halaman teras perbatasan arah jurusan
pas tengah dalam
""")
# Relations that also mean something else ("tengah malam", "dalam waktu"): they open
# a place only after "di", and carry one on.
_WEAK_RELATIONS = frozenset({"tengah", "dalam", "pas", "arah", "jurusan", "bawah", "luar"})

# Nouns that name a kind of place: they open a place and carry a name after them.
_HEADS = _set("""
jl jln jalan jaln jl jalur gg gang gng rt rw kel kelurahan kec kecamatan desa ds dusun
kampung kp kp kmp perum perumahan perumnas komplek kompleks blok pasar psr masjid mesjid
musholla mushola musola langgar gereja pura vihara klenteng sekolah sd smp sma smk smpn
sman smkn mts ma kampus universitas terminal stasiun halte alun lapangan lap taman
stadion gor jembatan rel perempatan prapatan pertigaan simpang bundaran lampu warung
warkop angkringan toko kios minimarket indomaret alfamart spbu pom apotek bank atm mall
plaza hotel penginapan losmen kos kost kosan kontrakan rumah rmh gedung kantor balai
pos puskesmas rs rumkit klinik pabrik gudang bengkel cafe kafe kedai warnet makam
kuburan sungai kali bantaran kolong flyover underpass tol ringroad trotoar parkiran
lahan tanah kebun sawah gubuk villa proyek bus bis cfd lokalisasi tempat pangkalan
dermaga pelabuhan bandara benteng keraton kraton ruko gang parkir
""")
# Heads too common in speech to open a place unless "di" or a relation comes first
# ("maling masuk rumah di perumnas": the place is the perumnas).
_WEAK_HEADS = frozenset({"rumah", "rmh", "tempat", "bus", "bis", "jalan", "lampu", "tanah",
                         "lahan", "pos", "toko", "tol", "kali", "lap", "ma", "pom", "kantor",
                         "balai", "rel", "gedung", "proyek", "jalur", "kampung", "lapangan",
                         "parkir", "sekolah"})
# Abbreviations written with a dot that does not end a sentence.
_ABBREVIATIONS = _set("""
jl jln gg kel kec no dr ir jend kol letjen brigjen mayjen st h hj kh rs kp ds perum psr
pt cv muh sd smp sma rt rw a m r k kpt kapt prof blk km
""")
# Words that never belong to a place: time, pleading, what happens, who.
_STOP = _set("""
tiap setiap tiap2 malam mlm pagi siang sore subuh jam jm pukul sekarang skrg skr tadi td
kemarin kmrn kemaren besok hari minggu senin selasa rabu kamis jumat sabtu sampai sampe
smp2 sejak lagi lg tolong tlg tolong2 mohon mhn pak bapak pk bu ibu cepat cpt segera
bikin buat ganggu mengganggu resah meresahkan rame ramai rame2 ada ad yg yang dan dgn
dengan sering srg terus trs trus sudah sdh udah udh juga jg bgt banget sangat sekali
polisi petugas pol ditindak ditertibkan tindak tertibkan diamankan tangkap ditangkap
warga orang org anak pemuda remaja mereka dia kami kita saya sy aku gw gua
lewat ngebut kebut balap balapan liar judi togel mabuk mabok miras tawuran maling
curi dicuri mencuri narkoba sabu ganja knalpot brong berisik bising musik
jualan jual dijual menjual beli transaksi pesta main bermain nongkrong minum pakai
karena krn soalnya biar agar supaya tapi tp atau jadi jd utk untuk untk buat
ini itu tsb tersebut kok sih dong nih deh ya yah
belum blm blum makasih makasi mksh mksih trims trimakasih terimakasih terima thx thanks tks tq
hehe haha hihi wkwk wkwkwk wkwkwkwk awkwk xixi
""")
# Laughter typed at any length ("wkwkwkwk", "hahaha"): chatter, never a place's.
_LAUGH = re.compile(r"(?:wk|ha|he|hi|xi|kw)+[whk]?")
_NOT_A_PLACE = frozenset({"sini", "situ", "sana", "mana", "atas", "bawa", "antara", "hp",
                         "online", "wa", "fb", "ig", "medsos", "internet"})
# Within a place, a title opens a name ("warung pak slamet", "rs kasih ibu") and a
# possessor ends one ("rumah saya", "rumah warga RT 06").
_HONORIFICS = frozenset({"pak", "bu", "ibu", "bapak", "mbak", "mas", "bang", "mbah", "pakde",
                         "bude", "haji", "h", "hj", "kh"})
_POSSESSORS = frozenset({"saya", "sy", "kami", "kita", "aku", "gw", "gua", "warga", "dia"})
# Verbs citizens split from their "di-" ("motor saya di curi"): not a place after "di".
_VERBS = _set("""
curi ambil jual pakai tangkap gebuk pukul bacok tusuk rampok jambret copet begal
keroyok bawa buang kejar tabrak rusak bakar tipu palak paksa ancam aniaya kunci
""")
_DI = frozenset({"di", "d", "dii", "dari", "dr"})
_SENTENCE_END = re.compile(r"[.!?;:]+$")
_TRIM = "\"'()[]{}<>“”‘’"


@dataclass(frozen=True)
class _Token:
    text: str  # as written, without wrapping quotes and brackets
    start: int
    end: int  # after the last character kept
    low: str  # folded
    stem: str  # the leading letters of ``low``: "jl" for "jl.kapten", "kos" for "kos2an"
    comma: bool  # a comma, or a sentence's end, follows it
    stop: bool  # a sentence's end follows it


def _tokens(text: str) -> list[_Token]:
    out = []
    for match in re.finditer(r"\S+", text):
        raw, start = match.group(0), match.start()
        lead = len(raw) - len(raw.lstrip(_TRIM))
        raw = raw.strip(_TRIM)
        if not raw:
            continue
        start += lead
        end = start + len(raw)
        low = fold(raw)
        stem = re.match(r"[a-z]*", low).group(0)  # type: ignore[union-attr]
        comma = stop = False
        body = raw
        if body.endswith(","):
            comma, body = True, body.rstrip(",")
        if _SENTENCE_END.search(body):
            core = _SENTENCE_END.sub("", body)
            abbreviation = body.endswith(".") and not body.endswith("..") and (
                fold(core).split(".")[-1] in _ABBREVIATIONS or len(core) <= 1)
            if not abbreviation:
                stop = comma = True
                body = core
        end = start + len(body)
        out.append(_Token(body, start, end, low, stem, comma, stop))
    return out


def _kind(token: _Token, shouting: bool) -> str:
    """head, relation, number, name (a capitalised word), stop, or word."""
    low, stem = token.low.strip(".,"), token.stem
    if low in _STOP or (stem in _STOP and stem == low.rstrip("2")) or (
            len(stem) >= 4 and _LAUGH.fullmatch(stem)):
        return "stop"
    if stem in _HEADS or low in _HEADS:
        return "head"
    if stem in _RELATIONS:
        return "relation"
    if low[:1].isdigit() or low in ("no", "nomor", "km"):
        return "number"
    if not shouting and token.text[:1].isupper():
        return "name"
    return "word"


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    score: int
    opened: bool  # by "di" or a relation, not only by a place noun


def extract_place(text: str, gazetteer: Gazetteer | None = None) -> str | None:
    """The place phrase of a report, as written, or None when it names none; the
    city's names in ``gazetteer`` are taken whole, wherever they stand."""
    tokens = _tokens(text)
    if not tokens:
        return None
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) > 8 and sum(c.isupper() for c in letters) > 0.7 * len(letters)
    kinds = [_kind(t, shouting) for t in tokens]
    names = _names(tokens, gazetteer) if gazetteer is not None else {}
    candidates: list[_Candidate] = []
    i = 0
    while i < len(tokens):
        found = _candidate_at(tokens, kinds, i, names)
        if found is None:
            i += 1
            continue
        candidates.append(found[0])
        i = found[1]
    if not candidates:
        return None
    opened = [c for c in candidates if c.opened] or candidates
    best = max(opened, key=lambda c: c.score)  # max keeps the first of equals
    return text[tokens[best.start].start:tokens[best.end].end]


def _names(tokens: Sequence[_Token], gazetteer: Gazetteer) -> dict[int, int]:
    """The city's names among ``tokens``: first token's index -> last's."""
    folded, owner = [], []
    for i, token in enumerate(tokens):
        for word in WORD.findall(token.low):
            folded.append(word)
            owner.append(i)
    names: dict[int, int] = {}
    for first, last in gazetteer.spans(folded).items():
        if first == 0 or owner[first - 1] != owner[first]:  # a name starts a token
            names[owner[first]] = max(names.get(owner[first], 0), owner[last])
    return names


def _candidate_at(tokens: Sequence[_Token], kinds: Sequence[str], i: int,
                  names: dict[int, int] | None = None) -> tuple[_Candidate, int] | None:
    """A place starting at (or just after) token ``i``, and where to look next."""
    names = names or {}
    token, kind = tokens[i], kinds[i]
    first = i
    opened = False
    if i in names:
        opened = True  # a name of the city is a place wherever it stands
    elif token.stem in _DI and token.low.rstrip(".,") in _DI and not token.comma:
        if i + 1 >= len(tokens):
            return None
        after, after_kind = tokens[i + 1], kinds[i + 1]
        if after.low in _NOT_A_PLACE or after.stem in _VERBS or after_kind == "stop":
            return None
        if token.low in ("dari", "dr") and after_kind not in ("head", "relation"):
            return None
        first, opened = i + 1, True
    elif kind == "relation" and token.stem not in _WEAK_RELATIONS:
        opened = True
    elif kind == "head" and token.stem not in _WEAK_HEADS:
        pass
    else:
        return None
    last, score = _extend(tokens, kinds, first, names)
    if score == 0 and not opened:
        return None
    if first not in names and all(kinds[k] in ("relation", "number")
                                  for k in range(first, last + 1)):
        return None  # "sekitar 10 (orang)": a count, not a place
    return _Candidate(first, last, score, opened), last + 1


def _extend(tokens: Sequence[_Token], kinds: Sequence[str], first: int,
            names: dict[int, int] | None = None) -> tuple[int, int]:
    """The last token of the place starting at ``first``, and how specific it is."""
    names = names or {}
    last, score = first, 0
    free = 3  # plain lowercase words a place may still take (a name: "gang melati")
    previous = ""
    j = first - 1
    while j + 1 < len(tokens):
        j += 1
        token, kind = tokens[j], kinds[j]
        if j in names and (j == first or not (tokens[j - 1].stop or tokens[j - 1].comma)):
            # A name of the city, taken whole: "pasar malam Ngarsopuro".
            j = last = names[j]
            score += 2
            previous, free = "name", 3
            continue
        if j > first:
            if tokens[j - 1].stop:
                break
            if tokens[j - 1].comma and kind not in ("head", "relation"):
                break
        if j > first and token.low in _DI:
            break  # another "di": another place, weighed on its own
        if kind == "stop" and j > first:
            kind = _stop_within(tokens, kinds, j, previous)
            if kind == "stop":
                break
        if kind == "word" and (token.low in _NOT_A_PLACE or
                               (previous not in ("", "head") and _verb_like(token.low))):
            break
        if kind == "relation" and j > first and j + 1 < len(tokens) \
                and kinds[j + 1] == "number" and not token.comma:
            break  # "… sekitar 20 orang": a count after the place
        if kind in ("head", "relation"):
            free = 4 if kind == "head" else 3
            score += kind == "head" and token.stem not in _WEAK_HEADS
        elif kind in ("name", "number"):
            score += 1
        elif kind in ("word", "stop", "possessor"):
            if free == 0:
                break
            free -= 1
            score += kind == "word" and previous in ("head", "name", "number")
        last = j
        previous = kind if kind != "stop" else "head"
    return last, score


def _stop_within(tokens: Sequence[_Token], kinds: Sequence[str], j: int, previous: str
                 ) -> str:
    """What a word that usually ends a place is inside one: a capitalised name
    ("Stasiun Balapan"), a title before a name, a possessor after a place noun."""
    token = tokens[j]
    if previous in ("head", "name") and token.text[:1].isupper() and not token.text.isupper():
        return "name"
    if previous == "head" and tokens[j - 1].stem in ("pasar", "psr") and token.low == "malam":
        return "word"  # "pasar malam": a night market, not a time of day
    following = kinds[j + 1] if j + 1 < len(tokens) and not token.comma else "stop"
    if token.low in _HONORIFICS and previous in ("head", "word", "name") \
            and following in ("name", "word", "head"):
        return "word"
    if token.low in _POSSESSORS and previous in ("head", "word"):
        return "possessor"
    return "stop"


def _verb_like(low: str) -> bool:
    """A word shaped like an Indonesian verb (meN-, ber-, ter-, ng-): "mencuri",
    "berantem", "ngebut"; not a place's name."""
    return len(low) >= 6 and low.startswith(("meng", "meny", "mem", "men", "ber", "ter"))


# --- telling places apart -------------------------------------------------------

_PLACE_SPELLINGS = {"jl": "jalan", "jln": "jalan", "jaln": "jalan", "gg": "gang", "gng": "gang",
                    "psr": "pasar", "rmh": "rumah", "mesjid": "masjid", "kp": "kampung",
                    "kel": "kelurahan", "kec": "kecamatan", "perum": "perumahan",
                    "kost": "kos", "kosan": "kos", "kafe": "cafe"}
# Words that say nothing about which place it is ("jalan", "depan"): two places match
# on what remains.
_GENERIC = (_RELATIONS | frozenset(_PLACE_SPELLINGS.values())
            | frozenset({"di", "d", "no", "nomor", "dan", "saya", "rt", "rw", "jalan", "gang",
                         "pasar", "rumah", "kampung"}))


def place_words(place: str) -> str:
    """A place's words as stored for ``--place``: abbreviations spelled out ("jl" is
    "jalan", "gg" is "gang") and leading zeros dropped ("RT 03" is "rt 3"), so an
    operator finds it however either of them wrote it."""
    out = []
    for word in words(place):
        word = _PLACE_SPELLINGS.get(word, word)
        out.append(word.lstrip("0") or "0" if word.isdigit() else word)
    return " ".join(out)


@functools.lru_cache(maxsize=4096)
def place_key(place: str | None) -> frozenset[str]:
    """The words that tell one place from another: abbreviations spelled out, leading
    zeros dropped, relations ("depan", "dekat") and kinds ("jalan", "gang") left out."""
    if not place:
        return frozenset()
    out = set()
    for word in words(place):
        word = _PLACE_SPELLINGS.get(word, word)
        if word.isdigit():
            word = word.lstrip("0") or "0"
        if word not in _GENERIC:
            out.add(word)
    return frozenset(out)


def same_place(a: str | None, b: str | None) -> bool:
    """Whether two place phrases name the same place: the smaller's telling words are
    (nearly) all in the larger's ("Pasar Gede" and "Jl. Slamet Riyadi depan pasar gede")."""
    return same_keys(place_key(a), place_key(b))


def same_keys(ka: frozenset[str], kb: frozenset[str]) -> bool:
    if not ka or not kb:
        return False
    shared = ka & kb
    if not any(not w.isdigit() for w in shared):
        return False  # an RT number alone is every kampung's
    return len(shared) / min(len(ka), len(kb)) >= 0.75
