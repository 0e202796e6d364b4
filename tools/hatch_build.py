"""Hatch build hook: compile the translation catalogs into the wheel.

The compiled `.mo` files are not committed (`make translations` builds them in a checkout), so a
wheel would otherwise carry only the `.po` sources and show English. Each catalog is compiled into
a temporary folder and added to the wheel beside its `.po`. Editable installs run from the
checkout and use `make translations` instead.
"""

import shutil
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CATALOGS = "telecollect/translations"


class CompileCatalogs(BuildHookInterface):
    PLUGIN_NAME = "compile-catalogs"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        self._out = Path(tempfile.mkdtemp(prefix="telecollect-mo-"))
        root = Path(self.root)
        po_paths = sorted((root / CATALOGS).glob("*/LC_MESSAGES/*.po"))
        if not po_paths:
            raise RuntimeError(f"no catalogs under {CATALOGS}: the wheel would have no translations")
        for po_path in po_paths:
            relative = po_path.relative_to(root).with_suffix(".mo")
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            mo_path = self._out / relative
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            build_data["force_include"][str(mo_path)] = relative.as_posix()

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if getattr(self, "_out", None) is not None:
            shutil.rmtree(self._out, ignore_errors=True)
