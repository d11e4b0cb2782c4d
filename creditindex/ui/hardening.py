"""What a stranger's browser must not be able to do to the server.

Streamlit's developer menu (rerun, clear cache, deploy) is hidden by
``client.toolbarMode = "viewer"`` (``.streamlit/config.toml``), but the server still
obeys a ``clear_cache`` message sent over the websocket by any client: it empties
every cache of every user (a profile search went from 2.8 s to 13.5 s). This module
makes the server ignore that message; caches are refreshed by the store's state token,
never by a browser.
"""

from __future__ import annotations

import logging

from streamlit.runtime.app_session import AppSession

_LOG = logging.getLogger(__name__)
REFUSED = "refused a clear-cache request from a browser (caches follow the store)"


def _refuse_clear_cache(self: AppSession) -> None:
    _LOG.warning(REFUSED)


def refuse_clear_cache() -> None:
    """Make every app session of this server ignore browsers' clear-cache messages."""
    handler = AppSession._handle_clear_cache_request
    if handler is not _refuse_clear_cache:
        AppSession._handle_clear_cache_request = _refuse_clear_cache  # type: ignore[method-assign]
