// Verifies JWTs with the npm package jose (vendored, pinned, under
// ../node_modules/jose), an implementation independent of ours, against a
// JWK set. Reads {"jwks": {...}, "tokens": [{"token": "...", "typ": "..."}]}
// on stdin and writes one {"ok", "payload", "header"} or {"ok": false,
// "error"} per token, in order.
import { createLocalJWKSet, jwtVerify } from 'jose';

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const { jwks, tokens } = JSON.parse(input);
const keys = createLocalJWKSet(jwks);
const out = [];
for (const t of tokens) {
  try {
    const opts = { algorithms: ['EdDSA'] };
    if (t.typ) {
      opts.typ = t.typ;
    }
    const { payload, protectedHeader } = await jwtVerify(t.token, keys, opts);
    out.push({ ok: true, payload, header: protectedHeader });
  } catch (e) {
    out.push({ ok: false, error: e.code || String(e) });
  }
}
process.stdout.write(JSON.stringify(out));
