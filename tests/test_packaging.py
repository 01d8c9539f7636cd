"""The folder→package mapping in pyproject.toml must cover every package folder."""

import tomllib

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    listed = set(config["packages"])
    for package, folder in mapping.items():
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / folder)
            name = ".".join((package, *relative.parts))
            assert name in listed, f"{init.parent} is not listed in pyproject.toml packages"
