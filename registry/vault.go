package registry

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"sync"
)

// MasterKeySize is the size in bytes of the registry's master key.
const MasterKeySize = 32

// Vault holds the keys derived from the registry's master key: one to
// encrypt ID numbers at rest (AES-256-GCM), one to hash them for lookups
// (HMAC-SHA-256), one to seal signing keys, one for login tokens, and one
// for the MACs of issued certificate tokens. Every
// process of one registry must share the master key.
type Vault struct {
	idAEAD   cipher.AEAD
	sealAEAD cipher.AEAD
	hashKey  []byte
	loginKey []byte
	tokenKey []byte
	// tokenMACs holds keyed HMAC states for tokenKey, reset after each
	// use, so that a verification does not derive the HMAC's padded keys
	// again.
	tokenMACs *sync.Pool
}

// tokenMAC is a pooled HMAC of the token key and a buffer for the bytes
// of the token it is given.
type tokenMAC struct {
	h   hash.Hash
	buf []byte
}

// NewVault derives the vault's keys from a 32-byte master key.
func NewVault(master []byte) (*Vault, error) {
	if len(master) != MasterKeySize {
		return nil, errors.New("registry: master key must be 32 bytes")
	}
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, master, nil, "skillreg "+info, 32)
		if err != nil {
			panic(err) // only for lengths hkdf cannot make
		}
		return k
	}
	aead := func(key []byte) cipher.AEAD {
		b, err := aes.NewCipher(key)
		if err != nil {
			panic(err)
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			panic(err)
		}
		return g
	}
	v := &Vault{
		idAEAD:   aead(derive("id-number encryption v1")),
		sealAEAD: aead(derive("signing-key seal v1")),
		hashKey:  derive("id-number hash v1"),
		loginKey: derive("login token v1"),
		tokenKey: derive("certificate token mac v1"),
	}
	v.tokenMACs = &sync.Pool{New: func() any { return &tokenMAC{h: hmac.New(sha256.New, v.tokenKey)} }}
	return v, nil
}

// HashID returns the keyed hash (hex HMAC-SHA-256) that finds every
// certificate of one person without storing the ID number in clear.
func (v *Vault) HashID(id string) string {
	m := hmac.New(sha256.New, v.hashKey)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// EncryptID encrypts an ID number with AES-256-GCM: nonce || ciphertext.
func (v *Vault) EncryptID(id string) ([]byte, error) {
	return seal(v.idAEAD, []byte(id), []byte("id"))
}

// DecryptID reverses EncryptID.
func (v *Vault) DecryptID(b []byte) (string, error) {
	p, err := open(v.idAEAD, b, []byte("id"))
	return string(p), err
}

// Seal encrypts a secret (a private signing key) for storage.
func (v *Vault) Seal(secret []byte) ([]byte, error) {
	return seal(v.sealAEAD, secret, []byte("signing-key"))
}

// Open reverses Seal.
func (v *Vault) Open(b []byte) ([]byte, error) {
	return open(v.sealAEAD, b, []byte("signing-key"))
}

// TokenMAC returns the keyed MAC (HMAC-SHA-256) of a certificate token, as
// stored with the certificate at issue. Without the master key nobody,
// not even someone who can write the database, can make the MAC of a
// token of their own.
func (v *Vault) TokenMAC(token string) []byte {
	return v.appendTokenMAC(make([]byte, 0, sha256.Size), token)
}

// appendTokenMAC appends the MAC of token to b.
func (v *Vault) appendTokenMAC(b []byte, token string) []byte {
	m := v.tokenMACs.Get().(*tokenMAC)
	m.buf = append(m.buf[:0], token...)
	m.h.Write(m.buf)
	b = m.h.Sum(b)
	m.h.Reset()
	if cap(m.buf) <= 4<<10 { // a token is a few hundred bytes; drop a freak
		v.tokenMACs.Put(m)
	}
	return b
}

// TokenMACMatches reports, in constant time, whether mac is the MAC of
// token.
func (v *Vault) TokenMACMatches(token string, mac []byte) bool {
	var sum [sha256.Size]byte
	return len(mac) == sha256.Size && hmac.Equal(v.appendTokenMAC(sum[:0], token), mac)
}

// LoginKey returns the HMAC key for login tokens. It is not, and cannot be
// turned into, a certificate-signing key.
func (v *Vault) LoginKey() []byte { return v.loginKey }

func seal(a cipher.AEAD, plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, plain, ad), nil
}

func open(a cipher.AEAD, b, ad []byte) ([]byte, error) {
	if len(b) < a.NonceSize() {
		return nil, errors.New("registry: sealed value too short")
	}
	p, err := a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], ad)
	if err != nil {
		return nil, errors.New("registry: sealed value does not open with this master key")
	}
	return p, nil
}
