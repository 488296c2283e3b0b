#!/usr/bin/env python3
"""Writes src/server/auth/phone_reference.tsv: libphonenumber's verdicts (through its Python
port, at the metadata version the `phonenumber` crate embeds) on thousands of national numbers
for each region of the default SMS allowlist. The unit test
`auth::phone::tests::every_reference_number_reads_as_libphonenumber_reads_it` checks our parser
against every line; it also fails when Cargo.lock's crate carries other metadata than the file.

    python3 -m venv /tmp/pn && /tmp/pn/bin/pip install phonenumbers==<metadata version>
    /tmp/pn/bin/python scripts/phone-reference.py
"""
import pathlib
import random

import phonenumbers
from phonenumbers import PhoneNumberType

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "src/server/auth/phone_reference.tsv"
# Regions of the default `sms_allowed_countries` (91), and how many numbers of each.
REGIONS = {"IN": 6000}
SEED = 20261201

TYPES = {
    value: name
    for name, value in vars(PhoneNumberType).items()
    if isinstance(value, int) and name.isupper()
}


def numbers(region: str, count: int, rng: random.Random) -> list[str]:
    """National significant numbers: random ones of the usual length, weighted to mobiles and
    to those that begin with the calling code, plus each type's example number."""
    code = str(phonenumbers.country_code_for_region(region))
    found = set()
    for kind in TYPES:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            found.add(str(example.national_number))
    length = len(str(phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE).national_number))
    while len(found) < count:
        roll = rng.random()
        if roll < 0.35:
            head = code  # numbers that begin with the calling code (issue 14)
        elif roll < 0.85:
            head = str(rng.randint(6, 9))
        else:
            head = str(rng.randint(0, 5))
        tail = "".join(str(rng.randint(0, 9)) for _ in range(length - len(head)))
        found.add(head + tail)
    return sorted(found)


def main() -> None:
    rng = random.Random(SEED)
    lines = [f"# libphonenumber {phonenumbers.__version__}; region national valid type"]
    for region, count in REGIONS.items():
        for national in numbers(region, count, rng):
            number = phonenumbers.parse("+" + str(phonenumbers.country_code_for_region(region)) + national)
            valid = phonenumbers.is_valid_number(number)
            kind = TYPES[phonenumbers.number_type(number)] if valid else "-"
            lines.append(f"{region}\t{national}\t{'valid' if valid else 'invalid'}\t{kind}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{len(lines) - 1} numbers written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
