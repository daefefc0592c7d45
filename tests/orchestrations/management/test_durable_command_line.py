"""``python manage.py durable`` as a shell runs it: exit statuses, messages on stderr, no
tracebacks, and help that lists every action."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable_process

ACTIONS = ["start", "status", "list", "raise-event", "terminate", "suspend", "resume", "rewind", "restart", "purge"]


@pytest.mark.django_db(transaction=True)
def test_start_and_status_from_a_shell_exit_0():
    started = durable_process("start", "echo_orchestrator", "--id", "shell-1", "--input", '"hi"')
    drain_all()

    status = durable_process("status", "shell-1")

    assert started.exit_code == 0, started.stderr
    assert started.stdout == "shell-1\n"
    assert status.exit_code == 0, status.stderr
    assert status.json()["output"] == "hi"


@pytest.mark.django_db(transaction=True)
def test_bad_input_exits_2_with_one_line_on_stderr_and_no_traceback():
    outcome = durable_process("start", "echo_orchestrator", "--input", "{nope")

    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    assert outcome.stderr.splitlines() == [
        "CommandError: --input is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    ]
    assert not Instance.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_unknown_instance_exits_2_with_one_line_on_stderr():
    outcome = durable_process("raise-event", "nobody", "approval")

    assert outcome.exit_code == 2
    assert outcome.stderr.splitlines() == ["CommandError: no instance with id 'nobody'"]


@pytest.mark.django_db(transaction=True)
def test_failed_instance_status_exits_1_and_still_prints_the_document():
    durable_process("start", "failing_orchestrator", "--id", "doomed")
    drain_all()

    outcome = durable_process("status", "doomed")

    assert outcome.exit_code == 1
    assert outcome.json()["runtimeStatus"] == "Failed"
    assert "Traceback" not in outcome.stderr
    assert outcome.stderr.startswith("CommandError: instance 'doomed' ended Failed: ")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: ACTION"),
        (["frobnicate"], "argument ACTION: invalid choice: 'frobnicate'"),
        (["start"], "the following arguments are required: NAME"),
        (["status", "a", "--histroy"], "unrecognized arguments: --histroy"),
        (["list", "--created-after", "tomorrow"], "argument --created-after: 'tomorrow' is not an ISO 8601 date"),
        (["start", "echo_orchestrator", "--wait", "soon"], "argument --wait: 'soon' is not a number of seconds"),
    ],
)
def test_usage_errors_exit_2_with_usage_and_message_on_stderr(args, message):
    outcome = durable_process(*args)

    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    assert outcome.stderr.startswith("usage: manage.py durable")
    assert message in outcome.stderr.splitlines()[-1]
    assert "Traceback" not in outcome.stderr


def test_help_lists_every_action_with_examples_and_exit_statuses():
    outcome = durable_process("--help")

    assert outcome.exit_code == 0
    summaries = outcome.stdout.split("actions:")[1].split("examples:")[0]
    for action in ACTIONS:
        assert re.search(rf"^ +{action} +[A-Z]\w+", summaries, re.MULTILINE), f"{action} has no summary line"
    assert "manage.py durable start hello_sequence --wait 30" in outcome.stdout
    assert "2  bad usage or input" in outcome.stdout


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_has_its_own_help(action, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("durable", action, "--help")

    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith(f"usage: durable {action} ")
    assert "options:" in help_text
