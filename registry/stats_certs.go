package registry

import (
	"context"

	"github.com/skillreg/skillreg/registry/stats"
)

// statsCerts is the statistics' read of the certificates
// (stats.Certificates): the store's certificates in their counted form.
type statsCerts struct{ store Store }

// HolderCerts returns the counted certificates of each holder, sorted by
// number: one holder's in one read, several holders' in one read too.
func (s statsCerts) HolderCerts(ctx context.Context, hashes []string) (map[string][]stats.HolderCert, error) {
	out := make(map[string][]stats.HolderCert, len(hashes))
	if len(hashes) == 1 {
		certs, err := s.store.CertificatesByHolder(ctx, hashes[0])
		if err != nil {
			return nil, err
		}
		out[hashes[0]] = holderCertsOf(certs)
		return out, nil
	}
	byHolder, err := s.store.CertificatesByHolders(ctx, hashes)
	if err != nil {
		return nil, err
	}
	for h, certs := range byHolder {
		out[h] = holderCertsOf(certs)
	}
	return out, nil
}

// ScanCerts returns up to limit certificates of the holders whose hashes
// sort after afterHash, in hash order.
func (s statsCerts) ScanCerts(ctx context.Context, afterHash string, limit int) ([]stats.ScannedCert, error) {
	certs, err := s.store.CertificatesInHolderOrder(ctx, afterHash, limit)
	if err != nil {
		return nil, err
	}
	out := make([]stats.ScannedCert, len(certs))
	for i, c := range certs {
		out[i] = stats.ScannedCert{Hash: c.HolderIDHash, HolderCert: holderCertOf(c)}
	}
	return out, nil
}

// holderCertOf extracts what the counters need from a certificate.
func holderCertOf(c *Certificate) stats.HolderCert {
	hc := stats.HolderCert{
		Number:    c.Number,
		Level:     int(c.Level),
		Channel:   string(c.Channel),
		IssuedOn:  c.IssuedOn,
		CreatedMS: c.CreatedAt.UnixMilli(),
		Revoked:   c.Status == StatusRevoked,
	}
	if len(c.IssuerID) >= 7 {
		hc.Province = c.IssuerID[5:7]
	}
	if c.OccupationCode != "" {
		hc.Category = c.OccupationCode[:1]
	}
	return hc
}

// holderCertsOf returns the counted form of one holder's certificates,
// sorted by number.
func holderCertsOf(certs []*Certificate) []stats.HolderCert {
	out := make([]stats.HolderCert, 0, len(certs))
	for _, c := range certs {
		out = append(out, holderCertOf(c))
	}
	stats.SortCerts(out)
	return out
}
