"""Packaging shim: setup.cfg holds the metadata; this only derives the package list.

Every repository folder named in ``package_dir`` becomes ``netweave.<folder>``;
walking them here keeps a new sub-package from being forgotten in setup.cfg.
"""
import configparser
import os

import setuptools


def _package_dir():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(os.path.dirname(__file__) or ".", "setup.cfg"))
    mapping = {}
    for line in cfg["options"]["package_dir"].strip().splitlines():
        name, _, folder = line.partition("=")
        mapping[name.strip()] = folder.strip()
    return mapping


def _packages(mapping):
    found = []
    for package, folder in mapping.items():
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith((".", "__"))]
            if "__init__.py" in files:
                rel = os.path.relpath(root, folder)
                suffix = "" if rel == "." else "." + rel.replace(os.sep, ".")
                found.append(package + suffix)
    return sorted(found)


_MAPPING = _package_dir()
setuptools.setup(package_dir=_MAPPING, packages=_packages(_MAPPING))
