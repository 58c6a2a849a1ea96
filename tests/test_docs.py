"""The README's and docs/' code runs as written: each page's Python blocks in order, the README's
command transcript and the store queries after it. Printed decimals (scores, seconds) may
differ by machine, so they are compared as "N"; counts must match. A block under
``<!-- not run by the test suite: reason -->`` is not run (a GPU, a cluster address, minutes
of training)."""

import doctest
import re
import shlex
from pathlib import Path

import pytest

from skhyper.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
DECIMAL = re.compile(r"\d+\.\d+")
NOT_RUN = "<!-- not run by the test suite"


def fenced_blocks(page=README):
    """(language, text) of each fenced block of ``page`` that the tests run, in order."""
    blocks, language, lines, previous = [], None, [], ""
    for line in page.read_text().splitlines():
        if language is None and line.startswith("```"):
            language, lines, skipped = line[3:].strip(), [], previous.startswith(NOT_RUN)
        elif language is not None and line.strip() == "```":
            if not skipped:
                blocks.append((language, "\n".join(lines) + "\n"))
            language = None
        elif language is not None:
            lines.append(line)
        previous = line
    assert language is None, f"{page.name}: a code fence is not closed"
    return blocks


def run_python_blocks(page, namespace, kinds=("code", "doctest")):
    """Run the page's Python blocks of ``kinds`` in order in ``namespace``; doctest blocks
    compare their output with numbers masked."""
    for language, code in fenced_blocks(page):
        kind = "doctest" if code.lstrip().startswith(">>>") else "code"
        if language != "python" or kind not in kinds:
            continue
        if kind == "doctest":
            test = doctest.DocTestParser().get_doctest(code, namespace, page.name, str(page), 0)
            runner = doctest.DocTestRunner(checker=DecimalsAsN())
            runner.run(test)
            assert runner.summarize(verbose=False).failed == 0, page.name
        else:
            exec(compile(code, str(page), "exec"), namespace)


def masked(text):
    return [DECIMAL.sub("N", line).rstrip() for line in text.strip().splitlines()]


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


class DecimalsAsN(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        return super().check_output("\n".join(masked(want)), "\n".join(masked(got)),
                                    optionflags | doctest.NORMALIZE_WHITESPACE)


@pytest.mark.slow  # the tour's grid search and the staged search: about a minute
def test_readme_python_blocks_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    run_python_blocks(README, namespace, kinds=("code",))
    assert namespace["search"].best_estimator_ is not None
    assert (tmp_path / "report" / "report.html").is_file()


# docs/cli.md queries the store of a search its prose runs first; tiny data here.
SETUP = {"cli.md": ["--quiet", "search", "--model", "lstm", "--data", "sine-mixture",
                    "--data-param", "duration=1", "--data-param", "sampling_rate=200",
                    "--data-param", "seq_len=10", "--strategy", "quick", "--out", "runs/lstm"]}


@pytest.mark.slow  # about ten seconds a page
@pytest.mark.parametrize("page", DOCS, ids=[page.name for page in DOCS])
def test_docs_python_blocks_run_in_order(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if page.name in SETUP:
        assert main(SETUP[page.name]) == 0
    run_python_blocks(page, {"__name__": "__main__"})


@pytest.mark.slow  # a search, its resume and a 20-epoch training
def test_readme_transcript_and_store_queries_run_as_shown(tmp_path, monkeypatch, capsys):
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
        if want and want[-1] == "...":  # the README shows only the first lines
            want, out = want[:-1], "\n".join(out.splitlines()[:len(want) - 1])
        assert masked(out) == want, argv

    run_python_blocks(README, {}, kinds=("doctest",))  # the store queries
