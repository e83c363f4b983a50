"""Stopping a child process the tests started: SIGTERM, then SIGKILL if it will not go."""

import subprocess


def stop_process(proc, timeout=10):
    """SIGTERM @proc (a subprocess.Popen), then SIGKILL after @timeout seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
