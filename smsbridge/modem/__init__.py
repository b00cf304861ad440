"""The client side of a modem: the Modem protocol (base), the AT session and its parsers
(at, sans-I/O), the backends that drive a device (atmodem over a port, gammu), and the
rules they share (sim, profiles). The device the tests talk to is ``smsbridge.emulator``.
"""
