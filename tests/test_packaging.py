"""pyproject.toml and environment.yml name the same dependencies; the README's commands are what CI runs."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def names(reqs):
    return {re.split(r"[<>=!\[ ]", r.strip())[0].lower() for r in reqs if r.strip()}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = names(project["dependencies"]) | names(project["optional-dependencies"]["test"])
    env = (ROOT / "environment.yml").read_text()
    listed = names(m.group(1) for m in re.finditer(r"^\s*- ([A-Za-z][\w.\-]*\S*)\s*$", env, re.M))
    missing = wanted - listed
    assert not missing, f"environment.yml lacks {sorted(missing)}"
    for must in ("jupyterlab", "tensorflow", "keras", "matplotlib", "ipywidgets", "numpy", "scikit-image"):
        assert must in wanted


def test_ci_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert len(commands) == 2
    for cmd in commands:
        assert cmd in ci, f"CI does not run the README command: {cmd}"
