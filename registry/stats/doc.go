// Package stats is the registry's statistics: the skill-tier figures of
// certificates and people, the counters behind them and their crash-safe
// upkeep, recovery and check, the plans the figures are measured against,
// and the training figures.
//
// The domain (package registry) calls it through a Keeper: Begin before a
// certificate write and End after it (BeginMany and EndMany for a chunk),
// Recover and Check for what a crash left, Figures, ProvinceFigures,
// Trend and TrainingStats for reads, and the plan methods. The domain
// decides who may read or change what and checks every query before it
// calls; this package never sees a user. It does not import registry: it
// reads certificates through the small Certificates interface the domain
// gives it (each certificate as the facts the counters count, HolderCert)
// and keeps its records through Store, which the registry's stores
// implement.
//
// # Counting rules: people, not paper
//
//   - A skilled worker is one holder (one ID-number hash) with at least one
//     valid certificate, counted once, at the highest valid level, in the
//     province of the issuer of the certificate that gives that level, with
//     that certificate's occupation category, channel and year. On a tie of
//     levels the most recent certificate decides (latest issue date, then
//     latest creation, then highest number): TierCert.
//   - Certificates (人次) are every certificate ever issued, by its own
//     issue year, level, issuer province, occupation major category and
//     channel. A revoked certificate still counts as issued (it was issued
//     that year; history does not change); revocations are counted
//     separately, so valid certificates are issued - revoked.
//
// The figures are read from counters kept up to date on every issue and
// revoke (sync.go); a read never scans certificates. The check (check.go)
// walks every certificate grouped by holder, the one place that groups
// the domain's certificate scan.
//
// # Training figures are summed from a grouped query, not counters
//
// The training figures (training.go) are still a GROUP BY over the
// training records at read time (the store's TrainingCounts), summed
// here. They were left out of the counters on purpose in this package's
// first cut, for these reasons:
//
//   - they count records (人次), with no rule across one person's records,
//     so a grouped query is exact at every moment and needs no holder state,
//     ops or recovery;
//   - a record changes after it is written (its outcome, employment and
//     certificate link: UpdateTrainingOutcome, LinkTrainingCertificate),
//     so counters would need the op machinery on three more write paths,
//     not only on creation.
//
// The cost is a scan of the matching records per read. Measured on
// SQLite (2 shared cores, load average 12-14, a throwaway program over
// TrainingCounts, best of 5): 300,000 records, national read 2.8 s (1,680
// groups), one year nationally 1.35 s, Guangdong (30,000 records) 0.24 s,
// Guangdong in one year 0.13 s; 30,000 records, national read 0.24 s.
// The national read grows with the records, so at the tens of millions a
// national registry holds, training figures should move to counters the
// way the certificates' did; until then provincial reads, which use the
// province index, stay cheap.
package stats
