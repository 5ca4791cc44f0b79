package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// The audit log is a hash chain: entry n holds the SHA-256 of entry n-1's
// canonical bytes, so changing, inserting or removing an entry breaks every
// later link, and rewriting the whole tail consistently contradicts the
// signed checkpoints (count, head hash) taken earlier.
//
// Canonical bytes of an entry (what Hash and the next entry's Prev are the
// SHA-256 of, as lowercase hex) are one JSON object with exactly these
// members in this order and no white space:
//
//	{"seq":N,"time":"YYYY-MM-DDTHH:MM:SS.mmmZ","event":"...","actor":"...","attrs":{...},"prev":"<64 hex>"}
//
// seq is a decimal integer without leading zeros; time is UTC with exactly
// three fractional digits (every backend keeps milliseconds); attrs is an
// object whose members are sorted by key (byte order) and whose values are
// all strings; prev of entry 1 is 64 zeros. Strings are valid UTF-8 and are
// escaped as Go's encoding/json escapes them: '"', '\\' and control
// characters, and also '<', '>', '&', U+2028 and U+2029 as \u003c, \u003e,
// \u0026, \u2028, \u2029.

// AuditGenesis is the Prev of the first entry.
const AuditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// auditTimeLayout is the canonical time format of entries and checkpoints.
const auditTimeLayout = "2006-01-02T15:04:05.000Z"

// AuditEntry is one entry of the audit log. Attrs never hold a full ID
// number: Record masks anything that looks like one.
type AuditEntry struct {
	Seq   int64             `json:"seq"`
	Time  time.Time         `json:"time"`
	Event string            `json:"event"`
	Actor string            `json:"actor"`
	Attrs map[string]string `json:"attrs"`
	Prev  string            `json:"prev"`
	Hash  string            `json:"hash"`
}

// Canonical returns the entry's canonical bytes (see the package comment
// above AuditGenesis); Hash is not part of them.
func (e *AuditEntry) Canonical() []byte {
	var b bytes.Buffer
	b.WriteString(`{"seq":`)
	fmt.Fprintf(&b, "%d", e.Seq)
	b.WriteString(`,"time":`)
	writeJSONString(&b, e.Time.UTC().Format(auditTimeLayout))
	b.WriteString(`,"event":`)
	writeJSONString(&b, e.Event)
	b.WriteString(`,"actor":`)
	writeJSONString(&b, e.Actor)
	b.WriteString(`,"attrs":{`)
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, k)
		b.WriteByte(':')
		writeJSONString(&b, e.Attrs[k])
	}
	b.WriteString(`},"prev":`)
	writeJSONString(&b, e.Prev)
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(strings.ToValidUTF8(s, "\uFFFD")) // a string always marshals
	b.Write(j)
}

// ComputeHash returns the SHA-256 of the canonical bytes, as lowercase hex.
func (e *AuditEntry) ComputeHash() string {
	sum := sha256.Sum256(e.Canonical())
	return hex.EncodeToString(sum[:])
}

