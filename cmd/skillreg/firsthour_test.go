package main

// What a newcomer meets in the first hour, run through the real binary:
// a busy port, an admin password that is set too late, the demo's count
// and the backup's summary.

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runCLITimed runs the binary with args and extra environment ("NAME=value")
// to completion; timeout only guards against a hang, and is stretched as
// runCLI's guard is (see cliContext).
func runCLITimed(t *testing.T, timeout time.Duration, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := cliContext(t, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = childEnv(env...)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running skillreg %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("skillreg %v was still running at its hang guard; killed\nstdout:\n%s\nstderr:\n%s", args, stdout.String(), stderr.String())
	}
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// TestServeBusyPortCreatesNothing: serve on a port another process holds
// fails before it makes the data directory, the master key or the admin
// (whose generated password would be spent on a server that never ran).
func TestServeBusyPortCreatesNothing(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	data := filepath.Join(t.TempDir(), "data")
	r := runCLITimed(t, time.Minute, nil, "serve", "--data", data, "--addr", addr, "--public-url", "http://"+addr)
	if r.code == 0 {
		t.Fatalf("serve on a busy port exited 0\nstderr: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("stderr does not say the address is in use: %s", r.stderr)
	}
	if strings.Contains(r.stderr, "password") {
		t.Errorf("serve printed a password for a server that never ran: %s", r.stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve on a busy port made the data directory %s (stat: %v)", data, err)
	}
}

// TestServeWarnsIgnoredAdminPassword: starting again with
// SKILLREG_ADMIN_PASSWORD on a registry whose admin exists says at start
// that the variable is ignored and how to reset the password; the command
// it names works, and the next login with that password succeeds.
func TestServeWarnsIgnoredAdminPassword(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	first := startServer(t, data) // the admin gets a generated password
	if !strings.Contains(first.stderr.String(), `Created user "admin"`) {
		t.Fatalf("first start did not create the admin:\n%s", first.stderr.String())
	}
	if code, _ := first.stop(time.Minute); code != 0 {
		t.Fatalf("first server exited %d", code)
	}

	const pw = "change-me-please"
	s := startServer(t, data, "SKILLREG_ADMIN_PASSWORD="+pw)
	warn := s.stderr.String()
	for _, want := range []string{"SKILLREG_ADMIN_PASSWORD is set but ignored", "skillreg users reset-password --data " + data + " admin"} {
		if !strings.Contains(warn, want) {
			t.Errorf("second start's stderr lacks %q:\n%s", want, warn)
		}
	}
	a := newAPI(t, s.base)
	login := map[string]string{"username": "admin", "password": pw}
	if r := a.do(http.MethodPost, "/api/v1/auth/login", "", login, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("login with the ignored password: %d, want 401", r.status)
	}

	// The way out the warning names, while the server keeps running.
	r := runCLITimed(t, time.Minute, []string{"SKILLREG_ADMIN_PASSWORD=" + pw}, "users", "reset-password", "--data", data, "admin")
	if r.code != 0 {
		t.Fatalf("users reset-password exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, pw) {
		t.Errorf("reset-password echoed the password it was given")
	}
	a.login("admin", pw)

	// Without a password in the environment a generated one is printed once.
	r = runCLITimed(t, time.Minute, nil, "users", "reset-password", "--data", data, "admin")
	m := regexp.MustCompile(`is now: (\S+)`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("reset-password without a password: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	a.login("admin", m[1])
	if r := runCLITimed(t, time.Minute, nil, "users", "reset-password", "--data", data, "nobody"); r.code == 0 {
		t.Errorf("reset-password of an unknown user exited 0")
	}
}

// TestDemoMakesExactlyN: `demo --certificates N` stores exactly N
// certificates, also when the last person drawn would hold two or three.
func TestDemoMakesExactlyN(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	r := runCLITimed(t, 10*time.Minute, nil, "demo", "--quiet", "--data", data, "--certificates", "20000")
	if r.code != 0 {
		t.Fatalf("demo exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "demo: 20000 certificates ") {
		t.Fatalf("demo did not make exactly 20000 certificates:\n%s", r.stdout)
	}
	// The store agrees with what the command said.
	b := runCLITimed(t, time.Minute, nil, "backup", "--data", data, filepath.Join(t.TempDir(), "b.db"))
	if b.code != 0 || !regexp.MustCompile(`(?m)^\s*certificates\s+20000$`).MatchString(b.stdout) {
		t.Fatalf("backup of the demo store (exit %d):\n%s%s", b.code, b.stdout, b.stderr)
	}
}

// TestBackupPrintsReadableSummary: the backup's summary is one labelled
// count a line, not Go's map syntax.
func TestBackupPrintsReadableSummary(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServer(t, data, "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	a := newAPI(t, s.base)
	bearer := setupIssuer(a)
	issue(a, bearer, "backup-1", http.StatusCreated)
	dest := filepath.Join(t.TempDir(), "backup.db")
	r := runCLITimed(t, time.Minute, nil, "backup", "--data", data, dest)
	if r.code != 0 {
		t.Fatalf("backup exited %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "map[") {
		t.Errorf("backup printed Go map syntax:\n%s", r.stdout)
	}
	for _, re := range []string{`(?m)^  certificates\s+1$`, `(?m)^  issuers\s+1$`, `(?m)^  users\s+2$`, `(?m)^  signing keys\s+1$`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("backup summary lacks a line matching %s:\n%s", re, r.stdout)
		}
	}
}
