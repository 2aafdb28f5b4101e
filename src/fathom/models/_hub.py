"""Hugging Face hub ids offline: load from the local cache, or fail at once with what to do.

Without this, an id that is not cached and a hub that cannot be reached end in a 70-line
``OSError`` after about a minute of retries. Here the local cache is used when the hub is
unreachable or ``HF_HUB_OFFLINE`` is set, and an id missing from it is a :class:`ModelError`
within a second or two. Covers: :func:`hub_source`, :func:`hub_reachable`. Not covered:
downloading (``huggingface_hub``) and authentication.
"""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlsplit

from fathom.errors import ModelError

__all__ = ["hub_offline", "hub_reachable", "hub_source"]

_TRUE = ("1", "true", "yes", "on")
_PROXIES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether a TCP connection to the hub (``HF_ENDPOINT``) opens within ``timeout`` seconds.

    Behind a proxy the answer is True (the proxy decides); name lookup counts against the timeout.
    """
    if any(os.environ.get(name) for name in _PROXIES):
        return True
    from huggingface_hub import constants

    parts = urlsplit(constants.ENDPOINT)
    address = (parts.hostname or "huggingface.co", parts.port or (80 if parts.scheme == "http" else 443))
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection(address, timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="fathom-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def hub_source(repo_id: str) -> str:
    """What ``from_pretrained`` should load for a hub id.

    The id itself when the hub can be reached (transformers downloads or updates it); its cached
    snapshot folder when offline (``HF_HUB_OFFLINE``, or no connection).

    Raises:
        ModelError: offline, and the id is not in the local Hugging Face cache (says what to do).
    """
    if not hub_offline() and hub_reachable():
        return repo_id
    from huggingface_hub import snapshot_download

    try:
        return str(snapshot_download(repo_id, local_files_only=True))
    except (OSError, ValueError) as exc:  # LocalEntryNotFoundError is an OSError
        why = "HF_HUB_OFFLINE is set" if hub_offline() else "the Hugging Face hub cannot be reached"
        raise ModelError(
            f"{repo_id!r} is a Hugging Face hub id that is not in the local cache, and {why}. "
            f"Pull it once while online (`fathom models pull {repo_id}`), or pass a local folder holding the "
            f"model instead; set HF_HUB_OFFLINE=1 when working offline on purpose.") from exc
