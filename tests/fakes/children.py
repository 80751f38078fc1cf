"""Scripts run in child processes (``python -c SCRIPT ARGS``) by the crash tests and by
bench/bench_crash_signals.py, which loads this file by path: one copy, so the bench measures what the tests check.

No imports beyond the standard library here: the bench loads this module without the tests package on its path.
"""

# argv: where store powercap. Prints the run id, then time.monotonic() at the moment it sends itself SIGTERM from
# inside ``where`` (snapshot, task-start, task-end, stop, writer-waiting).
SIGTERM_CHILD = r"""
import os, signal, sys, time
import wattprint

where, store, powercap = sys.argv[1], sys.argv[2], sys.argv[3]
run = wattprint.Tracker(project="sig", store=store, flush_interval_s=0.1, powercap_root=powercap, gpus=False)
run.start()
print(run.run_id, flush=True)
armed = False

def kill():
    global armed
    if armed:
        armed = False
        print(time.monotonic(), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, in this frame, with its locks held

if where == "snapshot":  # inside snapshot(): the tracker's lock is held
    account = run._account
    def patched(window):
        kill()
        return account(window)
    run._account = patched
    armed = True
    run.snapshot()
elif where == "writer-waiting":  # the store writer waits for the tracker's lock that the main thread holds
    import threading
    entered = threading.Event()
    flush_state = run._flush_state
    def patched():
        entered.set()
        return flush_state()
    with run._lock:
        run._flush_state = patched
        assert entered.wait(20), "no periodic flush"
        time.sleep(0.2)  # the writer is now waiting for the lock (if it were not yet, the test would only be weaker)
        armed = True
        kill()
else:
    sensor = run._sub.probe.sensors[0]
    advance = sensor.advance
    def patched(now):
        kill()
        return advance(now)
    sensor.advance = patched
    if where == "task-start":  # a window's first edge: the meter's lock is held, not the tracker's
        armed = True
        with run.task("t"):
            pass
    elif where == "task-end":  # a window's last edge: the tracker's lock and the meter's lock are held
        with run.task("t"):
            armed = True
    elif where == "stop":  # inside stop() itself
        armed = True
        run.stop()
time.sleep(60)
print("the signal did not end the process", flush=True)
"""

# argv: store powercap forks. Forks once per run, spread over the first second of each run; each child tracks and
# saves a run of its own (project sweep-child). Prints "hung=N": children killed after 30 s.
FORK_SWEEP = r"""
import os, sys, time
import wattprint

store, powercap, forks = sys.argv[1], sys.argv[2], int(sys.argv[3])
hung = 0
for i in range(forks):
    run = wattprint.Tracker(project="sweep", store=store, powercap_root=powercap, gpus=False).start()
    time.sleep(i / forks)  # forks spread over the first second of a run, when its threads import
    pid = os.fork()
    if pid == 0:
        import wattprint.core.results, wattprint.accounting.footprint, wattprint.carbon
        with wattprint.track(project="sweep-child", store=store, powercap_root=powercap, gpus=False) as child:
            pass
        child.wait_saved(20)
        os._exit(0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        hung += 1
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    run.stop()
print(f"hung={hung}", flush=True)
"""
