#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the seed corpus for fuzz_frame into corpus/frame/.

An independent re-statement of the wire format (see
Documentation/networking/rackpwr-protocol.rst), so seeds do not depend on
the codec under test.  Run from selftests/fuzz; output is deterministic.
"""
import os

FLAG, ESC = 0x7E, 0x7D


def crc_ccitt(crc, data):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def body(typ, dst, src, seq, payload, flags=0, ver=1, lenf=None):
    n = len(payload) if lenf is None else lenf
    return bytes([ver << 4 | flags, typ, dst, src, seq, n]) + bytes(payload)


def wire(b, fcs_ok=True):
    fcs = crc_ccitt(0xFFFF, b) ^ 0xFFFF
    if not fcs_ok:
        fcs ^= 0x0100
    out = bytearray([FLAG])
    for c in b + bytes([fcs & 0xFF, fcs >> 8]):
        out += bytes([ESC, c ^ 0x20]) if c in (FLAG, ESC) else bytes([c])
    out.append(FLAG)
    return bytes(out)


E4 = [7, 0, 0, 0]
# Allocation payloads: epoch, count, flags, then count entries.
H1 = E4 + [1, 0]
hb = wire(body(0x12, 0xFF, 3, 5, E4 + [60, 0]))
ack = wire(body(0x01, 2, 1, 42, []))
req = wire(body(0x30, 1, 4, 16, E4 + [2, 0] + [3, 2, 0xF4, 1, 0x34, 0x12, 0, 0]
                + [4, 9, 0x2C, 1, 0x35, 0x12, 0, 0], 1))
esc = wire(body(0x02, 5, 0x7D, 122, [0x7E, 0x7D, 0x11], 1))
cap = wire(body(0x21, 1, 9, 1, E4 + [0xD0, 7, 0, 0, 0xD0, 7, 0, 0, 2, 2, 0, 0]))
shed = wire(body(0x35, 1, 6, 2, H1 + [1, 7, 0, 0, 0x34, 0x12, 0, 0]))
test = wire(body(0x7F, 8, 9, 3, [0x7E, 0x7D] * 32))
# Capacity payloads with the sender's policy digest appended (le32).
DG = [0x78, 0x56, 0x34, 0x12]
digest = (wire(body(0x20, 0xFF, 1, 4, E4 + DG)) +
          wire(body(0x21, 1, 9, 2, E4 + [0xD0, 7, 0, 0, 0xD0, 7, 0, 0, 2, 2,
                                          0, 0] + DG, 1)) +
          wire(body(0x20, 0xFF, 1, 5, E4 + DG[:2])))
fixed = [(0x10, E4), (0x11, E4 + [0xF4, 1]), (0x13, E4), (0x14, E4),
         (0x20, E4), (0x31, H1 + [1, 1, 0, 0, 0xF4, 1, 9, 0, 0, 0]),
         (0x32, H1 + [1, 3, 0xF4, 1, 9, 0, 0, 0]),
         (0x33, H1 + [1, 11, 0, 0, 9, 0, 0, 0]),
         (0x34, H1 + [1, 0, 0xF4, 1, 9, 0, 0, 0]), (0x36, E4 + [0, 0]),
         (0x37, E4 + [1, 1] + [1, 6, 128, 0, 0xF4, 1, 0xF4, 1, 9, 0, 0, 0])]
bad = [body(0x12, 0xFF, 3, 5, E4 + [60, 0], ver=2),
       body(0x12, 0xFF, 3, 5, E4 + [60, 0], lenf=7),
       body(0x12, 0xFF, 0, 5, E4 + [60, 0]),
       body(0x40, 2, 3, 5, []),
       body(0x01, 2, 1, 5, [], flags=1)]

seeds = {
    "heartbeat": hb,
    "ack": ack,
    "pwr_request": req,
    # A request asking for an answer (ACKREQ|ANS), its ACK, the answer in
    # the answer slot (ACKREQ|PRIO) and its ACK (rackpwr-mac.rst).
    "answer_slot": wire(body(0x30, 1, 4, 16, E4 + [1, 0] +
                             [3, 2, 0xF4, 1, 0x34, 0x12, 0, 0], 9)) +
                   wire(body(0x01, 4, 1, 16, [])) +
                   wire(body(0x31, 4, 1, 7, H1 + [1, 1, 0, 0, 0xF4, 1, 9,
                                                  0, 0, 0], 5)) +
                   wire(body(0x01, 1, 4, 7, [])),
    "escapes": esc,
    "back_to_back": hb[:-1] + ack + cap,
    "abort": bytes([FLAG, 0x10, 0x12, ESC]) + ack,
    "garbage_idle": bytes([0x00, 0x11, ESC, FLAG, FLAG, FLAG]) + cap,
    "oversize": bytes([FLAG]) + bytes([0x41] * 80) + shed,
    "bad_escape_max": bytes([FLAG, 0x10, ESC, 0x11, 0x22]) + test,
    "bad_fields": b"".join(wire(b) for b in bad) +
                  wire(body(0x12, 0xFF, 3, 5, E4 + [60, 0]), fcs_ok=False),
    "cap_digest": digest,
    "fixed_types": b"".join(wire(body(t, 1, 2, i, p))
                            for i, (t, p) in enumerate(fixed)),
}

os.makedirs("corpus/frame", exist_ok=True)
for name, data in seeds.items():
    assert len(data) < 300, name
    with open(os.path.join("corpus/frame", name), "wb") as f:
        f.write(data)
