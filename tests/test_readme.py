"""The README and the CLI tell the same story.

The README's CLI reference embeds each command's ``--help`` output verbatim, after
a ``<!-- help: dbrole-switch COMMAND -->`` marker. When a help text changes,
refresh the README with::

    python tests/test_readme.py --update
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dbrole_switch.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
WIDTH = 80
BLOCK = re.compile(
    r"^<!-- help: (?P<command>dbrole-switch[^>]*?) -->\n```text\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
SECTIONS = [
    "Why",
    "Quick start",
    "Settings",
    "Recipes",
    "CLI reference",
    "How it works",
    "Limitations",
    "Supported versions",
    "Performance",
    "Changelog",
]


def _commands() -> dict[str, click.Command]:
    found: dict[str, click.Command] = {"dbrole-switch": main}
    for name in sorted(main.commands):
        found[f"dbrole-switch {name}"] = main.commands[name]
    return found


def render_help(command: str) -> str:
    """``COMMAND --help`` exactly as a user sees it on an 80-column terminal."""
    args = command.split()[1:]
    result = CliRunner().invoke(
        main,
        [*args, "--help"],
        prog_name="dbrole-switch",
        terminal_width=WIDTH,
        max_content_width=WIDTH,
    )
    assert result.exit_code == 0, result.output
    return result.output


def _readme_blocks(text: str) -> dict[str, str]:
    return {match["command"]: match["body"] for match in BLOCK.finditer(text)}


def _section(text: str, title: str) -> str:
    match = re.search(
        rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL
    )
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def update_readme() -> list[str]:
    """Rewrite every help block in the README; return commands still missing."""
    text = README.read_text()

    def replace(match: re.Match[str]) -> str:
        command = match["command"]
        if command not in _commands():
            return match.group(0)
        return f"<!-- help: {command} -->\n```text\n{render_help(command)}```"

    README.write_text(BLOCK.sub(replace, text))
    return sorted(set(_commands()) - set(_readme_blocks(text)))


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text()


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_has_help_with_an_example(command: str) -> None:
    text = render_help(command)

    summary = text.split("\n\n", 2)[1].strip()
    examples = re.findall(
        rf"^\s+(?:[A-Z_]+=\S+\s+)*{re.escape(command)}(?:\s|$)", text, re.MULTILINE
    )

    assert summary, text
    assert "Example" in text, text
    assert examples, f"no example of {command!r} in its help:\n{text}"


@pytest.mark.parametrize("command", sorted(_commands()))
def test_readme_shows_the_help_of_every_command_verbatim(
    command: str, readme: str
) -> None:
    blocks = _readme_blocks(readme)

    assert command in blocks, (
        f"README has no help block for {command!r}: add "
        f"'<!-- help: {command} -->' and a text block in the CLI reference, then "
        "run python tests/test_readme.py --update"
    )
    assert blocks[command] == render_help(command), (
        "README is out of date: run python tests/test_readme.py --update"
    )


def test_readme_documents_only_commands_that_exist(readme: str) -> None:
    documented = set(_readme_blocks(readme))

    assert documented
    assert documented <= set(_commands())


def test_help_blocks_are_in_the_cli_reference(readme: str) -> None:
    reference = _section(readme, "CLI reference")

    assert set(_readme_blocks(reference)) == set(_readme_blocks(readme))


def test_readme_sections_come_in_the_documented_order(readme: str) -> None:
    headings = re.findall(r"^## (.+)$", readme, re.MULTILINE)

    assert [h for h in headings if h in SECTIONS] == SECTIONS


def _quick_start_commands(readme: str) -> list[str]:
    section = _section(readme, "Quick start")
    blocks = re.findall(r"^```(?:sh|shell|console)\n(.*?)^```$", section, re.M | re.S)
    assert len(blocks) == 1, "Quick start should hold one block of commands"
    return [line for line in blocks[0].splitlines() if line.strip()]


def test_quick_start_is_two_commands_demo_and_tests(readme: str) -> None:
    commands = _quick_start_commands(readme)

    assert len(commands) == 2, commands
    assert commands[0].endswith("dbrole-switch demo")
    assert "'.[embedded]'" in commands[0]
    assert "nox" in commands[1]


def test_quick_start_test_command_is_what_ci_runs(readme: str) -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()

    assert _quick_start_commands(readme)[1] == ci[-1]


def test_settings_snippet_is_what_the_example_project_uses(readme: str) -> None:
    section = _section(readme, "Settings")
    example = (ROOT / "example" / "example_project" / "settings.py").read_text()
    snippet = re.search(r"```python\n(.*?)```", section, re.S)

    assert snippet
    code = [line for line in snippet.group(1).splitlines() if line.strip()]
    assert 'DATABASES = dbrole_switch.configure_databases({"default": ' in snippet[1]
    for line in code:
        if line.startswith(("import", "DATABASES")):
            assert line in example.splitlines(), line
    assert '"dbrole_switch",' in example


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_readme.py --update")
    missing = update_readme()
    if missing:
        sys.exit(f"README has no help block for: {', '.join(missing)}")
