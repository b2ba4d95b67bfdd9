"""The repository stands alone: no file points outside it, and the docs' links lead to files that exist.

Everything is read from disk at test time (the files git would commit: tracked plus untracked-but-not-ignored),
so files added or moved while this runs are judged as they are, with no list of files kept here.
"""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Spelled in pieces so that this file does not match its own patterns (and a repo-wide grep stays clean).
SHARED = "sha" + "red"
OUTSIDE = [re.compile(p) for p in (r"\.\./" + SHARED,            # the sibling folder a clone does not have
                                     SHARED + r"[ /]notes\b",     # its notes
                                     r"/work/" + SHARED,          # its absolute path
                                     "DES" + r"IGN\.md")]         # the team's starting design, now docs/api.md

# A fallback for a copy without git: what .gitignore leaves out, roughly.
NOT_SOURCE = {".git", ".venv", ".cache", "dist", "data", "build", "run", "node_modules", "__pycache__",
              ".pytest_cache"}


def repo_files():
    """Relative paths of the files a commit would hold, that exist on disk now."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode()
        paths = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                 if not NOT_SOURCE & set(p.relative_to(ROOT).parts) and not p.name.endswith(".egg-info")]
    return sorted(p for p in set(paths) if (ROOT / p).is_file())


def read_text(rel):
    try:
        return (ROOT / rel).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None                    # binary (images, archives): cannot hold a link a reader follows


def test_no_file_points_outside_the_repository():
    hits = []
    for rel in repo_files():
        text = read_text(rel)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if any(p.search(line) for p in OUTSIDE):
                hits.append(f"{rel}:{n}: {line.strip()[:120]}")
    assert not hits, ("files that refer to the team's folder outside the repository (a clone does not have it; "
                      "say it in docs/ instead):\n" + "\n".join(hits))


# ---------------------------------------------------------------- links in the documentation

MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*(?:<([^>\n]+)>|([^)\s]+))(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose(text):
    """The text outside fenced code blocks (commands and diagrams there are examples, not references)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        out.append("" if fenced else line)
    return "\n".join(out)


def markdown_files():
    return [rel for rel in repo_files() if rel.endswith(".md")]


def doc_pages():
    """README.md and docs/*.md: the pages whose backticked paths are checked too."""
    return [rel for rel in markdown_files() if rel == "README.md" or re.fullmatch(r"docs/[^/]+\.md", rel)]


def top_level_dirs():
    """Folders at the top of the repository that hold source files (not dist/, data/, .venv/, ...)."""
    return {rel.split("/")[0] for rel in repo_files() if "/" in rel}


def link_targets(rel, text):
    """(target as written, resolved path) for each relative markdown link of the file."""
    for m in MD_LINK.finditer(prose(text)):
        target = m.group(1) or m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
            continue                   # a URL, an anchor in the same page, or an absolute path
        path = target.split("#")[0].split("?")[0]
        yield target, (ROOT / rel).parent / path


def code_paths(text, tops):
    """Repository paths named in `inline code`: words whose first folder is a top-level source folder.

    `core/conv.py`, `panel serve playground/app.py` and `static/` count; `run/checkpoint.npz`, `<data>/x.npz`,
    `$CNN_SITE_CACHE`, `dist/js/` (built, not a source) and globs do not.
    """
    for m in INLINE_CODE.finditer(prose(text)):
        for word in m.group(1).split():
            word = word.strip("\"'(),;:.")
            word = re.sub(r"::.*$", "", word)                # tests/test_x.py::test_name
            word = re.sub(r":\d+(-\d+)?$", "", word)         # core/conv.py:120
            if "/" not in word or re.search(r"[*?<>{}\[\]$=|]", word) or word.split("/")[0] not in tops:
                continue
            yield word


def test_doc_pages_exist():
    # the index and the pages this test is meant to watch over must be there, or the link checks check nothing
    pages = set(doc_pages())
    assert {"README.md", "docs/README.md", "docs/api.md", "docs/architecture.md", "docs/benchmarks.md",
            "docs/data.md"} <= pages, sorted(pages)


