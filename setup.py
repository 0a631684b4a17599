"""Build hook: compile the gettext catalogs in ``translations/`` into the package.

The catalogs' sources live at the top of the repository (where translators work); a wheel or a plain
``pip install .`` must still show Kazakh, so the compiled ``.mo`` files are written into ``cbt/translations``
inside the build directory, and the sample courses into ``cbt/shipped_courses``. Everything else is
declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        source = Path(__file__).parent / "translations"
        target = Path(self.build_lib) / "cbt" / "translations"
        for po_path in sorted(source.glob("*/LC_MESSAGES/messages.po")):
            locale = po_path.parent.parent.name
            out = target / locale / "LC_MESSAGES" / "messages.mo"
            out.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=locale)
            with out.open("wb") as mo_file:
                write_mo(mo_file, catalog)
        # The sample courses travel with the package so `cbt demo` works after a plain install.
        courses = Path(__file__).parent / "courses"
        shipped = Path(self.build_lib) / "cbt" / "shipped_courses"
        if shipped.exists():
            shutil.rmtree(shipped)
        for course in sorted(p for p in courses.iterdir() if (p / "course.yaml").is_file()):
            shutil.copytree(course, shipped / course.name)


setup(cmdclass={"build_py": BuildWithCatalogs})
