"""Share links: round trips, and no parameter can break the reader."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_core.sharelink import ALIASES, ALL_KEYS, BUILDER_KEYS, link_for, read_link


def _value_for(spec):
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "int":
        return st.integers(int(spec.low), int(spec.high))
    if spec.kind == "text":
        return st.text(alphabet="0123456789-", min_size=1, max_size=10)
    return st.floats(spec.low, spec.high, allow_nan=False)


scenarios = st.fixed_dictionaries({}, optional={spec.key: _value_for(spec) for spec in ALL_KEYS.values()})


@settings(max_examples=300, deadline=None)
@given(values=scenarios)
def test_round_trip_reproduces_every_non_default_value(values):
    link = link_for(values)
    reading = read_link(link)
    assert not reading.notices
    expected = {k: v for k, v in values.items() if v is not None and v != ALL_KEYS[k].default}
    assert reading.values == expected
    assert all(v != ALL_KEYS[k].default for k, v in reading.values.items())  # defaults stay out of links


junk = st.dictionaries(st.one_of(st.sampled_from(list(ALL_KEYS) + list(ALIASES)), st.text(max_size=12)),
                       st.one_of(st.text(max_size=30), st.lists(st.text(max_size=10), max_size=3),
                                 st.none(), st.integers()), max_size=12)


@settings(max_examples=400, deadline=None)
@given(params=junk)
def test_garbage_parameters_never_raise_and_are_reported(params):
    reading = read_link(params)
    for key, value in reading.values.items():
        spec = ALL_KEYS[key]
        if spec.kind in ("int", "float"):
            assert spec.low <= value <= spec.high
        if spec.kind == "choice":
            assert value in spec.choices
    used = len(reading.values)
    assert used <= len(params)


def test_examples():
    reading = read_link({"t": ["aggressive"], "d": "21", "h": "vxth", "foo": "1", "r": "-4", "n": "nan",
                         "tier": "moderate"})
    assert reading.values["t"] == "Moderate"  # the alias came later and wins
    assert reading.values["d"] == 21 and reading.values["h"] == "vxth"
    text = " ".join(reading.notices)
    assert "unknown link parameter: foo" in text and "r='-4'" in text and "n='nan'" in text
    assert reading.renamed == {"tier": "t"}
    assert link_for({"t": "Conservative", "d": 0, "h": "single"}) == {"h": "single"}
    assert {k.key for k in BUILDER_KEYS} >= {"t", "sel", "d", "m", "n", "bm", "r", "b", "h", "hz", "sd"}
