"""Several USB sticks as one line.

    routing.py    which stick sends which reply; send rates, daily caps (pure)
    sending.py    a claimed reply sent once: through storage (AT+CMGW, AT+CMSS) or CMGS
    stick.py      what one stick can do now: its identity, its credit, its send health
    worker.py     one stick's thread: its port, session and store; drain, send, reconnect
"""
