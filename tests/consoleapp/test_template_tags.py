"""The console's template filters: ids for the DOM, JSON that is shown and never run, and
shown within bounds whatever its size and depth."""

from __future__ import annotations

import json
from datetime import timedelta

from consoleapp.templatetags.console import (
    PRETTY_DEPTH_LIMIT,
    PRETTY_INPUT_LIMIT,
    PRETTY_OUTPUT_LIMIT,
    PREVIEW_SCAN_LIMIT,
    STORED_EXCERPT_LIMIT,
    TOOLTIP_LIMIT,
    dom_id,
    duration,
    pretty_json_text,
    pretty_value,
    preview,
    short_type,
    show_json,
    show_value,
)


def test_dom_ids_are_stable_and_safe_for_any_instance_id():
    odd = 'order "42" <b> & / ?'

    assert dom_id(odd) == dom_id(odd)
    assert dom_id(odd) != dom_id("order 42")
    assert dom_id(odd).isalnum()


def test_highlighted_json_escapes_the_data_inside_its_spans():
    html = show_json(
        '{"<img src=x onerror=alert(1)>": "</span><script>alert(1)</script>", "n": -1.5e3, "ok": null}'
    ).html

    assert "<img" not in html
    assert "<script>" not in html
    assert '<span class="j-key">&quot;&lt;img src=x onerror=alert(1)&gt;&quot;</span>' in html
    assert '<span class="j-number">-1500.0</span>' in html
    assert '<span class="j-literal">null</span>' in html


def test_text_that_is_not_json_is_escaped_as_it_is():
    shown = show_json("<b>not json")

    assert shown.html == "&lt;b&gt;not json"
    assert not shown.needs_note


def test_pretty_json_is_indented_text_and_other_text_is_left_alone():
    assert pretty_json_text('{"a":[1,2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert pretty_json_text("not {json") == "not {json"
    assert pretty_json_text(None) == ""


def nested(depth: int, innermost: object = None) -> object:
    """``innermost`` inside ``depth`` lists, one in the other."""
    value = [innermost] if innermost is not None else []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_json_within_the_depth_limit_is_indented_and_deeper_json_is_shown_as_stored():
    within = json.dumps(nested(PRETTY_DEPTH_LIMIT))
    deeper = json.dumps(nested(PRETTY_DEPTH_LIMIT + 1, "<script>alert(1)</script>"))

    assert show_json(within).indented
    shown = show_json(deeper)
    assert not shown.indented
    assert shown.text == deeper
    assert shown.why_stored == f"nested deeper than {PRETTY_DEPTH_LIMIT} levels"
    assert shown.needs_note and not shown.is_cut
    assert "<script>" not in shown.html
    assert "&lt;script&gt;" in shown.html
    assert pretty_json_text(deeper) == deeper


def test_json_too_deep_for_the_parser_is_shown_as_stored_text():
    hostile = "[" * 100_000 + "]" * 100_000

    shown = show_json(hostile)

    assert shown.why_stored == f"nested deeper than {PRETTY_DEPTH_LIMIT} levels"
    assert shown.text == hostile[:STORED_EXCERPT_LIMIT]
    assert (shown.shown_bytes, shown.total_bytes) == (STORED_EXCERPT_LIMIT, len(hostile))
    assert pretty_json_text(hostile) == hostile


def test_indenting_stops_as_soon_as_its_output_passes_the_limit(monkeypatch):
    from consoleapp.templatetags import console

    # Small lists nested 30 deep: within both input bounds, but each line indented up to 60.
    text = json.dumps([nested(30)] * 2_000)
    assert len(text) < PRETTY_INPUT_LIMIT
    assert len(json.dumps(json.loads(text), indent=2)) > 10 * PRETTY_OUTPUT_LIMIT
    made = []

    class CountingEncoder(json.JSONEncoder):
        def iterencode(self, value, _one_shot=False):
            for chunk in super().iterencode(value, _one_shot):
                made.append(len(chunk))
                yield chunk

    monkeypatch.setattr(console, "_INDENTER", CountingEncoder(indent=2, ensure_ascii=False))

    shown = show_json(text)

    assert shown.why_stored == f"over {PRETTY_OUTPUT_LIMIT // 1024} KB once indented"
    assert shown.text == text[:STORED_EXCERPT_LIMIT]
    assert PRETTY_OUTPUT_LIMIT < sum(made) <= PRETTY_OUTPUT_LIMIT + max(made)


def test_text_over_the_input_limit_is_shown_cut_and_says_how_much_of_how_much():
    text = json.dumps(["é" * 1000] * (PRETTY_INPUT_LIMIT // 1000), ensure_ascii=False)

    shown = show_json(text)

    assert shown.why_stored == f"over {PRETTY_INPUT_LIMIT // 1024} KB"
    assert shown.text == text[:STORED_EXCERPT_LIMIT]
    assert shown.is_cut
    assert shown.shown_bytes == len(text[:STORED_EXCERPT_LIMIT].encode())
    assert shown.total_bytes == len(text.encode())


def test_text_that_is_not_json_is_cut_too():
    text = "not json " * (STORED_EXCERPT_LIMIT // 8)
    assert STORED_EXCERPT_LIMIT < len(text) < PRETTY_INPUT_LIMIT

    shown = show_json(text)

    assert shown.why_stored == ""
    assert shown.is_cut and shown.needs_note
    assert len(shown.text) == STORED_EXCERPT_LIMIT


def test_json_field_values_are_bounded_alike():
    assert show_value({"a": [1, 2]}).text == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert show_value(nested(PRETTY_DEPTH_LIMIT + 1)).why_stored == f"nested deeper than {PRETTY_DEPTH_LIMIT} levels"


def test_tooltips_are_indented_json_cut_to_their_limit():
    assert pretty_value({"roles": ["viewer"]}) == '{\n  "roles": [\n    "viewer"\n  ]\n}'
    long = pretty_value({"event_name": "x" * 100_000})
    assert len(long) == TOOLTIP_LIMIT
    assert long.endswith("…")


def test_previews_flatten_one_line_and_read_only_the_start_of_a_payload():
    assert preview('{\n  "a":   1\n}') == '{ "a": 1 }'
    assert preview("word " * 100, 12) == "word word w…"
    assert preview(" " * PREVIEW_SCAN_LIMIT + "far away", 60) == "…"


def test_durations_read_as_people_say_them():
    assert duration(timedelta(milliseconds=420)) == "420 ms"
    assert duration(timedelta(seconds=3.21)) == "3.2 s"
    assert duration(timedelta(minutes=4, seconds=10)) == "4 min 10 s"
    assert duration(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert duration(timedelta(days=3, hours=4)) == "3 d 4 h"
    assert duration(None) == "—"


def test_error_types_lose_their_module():
    assert short_type("orchestrations.engine.failures.TaskFailedError") == "TaskFailedError"
    assert short_type("ValueError") == "ValueError"
