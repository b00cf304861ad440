"""What a report is about, for the desk (pure).

    keywords.py   the defaults the config starts with: categories' keywords, the city's
                  places, urgent words, deadlines
    folding.py    words as triage compares them (case, accents, stretched letters)
    gazetteer.py  the city's place names found in a report's words
    places.py     the place a report names, as written; places told apart
    rules.py      a report's category and possibly related reports
    urgent.py     urgent reports (weapons, explosives, a person in danger); overdue cases
    vocabulary.py the line's common words: never a name, never a verification word
"""
