"""``eddy.new_event_loop()``, ``eddy.EventLoopPolicy`` and ``eddy.install()``."""

from __future__ import annotations

import asyncio
from asyncio import unix_events

from ._loop import EventLoop


def new_event_loop() -> EventLoop:
    """A new ``eddy.EventLoop`` (e.g. ``asyncio.Runner(loop_factory=eddy.new_event_loop)``)."""
    return EventLoop()


class EventLoopPolicy(unix_events._UnixDefaultEventLoopPolicy):  # type: ignore[misc,name-defined]
    """asyncio's default Unix policy (its child watcher serves subprocesses),
    making ``eddy.EventLoop``s (``asyncio.set_event_loop_policy(eddy.EventLoopPolicy())``)."""

    _loop_factory = EventLoop


def install() -> None:
    """Make Eddy's loop asyncio's default: ``asyncio.run`` then runs on it."""
    asyncio.set_event_loop_policy(EventLoopPolicy())
