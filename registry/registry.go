package registry

import (
	"context"
	"log/slog"
	"time"

	"github.com/skillreg/skillreg/registry/stats"
)

// ChinaTime is the zone in which issue dates are reckoned (UTC+8, no DST).
var ChinaTime = time.FixedZone("CST", 8*3600)

// Registry is the domain service: every rule about issuers, users and
// certificates lives here and is tested without HTTP.
type Registry struct {
	store  Store
	tokens TokenCodec
	vault  *Vault
	now    func() time.Time
	log    *slog.Logger
	hooks  Hooks
	status statusState   // the revocation status-list allocator and cache
	stats  *stats.Keeper // the statistics: counters kept on every certificate write
}

// Hooks are optional callbacks for metrics; any may be nil.
type Hooks struct {
	Issued   func(c *Certificate)
	Revoked  func(c *Certificate)
	Verified func(status string)
	// IDChecked is called once per ID check of a lookup with its outcome
	// (IDCheckMatch, IDCheckMismatch or IDCheckLocked).
	IDChecked func(outcome string)
}

// Config wires a Registry.
type Config struct {
	Store  Store
	Tokens TokenCodec
	Vault  *Vault
	Clock  func() time.Time // defaults to time.Now
	Logger *slog.Logger     // audit events go here; defaults to slog.Default()
	Hooks  Hooks
}

// New returns a Registry over cfg's store, token codec and vault.
func New(cfg Config) *Registry {
	r := &Registry{store: cfg.Store, tokens: cfg.Tokens, vault: cfg.Vault, now: cfg.Clock, log: cfg.Logger, hooks: cfg.Hooks}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.stats = stats.NewKeeper(cfg.Store, statsCerts{cfg.Store}, r.log)
	return r
}

// Store returns the registry's store (for health checks and tools).
func (r *Registry) Store() Store { return r.store }

// Vault returns the registry's vault.
func (r *Registry) Vault() *Vault { return r.vault }

// audit records one audit event. It never carries a full ID number.
func (r *Registry) audit(ctx context.Context, event string, actor *User, attrs ...any) {
	name := "anonymous"
	if actor != nil {
		name = actor.Username
	}
	r.Record(ctx, event, name, attrs...) // the log line and the audit-log entry (audit.go)
}

func argsToAttrs(args []any) []slog.Attr {
	var out []slog.Attr
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		out = append(out, slog.Any(k, args[i+1]))
	}
	return out
}

func requireRole(actor *User, roles ...string) error {
	if actor == nil {
		return Errorf(EUNAUTHORIZED, "login required")
	}
	for _, r := range roles {
		if actor.Role == r {
			return nil
		}
	}
	return Errorf(EFORBIDDEN, "this action needs the role %v; you are %s", roles, actor.Role)
}
