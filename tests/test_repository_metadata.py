"""The repository's metadata agree with each other.

- One version number: ``pyproject.toml``, ``invariance_lib.__version__``,
  ``CITATION.cff`` and the newest released section of ``CHANGELOG.md``.
- One repository URL: ``_config.yml``'s ``repository.url``. The book's URL
  (``html.baseurl``) is its GitHub Pages address, and every link to the repository or
  the book in the README, ``CITATION.cff`` and ``CHANGELOG.md`` uses them, so a fork that
  changes ``repository.url`` is told every place still pointing at the old one.
- The workflows run the README's commands verbatim, so a green local run means a green
  workflow, and they install the CPU build of torch.

The schema validation of ``CITATION.cff`` and the linting of the workflows need tools
that are not in ``requirements.txt``: ``python tools/validate_workflows.py`` runs them.
"""
import datetime as dt
import re
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

import invariance_lib

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
CITATION = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

REPO_URL = CONFIG["repository"]["url"].rstrip("/")
OWNER, NAME = urlparse(REPO_URL).path.strip("/").split("/")
BOOK_URL = f"https://{OWNER.lower()}.github.io/{NAME}/"

# Released sections: "## [1.2.3] - 2026-11-27"
RELEASED = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


# --- one version number -------------------------------------------------------------

def test_version_agrees_everywhere():
    version = PYPROJECT["project"]["version"]
    assert invariance_lib.__version__ == version, (
        f"invariance_lib.__version__ is {invariance_lib.__version__!r} but pyproject.toml "
        f"says {version!r}: set the same version in both")
    assert str(CITATION["version"]) == version, (
        f"CITATION.cff has version {CITATION['version']!r} but pyproject.toml says {version!r}")


def test_changelog_newest_release_is_the_version():
    releases = RELEASED.findall(CHANGELOG)
    assert releases, "CHANGELOG.md has no released section '## [X.Y.Z] - YYYY-MM-DD'"
    assert CHANGELOG.index("## [Unreleased]") < CHANGELOG.index(f"## [{releases[0][0]}]"), (
        "CHANGELOG.md: '## [Unreleased]' comes first, above the newest release")
    newest, date = releases[0]
    assert newest == PYPROJECT["project"]["version"], (
        f"the newest release in CHANGELOG.md is {newest} but pyproject.toml says "
        f"{PYPROJECT['project']['version']}: add a section for the new version")
    assert str(CITATION["date-released"]) == date, (
        f"CITATION.cff's date-released {CITATION['date-released']} differs from "
        f"CHANGELOG.md's date {date} for version {newest}")
    dates = [dt.date.fromisoformat(d) for _, d in releases]
    assert dates == sorted(dates, reverse=True), "CHANGELOG.md: newest release first"
    for version, _ in releases:
        assert f"[{version}]: " in CHANGELOG, f"CHANGELOG.md: no link for [{version}]"


# --- citation -----------------------------------------------------------------------

