import threading
import time

import pytest

from pylot.engines.interface import CancelToken
from pylot.engines.llama_cpp.gate import FairGate
from pylot.errors import CancelledError


def test_gate_serves_waiters_in_arrival_order() -> None:
    gate = FairGate()
    order: list[int] = []
    release = threading.Event()

    def holder() -> None:
        with gate.turn():
            release.wait(5)

    def waiter(i: int) -> None:
        with gate.turn():
            order.append(i)

    first = threading.Thread(target=holder)
    first.start()
    time.sleep(0.05)
    threads = []
    for i in range(5):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(0.03)
    assert gate.depth == 6
    release.set()
    for t in [first, *threads]:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert gate.depth == 0


def test_a_queued_request_can_be_cancelled_and_leaves_the_queue() -> None:
    gate = FairGate()
    release = threading.Event()
    errors: list[Exception] = []
    token = CancelToken()

    def hold() -> None:
        with gate.turn():
            release.wait(5)

    def wait() -> None:
        try:
            with gate.turn(token):
                pass
        except CancelledError as exc:
            errors.append(exc)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.05)
    token.cancel("superseded")
    waiter.join(2)
    assert errors and "superseded" in str(errors[0])
    assert gate.depth == 1
    release.set()
    holder.join(2)
    with gate.turn():
        pass


def test_cancelled_before_start_raises() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError), FairGate().turn(token):
        pass
