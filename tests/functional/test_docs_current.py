"""The generated references in docs/ are what scripts/gen_docs.py makes of the code.

docs/configuration.md from the options' list_opts() entry points, and
docs/rest-api.md from the OpenAPI document, like the etc/ samples
(test_config_samples.py): change an option or a route, regenerate.
"""

import fnmatch
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"{proc.stderr.strip()}\n{proc.stdout}\nregenerate them with: python scripts/gen_docs.py"
    )


def test_every_option_is_documented():
    from api import conf as api_conf
    from guestagent import conf as agent_conf

    text = (ROOT / "docs" / "configuration.md").read_text()
    for list_opts in (api_conf.list_opts, agent_conf.list_opts):
        for group, options in list_opts():
            name = getattr(group, "name", None) or group
            for opt in options:
                assert f"#### [{name}] {opt.dest}\n" in text, f"[{name}] {opt.dest}"


EXAMPLES = sorted((ROOT / "etc" / "examples").glob("*.conf"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_configurations_are_valid(example):
    """Every option an example sets exists, and every value parses as its type."""
    daemon = "guestagent" if example.name.startswith("guestagent") else "api"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oslo_config.validator",
            "--config-file",
            str(ROOT / "etc" / "oslo-config-generator" / f"{daemon}.conf"),
            "--input-file",
            str(example),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    from oslo_config import cfg

    module = importlib.import_module(f"{daemon}.conf")
    conf = cfg.ConfigOpts()
    module.register_opts(conf)
    conf(["--config-file", str(example)], project="logsvc", default_config_files=[])
    for group, options in module.list_opts():
        name = getattr(group, "name", None) or group
        section = conf if name == "DEFAULT" else conf[name]
        for opt in options:
            getattr(section, opt.dest)  # raises on a value of the wrong type


# What the repository's own documents are, wherever they are; not what is
# built, installed or left by a demo.
_NOT_OURS = {".git", ".venv", "build", "dist", ".demo", "node_modules", "__pycache__"}


def _ours(pattern: str) -> list[Path]:
    found = []
    for top, dirs, files in os.walk(ROOT):  # symbolic links not followed
        dirs[:] = [d for d in dirs if d not in _NOT_OURS and not d.endswith(".egg-info")]
        found += [Path(top, f) for f in files if fnmatch.fnmatch(f, pattern)]
    return sorted(found)


def _prose(path: Path) -> str:
    """A page without its code blocks (commands and outputs, not claims)."""
    return re.sub(r"```.*?```", "", path.read_text(), flags=re.S)


def _headings(page: Path) -> set[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from gen_docs import github_anchor

    return {github_anchor(h) for h in re.findall(r"^#+ (.*)$", _prose(page), re.M)}


def _comments_and_docstrings(path: Path) -> str:
    """What a Python file says in words: its comments and its docstrings."""
    import ast
    import io
    import tokenize

    source = path.read_text()
    said = [
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            said.append(ast.get_docstring(node) or "")
    return "\n".join(said)


# A document cited by name (DESIGN.md, docs/api.md#routes, notes/x.md, ../shared/...),
# and a numbered section of one (DESIGN.md §2).
_CITED = re.compile(r"(?<![\w/.$-])((?:\.\./|[\w.-]+/)*[\w.-]+\.(?:md|rst))(#[\w-]+)?")
_OUTSIDE = re.compile(r"(?<![\w/.$-])((?:\.\./)+[\w./-]+|notes/[\w./-]+)")
_SECTION = re.compile(r"§\s*\d+")


def _citation_problems(where: str, text: str, base: Path) -> list[str]:
    names = {p.name for p in _ours("*.md")} | {p.name for p in _ours("*.rst")}
    broken = []
    for match in _CITED.finditer(text):
        cited, anchor = match.group(1), (match.group(2) or "")[1:]
        found = [c for c in (base / cited, ROOT / cited) if c.is_file()]
        if not found and "/" not in cited and cited in names:
            found = [p for p in _ours(cited)]
        if not found:
            broken.append(f"{where}: cites {cited}, which is not in the repository")
        elif anchor and found[0].suffix == ".md" and anchor not in _headings(found[0]):
            broken.append(f"{where}: cites {cited}#{anchor}, a heading {cited} lacks")
    for match in _OUTSIDE.finditer(re.sub(r"`[^`\n]*`", "", text)):  # not quoted input
        if not (base / match.group(1)).exists() and not (ROOT / match.group(1)).exists():
            broken.append(f"{where}: cites {match.group(1)}, which is not in the repository")
    for match in _SECTION.finditer(text):
        # no document of the repository numbers its sections: a § cites another's
        broken.append(f"{where}: cites {match.group(0)} of a document not in the repository")
    return broken


def test_links_between_docs_resolve():
    """Every relative link of every .md of the repository names a file, and a heading there."""
    pages = _ours("*.md")
    broken = []
    for page in pages:
        where = page.relative_to(ROOT)
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{where}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _headings(linked):
                broken.append(f"{where}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_documents_and_code_cite_only_what_the_repository_holds():
    """A document, comment or docstring that cites a file (DESIGN.md, notes/..., a page's
    #heading) or a numbered section cites one of the repository's own."""
    broken = []
    for page in _ours("*.md"):
        broken += _citation_problems(str(page.relative_to(ROOT)), _prose(page), page.parent)
    for module in _ours("*.py"):
        if module == Path(__file__).resolve():
            continue  # it names what it looks for
        text = _comments_and_docstrings(module)
        broken += _citation_problems(str(module.relative_to(ROOT)), text, module.parent)
    assert not broken, "\n".join(broken)
