// Command mixedload is the mixed-load benchmark of BENCHMARKS.md ("Mixed
// load"): it builds skillreg, starts it on a temporary data directory,
// seeds it with certificates through CSV imports, then runs a mix of
// verifications, lookups, logins, statistics reads and issuance for a
// fixed time and reports, per endpoint, requests, throughput, p50/p99,
// errors and designed 429s, and the server's RSS and Go heap over the run
// (first against last 10 s).
//
// Run it from the module root: go run ./bench/mixedload [-seed 100000] [-duration 60s]
// (bench/mixed.sh does that).
//
// Clients: the load comes through a trusted proxy (loopback), each request
// from one of many client addresses in X-Forwarded-For, as employers all
// over a province would; the per-client limits stay on, a little raised.
// One extra client, the "abuser", sends number+name lookups from a single
// address at a fixed pace above its limit: its 429s are designed and are
// counted apart from errors.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	adminPassword  = "mixed-load-admin-1"
	issuerPassword = "mixed-load-issuer-1"
)

func main() {
	seed := flag.Int("seed", 100_000, "certificates to seed through CSV imports before the run")
	duration := flag.Duration("duration", 60*time.Second, "how long the measured mixed load runs")
	warmup := flag.Duration("warmup", 15*time.Second, "the same mix, unmeasured, before the measured run (fills caches and the limiter's buckets)")
	workers := flag.Int("workers", 2, "closed-loop workers per read endpoint (verification, lookup, statistics)")
	loginRate := flag.Float64("login-rate", 2, "logins per second (each costs a bcrypt comparison, cost 12)")
	clients := flag.Int("clients", 5000, "distinct client addresses the load comes from (X-Forwarded-For through the trusted proxy)")
	abuseRate := flag.Float64("abuse-rate", 30, "lookups per second from the single abusing client (its limit is 120/min)")
	keep := flag.Bool("keep", false, "keep the data directory")
	flag.Parse()
	if err := run(*seed, *duration, *warmup, *workers, *clients, *loginRate, *abuseRate, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "mixedload:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(seed int, duration, warmup time.Duration, workers, clients int, loginRate, abuseRate float64, keep bool) error {
	dir, err := os.MkdirTemp("", "skillreg-mixedload-")
	if err != nil {
		return err
	}
	if keep {
		logf("data directory %s is kept", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := filepath.Join(dir, "skillreg")
	logf("building skillreg")
	build := exec.Command("go", "build", "-o", bin, "./cmd/skillreg")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build (run from the module root): %w", err)
	}
	srv, err := startServer(bin, filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer srv.stop()
	c := &client{base: srv.base, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}

	admin, err := c.login("admin", adminPassword, "10.0.0.1")
	if err != nil {
		return err
	}
	issuers := []string{"S000111000001", "S000244000001"}
	var issuerTokens []string
	for i, id := range issuers {
		if err := c.json(http.MethodPost, "/api/v1/issuers", admin, map[string]any{
			"name": "负载测试机构 " + id, "kind": "S", "org_code": id[1:5], "province": id[5:7], "site": id[7:13],
			"scope": map[string]any{"occupations": []string{"6-18", "4-04-05"}, "max_level": 1},
		}, nil); err != nil {
			return err
		}
		user := fmt.Sprintf("load-issuer-%d", i)
		if err := c.json(http.MethodPost, "/api/v1/users", admin, map[string]any{"username": user, "password": issuerPassword, "role": "issuer", "issuer_id": id}, nil); err != nil {
			return err
		}
		tok, err := c.login(user, issuerPassword, "10.0.0.1")
		if err != nil {
			return err
		}
		issuerTokens = append(issuerTokens, tok)
	}
	if err := c.json(http.MethodPost, "/api/v1/users", admin, map[string]any{"username": "load-official", "password": issuerPassword, "role": "official"}, nil); err != nil {
		return err
	}
	official, err := c.login("load-official", issuerPassword, "10.0.0.1")
	if err != nil {
		return err
	}

	if err := seedStore(c, issuerTokens, seed); err != nil {
		return err
	}
	sample, err := sampleCertificates(c, issuerTokens[0], 400)
	if err != nil {
		return err
	}
	logf("sampled %d certificates with their tokens", len(sample))

	// GET /api/v1/stats/tiers belongs to another team's work: probe it.
	statsPath := "/api/v1/stats/tiers"
	statsStatus, _, err := c.do(http.MethodGet, statsPath, official, nil, "", "10.0.0.1")
	if err != nil {
		return err
	}
	haveStats := statsStatus != http.StatusNotFound
	logf("statistics route %s: %d (available: %v)", statsPath, statsStatus, haveStats)

	if before, err := os.ReadFile("/proc/loadavg"); err == nil {
		logf("load average before the run: %s", strings.TrimSpace(string(before)))
	}
	var issuedN atomic.Int64
	// phase runs the mix for d and returns what it measured.
	phase := func(d time.Duration) (*results, time.Duration, []memSample) {
		res := &results{by: map[string]*endpoint{}}
		for _, name := range []string{"verify page (GET /v/<token>, JSON)", "verify API (POST /api/v1/verify token)", "lookup (POST /api/v1/verify number+name)", "login (POST /api/v1/auth/login)", "statistics (GET " + statsPath + ")", "issuance (POST /api/v1/certificates)", "abusive lookups, one client"} {
			res.by[name] = &endpoint{}
			res.order = append(res.order, name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		var wg sync.WaitGroup
		spawn := func(n int, fn func(r *rand.Rand)) {
			for i := 0; i < n; i++ {
				wg.Add(1)
				r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
				go func() { defer wg.Done(); fn(r) }()
			}
		}
		// A fixed population of clients (employers, training centres), so
		// that the limiter holds a steady number of buckets, as in service;
		// the limiter's bound for a flood of new addresses is tested apart
		// (handlers.TestLimiterMemoryBound).
		clientIP := func(r *rand.Rand) string {
			n := r.IntN(clients)
			return fmt.Sprintf("10.%d.%d.%d", 1+n/65536, n/256%256, n%256)
		}
		loop := func(name string, fn func(r *rand.Rand) (int, error)) func(r *rand.Rand) {
			return func(r *rand.Rand) {
				for ctx.Err() == nil {
					start := time.Now()
					status, err := fn(r)
					if ctx.Err() != nil && err != nil {
						return // cut off by the end of the run
					}
					res.by[name].add(status, err, time.Since(start))
				}
			}
		}
		paced := func(name string, perSec float64, fn func(r *rand.Rand) (int, error)) func(r *rand.Rand) {
			return func(r *rand.Rand) {
				t := time.NewTicker(time.Duration(float64(time.Second) / perSec))
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
					start := time.Now()
					status, err := fn(r)
					if ctx.Err() != nil && err != nil {
						return
					}
					res.by[name].add(status, err, time.Since(start))
				}
			}
		}
		spawn(workers, loop(res.order[0], func(r *rand.Rand) (int, error) {
			cert := sample[r.IntN(len(sample))]
			s, _, err := c.do(http.MethodGet, "/v/"+cert.Token, "", nil, "application/json", clientIP(r))
			return s, err
		}))
		spawn(workers, loop(res.order[1], func(r *rand.Rand) (int, error) {
			cert := sample[r.IntN(len(sample))]
			s, _, err := c.do(http.MethodPost, "/api/v1/verify", "", map[string]string{"token": cert.Token}, "", clientIP(r))
			return s, err
		}))
		spawn(workers, loop(res.order[2], func(r *rand.Rand) (int, error) {
			cert := sample[r.IntN(len(sample))]
			s, _, err := c.do(http.MethodPost, "/api/v1/verify", "", map[string]string{"number": cert.Number, "name": cert.HolderName}, "", clientIP(r))
			return s, err
		}))
		spawn(1, paced(res.order[3], loginRate, func(r *rand.Rand) (int, error) {
			s, _, err := c.do(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "load-issuer-0", "password": issuerPassword}, "", clientIP(r))
			return s, err
		}))
		if haveStats {
			spawn(workers, loop(res.order[4], func(r *rand.Rand) (int, error) {
				s, _, err := c.do(http.MethodGet, statsPath, official, nil, "", clientIP(r))
				return s, err
			}))
		}
		spawn(1, loop(res.order[5], func(r *rand.Rand) (int, error) {
			n := issuedN.Add(1)
			s, _, err := c.do(http.MethodPost, "/api/v1/certificates", issuerTokens[1], map[string]any{
				"holder_name": "负载" + string(rune('甲'+n%10)), "id_number": idNumber(seed + int(n)), "occupation_code": "6-18-01-01",
				"level": 1 + int(n%5), "channel": "social", "external_ref": fmt.Sprintf("mixed-%d", n),
			}, "", clientIP(r))
			return s, err
		}))
		spawn(1, paced(res.order[6], abuseRate, func(r *rand.Rand) (int, error) {
			cert := sample[r.IntN(len(sample))]
			s, _, err := c.do(http.MethodPost, "/api/v1/verify", "", map[string]string{"number": cert.Number, "name": cert.HolderName}, "", "192.0.2.66")
			return s, err
		}))

		mem := sampleMemory(ctx, c, srv.cmd.Process.Pid)
		start := time.Now()
		wg.Wait()
		elapsed := time.Since(start)
		samples := <-mem
		return res, elapsed, samples
	}
	if warmup > 0 {
		logf("warm-up: %v of the same mix, not measured", warmup)
		phase(warmup)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	logf("measured run: %v", duration)
	res, elapsed, samples := phase(duration)
	loadAfter, _ := os.ReadFile("/proc/loadavg")
	report(os.Stdout, res, elapsed, samples, haveStats, string(load), string(loadAfter), seed+int(issuedN.Load()))
	return nil
}

// server is the skillreg child process.
type server struct {
	cmd  *exec.Cmd
	base string
	logs *os.File
}

func startServer(bin, data string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logs, err := os.CreateTemp(filepath.Dir(data), "serve-*.log") // removed with the data directory unless -keep
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr, "--public-url", "http://"+addr,
		"--log-level", "warn", "--trusted-proxies", "127.0.0.1/32",
		"--rate-lookup", "120/min", "--rate-verify", "6000/min", "--rate-public", "6000/min")
	cmd.Env = append(os.Environ(), "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, logs: logs}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				logf("server pid %d on %s, log in %s", cmd.Process.Pid, addr, logs.Name())
				return s, nil
			}
		}
	}
	s.stop()
	return nil, errors.New("the server did not become ready; see " + logs.Name())
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
	}
	s.logs.Close()
}