// Link makes e the successor of prev (nil when e is the first entry): it
// sets Seq, Prev and Hash. Stores call it inside their append, where prev
// is known to be the head.
func (e *AuditEntry) Link(prev *AuditEntry) {
	if prev == nil {
		e.Seq, e.Prev = 1, AuditGenesis
	} else {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	e.Hash = e.ComputeHash()
}

// AuditCheckpoint is a signed statement that the log had Count entries and
// that entry Count had HeadHash, at Time. JWS is a compact JWS (EdDSA, with
// the kid of the registry's certificate key) over the CheckpointPayload;
// the other fields repeat what it signs, for queries.
type AuditCheckpoint struct {
	Count    int64     `json:"count"`
	HeadHash string    `json:"head_hash"`
	Time     time.Time `json:"time"`
	KeyID    string    `json:"kid"`
	JWS      string    `json:"jws"`
}

// CheckpointPayload is what a checkpoint's JWS signs.
type CheckpointPayload struct {
	Type     string `json:"typ"` // always CheckpointType
	Count    int64  `json:"count"`
	HeadHash string `json:"head_hash"`
	Time     string `json:"time"` // UTC, milliseconds
}

// CheckpointType is the typ member of every checkpoint payload, so that a
// checkpoint can never be mistaken for any other document the key signs.
const CheckpointType = "skillreg-audit-checkpoint"

// Payload returns what the checkpoint's JWS signs.
func (cp *AuditCheckpoint) Payload() CheckpointPayload {
	return CheckpointPayload{Type: CheckpointType, Count: cp.Count, HeadHash: cp.HeadHash, Time: cp.Time.UTC().Format(auditTimeLayout)}
}

// SignFunc signs a JSON document with the active certificate key and
// returns the compact JWS and the kid; verify.Tokens.SignJSON is one.
type SignFunc func(ctx context.Context, header map[string]any, payload any) (jws, kid string, err error)

// Record writes one audit event: a structured log line (event "audit") and
// an entry appended to the store's hash-chained audit log. Actor is a
// username or a system name such as "cli". attrs are key, value pairs;
// values are kept as text and anything in them that looks like a resident
// ID number is masked, so the log never holds a full one.
//
// Record is called after the action it records has committed. If the
// append fails, the action stands (undoing a committed issuance would be
// worse, and a client told "failed" would retry and issue twice), the
// event stays in the log line and an ERROR line "audit.append_failed"
// carries it; `skillreg audit verify` reports issuances and revocations
// that have no entry, and `skillreg audit reconcile` appends them.
func (r *Registry) Record(ctx context.Context, event, actor string, attrs ...any) {
	if err := r.RecordErr(ctx, event, actor, attrs...); err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "audit.append_failed", append([]slog.Attr{slog.String("event", event), slog.String("actor", actor), slog.String("err", err.Error())}, argsToAttrs(redactAttrs(attrs))...)...)
	}
}

// RecordErr is Record for callers that can act on a failed append (a tool
// that writes nothing else): it returns the append's error instead of
// logging it.
func (r *Registry) RecordErr(ctx context.Context, event, actor string, attrs ...any) error {
	e := r.auditEntry(ctx, event, actor, attrs...)
	// The action has committed: a client that hangs up now must not cost
	// its entry.
	return r.store.AppendAudit(context.WithoutCancel(ctx), e)
}

// auditEntry writes an event's log line and returns its entry, to append.
func (r *Registry) auditEntry(ctx context.Context, event, actor string, attrs ...any) *AuditEntry {
	attrs = redactAttrs(attrs)
	r.log.LogAttrs(ctx, slog.LevelInfo, "audit", append([]slog.Attr{slog.String("event", event), slog.String("actor", actor)}, argsToAttrs(attrs)...)...)
	return &AuditEntry{Time: r.now().UTC().Truncate(time.Millisecond), Event: event, Actor: actor, Attrs: attrMap(attrs)}
}

// newAuditEntry returns an event's entry without logging it; logAudit
// writes its log line once the entry's values are final.
func (r *Registry) newAuditEntry(event, actor string, attrs ...any) *AuditEntry {
	return &AuditEntry{Time: r.now().UTC().Truncate(time.Millisecond), Event: event, Actor: actor, Attrs: attrMap(redactAttrs(attrs))}
}

