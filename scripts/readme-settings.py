#!/usr/bin/env python3
"""Rewrites README's settings table from SETTINGS and SECRETS in src/server/config/registry.rs.
A unit test (config::registry::tests::the_readme_lists_every_setting_as_it_is) fails when they differ."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "src/server/config/registry.rs").read_text()


def block(name):
    start = src.index(f"pub const {name}")
    return src[start:src.index("];", start)]


quoted = r'"((?:[^"\\]|\\.)*)"'
rows = re.findall(rf'\(\s*"([a-z0-9_]+)",\s*{quoted},\s*{quoted}\s*,?\s*\)', block("SETTINGS"))
secrets = re.findall(r'"([a-z0-9_]+)"', block("SECRETS"))
table = []
for key, default, doc in rows:
    default, doc = default.replace('\\"', '"'), doc.replace('\\"', '"')
    secret = f" (secret: environment or `DOTP_{key.upper()}_FILE` only)" if key in secrets else ""
    shown = f"`{default}`" if default else "—"
    table.append(f"| `DOTP_{key.upper()}` | {shown} | {doc}{secret} |")

readme = root / "README.md"
lines = readme.read_text().split("\n")
start = lines.index("| variable | default | meaning |") + 2
end = start
while end < len(lines) and lines[end].startswith("| `"):
    end += 1
lines[start:end] = table
readme.write_text("\n".join(lines))
print(f"{len(table)} settings")
