"""The README's code runs as written: its Python blocks in order, its command transcript and the
store queries after it. Printed numbers may differ by machine, so they are compared as "N"."""

import doctest
import re
import shlex
from pathlib import Path

import pytest

from skhyper.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def fenced_blocks():
    """(language, text) of each fenced block of the README, in order."""
    blocks, language, lines = [], None, []
    for line in README.read_text().splitlines():
        if language is None and line.startswith("```"):
            language, lines = line[3:].strip(), []
        elif language is not None and line.strip() == "```":
            blocks.append((language, "\n".join(lines) + "\n"))
            language = None
        elif language is not None:
            lines.append(line)
    return blocks


def masked(text):
    return [NUMBER.sub("N", line).rstrip() for line in text.strip().splitlines()]


def transcript():
    """(argv, expected output) per ``$`` command of the README's console block. ``...`` in a
    command stands for the options of the search before it, as the README says."""
    block = next(text for language, text in fenced_blocks() if "$ skhyper search" in text)
    entries, lines = [], iter(block.splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.rstrip().endswith("\\"):
                command = command.rstrip()[:-1] + " " + next(lines).strip()
            entries.append((shlex.split(command, comments=True), []))
        elif line.strip() and entries:
            entries[-1][1].append(line)
    previous = None
    for argv, _ in entries:
        if argv[:2] == ["skhyper", "search"] and "..." in argv:
            i = argv.index("...")
            options = previous[2:previous.index("--out")] + previous[previous.index("--out") + 2:]
            argv[i:i + 1] = options
        if argv[:2] == ["skhyper", "search"]:
            previous = list(argv)
    return [(argv, "\n".join(expected)) for argv, expected in entries]


class NumbersAsN(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        return super().check_output("\n".join(masked(want)), "\n".join(masked(got)),
                                    optionflags | doctest.NORMALIZE_WHITESPACE)


@pytest.mark.slow  # the tour's grid search and the staged search: about a minute
def test_python_blocks_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for language, code in fenced_blocks():
        if language == "python" and not code.lstrip().startswith(">>>"):
            exec(compile(code, str(README), "exec"), namespace)
    assert namespace["search"].best_estimator_ is not None
    assert (tmp_path / "report" / "report.html").is_file()


@pytest.mark.slow  # a search, its resume and a 20-epoch training
def test_transcript_and_store_queries_run_as_shown(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for argv, expected in transcript():
        if argv[0] == "cat":
            out = Path(argv[1]).read_text()
        else:
            assert argv[0] == "skhyper", argv
            capsys.readouterr()
            assert main(argv[1:]) == 0, argv
            out = capsys.readouterr().out
        want = masked(expected)
        if want[-1] == "...":  # the README shows only the first lines
            want, out = want[:-1], "\n".join(out.splitlines()[:len(want) - 1])
        assert masked(out) == want, argv

    queries = next(code for language, code in fenced_blocks()
                   if language == "python" and code.lstrip().startswith(">>>"))
    test = doctest.DocTestParser().get_doctest(queries, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(checker=NumbersAsN())
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
