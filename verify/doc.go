// Package verify is the certificate token format and everything needed to
// check a token without the registry's database: Ed25519 signing keys and
// their JWKS form, the compact JWS that a certificate's QR code carries, QR
// encoding and decoding, and the QR size budget that limits how long the
// public verify URL may be.
//
// A token is a compact JWS (RFC 7515) signed with EdDSA/Ed25519 (RFC 8037):
//
//	header  {"alg":"EdDSA","kid":"<8-char kid>"}
//	payload {"n":"<number>","o":"<occupation>","l":<level>,"d":"YYYYMMDD","h":"<masked name>"}
//
// Every byte is paid for in QR modules, so the keys are one letter, the date
// has no dashes and "typ" is left out. Signing is deterministic, so a
// certificate's token (and its printed QR code) never changes.
//
// The package knows nothing of databases or HTTP: keys come from a
// KeySource that the caller provides.
package verify
