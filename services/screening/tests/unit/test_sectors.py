"""The DB07 sector list: sections A–U once each, unique codes, CMM's forced-labour sectors flagged."""
import string

import pytest

from services.screening.domain import sectors as s
from services.screening.domain.errors import UnknownSector

SECTIONS = tuple(string.ascii_uppercase[:21])  # A..U


def test_every_section_once_and_codes_unique():
    listed = s.sectors()
    codes = [x.code for x in listed]
    assert len(codes) == len(set(codes))
    assert sorted(x.code for x in listed if x.code.isalpha()) == list(SECTIONS)
    for x in listed:
        assert x.section in SECTIONS and x.isic == x.section
        assert x.name["da"].strip() and x.name["en"].strip()
        if not x.code.isalpha():
            assert x.code[0].isdigit()


def test_cmm_focus_sectors():
    focus = {x.code: x for x in s.sectors() if x.cmm_focus}
    assert {"41", "42", "43", "81.2", "01", "55", "56", "49", "46", "47"} <= set(focus)
    assert focus["81.2"].section == "N" and focus["43"].section == "F" and focus["01"].section == "A"
    assert focus["55"].section == focus["56"].section == "I"
    assert all(not x.cmm_focus for x in s.sectors() if x.code.isalpha())


def test_lookup():
    assert s.sector("F").name["en"] == "Construction"
    assert s.sector("81.2").name["da"] == "Rengøring"
    for code in ("81", "99.9", "", "f"):
        with pytest.raises(UnknownSector) as refused:
            s.sector(code)
        assert refused.value.field == "sector" and refused.value.code == "unknown_sector"
