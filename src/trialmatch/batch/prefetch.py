"""Reading ahead: the next block is split and parsed in a thread while the current one is
screened (Polars releases the GIL while it parses and evaluates, so both cores work)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """The items of ``items`` in order, the next ``ahead`` produced in a background thread
    while the caller works on the current one. An exception in the producer is raised in the
    caller at the item where it happened; closing the generator stops the producer and closes
    ``items`` (in the producer thread).

    >>> list(prefetched(iter(range(5))))
    [0, 1, 2, 3, 4]
    >>> def broken():
    ...     yield 1
    ...     raise ValueError("bad block")
    >>> it = prefetched(broken())
    >>> next(it)
    1
    >>> next(it)
    Traceback (most recent call last):
    ...
    ValueError: bad block
    """
    # At most ``ahead`` items wait in the queue; one more is being produced (so the memory
    # held is the current item, the waiting ones and the one in the making).
    box: queue.Queue[object] = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item,)):
                    return
        except BaseException as exc:  # handed to the caller, raised there
            put(exc)
            return
        finally:  # a generator source is closed here, in its own thread (its files too)
            close = getattr(items, "close", None)
            if close is not None:
                close()
        put(_DONE)

    worker = threading.Thread(target=produce, name="trialmatch-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            got = box.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            assert isinstance(got, tuple)
            yield got[0]
            del got
    finally:
        stop.set()
        while worker.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
