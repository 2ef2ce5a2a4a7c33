"""eddy.metrics() and eddy.task_dump() (issue 14 item 9)."""

import eddy


def test_metrics_count_polls_parks_and_the_blocking_pool():
    async def main():
        m0 = eddy.metrics()
        for _ in range(20):
            await eddy.sleep(0)
        await eddy.sleep(0.01)  # the loop parks
        await eddy.to_thread(lambda: 1)
        m1 = eddy.metrics()
        for _ in range(500):  # the pool counts a job once its wake-up returned
            if m1.blocking_completed > m0.blocking_completed:
                break
            await eddy.sleep(0.01)
            m1 = eddy.metrics()
        return m0, m1

    m0, m1 = eddy.run(main(), blocking_threads=3)
    assert m1.polls > m0.polls
    assert m1.ticks > m0.ticks
    assert m1.parks >= m0.parks + 1
    assert m1.live_tasks >= 1  # main's host task
    assert m1.blocking_max_threads == 3
    assert m1.blocking_completed == m0.blocking_completed + 1
    assert m1.blocking_threads >= 1


def test_task_dump_says_what_each_task_waits_on():
    async def sleeper():
        await eddy.sleep(60)

    async def reader(s):
        await s.read(10)

    async def main():
        listener = await eddy.listen("127.0.0.1", 0)
        client = await eddy.connect("127.0.0.1", listener.port)
        server = await listener.accept()
        a = eddy.spawn(sleeper(), name="sleeper")
        b = eddy.spawn(reader(server), name="reader")
        await eddy.sleep(0.02)
        dump = {t.name: t for t in eddy.task_dump()}
        a.cancel()
        b.cancel()
        for s in (client, server, listener):
            s.close()
        return dump

    dump = eddy.run(main())
    assert dump["sleeper"].state == "waiting"
    assert dump["sleeper"].waits_on.startswith("wake at ") and "in sleeper" in dump["sleeper"].waits_on
    assert dump["reader"].waits_on.startswith("read at ") and "in reader" in dump["reader"].waits_on
    main_task = [t for t in dump.values() if t.state == "running"]
    assert len(main_task) == 1