def test_citation_describes_the_book_and_cites_the_paper():
    assert CITATION["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "license"):
        assert CITATION.get(key), f"CITATION.cff: {key!r} is missing or empty"
    assert set(CITATION["license"]) == {"MIT", "CC-BY-4.0"}, \
        "CITATION.cff: the code is MIT and the text and figures CC BY 4.0"
    papers = [r for r in CITATION.get("references", [])
              if "Understanding Learning Invariance" in r.get("title", "")]
    assert len(papers) == 1, "CITATION.cff: the paper the book follows is one reference"
    paper = papers[0]
    assert [a["family-names"] for a in paper["authors"]] == ["Duan", "Montúfar"]
    assert (paper["volume"], paper["start"], paper["end"], paper["year"]) == (325, 1, 45, 2026)
    assert any("2506.13714" in str(i["value"]) for i in paper["identifiers"])


def test_licences_are_named_in_the_readme_and_on_the_landing_page():
    preface = (ROOT / "book" / "preface.md").read_text(encoding="utf-8")
    for text, where in ((README, "README.md"), (preface, "book/preface.md")):
        assert "MIT" in text and "CC BY 4.0" in text, f"{where}: name both licences"
        assert "CITATION.cff" in text, f"{where}: point to CITATION.cff"
    assert (ROOT / "LICENSE").exists() and (ROOT / "LICENSE-TEXT").exists()


# --- one repository URL ---------------------------------------------------------------

def test_book_url_is_the_repositorys_github_pages():
    assert CONFIG["html"]["baseurl"] == BOOK_URL, (
        f"_config.yml: html.baseurl should be {BOOK_URL} (GitHub Pages of repository.url)")
    assert CITATION["url"] == BOOK_URL, f"CITATION.cff: url should be {BOOK_URL}"
    assert CITATION["repository-code"] == REPO_URL, \
        f"CITATION.cff: repository-code should be {REPO_URL}"
    assert BOOK_URL in README, f"README.md does not give the book's URL {BOOK_URL}"


# Links to this repository or its Pages site, however spelled.
_REPO_LINK = re.compile(r"https?://(?:www\.)?github\.com/([\w.-]+)/([\w.-]+?)(?=[/)#?\s>\"'`]|$)"
                        r"|https?://([\w-]+)\.github\.io/([\w.-]+?)(?=[/)#?\s>\"'`]|$)")
# Other projects' repositories that the files may link to.
THIRD_PARTY = {("computationalmodelling", "nbval"), ("rhysd", "actionlint")}


@pytest.mark.parametrize("name", ["README.md", "CITATION.cff", "CHANGELOG.md",
                                  "CONTRIBUTING.md"])
def test_links_to_the_repository_use_repository_url(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    for m in _REPO_LINK.finditer(text):
        owner, repo = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if (owner, repo) in THIRD_PARTY:
            continue
        assert (owner.lower(), repo) == (OWNER.lower(), NAME), (
            f"{name}: {m.group(0)} is not {REPO_URL} (_config.yml's repository.url) nor "
            f"the book at {BOOK_URL}; update it, or list a third-party repository in "
            f"THIRD_PARTY")


# --- the workflows run the README's commands -------------------------------------------

def _readme_commands():
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    return {line.strip() for b in blocks for line in b.splitlines() if line.strip()}


def _steps(path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield workflow, job_id, job, step


def test_there_are_the_three_workflows():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "publish.yml", "linkcheck.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_commands_are_the_readmes(path):
    commands = _readme_commands()
    installs = 0
    for _, job_id, _, step in _steps(path):
        run = step.get("run", "")
        if "requirements.txt" in run or "jupyter-book" in run or "pytest" in run:
            installs += 1
            assert run.strip() in commands, (
                f"{path.name}, job {job_id}: the command\n  {run.strip()}\nis not one of the "
                f"README's commands; use the README's command verbatim (or document it there)")
        if ".ci/run" in run:
            installs += 1
            assert run.strip() == "bash .ci/run", f"{path.name}: run .ci/run as `bash .ci/run`"
    assert installs, f"{path.name} runs none of the README's commands"


def test_ci_runs_the_three_documented_checks():
    runs = {step.get("run", "").strip()
            for _, _, _, step in _steps(ROOT / ".github" / "workflows" / "ci.yml")}
    assert "bash .ci/run" in runs
    assert any(r.endswith(".venv/bin/python -m pytest tests") for r in runs), "unit-test job"
    assert any(r.endswith("jupyter-book build . -W -n --keep-going") for r in runs), "book job"


def test_ci_run_is_the_readmes_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    test_command = next(c for c in _readme_commands() if c.endswith(".venv/bin/python -m pytest"))
    assert test_command in [line.strip() for line in script], \
        ".ci/run must run the README's test command verbatim"


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflows_get_cpu_torch_and_python_311(path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    for _, job_id, job, step in _steps(path):
        if "requirements.txt" in step.get("run", "") or ".ci/run" in step.get("run", ""):
            env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            assert env.get("PIP_EXTRA_INDEX_URL") == CPU_INDEX, (
                f"{path.name}, job {job_id}: set PIP_EXTRA_INDEX_URL={CPU_INDEX}, or pip "
                f"installs the CUDA build of torch from PyPI")
        if step.get("uses", "").startswith("actions/setup-python@"):
            w = step["with"]
            if not any("requirements.txt" in s.get("run", "") or ".ci/run" in s.get("run", "")
                       for s in job["steps"]):
                continue  # a job that does not install the project (the linters)
            assert str(w["python-version"]) == "3.11", f"{path.name}, job {job_id}"
            assert (w.get("cache"), w.get("cache-dependency-path")) == ("pip", "requirements.txt"), \
                f"{path.name}, job {job_id}: cache pip wheels keyed on requirements.txt"


# --- the launch buttons' branch: named once, in _config.yml ------------------------------

LAUNCH_BRANCH = (CONFIG.get("launch_buttons") or {}).get("branch")


def test_launch_branch_is_set_and_is_not_the_source_branch():
    assert LAUNCH_BRANCH, ("_config.yml: set launch_buttons.branch (the branch that "
                           "publish.yml pushes the Jupyter edition to)")
    assert LAUNCH_BRANCH != CONFIG["repository"]["branch"]


def test_publish_reads_the_launch_branch_from_the_config():
    path = ROOT / ".github" / "workflows" / "publish.yml"
    text = path.read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    assert "launch_buttons" in text, "publish.yml reads launch_buttons.branch"
    for literal in (f"refs/heads/{LAUNCH_BRANCH}", f"--orphan {LAUNCH_BRANCH}",
                    f"BRANCH: {LAUNCH_BRANCH}"):
        assert literal not in text, (f"publish.yml names the branch ({literal!r}); read "
                                     "it from _config.yml so a fork changes it once")
    assert workflow["permissions"] == {"contents": "read"}
    writers = {j for j, job in workflow["jobs"].items()
               if (job.get("permissions") or {}).get("contents") == "write"}
    pushers = {j for _, j, _, step in _steps(path) if "git push" in step.get("run", "")}
    assert pushers and pushers <= writers, "only a job with contents: write pushes"
    for job_id in pushers:
        job = workflow["jobs"][job_id]
        assert job.get("if", "").startswith("github.ref == 'refs/heads/main'"), job_id


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md",
                                  "book/instructor_guide.md"])
def test_launch_links_in_the_docs_use_the_launch_branch(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    links = re.findall(r"mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/([\w./-]+?)[?)\s]", text)
    links += re.findall(r"colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/"
                        r"([\w.-]+)/", text)
    assert all(b == LAUNCH_BRANCH for b in links), (name, links)
    assert "launch_buttons.branch" in text, (
        f"{name}: say that the Binder and Colab buttons open the Jupyter edition on "
        f"the branch named by _config.yml's launch_buttons.branch")


# --- the PDF: one list of Debian packages ------------------------------------------------

def _apt_packages(text):
    """The packages of the first ``apt-get install`` command in ``text``."""
    m = re.search(r"apt-get install((?:[ \t]+(?:\\\n)?[#\s]*[\w.+-]+)+)", text)
    assert m, "no apt-get install command"
    words = re.sub(r"[\\#\n]", " ", m.group(1)).split()
    return sorted(w for w in words if not w.startswith("-"))


def test_pdf_packages_are_the_same_everywhere():
    script = (ROOT / "tools" / "build_pdf.sh").read_text(encoding="utf-8")
    publish = (ROOT / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8")
    readme_pdf = README[README.index("## The book as a PDF"):]
    want = _apt_packages(script)
    assert "texlive-xetex" in want and "xindy" in want and "fonts-dejavu-core" in want
    assert _apt_packages(readme_pdf) == want, "README: the PDF's apt-get line"
    assert _apt_packages(publish[publish.index("Install LaTeX"):]) == want, "publish.yml"
    assert "bash tools/build_pdf.sh" in publish and "bash tools/build_pdf.sh" in readme_pdf
