"""The `flask` commands the README and the operator's guide tell people to run are commands the app has, with
arguments and options those commands take."""

import re
import shlex
from pathlib import Path

import click
import pytest

from app import create_app
from tests.support import settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "docs/operations.md")
# A command in a code span or a code block: `flask` then its words, up to the span's end or a shell comment.
COMMAND = re.compile(r"(?:^|[\s`/])flask ((?:--app \S+ )?[a-z][^`#\n]*)", re.MULTILINE)


def commands(text: str) -> list[str]:
    code = "\n".join(re.findall(r"```\w*\n(.*?)```", text, re.DOTALL) + re.findall(r"`([^`\n]+)`", text))
    return [match.strip() for match in COMMAND.findall(code)]


@pytest.fixture(scope="module")
def cli() -> click.Group:
    return create_app(settings("sqlite://")).cli


@pytest.mark.parametrize("doc", DOCS)
def test_every_flask_command_the_docs_name_is_one_the_app_takes(cli, doc):
    found = commands((ROOT / doc).read_text())
    assert found, f"no flask command found in {doc}"
    for line in found:
        # Placeholders and optional parts as written in prose: [--draft], <id>, $(date +%F), a closing ")".
        words = shlex.split(re.sub(r"[\[\]<>]|\$\(.*?\)|\)$", "", line))
        words = ["1" if re.fullmatch(r"[A-Z_]+", word) else word for word in words]  # ACCOUNT_ID, FILE: a value
        if words[:1] == ["--app"]:
            words = words[2:]
        command: click.Command = cli
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            command = command.commands[words.pop(0)]
        assert not isinstance(command, click.Group), f"{doc}: `flask {line}` names no command"
        try:
            command.make_context(command.name, list(words))
        except click.MissingParameter:
            pass  # named in prose without its arguments
        except click.UsageError as error:
            pytest.fail(f"{doc}: `flask {line}`: {error.format_message()}")
