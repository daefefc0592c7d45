"""The console's template filters: ids for the DOM, JSON that is shown and never run."""

from __future__ import annotations

from datetime import timedelta

from consoleapp.templatetags.console import dom_id, duration, json_highlight, pretty_json_text, short_type


def test_dom_ids_are_stable_and_safe_for_any_instance_id():
    odd = 'order "42" <b> & / ?'

    assert dom_id(odd) == dom_id(odd)
    assert dom_id(odd) != dom_id("order 42")
    assert dom_id(odd).isalnum()


def test_highlighted_json_escapes_the_data_inside_its_spans():
    html = json_highlight(
        '{"<img src=x onerror=alert(1)>": "</span><script>alert(1)</script>", "n": -1.5e3, "ok": null}'
    )

    assert "<img" not in html
    assert "<script>" not in html
    assert '<span class="j-key">&quot;&lt;img src=x onerror=alert(1)&gt;&quot;</span>' in html
    assert '<span class="j-number">-1500.0</span>' in html
    assert '<span class="j-literal">null</span>' in html


def test_text_that_is_not_json_is_escaped_as_it_is():
    assert json_highlight("<b>not json") == "&lt;b&gt;not json"


def test_pretty_json_is_indented_text_and_other_text_is_left_alone():
    assert pretty_json_text('{"a":[1,2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert pretty_json_text("not {json") == "not {json"
    assert pretty_json_text(None) == ""


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