def anchors(text):
    """GitHub's ids for a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    seen, out = {}, set()
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose(text), re.M):
        slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def test_markdown_links_point_at_files_that_exist():
    broken = []
    for rel in markdown_files():
        text = read_text(rel) or ""
        for target, path in link_targets(rel, text):
            if not path.exists():
                broken.append(f"{rel}: ({target})")
            elif "#" in target and path.suffix == ".md" and target.split("#", 1)[1] not in anchors(read_text(
                    path.resolve().relative_to(ROOT).as_posix()) or ""):
                broken.append(f"{rel}: ({target}): no such heading")
        for m in MD_LINK.finditer(prose(text)):            # links within the page itself
            target = m.group(1) or m.group(2)
            if target.startswith("#") and target[1:] not in anchors(text):
                broken.append(f"{rel}: ({target}): no such heading")
    assert not broken, "relative links to files (or headings) that do not exist:\n" + "\n".join(broken)


def test_anchors_follow_githubs_rules():
    text = "# The JAX mirror (`core.jax`)\n## Planned (not in the code yet)\n## Planned (not in the code yet)\n"
    assert anchors(text) == {"the-jax-mirror-corejax", "planned-not-in-the-code-yet", "planned-not-in-the-code-yet-1"}


def test_paths_named_in_the_docs_exist():
    tops = top_level_dirs()
    missing = []
    for rel in doc_pages():
        for word in code_paths(read_text(rel) or "", tops):
            path = ROOT / word
            if not (path.is_dir() if word.endswith("/") else path.exists()):
                missing.append(f"{rel}: `{word}`")
    assert not missing, "paths named in the docs that are not in the repository:\n" + "\n".join(missing)


@pytest.mark.parametrize("text, expected", [
    ("see [the API](docs/api.md#layers) and [site](https://example.org/x.md)", ["docs/api.md#layers"]),
    ("[a](<docs/a b.md>) ![img](pic.png \"title\")", ["docs/a b.md", "pic.png"]),
    ("```\n[not a link](nowhere.md)\n```\n[x](y.md)", ["y.md"]),
])
def test_link_extraction(text, expected):
    # the checks above are only as good as what they find
    assert [t for t, _ in link_targets("README.md", text)] == expected


def test_code_path_extraction():
    tops = {"core", "playground", "tests"}
    text = ("`core/conv.py` `panel serve playground/app.py` `tests/test_x.py::test_y` `core/conv.py:12` "
            "`run/weights.npz` `core/*.py` `<data>/x.npz` `build.py` `core.jax`\n```\n`core/not_checked.py`\n```")
    assert list(code_paths(text, tops)) == ["core/conv.py", "playground/app.py", "tests/test_x.py", "core/conv.py"]


# ---------------------------------------------------------------- the architecture page against the code

def import_statements(path, top_level_only):
    """(module the statement names, relative level) for each import in a .py file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = ast.walk(tree) if not top_level_only else _module_level(tree.body)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            if node.level and not node.module:             # from . import a, b
                for alias in node.names:
                    yield alias.name, node.level
            else:
                yield node.module, node.level


def _module_level(body):
    """Statements run at import time: the module body and the branches of its top-level if/try blocks."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try)):
            for part in (node.body, node.orelse, getattr(node, "finalbody", []),
                         *[h.body for h in getattr(node, "handlers", [])]):
                yield from _module_level(part)


def core_modules():
    return sorted(p.stem for p in (ROOT / "core").glob("*.py") if p.stem != "__init__")


def documented_levels():
    text = read_text("docs/architecture.md") or ""
    return {name: int(level) for level, names in re.findall(r"^\s*\|\s*level (\d+)\s+(.+?)\s*\|\s*$", text, re.M)
            for name in names.split()}


def test_architecture_levels_match_the_imports():
    levels = documented_levels()
    assert levels, "docs/architecture.md lost its table of core's levels"
    on_top = {"train"}                  # the command line: imports tqdm, imported by nothing in core
    problems = [f"core/{m}.py is not on a level in docs/architecture.md" for m in core_modules()
                if m not in levels and m not in on_top]
    problems += [f"docs/architecture.md names core/{m}.py, which does not exist" for m in levels
                 if m not in core_modules()]
    for module, level in levels.items():
        if module not in core_modules():
            continue
        for name, rel in import_statements(ROOT / "core" / f"{module}.py", top_level_only=False):
            dep = name.split(".")[0] if rel == 1 else name.split(".")[1] if name.startswith("core.") else None
            if dep and dep in levels and levels[dep] >= level:
                problems.append(f"core/{module}.py (level {level}) imports {dep} (level {levels[dep]})")
    assert not problems, "docs/architecture.md's levels and core's imports disagree:\n" + "\n".join(problems)


def test_core_imports_only_stdlib_and_numpy():
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    host_only = {"train.py": {"tqdm"}}  # the CLI, never imported by the browser (docs/architecture.md says so)
    problems = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for name, level in import_statements(path, top_level_only=False):
            if level == 0 and name.split(".")[0] == "playground":
                problems.append(f"{rel} imports {name}: core never imports playground")
        if path.parent != ROOT / "core":
            continue                     # core/jax/ may import jax and optax
        for name, level in import_statements(path, top_level_only=True):
            top = name.split(".")[0]
            if level == 0 and top not in allowed | host_only.get(path.name, set()) and top != "core":
                problems.append(f"{rel} imports {name} at import time: core runs under Pyodide (stdlib + NumPy)")
    assert not problems, "\n".join(problems)
