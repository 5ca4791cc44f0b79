// Checks credentials' revocation with npm @digitalbazaar/vc-bitstring-status-list:
// for each VC-JWT (verified first through the DID document), checkStatus
// reads its credentialStatus, loads the status list credential from the
// URL inside it (fetched over HTTP, its VC-JWT verified with jose through
// the same DID document), checks that both have the same issuer, decodes
// the list and reads the bit. Reads {"tokens": ["..."]} on stdin, writes
// one {"ok", "status", "index", "list"} or {"ok": false, "error"} per token.
import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';
import { readStdin, verifyVCJWT } from './didweb.mjs';

async function documentLoader(url) {
  const res = await fetch(url);
  if (!res.ok) {
    throw new Error(`${url}: HTTP ${res.status}`);
  }
  if (!(res.headers.get('content-type') || '').startsWith('application/vc+jwt')) {
    throw new Error(`${url}: content type ${res.headers.get('content-type')}`);
  }
  const { payload } = await verifyVCJWT(await res.text());
  if (payload.id !== url) {
    throw new Error(`status list credential id ${payload.id}, fetched from ${url}`);
  }
  return { contextUrl: null, documentUrl: url, document: payload };
}

const { tokens } = await readStdin();
const out = [];
for (const t of tokens) {
  try {
    const { payload: credential } = await verifyVCJWT(t);
    const res = await checkStatus({
      credential,
      documentLoader,
      // The list's proof is its VC-JWT signature, checked by the loader;
      // the package's own verifier knows only Data Integrity proofs.
      verifyBitstringStatusListCredential: false,
      verifyMatchingIssuers: true,
    });
    if (!res.verified) {
      throw res.error || new Error('status not verified');
    }
    const r = res.results[0];
    out.push({ ok: true, status: r.status, index: r.credentialStatus.statusListIndex, list: r.credentialStatus.statusListCredential });
  } catch (e) {
    out.push({ ok: false, error: String(e) });
  }
}
process.stdout.write(JSON.stringify(out));
