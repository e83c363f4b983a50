"""Acting as another user: the authorization and install tests check what the unprivileged user
nobody may do on a bus, so they run clients under setpriv and put what those clients read where
nobody can read it (the source and build trees may be private)."""

import os
import subprocess
import tempfile

NOBODY = 65534


def as_user_argv(uid, argv):
    """@argv, run as @uid (with its own gid and no supplementary groups) unless @uid is root."""
    if uid == 0:
        return argv
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] + argv


def as_user(uid, argv, env=None, timeout=60):
    """Runs @argv as @uid; the CompletedProcess, output captured as text."""
    return subprocess.run(as_user_argv(uid, argv), capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, **(env or {})))


def shared_dir(path):
    """@path, made traversable and readable by everyone."""
    os.chmod(path, 0o755)
    return path


def public_tempdir(prefix):
    """A temporary directory the user nobody can read (device files, the copied CLI)."""
    return shared_dir(tempfile.mkdtemp(prefix=prefix))