// client talks to the server; xff is the client address a trusted proxy
// would report.
type client struct {
	base string
	http *http.Client
}

func (c *client) do(method, path, bearer string, body any, accept, xff string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// json sends a request that must succeed (2xx) and decodes the answer.
func (c *client) json(method, path, bearer string, body, out any) error {
	status, b, err := c.do(method, path, bearer, body, "application/json", "10.0.0.1")
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *client) login(user, password, xff string) (string, error) {
	var out struct{ Token string }
	if err := c.json(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": user, "password": password}, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// idNumber returns a valid, distinct resident ID number for i.
func idNumber(i int) string {
	s := fmt.Sprintf("110105%s%03d", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/500).Format("20060102"), i%500*2+1)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k := range 17 {
		sum += int(s[k]-'0') * w[k]
	}
	return s + string("10X98765432"[sum%11])
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
var given = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂")

func holderName(i int) string {
	return string(surnames[i%len(surnames)]) + string(given[(i/7)%len(given)]) + string(given[(i/131)%len(given)])
}

// seedStore imports n certificates, split over the issuers, each issuer's
// file at once (the importer runs two jobs in parallel).
func seedStore(c *client, tokens []string, n int) error {
	if n <= 0 {
		return nil
	}
	start := time.Now()
	per := n / len(tokens)
	errs := make(chan error, len(tokens))
	for k, tok := range tokens {
		from, to := k*per, (k+1)*per
		if k == len(tokens)-1 {
			to = n
		}
		go func() { errs <- importRange(c, tok, from, to) }()
	}
	for range tokens {
		if err := <-errs; err != nil {
			return err
		}
	}
	took := time.Since(start)
	logf("seeded %d certificates in %v (%.0f rows/s)", n, took.Round(time.Second), float64(n)/took.Seconds())
	return nil
}

func importRange(c *client, token string, from, to int) error {
	var file bytes.Buffer
	file.WriteString("姓名,身份证号,职业编码,等级,评价类型,发证日期,外部编号\n")
	occupations := []string{"6-18-01-01", "6-18-01-02", "4-04-05-05"}
	for i := from; i < to; i++ {
		fmt.Fprintf(&file, "%s,%s,%s,%d,social,2025-0%d-1%d,seed-%d\n", holderName(i), idNumber(i), occupations[i%3], 1+i%5, 1+i%9, i%10, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "seed.csv")
	if err != nil {
		return err
	}
	fw.Write(file.Bytes())
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.base+"/api/v1/imports", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var job struct {
		ID, Status             string
		Total, Issued, Skipped int
		Errors                 int
	}
	if err := json.Unmarshal(b, &job); err != nil || job.ID == "" {
		return fmt.Errorf("import upload: %d %s", resp.StatusCode, b)
	}
	last := time.Now()
	for job.Status == "running" || job.Status == "" {
		time.Sleep(time.Second)
		if err := c.json(http.MethodGet, "/api/v1/imports/"+job.ID+"?per_page=1", token, nil, &job); err != nil {
			return err
		}
		if time.Since(last) > 15*time.Second {
			logf("import %s: %d of %d issued", job.ID[:6], job.Issued, to-from)
			last = time.Now()
		}
	}
	if job.Status != "done" || job.Errors > 0 || job.Issued+job.Skipped != to-from {
		return fmt.Errorf("import %s ended %s with %d issued, %d skipped, %d errors", job.ID, job.Status, job.Issued, job.Skipped, job.Errors)
	}
	return nil
}

type certificate struct {
	Number     string `json:"number"`
	HolderName string `json:"holder_name"`
	Token      string `json:"token"`
}

// sampleCertificates picks n certificates spread over the issuer's list
// and reads each with its token.
func sampleCertificates(c *client, token string, n int) ([]certificate, error) {
	var first struct {
		Total int           `json:"total"`
		Items []certificate `json:"items"`
	}
	if err := c.json(http.MethodGet, "/api/v1/certificates?per_page=100", token, nil, &first); err != nil {
		return nil, err
	}
	pages := max(first.Total/100, 1)
	var out []certificate
	for len(out) < n {
		var page struct {
			Items []certificate `json:"items"`
		}
		if err := c.json(http.MethodGet, fmt.Sprintf("/api/v1/certificates?per_page=100&page=%d", 1+rand.IntN(pages)), token, nil, &page); err != nil {
			return nil, err
		}
		for _, it := range page.Items[:min(20, len(page.Items))] {
			var full certificate
			if err := c.json(http.MethodGet, "/api/v1/certificates/"+it.Number, token, nil, &full); err != nil {
				return nil, err
			}
			if full.Token == "" {
				return nil, errors.New("GET /api/v1/certificates/{number} returned no token")
			}
			out = append(out, full)
		}
		if len(page.Items) == 0 {
			return nil, errors.New("empty certificate page")
		}
	}
	return out, nil
}

// endpoint collects one kind of request's outcomes.
type endpoint struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    int // transport errors and non-2xx other than 429
	limited   int // 429
	statuses  map[int]int
}

func (e *endpoint) add(status int, err error, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.statuses == nil {
		e.statuses = map[int]int{}
	}
	e.latencies = append(e.latencies, d)
	switch {
	case err != nil:
		e.errors++
		e.statuses[0]++
	case status == http.StatusTooManyRequests:
		e.limited++
		e.statuses[status]++
	case status/100 != 2:
		e.errors++
		e.statuses[status]++
	default:
		e.statuses[status]++
	}
}

type results struct {
	order []string
	by    map[string]*endpoint
}

// memSample is the server's memory at one moment.
type memSample struct {
	at        time.Duration
	rss, heap float64 // bytes
}

// sampleMemory reads VmRSS and go_memstats_heap_inuse_bytes every second
// until ctx ends, then sends the samples.
func sampleMemory(ctx context.Context, c *client, pid int) <-chan []memSample {
	out := make(chan []memSample, 1)
	go func() {
		var samples []memSample
		start := time.Now()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				out <- samples
				return
			case <-t.C:
			}
			s := memSample{at: time.Since(start), rss: rssBytes(pid)}
			if _, b, err := c.do(http.MethodGet, "/metrics", "", nil, "", "10.0.0.2"); err == nil {
				sc := bufio.NewScanner(bytes.NewReader(b))
				sc.Buffer(make([]byte, 1<<20), 1<<20)
				for sc.Scan() {
					if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
						s.heap, _ = strconv.ParseFloat(v, 64)
					}
				}
			}
			samples = append(samples, s)
		}
	}()
	return out
}

