"""Build step only: the metadata lives in setup.cfg.

The operators' language catalogues are kept as gettext ``.po`` sources; the ``.mo``
files gettext reads are compiled from them when the package is built (and, for an
editable install, beside the sources, since that install runs from the checkout).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def compile_catalogues(package_dir: Path, out_dir: Path) -> list[str]:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted((package_dir / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = out_dir / po.relative_to(package_dir).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalogue = read_po(source)
        with mo.open("wb") as target:
            write_mo(target, catalogue)
        written.append(str(mo))
    return written


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "smsbridge"
        if getattr(self, "editable_mode", False):
            compile_catalogues(source, source)
        else:
            compile_catalogues(source, Path(self.build_lib) / "smsbridge")


if __name__ == "__main__":  # as setuptools runs it; tools/catalog.py only borrows the above
    setup(cmdclass={"build_py": BuildWithCatalogues})
