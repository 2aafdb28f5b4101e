"""What models are available (``fathom models list``) and fetching them (``fathom models pull``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fathom.errors import ModelError
from fathom.models._bundled import BUNDLED, _cache_dir, bundled_dir, is_cached
from fathom.models._spec import resolve_model

__all__ = ["ModelInfo", "list_models", "pull_model"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str
    status: str
    """``"cached"`` (ready to load offline) or ``"available"`` (pull it first)."""
    location: str
    description: str = ""


def list_models() -> list[ModelInfo]:
    """Bundled models (with their cache status) and hub models already in the Hugging Face cache."""
    rows = [ModelInfo(name, "bundled", "cached" if is_cached(name) else "available",
                      str(_cache_dir(name)) if is_cached(name) else f"pip package {m.pip_name}",
                      m.description) for name, m in BUNDLED.items()]
    try:
        from huggingface_hub import scan_cache_dir

        for repo in scan_cache_dir().repos:
            if repo.repo_type == "model":
                rows.append(ModelInfo(repo.repo_id, "hub", "cached", str(repo.repo_path)))
    except Exception:  # no HF cache yet (CacheNotFound) or an unreadable one: nothing to list
        pass
    return rows


def pull_model(spec: str) -> Path:
    """Make a model available offline and return its folder.

    Bundled models are converted from their GGUF; hub ids are downloaded (needs network once);
    local folders are checked.
    """
    s = resolve_model(spec)
    if s.kind == "bundled":
        return bundled_dir(s.spec)
    if s.kind == "hub":
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(s.spec))
        except Exception as exc:  # network, auth or missing repo: say which and what to do
            raise ModelError(f"Could not download {s.spec!r} from the Hugging Face hub: {exc}. "
                             f"Check the id and your network, or pass a local folder instead.") from exc
    if s.kind in ("local", "adapter"):
        assert s.path is not None
        return s.path
    raise ModelError(f"{spec!r} is a remote endpoint; there is nothing to pull.")
