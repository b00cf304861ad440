"""The configuration: one TOML file, every key checked, then frozen dataclasses.

    sections.py   one frozen dataclass per section ([modem], [[modems]], [desk], ...)
    values.py     one key against its declaration; reply templates' placeholders
    pool.py       the [[modems]] pool as a whole: names, ports, roles, prefixes
    roster.py     [fieldwork], [[officers]], [[teams]] as a whole
    checks.py     what no single key can say is wrong; calls pool and roster
    load.py       find the file, read the TOML, build and check a Config

Nothing in here imports the package root; the sections import only data.
"""
