#!/usr/bin/env python3
"""An independent decoder for cookie-session formats v1 and v2, written from
docs/FORMAT.md alone.

v1 needs only the Python standard library. v2 needs the ChaCha20-Poly1305
AEAD of RFC 8439 from PyPI's `cryptography` (pinned in requirements.txt:
`pip install -r tests/vectors/requirements.txt`); the HChaCha20 step that
turns it into XChaCha20-Poly1305 is written out below, as FORMAT.md §10.3
describes it, and checked against the published HChaCha20 test vector.

Checks every vector in v1-valid.json, v1-invalid.json (as a decoder of
version 1 alone), v2-valid.json and v2-invalid.json (as a decoder of both
versions) and exits non-zero on any mismatch.
Run: python3 tests/vectors/verify.py
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
LABEL_V2 = b"cookie-session/v2"
HEADER = 29
NONCE = 24
AEAD_TAG = 16
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
    return hkdf_expand(prk, info, length)


def hkdf_expand(prk, info, length):
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


M32 = 0xFFFFFFFF


def rotl(v, c):
    return ((v << c) & M32) | (v >> (32 - c))


def quarter_round(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & M32
    s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & M32
    s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & M32
    s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & M32
    s[b] = rotl(s[b] ^ s[c], 7)


def hchacha20(key, nonce16):
    """HChaCha20 (draft-irtf-cfrg-xchacha §2.2): the ChaCha20 state from the
    constants, the 32-byte key and the 16-byte nonce, 20 rounds, no final
    addition; words 0..3 and 12..15, little-endian."""
    s = list(struct.unpack("<4I", b"expand 32-byte k"))
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        quarter_round(s, 0, 4, 8, 12)
        quarter_round(s, 1, 5, 9, 13)
        quarter_round(s, 2, 6, 10, 14)
        quarter_round(s, 3, 7, 11, 15)
        quarter_round(s, 0, 5, 10, 15)
        quarter_round(s, 1, 6, 11, 12)
        quarter_round(s, 2, 7, 8, 13)
        quarter_round(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def check_hchacha20():
    # draft-irtf-cfrg-xchacha-03 §2.2.1.
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a0000000031415927")
    want = bytes.fromhex(
        "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    )
    assert hchacha20(key, nonce) == want, "HChaCha20 test vector"


def xchacha20poly1305_open(key, nonce, aad, ciphertext_and_tag):
    """XChaCha20-Poly1305 decryption: HChaCha20 subkey from the first 16
    nonce bytes, then RFC 8439 ChaCha20-Poly1305 with the nonce
    4 zero bytes || last 8 nonce bytes. None if the tag does not verify."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    subkey = hchacha20(key, nonce[:16])
    try:
        return ChaCha20Poly1305(subkey).decrypt(
            b"\0" * 4 + nonce[16:], ciphertext_and_tag, aad
        )
    except InvalidTag:
        return None


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
        keys = []
        for _ in range(self.count(arg, 2)):
            start = self.i
            kmajor, karg = self.head()
            if kmajor not in (0, 1, 2, 3):
                raise Reject("Payload.BadKeyType")
            self.body(kmajor, karg, 0)
            keys.append(self.d[start:self.i])
            self.item(depth - 1)
        # FORMAT.md §4.3: duplicates are checked once the map is complete.
        if len(set(keys)) != len(keys):
            raise Reject("Payload.DuplicateKey")

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
        out = []
        for _ in range(self.count(n, 2)):
            start = self.i
            kmajor, karg = self.head()
            if kmajor != 3:
                raise Reject("Payload.BadKeyType")
            self.i = start
            key = self.text()
            out.append([key, self.item(MAX_NESTING).hex()])
        # FORMAT.md §4.3: duplicates are checked once the map is complete.
        if len({k for k, _ in out}) != len(out):
            raise Reject("Payload.DuplicateKey")
        return out


