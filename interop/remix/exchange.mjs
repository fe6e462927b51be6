// Cross-implementation check of the `remix` feature of cookie-session
// against the published packages (versions pinned in package-lock.json).
//
//   node exchange.mjs write          > node.json   cookies written by Node
//   node exchange.mjs check rust.json              checks cookies Rust wrote
//
// `write` prints cases: a Cookie header, the cookie configuration, and what
// a reader must find (or `null`: a fresh, empty session). Some cases also
// carry what Node itself writes for the same data, which the Rust side
// must reproduce byte for byte. `check` reads the cases the Rust side
// wrote, with the real packages, and exits non-zero on any mismatch.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { createCookie as createRemixCookie } from '@remix-run/cookie';
import { createCookieSessionStorage as createRemixStorage } from '@remix-run/session/cookie-storage';
import { createSession as createRemixSession } from '@remix-run/session';
import { Cookie as RemixCookieHeader } from '@remix-run/headers';
import {
  createCookie as createRrCookie,
  createCookieSessionStorage as createRrStorage,
} from 'react-router';

const require = createRequire(import.meta.url);
const versions = Object.fromEntries(
  ['@remix-run/cookie', '@remix-run/session', '@remix-run/headers', 'react-router', 'cookie'].map(
    (p) => [p, require(`${p}/package.json`).version],
  ),
);

