"""`repost init DIR`: a site that builds at once, with the theme copied into layouts/."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO, build, tree
from repost.render import theme_dir


def _init(path, cwd):
    return subprocess.run([sys.executable, "-m", "repost", "init", str(path)], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_init_creates_a_site_that_builds(tmp_path):
    proc = _init(tmp_path / "blog", tmp_path)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "blog"
    for rel in ("config.yaml", "content/posts/hello-repost.md", "content/pages/about.md", "layouts/base.html",
                "layouts/post.html", "layouts/partials/attribution.html", "layouts/atom.xml"):
        assert (root / rel).is_file(), rel
    assert (root / "content/raw").is_dir()
    theme = {p.relative_to(theme_dir() / "templates").as_posix() for p in (theme_dir() / "templates").rglob("*") if p.is_file()}
    assert tree(root / "layouts") == theme
    build(root)
    assert "posts/hello-repost/index.html" in tree(root / "site")


def test_layout_copy_overrides_the_theme(tmp_path):
    assert _init(tmp_path / "blog", tmp_path).returncode == 0
    root = tmp_path / "blog"
    footer = root / "layouts/partials/footer.html"
    footer.write_text('<footer class="site-footer"><p>my own footer</p></footer>\n', encoding="utf-8")
    build(root)
    assert "my own footer" in (root / "site/index.html").read_text(encoding="utf-8")


def test_init_refuses_a_non_empty_folder(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    proc = _init(target, tmp_path)
    assert proc.returncode == 2
    assert "not empty" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]


def test_init_accepts_an_empty_existing_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert _init(tmp_path / "empty", tmp_path).returncode == 0
    assert (tmp_path / "empty" / "config.yaml").is_file()


def test_init_works_from_an_installed_wheel(tmp_path):
    """The theme is package data: a wheel, unpacked alone on sys.path, still scaffolds and builds."""
    import shutil
    import zipfile

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src)
    readme = REPO / "README.md"
    (src / "README.md").write_text(readme.read_text(encoding="utf-8") if readme.exists() else "repost\n", encoding="utf-8")
    shutil.copytree(REPO / "repost", src / "repost", ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next((tmp_path / "dist").glob("repost-*.whl"))
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "repost", "init", str(tmp_path / "blog")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "blog/layouts/partials/attribution.html").is_file()
    built = subprocess.run([sys.executable, "-m", "repost", "build"], cwd=tmp_path / "blog", capture_output=True,
                           text=True, timeout=60, env=env)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "blog/site/assets/style.css").is_file() and (tmp_path / "blog/site/posts/hello-repost/index.html").is_file()
