"""Who runs this process, as the operating system knows it.

The case history and the audit log keep two things about whoever acts: the name they
give (``--as NAME``, ``$SMSBRIDGE_OPERATOR``), which anyone can type, and this: the
account of the process's real user id. ``$USER`` and ``$LOGNAME`` are whatever the caller
sets, so ``getpass.getuser()`` is no evidence; the uid is. When the terminal was logged
into by someone else (``sudo -u smsbridge …``), that login is kept beside the account.
"""

from __future__ import annotations

import os
import pwd


def os_login() -> str:
    """``budi``; ``smsbridge (from budi)`` when budi's terminal runs as smsbridge."""
    uid = os.getuid()
    try:
        account = pwd.getpwuid(uid).pw_name
    except KeyError:
        account = f"uid {uid}"  # a container without a passwd entry for this uid
    try:
        terminal = os.getlogin()  # utmp's owner of the controlling terminal
    except OSError:
        return account  # no controlling terminal: cron, systemd, a pipeline
    return account if terminal in (account, "") else f"{account} (from {terminal})"
