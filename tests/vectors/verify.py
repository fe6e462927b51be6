#!/usr/bin/env python3
"""An independent decoder for cookie-session format v1, written from
docs/FORMAT.md alone, using only the Python standard library.

Checks every vector in v1-valid.json and v1-invalid.json and exits non-zero
on any mismatch. Run: python3 tests/vectors/verify.py
"""

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import sys

LABEL = b"cookie-session/v1"
MAX_NESTING = 16
SKEW = 60


class Reject(Exception):
    """A decoding failure, named as in FORMAT.md §6."""


def b64url_strict(text):
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise Reject("Malformed.Base64")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != text:
        raise Reject("Malformed.Base64")  # non-zero unused bits
    return raw


def hkdf(secret, info, length):
    prk = hmac.new(LABEL, secret, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def pae(pieces):
    out = struct.pack("<Q", len(pieces))
    for p in pieces:
        out += struct.pack("<Q", len(p)) + p
    return out


class Cbor:
    def __init__(self, data):
        self.d, self.i = data, 0

    def take(self, n):
        if n > len(self.d) - self.i:
            raise Reject("Payload.Truncated")
        s = self.d[self.i:self.i + n]
        self.i += n
        return s

    def head(self):
        first = self.take(1)[0]
        major, info = first >> 5, first & 31
        if major == 6:
            raise Reject("Payload.Tag")
        if major == 7:
            if info in (20, 21, 22):
                return major, info
            if info in (25, 26, 27):
                self.take({25: 2, 26: 4, 27: 8}[info])
                return major, info
            if info == 31:
                raise Reject("Payload.IndefiniteLength")
            raise Reject("Payload.UnsupportedSimple")
        if info < 24:
            return major, info
        if info == 31:
            raise Reject("Payload.IndefiniteLength")
        if info > 27:
            raise Reject("Payload.UnsupportedSimple")
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        arg = int.from_bytes(self.take(size), "big")
        if arg < {24: 24, 25: 256, 26: 65536, 27: 1 << 32}[info]:
            raise Reject("Payload.NonCanonicalHead")
        return major, arg

    def count(self, n, per):
        if n * per > len(self.d) - self.i:
            raise Reject("Payload.LengthOverflow")
        return n

    def body(self, major, arg, depth):
        if major in (0, 1, 7):
            return
        if major in (2, 3):
            s = self.take(self.count(arg, 1))
            if major == 3:
                try:
                    s.decode("utf-8")
                except UnicodeDecodeError:
                    raise Reject("Payload.InvalidUtf8")
            return
        if depth == 0:
            raise Reject("Payload.TooDeep")
        if major == 4:
            for _ in range(self.count(arg, 1)):
                self.item(depth - 1)
            return
        keys = set()
        for _ in range(self.count(arg, 2)):
            start = self.i
            kmajor, karg = self.head()
            if kmajor not in (0, 1, 2, 3):
                raise Reject("Payload.BadKeyType")
            self.body(kmajor, karg, 0)
            key = self.d[start:self.i]
            if key in keys:
                raise Reject("Payload.DuplicateKey")
            keys.add(key)
            self.item(depth - 1)

    def item(self, depth):
        start = self.i
        major, arg = self.head()
        self.body(major, arg, depth)
        return self.d[start:self.i]

    def text(self):
        major, arg = self.head()
        if major != 3:
            raise Reject("Payload.Shape")
        s = self.take(self.count(arg, 1))
        try:
            return s.decode("utf-8")
        except UnicodeDecodeError:
            raise Reject("Payload.InvalidUtf8")

    def top_map(self):
        major, n = self.head()
        if major != 5:
            raise Reject("Payload.Shape")
        out, seen = [], set()
        for _ in range(self.count(n, 2)):
            start = self.i
            kmajor, karg = self.head()
            if kmajor != 3:
                raise Reject("Payload.BadKeyType")
            self.i = start
            key = self.text()
            if key in seen:
                raise Reject("Payload.DuplicateKey")
            seen.add(key)
            out.append([key, self.item(MAX_NESTING).hex()])
        return out


def decode(cfg, value):
    if len(cfg["cookie_name"].encode()) + 1 + len(value) > cfg["max_size"]:
        raise Reject("TooLarge")
    raw = b64url_strict(value)
    if not raw:
        raise Reject("Malformed.TooShort")
    if raw[0] != 1:
        raise Reject("UnsupportedVersion")
    if len(raw) < 29 + 4 + 32:
        raise Reject("Malformed.TooShort")
    ring = {}
    for i, secret in enumerate(cfg["secrets"]):
        s = secret.encode()
        ring[hkdf(s, b"cookie-session/v1 key id", 4)] = (i, hkdf(s, b"cookie-session/v1 hmac-sha256 key", 32))
    if raw[1:5] not in ring:
        raise Reject("UnknownKey")
    index, mac_key = ring[raw[1:5]]
    body, tag = raw[:-32], raw[-32:]
    msg = pae([LABEL, cfg["cookie_name"].encode(), cfg["context"].encode(), body])
    if not hmac.compare_digest(hmac.new(mac_key, msg, hashlib.sha256).digest(), tag):
        raise Reject("BadSignature")
    iat, exp, created = struct.unpack(">QQQ", body[5:29])
    now = cfg["now"]
    if created > iat:
        raise Reject("Malformed.Times")
    if iat > now + SKEW:
        raise Reject("Expired.IssuedInFuture")
    if now >= exp:
        raise Reject("Expired.ExpiresAt")
    if now >= iat + cfg["max_age"]:
        raise Reject("Expired.MaxAge")
    if cfg["max_lifetime"] is not None and now >= created + cfg["max_lifetime"]:
        raise Reject("Expired.MaxLifetime")
    r = Cbor(body[29:])
    major, n = r.head()
    if (major, n) != (4, 3):
        raise Reject("Payload.Shape")
    sid = r.text()
    values = r.top_map()
    flash = r.top_map()
    if r.i != len(r.d):
        raise Reject("Payload.TrailingBytes")
    return {
        "id": sid,
        "values": values,
        "flash": flash,
        "key_id": raw[1:5].hex(),
        "needs_reissue": index != 0,
        "issued_at": iat,
        "expires_at": exp,
        "created_at": created,
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    failures = 0
    with open(os.path.join(here, "v1-valid.json")) as f:
        valid = json.load(f)
    with open(os.path.join(here, "v1-invalid.json")) as f:
        invalid = json.load(f)
    for v in valid:
        try:
            got = decode(v["config"], v["cookie"])
        except Reject as e:
            got = "rejected: %s" % e
        if got != v["expect"]:
            failures += 1
            print("FAIL valid %s: %r" % (v["name"], got))
    for v in invalid:
        try:
            decode(v["config"], v["cookie"])
            got = "accepted"
        except Reject as e:
            got = str(e)
        if got != v["error"]:
            failures += 1
            print("FAIL invalid %s: got %s, want %s" % (v["name"], got, v["error"]))
    total = len(valid) + len(invalid)
    print("vectors: %d passed, %d failed" % (total - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
