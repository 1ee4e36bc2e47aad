"""Print one version's section of CHANGELOG.md (the release notes). Exit 1 if it has none.

Usage: python scripts/changelog_section.py 0.2.0
"""

from __future__ import annotations

from pathlib import Path
import re
import sys

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def section(text: str, version: str) -> str | None:
    """The body of `## [version]` up to the next `## ` heading or the link list, or None."""
    heading = re.compile(rf"^## \[{re.escape(version)}\](?: - .*)?$", re.MULTILINE)
    match = heading.search(text)
    if match is None:
        return None
    rest = text[match.end() :]
    end = re.search(r"^(## |\[[^\]]+\]: )", rest, re.MULTILINE)
    return rest[: end.start() if end else len(rest)].strip()


def main(argv: list[str]) -> int:
    """Print the section of argv[1] (a leading "v" is dropped)."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    body = section(CHANGELOG.read_text(encoding="utf-8"), argv[1].removeprefix("v"))
    if not body:
        print(f"CHANGELOG.md has no section for {argv[1]}", file=sys.stderr)
        return 1
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