func rssBytes(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func mib(b float64) string { return fmt.Sprintf("%.1f", b/(1<<20)) }

func avg(samples []memSample, keep func(memSample) bool, get func(memSample) float64) float64 {
	var sum float64
	var n int
	for _, s := range samples {
		if keep(s) {
			sum += get(s)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func report(w io.Writer, res *results, elapsed time.Duration, samples []memSample, haveStats bool, loadBefore, loadAfter string, certs int) {
	fmt.Fprintf(w, "\nMixed load: %v, %d certificates in the store at the end, GOMAXPROCS %d on the load side\n", elapsed.Round(time.Second), certs, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "load average before: %s; after: %s\n\n", strings.TrimSpace(loadBefore), strings.TrimSpace(loadAfter))
	fmt.Fprintln(w, "| endpoint | requests | req/s | p50 ms | p99 ms | errors | 429 (designed) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	var totalErrors int
	for _, name := range res.order {
		e := res.by[name]
		if strings.HasPrefix(name, "statistics") && !haveStats {
			fmt.Fprintf(w, "| %s | not available (404) | | | | | |\n", name)
			continue
		}
		slices.Sort(e.latencies)
		n := len(e.latencies)
		fmt.Fprintf(w, "| %s | %d | %.1f | %s | %s | %d | %d |\n", name, n, float64(n)/elapsed.Seconds(), ms(pct(e.latencies, 0.5)), ms(pct(e.latencies, 0.99)), e.errors, e.limited)
		totalErrors += e.errors
		if e.errors > 0 {
			fmt.Fprintf(w, "|   statuses of %s | %v | | | | | |\n", name, e.statuses)
		}
	}
	first := func(s memSample) bool { return s.at <= 10*time.Second }
	last := func(s memSample) bool { return s.at > elapsed-10*time.Second }
	rss := func(s memSample) float64 { return s.rss }
	heap := func(s memSample) float64 { return s.heap }
	var peakRSS, peakHeap float64
	for _, s := range samples {
		peakRSS, peakHeap = max(peakRSS, s.rss), max(peakHeap, s.heap)
	}
	fmt.Fprintf(w, "\n| server memory (%d samples, 1/s) | first 10 s | last 10 s | peak |\n|---|---:|---:|---:|\n", len(samples))
	fmt.Fprintf(w, "| RSS (MiB, /proc/<pid>/status VmRSS) | %s | %s | %s |\n", mib(avg(samples, first, rss)), mib(avg(samples, last, rss)), mib(peakRSS))
	fmt.Fprintf(w, "| Go heap in use (MiB, go_memstats_heap_inuse_bytes) | %s | %s | %s |\n", mib(avg(samples, first, heap)), mib(avg(samples, last, heap)), mib(peakHeap))
	fmt.Fprint(w, "\nper 10 s (RSS / heap, MiB):")
	for from := time.Duration(0); from < elapsed; from += 10 * time.Second {
		in := func(s memSample) bool { return s.at > from && s.at <= from+10*time.Second }
		fmt.Fprintf(w, " %s/%s", mib(avg(samples, in, rss)), mib(avg(samples, in, heap)))
	}
	fmt.Fprintf(w, "\n\nerrors other than designed 429s: %d\n", totalErrors)
}
