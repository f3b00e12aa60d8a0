"""A stand-in for the Hugging Face hub, so that tests never use the network.

FakeHub serves repositories held in a local folder (`<root>/<hub id>`) through huggingface_hub's
own entry points, HfApi.model_info and snapshot_download, as the hub would: the files' sizes and
LFS digests in the listing, only the allowed files downloaded into local_dir, with its .cache
bookkeeping. The code under test calls those entry points unchanged. tests/hub_stub holds a
sitecustomize that installs it into a Snakemake process (ASRSER_FAKE_HUB=<root>).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

COMMIT = "a" * 40
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".h5", ".msgpack", ".onnx", ".ot")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class FakeHub:
    def __init__(self, root: Path, commit: str = COMMIT):
        self.root, self.commit = Path(root), commit
        self.downloads: list[dict] = []
        self.fail_after: int | None = None  # files delivered before the connection drops
        self.truncate: str | None = None  # a file delivered cut short

    def repo(self, repo_id: str) -> Path:
        return self.root / repo_id

    def install(self, monkeypatch=None) -> FakeHub:
        """Replace huggingface_hub's entry points (through pytest's monkeypatch when given)."""
        import huggingface_hub

        setattr_ = monkeypatch.setattr if monkeypatch is not None else setattr
        setattr_(huggingface_hub.HfApi, "model_info", self.model_info)
        setattr_(huggingface_hub, "snapshot_download", self.snapshot_download)
        return self

    def model_info(self, repo_id, revision=None, files_metadata=False, **kwargs):
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        if not (self.repo(repo_id) / "config.json").is_file():
            raise _http_error(RepositoryNotFoundError, repo_id)
        if revision not in ("main", self.commit):
            raise _http_error(RevisionNotFoundError, revision)
        siblings = []
        for path in sorted(self.repo(repo_id).rglob("*")):
            if path.is_file():
                size = path.stat().st_size
                big = path.suffix in WEIGHT_SUFFIXES
                lfs = SimpleNamespace(size=size, sha256=sha256(path)) if big else None
                name = path.relative_to(self.repo(repo_id)).as_posix()
                siblings.append(SimpleNamespace(rfilename=name, size=size, lfs=lfs))
        return SimpleNamespace(sha=self.commit, siblings=siblings)

    def snapshot_download(self, repo_id, *, revision=None, local_dir=None, allow_patterns=None):
        local_dir = Path(local_dir)
        self.downloads.append(
            {
                "repo_id": repo_id,
                "revision": revision,
                "local_dir": local_dir,
                "allow_patterns": list(allow_patterns),
            }
        )
        (local_dir / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)
        for count, name in enumerate(allow_patterns):
            if self.fail_after is not None and count >= self.fail_after:
                raise ConnectionError("connection reset by peer")
            data = (self.repo(repo_id) / name).read_bytes()
            if name == self.truncate:
                data = data[: len(data) // 2]
            (local_dir / name).write_bytes(data)
        return str(local_dir)


def _http_error(kind, what):
    import httpx2

    response = httpx2.Response(404, request=httpx2.Request("GET", f"https://hub.invalid/{what}"))
    return kind(f"404 Client Error: {what} not found", response=response)


def add_other_formats(repo: Path) -> None:
    """What a hub repository holds besides what loading reads: the same weights in other
    formats (TensorFlow, Flax, rust, ONNX, PyTorch, Core ML) and its model card."""
    for name in ("tf_model.h5", "flax_model.msgpack", "rust_model.ot", "model.onnx", "README.md"):
        (repo / name).write_bytes(b"other format " + name.encode())
    (repo / "pytorch_model.bin").write_bytes(b"PK\x03\x04 same weights PK\x05\x06" + bytes(18))
    (repo / "coreml").mkdir()
    (repo / "coreml" / "Manifest.json").write_text("{}")
