"""Pure SMS knowledge (3GPP TS 23.040 / 23.038): no I/O, bytes in, values out."""
