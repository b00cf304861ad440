"""Everything that talks to a device: the Modem protocol, its backends, and the emulator."""
