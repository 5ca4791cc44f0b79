// Key discovery the way any did:web verifier does it, with npm jose only:
// the DID is the part of the VC-JWT header's kid before "#"; its document
// is at https://HOST[:PORT]/.well-known/did.json (or /PATH/did.json); the
// key is the verification method whose id is the kid, and it must be an
// assertion method. Plain http is allowed for 127.0.0.1 and localhost
// only, where the tests' server listens.
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

export function didWebURL(did) {
  const parts = did.split(':');
  if (parts.length < 3 || parts[0] !== 'did' || parts[1] !== 'web') {
    throw new Error(`not a did:web: ${did}`);
  }
  const host = decodeURIComponent(parts[2]);
  const path = parts.slice(3).map(decodeURIComponent);
  const local = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host);
  const base = `${local ? 'http' : 'https'}://${host}`;
  return path.length ? `${base}/${path.join('/')}/did.json` : `${base}/.well-known/did.json`;
}

export async function resolveKey(kid) {
  const hash = kid.indexOf('#');
  if (hash < 0) {
    throw new Error(`kid ${kid} is not a DID URL`);
  }
  const did = kid.slice(0, hash);
  const res = await fetch(didWebURL(did));
  if (!res.ok) {
    throw new Error(`DID document: HTTP ${res.status}`);
  }
  const doc = await res.json();
  if (doc.id !== did) {
    throw new Error(`DID document id ${doc.id}, want ${did}`);
  }
  const vm = (doc.verificationMethod || []).find((m) => m.id === kid);
  if (!vm) {
    throw new Error(`no verification method ${kid}`);
  }
  if (!(doc.assertionMethod || []).includes(kid)) {
    throw new Error(`${kid} is not an assertion method`);
  }
  return { did, key: await importJWK(vm.publicKeyJwk, 'EdDSA') };
}

// verifyVCJWT verifies a VC-JWT against the key its kid names in the
// issuer's DID document, and that the credential's issuer is that DID.
export async function verifyVCJWT(jwt) {
  const header = decodeProtectedHeader(jwt);
  const { did, key } = await resolveKey(header.kid || '');
  const { payload, protectedHeader } = await jwtVerify(jwt, key, {
    algorithms: ['EdDSA'],
    typ: 'vc+jwt',
    issuer: did,
  });
  const issuer = typeof payload.issuer === 'object' ? payload.issuer.id : payload.issuer;
  if (issuer !== did) {
    throw new Error(`credential issuer ${issuer} is not the signing DID ${did}`);
  }
  return { payload, header: protectedHeader, did };
}

export async function readStdin() {
  let input = '';
  for await (const chunk of process.stdin) {
    input += chunk;
  }
  return JSON.parse(input);
}
