"""The images `make compose-test` runs, built with podman and no image registry, each rebuilt only
when its inputs changed.

- ``dropwire-test-base:bookworm``: Debian bookworm (Python 3.11) from ``debootstrap``, ``podman import``-ed;
- ``dropwire-test-{redis,postgres,prometheus}``: Debian's packages on that base (deploy/compose-test/images/);
- ``dropwire:compose-test``: the repository's Dockerfile on that base, its wheels from a wheelhouse built on
  the host (``pip wheel`` of requirements/runtime.txt) and installed offline (``PIP_OFFLINE=1``).

Every image carries the label ``dropwire.inputs``: a hash of what it was built from (the base's recipe,
the Containerfile, the base's id, the build context's files). An image whose label matches is kept.

    python scripts/compose_test_images.py           # build what is missing or stale, print a line each
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "deploy" / "compose-test" / "images"
CACHE = Path(os.environ.get("DROPWIRE_COMPOSE_CACHE", "/var/cache/dropwire-compose-test"))
MIRROR = os.environ.get("DROPWIRE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE = "localhost/dropwire-test-base:bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates")
SERVICES = ("redis", "postgres", "prometheus")
DROPWIRE = "localhost/dropwire:compose-test"
# What the Dockerfile's build context holds (.dockerignore lets only these through).
CONTEXT = ("Dockerfile", ".dockerignore", "requirements/runtime.txt", "pyproject.toml", "README.md")
PACKAGES = ("shared", "services", "dropwire")
LABEL = "dropwire.inputs"


def run(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def label_of(image: str) -> str | None:
    found = subprocess.run(["podman", "image", "inspect", image], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        return None
    labels = json.loads(found.stdout)[0].get("Labels") or {}
    return labels.get(LABEL)


def image_id(image: str) -> str:
    return run("podman", "image", "inspect", "--format", "{{.Id}}", image, capture_output=True).stdout.strip()


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def files_digest(paths: list[Path]) -> str:
    parts: list[bytes | str] = []
    for path in sorted(paths):
        parts += [str(path.relative_to(REPO)), path.read_bytes()]
    return digest(*parts)


def context_files() -> list[Path]:
    files = [REPO / name for name in CONTEXT]
    for package in PACKAGES:
        files += [
            p
            for p in (REPO / package).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
        ]
    return files


def timed(what: str, inputs: str, cached: bool, started: float) -> None:
    state = "cached" if cached else f"built in {time.monotonic() - started:.0f}s"
    print(f"compose-test: image {what} ({LABEL}={inputs}) {state}", flush=True)


def build_base() -> None:
    inputs = digest("debootstrap", "bookworm", "minbase", MIRROR, *BASE_PACKAGES)
    started = time.monotonic()
    if label_of(BASE) == inputs:
        return timed(BASE, inputs, True, started)
    if shutil.which("debootstrap") is None:
        sys.exit("compose-test: debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="dropwire-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run(
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            "bookworm",
            str(rootfs),
            MIRROR,
            stdout=subprocess.DEVNULL,
        )
        run("chroot", str(rootfs), "apt-get", "clean")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        run(
            "podman",
            "import",
            "--change",
            f"LABEL {LABEL}={inputs}",
            "--change",
            'CMD ["/bin/bash"]',
            "-",
            BASE,
            stdin=tar.stdout,
            stdout=subprocess.DEVNULL,
        )
        if tar.wait() != 0:
            sys.exit("compose-test: tar of the debootstrapped tree failed")
    timed(BASE, inputs, False, started)


def build_service(name: str) -> None:
    image = f"localhost/dropwire-test-{name}:latest"
    inputs = digest(image_id(BASE), files_digest([*IMAGES.glob(f"{name}*")]))
    started = time.monotonic()
    if label_of(image) == inputs:
        return timed(image, inputs, True, started)
    run(
        "podman",
        "build",
        "--quiet",
        "--file",
        str(IMAGES / f"{name}.Containerfile"),
        "--build-arg",
        f"BASE_IMAGE={BASE}",
        "--label",
        f"{LABEL}={inputs}",
        "--tag",
        image,
        str(IMAGES),
        stdout=subprocess.DEVNULL,
    )
    timed(image, inputs, False, started)


def wheelhouse() -> Path:
    """The runtime lock file's wheels plus the build backend, built on the host once per lock file."""
    lock = REPO / "requirements" / "runtime.txt"
    folder = CACHE / f"wheels-{files_digest([lock, REPO / 'pyproject.toml'])}"
    if (folder / ".complete").exists():
        return folder
    for stale in CACHE.glob("wheels-*"):  # an older lock file's
        shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip"]
    run(*pip, "wheel", "--quiet", "--require-hashes", "-r", str(lock), "--wheel-dir", str(folder))
    run(
        *pip,
        "download",
        "--quiet",
        "--only-binary",
        ":all:",
        "--dest",
        str(folder),
        "setuptools>=77",
        "wheel",
    )
    (folder / ".complete").touch()
    return folder


def build_dropwire() -> None:
    wheels = wheelhouse()
    inputs = digest(image_id(BASE), files_digest(context_files()), wheels.name)
    started = time.monotonic()
    if label_of(DROPWIRE) == inputs:
        return timed(DROPWIRE, inputs, True, started)
    run(
        "podman",
        "build",
        "--quiet",
        "--file",
        str(REPO / "Dockerfile"),
        "--build-arg",
        f"PYTHON_IMAGE={BASE}",
        "--build-arg",
        "PIP_OFFLINE=1",
        "--build-context",
        f"wheelhouse={wheels}",
        "--label",
        f"{LABEL}={inputs}",
        "--tag",
        DROPWIRE,
        str(REPO),
        stdout=subprocess.DEVNULL,
    )
    timed(DROPWIRE, inputs, False, started)


def main() -> None:
    build_base()
    for name in SERVICES:
        build_service(name)
    build_dropwire()


if __name__ == "__main__":
    main()
