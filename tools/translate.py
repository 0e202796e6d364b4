"""Developer tool: extract messages, update the Indonesian catalog, fill given translations.

.venv/bin/python tools/translate.py translations.json   # {"msgid": "terjemahan", ...}
.venv/bin/python tools/translate.py                     # just list what is untranslated
"""

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "telecollect/translations/id/LC_MESSAGES/messages.po"
BIN = ROOT / ".venv/bin"


def main(argv: list[str]) -> int:
    pot = ROOT / "instance" / "messages.pot"
    pot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [BIN / "pybabel", "extract", "-F", ROOT / "babel.cfg", "-k", "_l", "-o", pot, ROOT],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            BIN / "pybabel",
            "update",
            "-i",
            pot,
            "-d",
            ROOT / "telecollect/translations",
            "-l",
            "id",
            "--no-fuzzy-matching",
        ],
        check=True,
        capture_output=True,
    )
    given = json.loads(Path(argv[0]).read_text()) if argv else {}
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if message.id and message.id in given:
            message.string = given[message.id]
        if message.id and not message.string:
            missing.append(message.id)
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
