// Writes ../../tests/vectors/remix/sessions.json: session cookies written by
// the published packages for fixed data, the fixtures of tests/remix.rs.
//
//   node make-vectors.mjs > ../../tests/vectors/remix/sessions.json

import { createRequire } from 'node:module';

import { createCookie as createRemixCookie } from '@remix-run/cookie';
import { createSession as createRemixSession } from '@remix-run/session';
import { createCookieSessionStorage as createRemixStorage } from '@remix-run/session/cookie-storage';
import { createCookie as createRrCookie, createCookieSessionStorage as createRrStorage } from 'react-router';

const require = createRequire(import.meta.url);
const versions = Object.fromEntries(
  ['@remix-run/cookie', '@remix-run/session', 'react-router', 'cookie'].map((p) => [
    p,
    require(`${p}/package.json`).version,
  ]),
);

const CONFIGS = [
  { name: '__session', secrets: ['secret1'] },
  { name: '__session', secrets: ['secret1', 'secret0'], httpOnly: true, secure: true, maxAge: 3600 },
  { name: 'sess', secrets: ['s'], domain: 'example.com', path: '/app', sameSite: 'Strict', partitioned: true, secure: true },
];

const DATA = [
  { name: 'count', values: [['count', 1]], flash: [] },
  { name: 'empty', values: [], flash: [] },
  {
    name: 'values and flash',
    values: [['user', { id: 7, name: 'Zoë', roles: ['admin', 'dev'] }], ['n', 0.5], ['2', 'two']],
    flash: [['notice', 'Saved!'], ['level', 2]],
  },
];

function options(c, rr) {
  const o = { secrets: c.secrets, path: c.path ?? '/' };
  for (const k of ['httpOnly', 'secure', 'maxAge', 'domain', 'partitioned']) if (c[k] !== undefined) o[k] = c[k];
  if (c.sameSite) o.sameSite = rr ? c.sameSite.toLowerCase() : c.sameSite;
  return o;
}

const cases = [];
for (const cookieConfig of CONFIGS) {
  for (const d of DATA) {
    // Remix 3: storage + cookie, as session-middleware wires them.
    {
      const cookie = createRemixCookie(cookieConfig.name, options(cookieConfig, false));
      const storage = createRemixStorage();
      const session = createRemixSession('custom-id');
      for (const [k, v] of d.values) session.set(k, v);
      for (const [k, v] of d.flash) session.flash(k, v);
      if (!session.dirty) session.set('x', null); // mark dirty, no data change
      const setCookie = await cookie.serialize(await storage.save(session));
      session.destroy();
      const destroy = await cookie.serialize(await storage.save(session));
      cases.push({ format: 'remix3', name: d.name, cookie: cookieConfig, id: 'custom-id', values: d.values, flash: d.flash, set_cookie: setCookie, destroy });
    }
    // React Router v7.
    {
      const cookie = createRrCookie(cookieConfig.name, options(cookieConfig, true));
      const storage = createRrStorage({ cookie });
      const session = await storage.getSession(null);
      for (const [k, v] of d.values) session.set(k, v);
      for (const [k, v] of d.flash) session.flash(k, v);
      const setCookie = await storage.commitSession(session);
      const destroy = await storage.destroySession(session);
      cases.push({ format: 'react-router', name: d.name, cookie: cookieConfig, id: '', values: d.values, flash: d.flash, set_cookie: setCookie, destroy });
    }
  }
}

process.stdout.write(JSON.stringify({ generated_by: 'interop/remix/make-vectors.mjs', versions, cases }, null, 1) + '\n');
