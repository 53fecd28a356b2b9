"""http_server._Workers: the threads that run the WSGI application for the loop."""
import asyncio
import threading

import pytest

from netweave.core.api import http_server


def _app(environ, start_response):
    if environ["PATH_INFO"] == "/exit":
        raise SystemExit(3)  # ends the thread it runs in, like nothing an application should do
    if environ["PATH_INFO"] == "/fail":
        raise ValueError("broken")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode(), b" from ", threading.current_thread().name.encode()]


def _serve(paths, threads=2):
    """The results done() got for each path, in order, on the loop thread."""
    async def main():
        loop = asyncio.get_running_loop()
        workers = http_server._Workers(_app, loop, threads)
        results = []
        try:
            for path in paths:
                answered = loop.create_future()
                workers.submit({"PATH_INFO": path, "REQUEST_METHOD": "GET"},
                               lambda result, answered=answered: answered.set_result(
                                   (result, threading.current_thread() is threading.main_thread())))
                results.append(await asyncio.wait_for(answered, 10))
        finally:
            workers.stop()
        return results, workers._threads
    return asyncio.run(main())


def test_results_come_back_on_the_loop_thread():
    results, threads = _serve(["/a", "/b", "/fail"])
    assert [on_loop for _result, on_loop in results] == [True, True, True]
    (status, _reason, _headers, body), _ = results[0]
    assert status == 200 and body.startswith(b"/a from api-")
    # What the application raises is a 500 in Neutron's shape, not a lost thread.
    assert results[2][0][0] == 500 and b"NeutronError" in results[2][0][3]
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()  # stop() ended them


# threading ignores a thread's SystemExit; pytest's hook still reports it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_thread_that_ends_answers_none_and_the_others_serve_on():
    results, threads = _serve(["/exit", "/after"], threads=2)
    assert results[0] == (None, True)  # the connection is aborted, not left waiting
    assert results[1][0][0] == 200
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
