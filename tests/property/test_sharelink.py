"""Share links: round trips, and no parameter can break the reader."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_core.present.links import ALIASES, ALL_KEYS, FIRST_ASOF, PAGE_KEYS, SCENARIO_KEYS, link_for, read_link
from alvh_core.strategy.edits import AddedLeg
from alvh_core.strategy.hedge import SCHEME_LABELS
from alvh_core.strategy.tiers import Tier

#: Strikes as a trader types them: whole or half points, four rising ones.
_strikes = st.sets(st.integers(2, 40_000).map(lambda k: k / 2), min_size=4, max_size=4).map(lambda ks: tuple(sorted(ks)))
_added_leg = st.builds(AddedLeg, st.sampled_from(["VIX", "SPX"]), st.sampled_from([1, -1]),
                       st.integers(1, 20_000).map(lambda k: k / 2), st.dates(FIRST_ASOF, date(2030, 12, 31)),
                       st.integers(1, 10_000))
_added = st.sets(_added_leg, min_size=1, max_size=12).map(lambda legs: tuple(sorted(legs)))


_shape = st.tuples(st.tuples(st.integers(1, 50).map(lambda d: d / 100), st.integers(1, 50).map(lambda d: d / 100),
                             st.integers(1, 400).map(lambda w: w / 20), st.integers(1, 400).map(lambda w: w / 20)),
                   st.integers(1, 365))


_tier = st.builds(lambda name, lo, span, delta, wing, days: Tier(name, lo / 100, (lo + span) / 100, delta / 100,
                                                                 wing / 100, days),
                  st.text("abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12).map(lambda n: "T" + n.strip()),
                  st.integers(5, 90), st.integers(0, 9), st.integers(1, 50), st.integers(1, 2000), st.integers(1, 365))
_tier_table = st.lists(_tier, min_size=1, max_size=8, unique_by=lambda t: t.key).map(tuple)


def _value_for(spec):
    if spec.kind == "text":
        return {"lg": _strikes, "xl": _added, "bshp": _shape, "tt": _tier_table,
                "eq": st.text("abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=60).map(lambda t: " ".join(t.split()))
                .filter(bool),
                "rev": st.lists(st.dates(date(2000, 1, 1), date(2030, 12, 31)), min_size=1, max_size=5)
                .map(lambda days: ",".join(d.isoformat() for d in days))}[spec.key]
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "int":
        return st.integers(int(spec.low), int(spec.high))
    if spec.kind == "date":
        return st.dates(FIRST_ASOF, date.today()).map(date.isoformat)
    if spec.kind == "day":
        return st.dates(FIRST_ASOF, date.today())
    if spec.kind == "multi":
        return st.sets(st.sampled_from(spec.choices), min_size=1).map(
            lambda picked: tuple(c for c in spec.choices if c in picked))
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
        if spec.kind == "multi":
            assert value and set(value) <= set(spec.choices)
    used = len(reading.values)
    assert used <= len(params)


def test_examples():
    reading = read_link({"t": ["aggressive"], "d": "21", "h": "vxth", "foo": "1", "r": "-4", "n": "nan",
                         "tier": "moderate"})
    assert reading.values["t"] == "Aggressive"  # the short key wins over its long name, with a notice
    assert reading.values["d"] == 21 and reading.values["h"] == "vxth"
    text = " ".join(reading.messages)
    assert "foo: unknown link parameter" in text and "r='-4'" in text and "n='nan'" in text
    assert "tier='moderate': tier was also given as t, which is used" in text
    assert reading.renamed == {"tier": "t"} and set(reading.ignored) == {"foo", "r", "n", "tier"}
    assert link_for({"t": "Conservative", "d": 0, "h": "single"}) == {"h": "single"}
    assert link_for({"n": 250000.0, "r": 2.5, "pin": True}) == {"n": "250000", "r": "2.5", "pin": "true"}
    assert {k.key for k in SCENARIO_KEYS} >= {"t", "sel", "d", "m", "n", "bm", "r", "b", "h", "hz", "sd"}
    # Every page carries the session's account; the older pages' own keys read as it.
    assert all({"n", "bm", "r", "b", "hsz"} <= {k.key for k in keys} for keys in PAGE_KEYS.values())
    old = read_link({"tn": "500000", "tb": "20000", "lsz": "notional"}, PAGE_KEYS["tiers"])
    assert old.values == {"n": 500_000.0, "b": 20_000.0, "bm": "usd", "hsz": "notional"} and not old.notices
    assert read_link({"b": "7500"}, PAGE_KEYS["builder"]).values == {"b": 7_500.0}   # the mode is its own key


def test_links_written_with_on_screen_labels_still_read_as_codes():
    """Older links carried the labels the widgets showed; each reads back as its code, quietly."""
    labels = {"bm": "dollars", "ti": "SPX put butterflies", "c": "only on the stress trigger",
              "sel": "delta 0.08", "m": "expected loss"}
    reading = read_link(labels | {"h": SCHEME_LABELS["single"]})
    assert not reading.notices
    assert reading.values == {"bm": "usd", "ti": "spx_put_fly", "c": "stress", "sel": "delta",
                              "m": "expected_loss", "h": "single"}
    assert read_link({"sel": "POP 80%–85%"}).values == {"sel": "pop"}
    for spec in ALL_KEYS.values():  # every label of every choice
        for code in spec.choices:
            value = (code,) if spec.kind == "multi" else code
            assert read_link({spec.key: spec.label_of(code)}).values == {spec.key: value}
            assert read_link({spec.key: str(code)}).values == {spec.key: value}


def test_dates_and_page_scopes():
    assert read_link({"asof": "2020-03-16"}).values == {"asof": "2020-03-16"}
    for bad in ("notadate", "9999-12-31", "2020-02-30", "1900-01-01", "2020-3-16", "١٩٩٠-٠١-٠٢"):
        reading = read_link({"asof": bad})
        assert not reading.values and reading.ignored == ("asof",), bad
    regime = read_link({"t": "Moderate", "vix": "20"}, PAGE_KEYS[""])
    assert regime.values == {"vix": 20.0} and regime.ignored == ("t",)
    assert read_link({"t": "Moderate"}, PAGE_KEYS["builder"]).values == {"t": "Moderate"}


def test_notices_keep_the_link_text_short_and_printable():
    name = "![a](http://127.0.0.1/x.png)" * 3
    reading = read_link({name: "1", "h": "\x00bad\nvalue" + "z" * 100})
    (unknown, bad_value) = reading.notices
    assert unknown.name.startswith("![a](http://127.0.0.1/x.png)") and unknown.name.endswith("…")
    assert len(unknown.name) <= 41 and bad_value.value.isprintable() and len(bad_value.value) <= 41


def test_lists_of_choices_read_in_one_order_without_repeats():
    reading = read_link({"bh": "vxth,none,alvh,vxth"}, PAGE_KEYS["backtest"])
    assert reading.values == {"bh": ("none", "alvh", "vxth")}
    assert link_for({"bh": ("none", "alvh")}) == {}            # the default
    assert link_for({"bh": ("alvh", "single")}) == {"bh": "alvh,single"}
    bad = read_link({"bh": "alvh,nosuch", "lh": ","}, PAGE_KEYS["backtest"] + PAGE_KEYS["hedge-lab"])
    assert not bad.values and len(bad.notices) == 2
    assert read_link({"bs": "2020-02-30"}, PAGE_KEYS["backtest"]).notices
    assert read_link({"bs": "2020-02-03"}, PAGE_KEYS["backtest"]).values == {"bs": date(2020, 2, 3)}


def test_a_repeated_key_is_honoured_for_a_list_and_named_otherwise():
    from alvh_core.present.links import read_link

    both = read_link({"bh": ["none", "alvh"], "bst": ["daily", "weekly"]})
    assert both.values["bh"] == ("none", "alvh")            # a list input: both schemes run
    assert both.values["bst"] == "weekly"                   # one choice: the last, and the notice says so
    (notice,) = both.notices
    assert notice.name == "bst" and "given 2 times" in notice.reason and "weekly" in notice.reason
    same = read_link({"bst": ["weekly", "weekly"]})
    assert same.values["bst"] == "weekly" and not same.notices   # the same value twice drops nothing
