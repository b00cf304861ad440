"""The categories of the line's usual reports and how citizens spell them: the
defaults of the config's ``[categories]`` (config.example.toml lists them), in
priority order; and the city's place names, the defaults of ``[desk] places``. Data
only: the config imports it on every start, the rules that use it (rules.py,
gazetteer.py) load only where reports are triaged.
"""

from __future__ import annotations

DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "knalpot_brong": ("knalpot*", "kenalpot*", "knalpt*", "knalpod*", "brong*", "bronk",
        "blombong*", "racing", "motor bising"),
    "balap_liar": ("balap*", "trek trekan", "trek2an", "trekan", "ngetrek", "kebut*", "ngebut*",
        "ugal*", "drag", "road race"),
    "judi": ("judi*", "berjudi", "perjudian", "judol", "togel*", "toto gelap", "sabung ayam",
        "sabung*", "adu ayam", "dadu", "remi", "domino", "cap jiki", "capjiki", "slot", "taruhan",
        "bandar togel", "judi bola"),
    "miras": ("miras", "minuman keras", "mabuk*", "mabok*", "teler", "tuak", "ciu", "arak",
        "oplos*", "ngoplos", "ballo", "cap tikus", "anggur merah", "minum2an", "minum minuman",
        "bir"),
    "narkoba": ("narkoba", "narkotika", "sabu*", "shabu*", "nyabu", "ganja", "gele", "cimeng",
        "putaw", "ekstasi", "ineks", "inex", "pil koplo", "koplo", "tramadol", "dextro",
        "obat terlarang", "pengedar", "ngelem", "mabuk lem"),
    "tawuran": ("tawur*", "perkelahian", "berkelahi", "kelahi", "gelut", "berantem", "bentrok*",
        "keroyok*", "dikeroyok", "pengeroyokan", "bacok*", "sajam", "senjata tajam", "celurit",
        "clurit", "perang sarung", "gangster", "geng motor", "ribut antar"),
    # Before pencurian: "anak saya hilang" is a missing child, "hilang" alone a theft;
    # the phrase's three words outweigh the one.
    "orang_hilang": ("orang hilang", "anak hilang", "anak kecil hilang", "balita hilang",
        "anak saya hilang", "anak sy hilang", "anak kami hilang", "adik saya hilang",
        "adik sy hilang", "adek saya hilang", "ibu saya hilang", "bapak saya hilang",
        "ayah saya hilang", "nenek saya hilang", "kakek saya hilang", "nenek kami hilang",
        "kakek kami hilang", "suami saya hilang", "istri saya hilang", "hilang ingatan",
        "belum pulang", "blm pulang", "blum pulang", "tidak pulang", "tdk pulang",
        "ga pulang", "gak pulang", "nggak pulang", "belum kembali", "blm kembali",
        "belum balik", "blm balik", "hilang kontak", "tersesat", "terpisah", "nyasar",
        "pikun", "odgj", "kabur dari rumah", "pergi dari rumah", "dicari keluarga",
        "belum ditemukan", "orang dicari"),
    "pencurian": ("curi", "dicuri", "mencuri", "pencuri*", "kecurian", "nyuri", "nyolong",
        "colong*", "dicolong", "maling", "kemalingan", "copet*", "dicopet", "kecopetan",
        "jambret*", "dijambret",
        "penjambretan", "curanmor", "begal*", "dibegal", "rampok*", "perampokan", "dirampok",
        "hilang", "kehilangan", "curi2"),
    "parkir_liar": ("parkir liar", "parkir sembarang*", "jukir*", "juru parkir", "tukang parkir",
        "pungli parkir", "parkir di trotoar", "parkir di bahu jalan", "markir"),
    "kebisingan": ("bising", "kebisingan", "berisik", "brisik", "musik keras", "musik kencang",
        "sound system", "soundsystem", "sound horeg", "horeg", "karaoke", "dangdutan",
        "organ tunggal", "orgen*", "petasan", "mercon", "kembang api", "gaduh", "kegaduhan",
        "ribut*", "keributan", "musik", "suara keras"),
}

# Weapons, explosives, a person in danger, as people text them in Central Java.
DEFAULT_URGENT = (
    "bom", "bahan peledak", "granat", "molotov", "pistol", "senpi", "senjata api",
    "senjata tajam", "sajam", "parang", "celurit", "clurit", "golok", "pedang", "samurai",
    "pisau", "badik", "bacok*", "dibacok", "tusuk*", "ditusuk", "tembak*", "ditembak",
    "ngamuk", "mengamuk", "sandera", "disandera", "culik*", "diculik", "bunuh*",
    "dibunuh", "perkosa*", "diperkosa", "darurat", "kebakaran", "berdarah", "sekarat",
    "pingsan", "gantung diri", "bunuh diri", "ancam bunuh",
    # "tolong" alone opens half of all complaints ("tolong ditertibkan": please deal
    # with it); a cry for help is said otherwise.
    "tolong tolong", "tolong saya", "tolong kami", "tolong selamatkan", "minta tolong cepat",
)

# How long a case may stay in a status before the desk sees it late.
DEFAULT_DEADLINES = ("new 30m", "checking 24h", "confirmed 3d")

# Surakarta (Solo): its stations, markets, squares, landmarks and the crowds' places,
# the spellings citizens use.
DEFAULT_PLACES: tuple[str, ...] = (
    "Stasiun Solo Balapan", "Solo Balapan", "Stasiun Balapan", "St Balapan", "Stasiun Purwosari",
    "Stasiun Solo Jebres", "Stasiun Jebres", "Stasiun Solo Kota", "Stasiun Sangkrah",
    "Terminal Tirtonadi", "Bandara Adi Soemarmo", "Bandara Adi Sumarmo",
    "Pasar Gede", "Pasar Gede Hardjonagoro", "Pasar Klewer", "Pasar Legi", "Pasar Kliwon",
    "Pasar Singosaren", "Pasar Triwindu", "Pasar Nusukan", "Pasar Gading", "Pasar Jongke",
    "Pasar Kembang", "Pasar Malam Ngarsopuro", "Night Market Ngarsopuro", "Ngarsopuro",
    "CFD Slamet Riyadi", "Car Free Day", "CFD", "Jalan Slamet Riyadi", "Jl Slamet Riyadi",
    "Stadion Manahan", "GOR Manahan", "Manahan", "Stadion Sriwedari", "Taman Sriwedari",
    "Sriwedari", "Keraton Kasunanan", "Keraton Surakarta", "Kraton Kasunanan", "Keraton",
    "Kraton", "Pura Mangkunegaran", "Mangkunegaran", "Alun Alun Kidul", "Alun Alun Utara",
    "Alkid", "Taman Balekambang", "Balekambang", "Benteng Vastenburg", "Gladak",
    "Bundaran Gladak", "Galabo", "Gladag Langen Bogan", "Balai Kota", "Tugu Pemandengan",
    "Jembatan Jurug", "Taman Satwa Taru Jurug", "Jurug", "Solo Grand Mall", "Solo Square",
    "Solo Paragon", "Solo Techno Park", "The Park Solo", "UNS", "UMS", "Ring Road Utara",
    "Ring Road", "Purwosari", "Jebres", "Laweyan", "Banjarsari", "Serengan", "Baluwarti",
    "Kampung Batik Kauman", "Kampung Batik Laweyan",
)
