"""What models are available (``fathom models list``) and fetching them (``fathom models pull``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from fathom.errors import FathomWarning, ModelError
from fathom.models._bundled import BUNDLED, _cache_dir, bundled_dir, is_cached
from fathom.models._hub import hub_source
from fathom.models._spec import AdapterSpec, BundledSpec, HubSpec, LocalSpec, resolve_model

__all__ = ["ModelInfo", "list_models", "pull_model"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str
    status: str
    """``"cached"`` (ready to load offline) or ``"available"`` (pull it first)."""
    location: str
    description: str = ""


def list_models(*, hub_cache: str | Path | None = None) -> list[ModelInfo]:
    """Bundled models (with their cache status) and hub models already in the Hugging Face cache.

    Args:
        hub_cache: the Hugging Face hub cache folder (default: ``HF_HUB_CACHE``, as the hub sets it).

    Warns:
        FathomWarning: the hub cache, or some entries of it, cannot be read (they are not listed).
    """
    rows = [ModelInfo(name, "bundled", "cached" if is_cached(name) else "available",
                      str(_cache_dir(name)) if is_cached(name) else f"pip package {m.pip_name}",
                      m.description) for name, m in BUNDLED.items()]
    return rows + _hub_cache_rows(hub_cache)


def _hub_cache_rows(cache_dir: str | Path | None) -> list[ModelInfo]:
    """Models in the Hugging Face cache; a cache (or entries of it) that cannot be read is warned about."""
    from huggingface_hub import constants, scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound:  # no Hugging Face cache yet: nothing to list
        return []
    except (OSError, ValueError) as exc:
        where = cache_dir or constants.HF_HUB_CACHE
        warnings.warn(f"could not read the Hugging Face cache at {where} ({exc}); its models are not listed. "
                      "Check the folder's permissions, or point HF_HUB_CACHE elsewhere",
                      FathomWarning, stacklevel=3)
        return []
    if info.warnings:
        count = len(info.warnings)
        warnings.warn(f"the Hugging Face cache at {info.cache_dir} has {count} unreadable "
                      f"entr{'y' if count == 1 else 'ies'}, not listed (first: {info.warnings[0]}). "
                      "Delete or re-download them (`huggingface-cli scan-cache` shows them)",
                      FathomWarning, stacklevel=3)
    return [ModelInfo(repo.repo_id, "hub", "cached", str(repo.repo_path)) for repo in info.repos
            if repo.repo_type == "model"]


def pull_model(spec: str) -> Path:
    """Make a model available offline and return its folder.

    Bundled models are converted from their GGUF; hub ids are downloaded (needs network once);
    local folders are checked.
    """
    s = resolve_model(spec)
    if isinstance(s, BundledSpec):
        return bundled_dir(s.spec)
    if isinstance(s, HubSpec):
        return _pull_hub(s.spec)
    if isinstance(s, (LocalSpec, AdapterSpec)):
        return s.path
    raise ModelError(f"{spec!r} is a remote endpoint; there is nothing to pull.")


def _pull_hub(repo_id: str) -> Path:
    """Download a hub model; offline, its cached folder (or a ModelError at once when it is not cached)."""
    from huggingface_hub import snapshot_download

    source = hub_source(repo_id)
    if source != repo_id:
        return Path(source)
    try:
        return Path(snapshot_download(repo_id))
    except Exception as exc:  # network, auth or missing repo: say which and what to do
        raise ModelError(f"Could not download {repo_id!r} from the Hugging Face hub: {exc}. "
                         f"Check the id and your network, or pass a local folder instead.") from exc