def ring_of(cfg):
    """key id -> (index, secret bytes)."""
    ring = {}
    for i, secret in enumerate(cfg["secrets"]):
        s = secret.encode()
        ring[hkdf(s, b"cookie-session/v1 key id", 4)] = (i, s)
    return ring


def open_v1(cfg, raw, secret):
    """The header and payload of a v1 value whose tag verifies."""
    mac_key = hkdf(secret, b"cookie-session/v1 hmac-sha256 key", 32)
    body, tag = raw[:-32], raw[-32:]
    msg = pae([LABEL, cfg["cookie_name"].encode(), cfg["context"].encode(), body])
    if not hmac.compare_digest(hmac.new(mac_key, msg, hashlib.sha256).digest(), tag):
        raise Reject("BadSignature")
    return body[:HEADER], body[HEADER:]


def open_v2(cfg, raw, secret):
    """The header and decrypted payload of a v2 value whose tag verifies."""
    root = hkdf(secret, b"cookie-session/v2 xchacha20poly1305 key", 32)
    info = pae([LABEL_V2, cfg["cookie_name"].encode(), cfg["context"].encode()])
    key = hkdf_expand(root, info, 32)
    header, nonce = raw[:HEADER], raw[HEADER:HEADER + NONCE]
    plain = xchacha20poly1305_open(key, nonce, header, raw[HEADER + NONCE:])
    if plain is None:
        raise Reject("BadSignature")
    return header, plain


# Smallest binary value of each version: header + payload "83 60 a0 a0" + the rest.
MIN_LEN = {1: HEADER + 4 + 32, 2: HEADER + NONCE + 4 + AEAD_TAG}


def decode(cfg, value, versions):
    # FORMAT.md §7: the limit counts bytes of UTF-8, not characters.
    if len(cfg["cookie_name"].encode()) + 1 + len(value.encode()) > cfg["max_size"]:
        raise Reject("TooLarge")
    raw = b64url_strict(value)
    if not raw:
        raise Reject("Malformed.TooShort")
    version = raw[0]
    if version not in versions:
        raise Reject("UnsupportedVersion")
    if len(raw) < MIN_LEN[version]:
        raise Reject("Malformed.TooShort")
    ring = ring_of(cfg)
    if raw[1:5] not in ring:
        raise Reject("UnknownKey")
    index, secret = ring[raw[1:5]]
    header, payload = (open_v1 if version == 1 else open_v2)(cfg, raw, secret)
    iat, exp, created = struct.unpack(">QQQ", header[5:29])
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
    r = Cbor(payload)
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


def check(prefix, versions):
    """Checks <prefix>-valid.json and <prefix>-invalid.json; returns
    (total, failures)."""
    here = os.path.dirname(os.path.abspath(__file__))
    failures = 0
    with open(os.path.join(here, prefix + "-valid.json")) as f:
        valid = json.load(f)
    with open(os.path.join(here, prefix + "-invalid.json")) as f:
        invalid = json.load(f)
    for v in valid:
        try:
            got = decode(v["config"], v["cookie"], versions)
        except Reject as e:
            got = "rejected: %s" % e
        if got != v["expect"]:
            failures += 1
            print("FAIL %s valid %s: %r" % (prefix, v["name"], got))
    for v in invalid:
        try:
            decode(v["config"], v["cookie"], versions)
            got = "accepted"
        except Reject as e:
            got = str(e)
        if got != v["error"]:
            failures += 1
            print("FAIL %s invalid %s: got %s, want %s" % (prefix, v["name"], got, v["error"]))
    return len(valid) + len(invalid), failures


def main():
    check_hchacha20()
    total, failures = 0, 0
    # The v1 files are for a decoder of version 1 alone (FORMAT.md §9).
    for prefix, versions in [("v1", {1}), ("v2", {1, 2})]:
        t, f = check(prefix, versions)
        print("%s vectors: %d passed, %d failed" % (prefix, t - f, f))
        total, failures = total + t, failures + f
    print("vectors: %d passed, %d failed" % (total - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
