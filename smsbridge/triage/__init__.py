"""What a report is about, for the desk (pure).

    keywords.py   the default categories' keywords (data the config starts with)
    places.py     the place a report names, as written; places told apart
    rules.py      a report's category and possibly related reports
    urgent.py     urgent reports (weapons, explosives, a person in danger); overdue cases
    vocabulary.py the line's common words: never a name, never a verification word
"""
