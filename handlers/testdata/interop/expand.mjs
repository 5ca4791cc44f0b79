// Expands credentials with npm jsonld in safe mode (any term that would be
// dropped, any relative IRI, fails). The document loader serves only
// local copies: the W3C VC 2.0 context from npm
// @digitalbazaar/credentials-context, and skillreg's context from the
// file whose path is given; any other URL fails. Reads {"context_url",
// "context_file", "documents": [{...}]} on stdin and writes one
// {"ok", "expanded"} or {"ok": false, "error"} per document.
import { readFileSync } from 'node:fs';
import jsonld from 'jsonld';
import { contexts } from '@digitalbazaar/credentials-context';
import { readStdin } from './didweb.mjs';

const { context_url: contextURL, context_file: contextFile, documents } = await readStdin();
const local = new Map([
  ['https://www.w3.org/ns/credentials/v2', contexts.get('https://www.w3.org/ns/credentials/v2')],
  [contextURL, JSON.parse(readFileSync(contextFile, 'utf8'))],
]);
const documentLoader = async (url) => {
  if (!local.has(url) || !local.get(url)) {
    throw new Error(`no local copy of ${url}`);
  }
  return { contextUrl: null, documentUrl: url, document: local.get(url) };
};
const out = [];
for (const doc of documents) {
  try {
    out.push({ ok: true, expanded: await jsonld.expand(doc, { documentLoader, safe: true }) });
  } catch (e) {
    out.push({ ok: false, error: `${e.name}: ${e.message} ${JSON.stringify(e.details || {}).slice(0, 500)}` });
  }
}
process.stdout.write(JSON.stringify(out));
