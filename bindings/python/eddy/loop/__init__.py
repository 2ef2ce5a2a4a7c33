"""Eddy as an asyncio event loop (issue 17): ``eddy.EventLoop`` and its policy.
See docs/ASYNCIO.md."""

from ._loop import EventLoop
from ._policy import EventLoopPolicy, install, new_event_loop

__all__ = ["EventLoop", "EventLoopPolicy", "install", "new_event_loop"]