// logAudit writes the log line of an entry (event "audit"), its
// attributes in key order.
func (r *Registry) logAudit(ctx context.Context, e *AuditEntry) {
	attrs := []slog.Attr{slog.String("event", e.Event), slog.String("actor", e.Actor)}
	for _, k := range sortedKeys(e.Attrs) {
		attrs = append(attrs, slog.String(k, e.Attrs[k]))
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// idNumberLike matches what could be a resident ID number (18 characters,
// or the legacy 15 digits) standing on its own, not inside a certificate
// number or a longer token.
var idNumberLike = regexp.MustCompile(`(^|[^0-9A-Za-z])([0-9]{17}[0-9Xx]|[0-9]{15})([^0-9A-Za-z]|$)`)

// RedactIDNumbers masks every ID-number-like run of s (first 6 and last 4
// kept), for free text such as a revocation reason.
func RedactIDNumbers(s string) string {
	return idNumberLike.ReplaceAllStringFunc(s, func(m string) string {
		sub := idNumberLike.FindStringSubmatch(m)
		return sub[1] + MaskIDNumber(sub[2]) + sub[3]
	})
}

func redactAttrs(attrs []any) []any {
	out := make([]any, len(attrs))
	for i, v := range attrs {
		if s, ok := v.(string); ok && i%2 == 1 {
			v = RedactIDNumbers(s)
		}
		out[i] = v
	}
	return out
}

func attrMap(attrs []any) map[string]string {
	m := make(map[string]string, len(attrs)/2)
	for i := 0; i+1 < len(attrs); i += 2 {
		k, _ := attrs[i].(string)
		m[k] = fmt.Sprint(attrs[i+1])
	}
	return m
}

// AuditCheckpoint returns the checkpoint taken when the log had count
// entries, or the latest one when count is 0. Checkpoints are public: they
// hold no personal data, and their worth is that anyone may keep them.
// ENOTFOUND if there is none.
func (r *Registry) AuditCheckpoint(ctx context.Context, count int64) (*AuditCheckpoint, error) {
	if count < 0 {
		return nil, FieldError("seq", "seq must be a positive entry count")
	}
	return r.store.AuditCheckpoint(ctx, count)
}

// Checkpointer signs checkpoints of the audit log: every Every entries,
// and after Interval if anything was appended since the last one.
type Checkpointer struct {
	Store    Store
	Sign     SignFunc
	Every    int64         // entries between checkpoints; 0 means 1000
	Interval time.Duration // most time between checkpoints while entries arrive; 0 means 10 minutes
	Clock    func() time.Time
	Logger   *slog.Logger
}

func (c *Checkpointer) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

// Checkpoint signs the current head of the log and stores the checkpoint,
// unless the latest checkpoint already covers it (then it returns that one
// and false). A checkpoint another process stored for the same count at
// the same moment is returned too.
func (c *Checkpointer) Checkpoint(ctx context.Context) (*AuditCheckpoint, bool, error) {
	head, err := c.Store.AuditHead(ctx)
	if err != nil {
		return nil, false, err
	}
	last, err := c.Store.AuditCheckpoint(ctx, 0)
	switch {
	case err == nil && last.Count >= head.Seq:
		return last, false, nil
	case err != nil && ErrorCode(err) != ENOTFOUND:
		return nil, false, err
	}
	cp := &AuditCheckpoint{Count: head.Seq, HeadHash: head.Hash, Time: c.now().UTC().Truncate(time.Millisecond)}
	cp.JWS, cp.KeyID, err = c.Sign(ctx, map[string]any{"typ": CheckpointType + "+jws"}, cp.Payload())
	if err != nil {
		return nil, false, fmt.Errorf("signing the audit checkpoint: %w", err)
	}
	if err := c.Store.CreateAuditCheckpoint(ctx, cp); err != nil {
		if ErrorCode(err) == ECONFLICT {
			stored, gerr := c.Store.AuditCheckpoint(ctx, cp.Count)
			return stored, false, gerr
		}
		return nil, false, err
	}
	return cp, true, nil
}

// Due reports whether a checkpoint should be taken now.
func (c *Checkpointer) Due(ctx context.Context) (bool, error) {
	every, interval := c.Every, c.Interval
	if every <= 0 {
		every = 1000
	}
	if interval <= 0 {
		interval = 10 * time.Minute
	}
	head, err := c.Store.AuditHead(ctx)
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	last, err := c.Store.AuditCheckpoint(ctx, 0)
	if ErrorCode(err) == ENOTFOUND {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if head.Seq <= last.Count {
		return false, nil
	}
	return head.Seq-last.Count >= every || c.now().Sub(last.Time) >= interval, nil
}

// Run checks every poll whether a checkpoint is due and takes it, until
// ctx ends. Failures are logged and retried at the next poll.
func (c *Checkpointer) Run(ctx context.Context, poll time.Duration) {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due, err := c.Due(ctx)
		if err == nil && due {
			var cp *AuditCheckpoint
			var made bool
			if cp, made, err = c.Checkpoint(ctx); err == nil && made {
				log.Info("audit.checkpoint", "count", cp.Count, "head_hash", cp.HeadHash, "kid", cp.KeyID)
			}
		}
		if err != nil && ctx.Err() == nil {
			log.Error("audit.checkpoint_failed", "err", err)
		}
	}
}

// AuditProblem is the first thing wrong that VerifyAuditLog found.
type AuditProblem struct {
	Seq  int64  // the entry (or checkpoint count) where it shows
	What string // what is wrong, in plain words
}

func (p *AuditProblem) Error() string { return fmt.Sprintf("seq %d: %s", p.Seq, p.What) }

// AuditReport is the outcome of VerifyAuditLog.
type AuditReport struct {
	Entries     int64         // entries checked
	Checkpoints int           // checkpoints checked
	Head        *AuditEntry   // the last entry checked
	Problem     *AuditProblem // nil when the log verifies
}

// CheckpointVerifier checks a checkpoint's JWS against the registry's
// public keys and returns what it signs; an error means the signature (or
// its key) is not ours.
type CheckpointVerifier func(ctx context.Context, jws string) (CheckpointPayload, error)

// auditBatch is how many entries VerifyAuditLog reads at a time.
const auditBatch = 1000

// VerifyAuditLog walks the log from entry 1: every entry's seq follows the
// last with no gap, its hash is the SHA-256 of its canonical bytes and its
// prev is the previous entry's hash; every checkpoint's signature verifies
// and the entry at its count has its head hash; no checkpoint counts more
// entries than the log holds (entries removed from the end). It stops at
// the first problem. The error is for failures to read the store, not for
// problems in the log.
func VerifyAuditLog(ctx context.Context, st Store, check CheckpointVerifier) (AuditReport, error) {
	var rep AuditReport
	var cps []*AuditCheckpoint
	for after := int64(0); ; {
		page, err := st.AuditCheckpoints(ctx, after, auditBatch)
		if err != nil {
			return rep, err
		}
		cps = append(cps, page...)
		if len(page) < auditBatch {
			break
		}
		after = page[len(page)-1].Count
	}
	next := 0 // the next checkpoint to meet
	prev := &AuditEntry{Seq: 0, Hash: AuditGenesis}
	for {
		page, err := st.AuditEntries(ctx, prev.Seq, auditBatch)
		if err != nil {
			return rep, err
		}
		for _, e := range page {
			if p := checkEntry(prev, e); p != nil {
				rep.Problem = p
				return rep, nil
			}
			for next < len(cps) && cps[next].Count <= e.Seq {
				if p := checkCheckpoint(ctx, cps[next], e, check); p != nil {
					rep.Problem = p
					return rep, nil
				}
				next++
				rep.Checkpoints++
			}
			rep.Entries++
			rep.Head = e
			prev = e
		}
		if len(page) < auditBatch {
			break
		}
	}
	if next < len(cps) {
		rep.Problem = &AuditProblem{Seq: prev.Seq + 1, What: fmt.Sprintf("entries %d to %d are missing: a signed checkpoint counts %d entries but the log ends at %d", prev.Seq+1, cps[next].Count, cps[next].Count, prev.Seq)}
	}
	return rep, nil
}

func checkEntry(prev, e *AuditEntry) *AuditProblem {
	switch {
	case e.Seq != prev.Seq+1:
		return &AuditProblem{Seq: prev.Seq + 1, What: fmt.Sprintf("entry %d is missing (the next stored entry is %d)", prev.Seq+1, e.Seq)}
	case e.ComputeHash() != e.Hash:
		return &AuditProblem{Seq: e.Seq, What: "the stored hash does not match the entry's content (the entry was changed)"}
	case e.Prev != prev.Hash:
		return &AuditProblem{Seq: e.Seq, What: fmt.Sprintf("prev does not match the hash of entry %d (an entry was changed, inserted or removed before it)", prev.Seq)}
	case !utf8.ValidString(e.Event) || e.Event == "":
		return &AuditProblem{Seq: e.Seq, What: "the event name is empty or not text"}
	}
	return nil
}

func checkCheckpoint(ctx context.Context, cp *AuditCheckpoint, e *AuditEntry, check CheckpointVerifier) *AuditProblem {
	p, err := check(ctx, cp.JWS)
	if err != nil {
		return &AuditProblem{Seq: cp.Count, What: fmt.Sprintf("the checkpoint at %d entries is not validly signed: %v", cp.Count, err)}
	}
	if p.Type != CheckpointType || p.Count != cp.Count {
		return &AuditProblem{Seq: cp.Count, What: fmt.Sprintf("the checkpoint stored at %d entries signs something else (%s at %d entries)", cp.Count, p.Type, p.Count)}
	}
	if e.Seq != cp.Count {
		return &AuditProblem{Seq: cp.Count, What: fmt.Sprintf("entry %d, which a signed checkpoint covers, is missing", cp.Count)}
	}
	if p.HeadHash != e.Hash {
		return &AuditProblem{Seq: e.Seq, What: fmt.Sprintf("the hash of entry %d differs from the one the checkpoint of %s signed (the log was rewritten after it)", e.Seq, p.Time)}
	}
	return nil
}
