"""Validate the GitHub Actions workflows and CITATION.cff without running them.

Runs, from the repository root:

1. ``actionlint`` on ``.github/workflows/*.yml`` (syntax, expression types, action
   inputs, deprecated action runtimes; ``shellcheck`` on every ``run:`` script when
   ``shellcheck`` is on PATH);
2. ``check-jsonschema --builtin-schema vendor.github-workflows`` on the same files (the
   SchemaStore workflow schema that ships inside check-jsonschema: no download);
3. ``cffconvert --validate`` on ``CITATION.cff`` (CFF 1.2.0 schema);
4. ``tests/test_repository_metadata.py``: the workflows run the README's commands,
   versions and URLs agree.

The checkers are not in requirements.txt; install them into a virtual environment of
their own (see CONTRIBUTING.md, "Validate the workflows") and put it on PATH. A
checker that is missing is a failure, not a skip. Usage::

    PATH=/tmp/ci-tools/bin:/tmp/cff-tools/bin:$PATH python3.11 tools/validate_workflows.py

``--no-tests`` leaves out step 4 (for CI's lint job, which does not install the
project; CI's unit-test job runs that test file anyway). Prints one line per check and exits with 0 only if every check passed.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_for_tests() -> str:
    """The project's .venv if there is one (it has pytest and the library), else this one."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def checks(tests: bool = True) -> list[tuple[str, list[str]]]:
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    if not workflows:
        raise SystemExit("no workflow files in .github/workflows/")
    found = [
        ("actionlint", ["actionlint", *workflows]),
        ("workflow schema", ["check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                             *workflows]),
        ("CITATION.cff", ["cffconvert", "--validate", "-i", "CITATION.cff"]),
    ]
    if tests:
        found.append(("metadata agree", [_python_for_tests(), "-m", "pytest", "-q",
                                         "tests/test_repository_metadata.py"]))
    return found


def main(argv: list[str]) -> int:
    unknown = [a for a in argv if a != "--no-tests"]
    if unknown:
        print(f"unknown argument(s) {unknown}; the only option is --no-tests", file=sys.stderr)
        return 2
    todo = checks(tests="--no-tests" not in argv)
    failed = []
    for name, command in todo:
        if shutil.which(command[0]) is None and not Path(command[0]).exists():
            print(f"FAIL  {name}: `{command[0]}` is not installed (see CONTRIBUTING.md, "
                  f"'Validate the workflows')")
            failed.append(name)
            continue
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        output = (result.stdout + result.stderr).strip()
        status = "ok  " if result.returncode == 0 else "FAIL"
        print(f"{status}  {name}: {' '.join(command)}")
        if output:
            print("      " + output.replace("\n", "\n      "))
        if result.returncode != 0:
            failed.append(name)
    print(f"{len(todo) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
