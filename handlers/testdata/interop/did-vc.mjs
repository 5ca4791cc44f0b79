// Verifies VC-JWTs with npm jose, finding each key through the issuer's
// did:web DID document (didweb.mjs). Reads {"tokens": ["..."]} on stdin,
// writes one {"ok", "payload", "header", "did"} or {"ok": false, "error"}
// per token, in order.
import { readStdin, verifyVCJWT } from './didweb.mjs';

const { tokens } = await readStdin();
const out = [];
for (const t of tokens) {
  try {
    out.push({ ok: true, ...(await verifyVCJWT(t)) });
  } catch (e) {
    out.push({ ok: false, error: e.code || String(e) });
  }
}
process.stdout.write(JSON.stringify(out));