// Where cookie-session deliberately reads less than Node (see its `remix`
// module docs), said by Node's own parsers: the signature Node verified is
// not spelled as the packages write it (43 characters of unpadded base64,
// zero trailing bits: Node's `atob` also takes `=`, white space and other
// trailing bits), or the name only matched once Node trimmed white space
// other than SP and HTAB from it. `undefined` when neither.
const CANONICAL_SIGNATURE = /\.[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const flipTrailingBits = (c) => B64[B64.indexOf(c) ^ 1];
function deliberateDifference(format, header) {
  const exactName = header.split(';').some((pair) => {
    const eq = pair.indexOf('=');
    return (eq === -1 ? pair : pair.slice(0, eq)).replace(/^[ \t]+|[ \t]+$/g, '') === '__session';
  });
  if (!exactName) return 'name';
  const value =
    format === 'remix3'
      ? new RemixCookieHeader(header).get('__session')
      : require('cookie').parse(header).__session;
  if (value && !CANONICAL_SIGNATURE.test(value)) return 'signature';
  return undefined;
}

// --- The two stacks, as an application wires them ---------------------------

function remix3(config) {
  const cookie = createRemixCookie(config.name, cookieOptions(config));
  const storage = createRemixStorage();
  return {
    async read(header) {
      return storage.read(await cookie.parse(header));
    },
    // What session-middleware does after the handler.
    async save(session) {
      const value = await storage.save(session);
      return value === null ? null : cookie.serialize(value);
    },
    cookie,
  };
}

function reactRouter(config) {
  const cookie = createRrCookie(config.name, cookieOptions(config));
  const storage = createRrStorage({ cookie });
  return {
    read: (header) => storage.getSession(header),
    save: (session) => storage.commitSession(session),
    destroy: (session) => storage.destroySession(session),
    cookie,
  };
}

function cookieOptions(c) {
  const o = { secrets: c.secrets, path: c.path ?? '/' };
  if (c.maxAge !== undefined) o.maxAge = c.maxAge;
  if (c.httpOnly) o.httpOnly = true;
  if (c.secure) o.secure = true;
  if (c.domain) o.domain = c.domain;
  if (c.sameSite) o.sameSite = c.sameSite;
  return o;
}

const stack = (format, config) => (format === 'remix3' ? remix3(config) : reactRouter(config));

// What a browser sends back after a Set-Cookie: `name=value`.
const cookieHeader = (setCookie) => setCookie.split(';')[0];

// --- Shared data --------------------------------------------------------------

// Entries in insertion order; keys "2" and "10" exercise JavaScript's
// integer-keys-first ordering.
const VALUES = [
  ['str', 'hello'],
  ['n', 42],
  ['neg', -7],
  ['f', 1.5],
  ['big', 1e21],
  ['small', 1e-7],
  ['t', true],
  ['obj', { b: 1, 1: 2, a: [1, 'x', null, { z: false }] }],
  ['uni', '日本語 ✓ "q" \\ \n\t\u0001 😀 </script>'],
  ['10', 'ten'],
  ['2', 'two'],
];

const BASE = { name: '__session', secrets: ['s3cr3t'] };
const STRICT = { ...BASE, httpOnly: true, secure: true, maxAge: 3600 };

// --- write ----------------------------------------------------------------------

async function write() {
  const cases = [];
  for (const format of ['remix3', 'react-router']) {
    const add = (c) => cases.push({ format, ...c });
    const s = stack(format, STRICT);

    // Values: read them, re-encode byte for byte.
    let session = await s.read(null);
    for (const [k, v] of VALUES) session.set(k, v);
    const valuesCookie = await s.save(session);
    const valuesId = session.id;
    add({
      name: 'values',
      cookie: STRICT,
      header: cookieHeader(valuesCookie),
      expect: expectOf(format, session.id, VALUES, []),
      setCookie: valuesCookie,
    });

    // Flash set by Node, read by Rust (and dropped by Rust's next save).
    session = await s.read(null);
    session.set('user', 'ada');
    session.flash('notice', 'Saved!');
    session.flash('count', 3);
    const flashCookie = await s.save(session);
    add({
      name: 'flash',
      cookie: STRICT,
      header: cookieHeader(flashCookie),
      expect: expectOf(format, session.id, [['user', 'ada']], [['notice', 'Saved!'], ['count', 3]]),
      setCookie: flashCookie,
    });

    // Destroy: what Node sends, and what deleting a cookie looks like there.
    session = await s.read(cookieHeader(valuesCookie));
    let destroyed;
    if (format === 'remix3') {
      session.destroy();
      destroyed = await s.save(session);
    } else {
      destroyed = await s.destroy(session);
    }
    add({
      name: 'destroy',
      cookie: STRICT,
      header: cookieHeader(destroyed),
      expect: null,
      setCookie: destroyed,
      // Remix 3 only empties the cookie; the Rust side deletes it, which is
      // what this Node call writes.
      removal:
        format === 'remix3'
          ? await s.cookie.serialize('', { expires: new Date(0), maxAge: 0 })
          : destroyed,
    });

    // Secret rotation: written with the old secret only.
    const old = stack(format, { ...BASE, secrets: ['old-secret'] });
    session = await old.read(null);
    session.set('k', 'v');
    const oldCookie = await old.save(session);
    const rotatedExpect = expectOf(format, session.id, [['k', 'v']], []);
    add({
      name: 'rotation: new and old secrets read an old cookie',
      cookie: { ...BASE, secrets: ['new-secret', 'old-secret'] },
      header: cookieHeader(oldCookie),
      expect: rotatedExpect,
    });
    add({
      name: 'rotation: the new secret alone does not',
      cookie: { ...BASE, secrets: ['new-secret'] },
      header: cookieHeader(oldCookie),
      expect: null,
    });

    // Tampering.
    const good = cookieHeader(valuesCookie);
    const eq = good.indexOf('=');
    const flipped = good.slice(0, eq + 5) + (good[eq + 5] === 'A' ? 'B' : 'A') + good.slice(eq + 6);
    add({ name: 'tampered payload', cookie: STRICT, header: flipped, expect: null });
    add({ name: 'bad signature encoding', cookie: STRICT, header: good + '%^&', expect: null });
    add({ name: 'truncated signature', cookie: STRICT, header: good.slice(0, -1), expect: null });
    add({ name: 'no cookie of the name', cookie: STRICT, header: 'other=1; x=2', expect: null });
    add({ name: 'empty value', cookie: STRICT, header: '__session=', expect: null });

    // The first of two cookies of the name is used (React Router, Remix 3
    // after alpha.6, and cookie-session; alpha.6 itself takes the last).
    add({
      name: 'duplicate names: first wins',
      cookie: { ...BASE, secrets: ['new-secret', 'old-secret'] },
      header: `a=1; ${cookieHeader(oldCookie)}; ${cookieHeader(flashCookie)}`,
      expect: rotatedExpect,
    });
    // Other cookies around, spaces, quotes.
    add({
      name: 'among other cookies',
      cookie: STRICT,
      header: `theme=dark;  ${good} ; lang="en"`,
      expect: expectOf(format, valuesId, VALUES, []),
    });
  }

  // Cookie header parsing, differentially: each header holds the session
  // cookie's name at most once (Remix 3 alpha.6 keeps the last of several,
  // which this crate deliberately does not) and Node says what it parses.
  for (const format of ['remix3', 'react-router']) {
    const s = stack(format, STRICT);
    const v = cookieHeader(await s.cookie.serialize('hello world')).slice('__session='.length);
    const raw = format === 'remix3' ? v : decodeURIComponent(v);
    const pct = raw.replace(/\+/g, '%2B').replace(/\//g, '%2F').replace(/=/g, '%3D');
    const headers = [
      `__session=${v}`,
      ` __session = ${v} ; a=b`,
      `a="x;y"; __session=${v}`,
      `__session="${raw}"`,
      `__session=${raw.slice(0, 5)}\\${raw.slice(5)}`,
      `__session=${raw}\\`,
      `x; __session=${raw}`,
      `x __session=${raw}`,
      `__session=${pct}`,
      `__session=${raw}%zz`,
      `\t__session=${raw}\t`,
      `__session=\u00a0${raw}`,
      `;;__session=${raw};;`,
      `=; __session=${raw}`,
      `__session==${raw}`,
      `__session=${raw}; Path=/`,
      `__session=`,
      `__session`,
      `__session=${raw.slice(0, -1)}`,
      `other=${raw}`,
      `a=1; b; c="q\\"r"; __session=${raw}`,
      // Deliberate differences (see deliberateDifference).
      `\u2000__session=${raw}`,
      `__session\u00a0=${raw}`,
      `\ufeff__session=${raw}`,
      `\n__session=${raw}; a=1`,
      `__session=${raw}=`,
      `__session=${raw.slice(0, -10)} ${raw.slice(-10)}`,
      `__session=${raw.slice(0, -1)}${flipTrailingBits(raw.slice(-1))}`,
    ];
    // Plus random headers from a fixed seed: junk around one occurrence of
    // the name, with the value sometimes quoted, escaped, split or encoded.
    const rand = mulberry32(format === 'remix3' ? 1 : 2);
    const pick = (a) => a[Math.floor(rand() * a.length)];
    const junk = ['a=1', 'b', ' ', ';', '"', '\\', '=', '\t', 'c="x;y"', '%41', 'd=%zz', ',', 'e= f ', '\u00a0', '"q\\"'];
    const values = [raw, v, pct, `"${raw}"`, `${raw.slice(0, 7)}\\${raw.slice(7)}`, ` ${raw} `, `${raw}"`, ''];
    for (let i = 0; i < 300; i++) {
      const before = Array.from({ length: Math.floor(rand() * 5) }, () => pick(junk)).join(pick(['; ', ';', '']));
      const after = Array.from({ length: Math.floor(rand() * 5) }, () => pick(junk)).join(pick(['; ', ';', '']));
      headers.push(`${before}${pick(['; ', ';', '', ' '])}__session${pick(['=', ' = ', '=='])}${pick(values)}${pick(['; ', ';', '', ' '])}${after}`);
    }
    for (const header of headers) {
      const parsed = await s.cookie.parse(header);
      const differs = parsed ? deliberateDifference(format, header) : undefined;
      cases.push({ format, name: 'parse', cookie: STRICT, header, parsed, differs });
    }
  }

  // React Router refuses a Set-Cookie over 4096 characters: find the
  // largest value it accepts; Rust must accept it and refuse one more.
  {
    const s = reactRouter(STRICT);
    let lo = 1;
    let hi = 5000;
    let refusedLength;
    while (lo + 1 < hi) {
      const mid = (lo + hi) >> 1;
      const session = await s.read(null);
      session.set('blob', 'x'.repeat(mid));
      try {
        await s.save(session);
        lo = mid;
      } catch (e) {
        const m = /^Cookie length will exceed browser maximum\. Length: (\d+)$/.exec(e.message);
        assert.ok(m, e.message);
        hi = mid;
        refusedLength = Number(m[1]);
      }
    }
    cases.push({ format: 'react-router', name: 'size limit', cookie: STRICT, largestBlob: lo, refusedLength });
  }

  process.stdout.write(JSON.stringify({ versions, cases }, null, 1) + '\n');
}

// `expect` as both sides exchange it: entries in order.
function expectOf(format, id, values, flash) {
  const e = { values, flash };
  if (format === 'remix3') e.id = id;
  return e;
}

// A small seeded PRNG, so the random headers are the same on every run.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- check ----------------------------------------------------------------------

async function check(file) {
  const { cases } = JSON.parse(readFileSync(file, 'utf8'));
  let passed = 0;
  let failed = 0;
  for (const c of cases) {
    try {
      await checkCase(c);
      passed++;
    } catch (e) {
      failed++;
      console.error(`FAIL [${c.format}] ${c.name}: ${e.message}`);
    }
  }
  console.log(`node-reads-rust: ${passed} passed, ${failed} failed`);
  if (failed > 0 || passed === 0) process.exit(1);
}

async function checkCase(c) {
  const s = stack(c.format, c.cookie);
  const session = await s.read(c.header);
  const values = Object.fromEntries(c.expect?.values ?? []);
  const flash = Object.fromEntries(c.expect?.flash ?? []);
  if (c.format === 'remix3') {
    if (c.expect?.id !== undefined) assert.equal(session.id, c.expect.id, 'id');
    assert.deepEqual(session.data[0], values, 'values');
    for (const [k, v] of Object.entries(flash)) assert.deepEqual(session.get(k), v, `flash ${k}`);
    assert.equal(session.size, Object.keys(values).length + Object.keys(flash).length, 'size');
    assert.equal(session.dirty, Object.keys(flash).length > 0, 'dirty');
    if (c.expect === null) assert.notEqual(session.id, '', 'fresh session id');
    // Saving drops the flash that arrived.
    if (Object.keys(flash).length > 0) {
      const next = await s.read(cookieHeader(await s.save(session)));
      for (const k of Object.keys(flash)) assert.equal(next.get(k), values[k], `flash ${k} kept`);
    }
  } else {
    const flat = { ...values };
    for (const [k, v] of Object.entries(flash)) flat[`__flash_${k}__`] = v;
    assert.deepEqual(session.data, flat, 'data');
    for (const [k, v] of Object.entries(flash)) {
      assert.deepEqual(session.get(k), v, `flash ${k}`);
      assert.equal(session.has(k), false, `flash ${k} consumed`);
    }
  }
  // Byte-for-byte: what Node writes for the same data.
  if (c.setCookie !== undefined && c.expect) {
    let mine;
    if (c.format === 'remix3') {
      const fresh = createRemixSession(c.expect.id);
      for (const [k, v] of c.expect.values) fresh.set(k, v);
      for (const [k, v] of c.expect.flash) fresh.flash(k, v);
      mine = await s.save(fresh);
    } else {
      const fresh = await s.read(null);
      for (const [k, v] of c.expect.values) fresh.set(k, v);
      for (const [k, v] of c.expect.flash) fresh.flash(k, v);
      mine = await s.save(fresh);
    }
    assert.equal(c.setCookie, mine, 'Set-Cookie differs from what Node writes');
  }
  if (c.removal !== undefined) {
    const mine =
      c.format === 'remix3'
        ? await s.cookie.serialize('', { expires: new Date(0), maxAge: 0 })
        : await s.destroy(session);
    assert.equal(c.removal, mine, 'removal differs from what Node writes');
  }
}

const [mode, file] = process.argv.slice(2);
if (mode === 'write') await write();
else if (mode === 'check') await check(file);
else {
  console.error('usage: node exchange.mjs write | check FILE');
  process.exit(2);
}
