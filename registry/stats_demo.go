package registry

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/skillreg/skillreg/registry/refdata"
	"github.com/skillreg/skillreg/registry/stats"
)

// DemoOptions describe a synthetic population.
type DemoOptions struct {
	Certificates int    // how many certificates to make, exactly
	Seed         uint64 // the same seed makes the same population
	KeyID        string // the signing key recorded on the certificates
	// Progress, if set, is called as the load goes: phase "certificates"
	// (done of total) and "counters" (holders counted of the people made
	// so far), after each batch.
	Progress func(phase string, done, total int64)
}

// DemoResult says what LoadDemo made.
type DemoResult struct {
	Certificates int64
	People       int64
	Revoked      int64
	Issuers      int
}

// Demo population parameters. Levels follow the 2004 economic census
// (DOMAIN.md: 高级技师 517,300; 技师 1,629,300; 高级工 6,181,300; 中级工
// 10,909,800); the census gives no 初级工 figure, so level 5 is set at
// 12,000,000, a little above 中级工. Province weights are approximate
// shares of urban employment around 2004 (per mille), the census's
// per-province table not being in the repository: demo data, not
// statistics.
var (
	demoLevelWeights = [5]float64{517_300, 1_629_300, 6_181_300, 10_909_800, 12_000_000}
	demoProvinces    = map[string]float64{
		"44": 100, "32": 85, "37": 80, "33": 70, "41": 55, "31": 45, "11": 45, "21": 45, "51": 45,
		"42": 40, "13": 40, "43": 35, "35": 35, "34": 30, "23": 30, "14": 25, "61": 25, "12": 22,
		"22": 20, "36": 20, "50": 20, "45": 20, "53": 20, "15": 18, "65": 15, "52": 12, "62": 12,
		"46": 5, "64": 4, "63": 4, "54": 1.5,
	}
	// Occupation major categories of skilled workers: production first.
	demoCategories = map[string]float64{"6": 50, "4": 33, "5": 8, "3": 4, "2": 3, "1": 1, "8": 1}
	demoChannels   = []Channel{ChannelSocial, ChannelEnterprise, ChannelSchool, ChannelSpecial}
	demoChannelW   = []float64{55, 25, 15, 5}
	demoSurnames   = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	demoGiven      = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文辉海燕春梅晓东鹏飞宇浩然子涵欣怡嘉琪思远天佑俊杰雨轩")
)

// demoNameGiven is demoGiven without repeats, for DemoName.
var demoNameGiven = func() []rune {
	seen := map[rune]bool{}
	var out []rune
	for _, r := range demoGiven {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}()

// DemoName returns a name for demo and test data that passes the name rule
// (NormalizeName) and differs for every i >= 0: a common surname and
// one or more given-name characters (two or three for i below about
// 300,000), never a digit.
func DemoName(i int) string {
	s, g := len(demoSurnames), len(demoNameGiven)
	name := []rune{demoSurnames[i%s]}
	j := i / s
	name = append(name, demoNameGiven[j%g])
	for j /= g; j > 0; j = (j - 1) / g { // bijective base g: distinct for distinct j
		name = append(name, demoNameGiven[(j-1)%g])
	}
	return string(name)
}

// demoIssuerID is the demo issuer of one channel in one province: site
// 9xxxxx marks demo organisations.
func demoIssuerID(prov string, ch int) string {
	kind := "S"
	if demoChannels[ch] == ChannelEnterprise {
		kind = "Y"
	}
	return fmt.Sprintf("%s%04d%s%06d", kind, 9000+ch, prov, 900001+ch)
}

type weighted[T any] struct {
	items []T
	cum   []float64
}

func newWeighted[T any](items []T, w []float64) *weighted[T] {
	c := &weighted[T]{items: items, cum: make([]float64, len(w))}
	sum := 0.0
	for i, x := range w {
		sum += x
		c.cum[i] = sum
	}
	return c
}

func (c *weighted[T]) pick(rng *rand.Rand) T {
	x := rng.Float64() * c.cum[len(c.cum)-1]
	i := sort.SearchFloat64s(c.cum, x)
	return c.items[min(i, len(c.items)-1)]
}

func weightedMap(m map[string]float64) *weighted[string] {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w := make([]float64, len(keys))
	for i, k := range keys {
		w[i] = m[k]
	}
	return newWeighted(keys, w)
}

// demoIDNumber returns a valid 18-digit ID number of someone born from
// 1960 to 1987, so that every demo holder was an adult by the earliest
// demo issue date (2005) and the birth date is never after it, as the
// ID-number rule requires of an issued certificate.
func demoIDNumber(rng *rand.Rand, county string) string {
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(28*365))
	s := fmt.Sprintf("%s%s%03d", county, birth.Format("20060102"), rng.IntN(1000))
	return s + string(idCheckChar(s))
}

// LoadDemo fills the store with a synthetic population of exactly
// opts.Certificates certificates: people in provinces and at levels
// distributed like the 2004 census figures, a quarter of them with two or
// three certificates (climbing a level each time, sometimes in another
// province or channel), about 2% of certificates revoked, issue dates
// spread over 2005 to today with more each year, valid ID numbers with
// real county codes and real occupation codes. Demo issuers (four per
// province, one per channel) are created as needed. Certificates are
// written in batches through the store's CertificateImporter; the
// counters are then built by CheckStats with Repair, the code `skillreg
// stats check --repair` runs. Admin only.
func (r *Registry) LoadDemo(ctx context.Context, actor *User, opts DemoOptions) (*DemoResult, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, err
	}
	imp, ok := r.store.(CertificateImporter)
	if !ok {
		return nil, Errorf(EINVALID, "this store cannot load certificates in bulk")
	}
	if opts.Certificates < 1 {
		return nil, FieldError("certificates", "ask for at least one certificate")
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed))
	res := &DemoResult{}

	counties := demoCounties()
	issuers, err := r.ensureDemoIssuers(ctx, actor)
	if err != nil {
		return nil, err
	}
	res.Issuers = issuers
	gen, err := r.newDemoGenerator(ctx, imp, rng, counties, opts)
	if err != nil {
		return nil, err
	}

	// The counters are built batch by batch, in the same pass: a batch's
	// holders are new people, whose certificates are all in it, unless the
	// store had certificates before or a generated ID number repeats; those
	// holders are counted from all their stored certificates.
	existing, err := r.store.CertificatesInHolderOrder(ctx, "", 1)
	if err != nil {
		return nil, err
	}
	fresh := len(existing) == 0
	total := int64(opts.Certificates)
	var counted int64
	batch := make([]*Certificate, 0, 20000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		sort.Slice(batch, func(i, j int) bool { return batch[i].Number < batch[j].Number })
		if _, err := imp.ImportCertificates(ctx, batch); err != nil {
			return err
		}
		res.Certificates += int64(len(batch))
		if opts.Progress != nil {
			opts.Progress("certificates", res.Certificates, total)
		}
		n, err := r.countBatch(ctx, batch, fresh)
		if err != nil {
			return err
		}
		counted += int64(n)
		if opts.Progress != nil {
			opts.Progress("counters", counted, res.People)
		}
		batch = batch[:0]
		return nil
	}
	for res.Certificates+int64(len(batch)) < total {
		res.People++
		// The last person gets only the certificates still wanted, so
		// that exactly opts.Certificates are made.
		certs, revoked, err := gen.person(int(total-res.Certificates) - len(batch))
		if err != nil {
			return nil, err
		}
		batch = append(batch, certs...)
		res.Revoked += revoked
		if len(batch) >= 20000 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := imp.ImportSerials(ctx, gen.raised); err != nil {
		return nil, err
	}
	r.audit(ctx, "demo.loaded", actor, "certificates", res.Certificates, "people", res.People)
	return res, nil
}

// demoCounties returns the county codes of each province (by its two
// digits); a prefecture without counties stands for itself.
func demoCounties() map[string][]string {
	countiesByProv := map[string][]string{}
	for _, p := range refdata.Regions() {
		for _, pref := range p.Children {
			for _, county := range pref.Children {
				countiesByProv[p.Code[:2]] = append(countiesByProv[p.Code[:2]], county.Code)
			}
			if len(pref.Children) == 0 {
				countiesByProv[p.Code[:2]] = append(countiesByProv[p.Code[:2]], pref.Code)
			}
		}
	}
	return countiesByProv
}

// ensureDemoIssuers creates the demo issuers (one per province and
// channel) that do not exist yet and returns how many it created.
func (r *Registry) ensureDemoIssuers(ctx context.Context, actor *User) (int, error) {
	created := 0
	for _, p := range refdata.Provinces() {
		prov := p.Code[:2]
		for ch := range demoChannels {
			id := demoIssuerID(prov, ch)
			if _, err := r.store.Issuer(ctx, id); err == nil {
				continue
			} else if ErrorCode(err) != ENOTFOUND {
				return created, err
			}
			in := IssuerInput{Name: fmt.Sprintf("%s%s演示评价机构", p.Name, demoChannels[ch].Name()), Kind: id[:1], OrgCode: id[1:5],
				Province: prov, Site: id[7:], Scope: Scope{Occupations: []string{"1", "2", "3", "4", "5", "6", "7", "8"}, MaxLevel: Level1}}
			if _, err := r.CreateIssuer(ctx, actor, in); err != nil {
				return created, fmt.Errorf("demo issuer %s: %w", id, err)
			}
			created++
		}
	}
	return created, nil
}

// demoGenerator draws the demo's people and their certificates. Every
// random choice comes from one seeded generator, in a fixed order, so
// that a seed makes the same population every time.
type demoGenerator struct {
	r        *Registry
	rng      *rand.Rand
	keyID    string
	counties map[string][]string // province -> county codes
	occByCat map[string][]string // major category -> occupation codes
	serials  map[string]int      // number prefix -> last serial used
	raised   map[string]int      // the prefixes this load used, with their last serial

	provs, cats *weighted[string]
	channels    *weighted[int]
	levels      *weighted[Level]

	now, today, first time.Time
	span              float64 // days from first to today

	maxIndex, indexSpace int
	usedIndex            map[int]struct{}
}

func (r *Registry) newDemoGenerator(ctx context.Context, imp CertificateImporter, rng *rand.Rand, counties map[string][]string, opts DemoOptions) (*demoGenerator, error) {
	g := &demoGenerator{r: r, rng: rng, keyID: opts.KeyID, counties: counties, occByCat: map[string][]string{}, raised: map[string]int{}}
	for _, o := range refdata.Occupations() {
		g.occByCat[o.MajorCode] = append(g.occByCat[o.MajorCode], o.Code)
	}
	var err error
	if g.serials, err = imp.Serials(ctx); err != nil {
		return nil, err
	}
	g.provs = weightedMap(demoProvinces)
	g.cats = weightedMap(demoCategories)
	g.channels = newWeighted([]int{0, 1, 2, 3}, demoChannelW)
	g.levels = newWeighted([]Level{1, 2, 3, 4, 5}, demoLevelWeights[:])
	g.now = r.now().In(ChinaTime)
	g.today = time.Date(g.now.Year(), g.now.Month(), g.now.Day(), 0, 0, 0, 0, ChinaTime)
	g.first = time.Date(2005, 1, 1, 0, 0, 0, 0, ChinaTime)
	g.span = g.today.Sub(g.first).Hours() / 24

	// Status-list indexes (the employers' revocation list): random and
	// distinct, above every index already in use, from a range at least
	// twice the certificates to come, as Issue would draw them (from the
	// seeded generator here, so that a demo is reproducible).
	if g.maxIndex, err = r.store.MaxStatusIndex(ctx); err != nil {
		return nil, err
	}
	g.indexSpace = StatusListSize(g.maxIndex+2*opts.Certificates) - g.maxIndex - 1
	g.usedIndex = make(map[int]struct{}, opts.Certificates)
	return g, nil
}

// day draws an issue date. More certificates each year: the day is drawn
// with density rising linearly to three times the first year's by today.
func (g *demoGenerator) day() time.Time {
	u := g.rng.Float64()
	x := (-1 + math.Sqrt(1+8*u)) / 2 // inverse of the CDF of density 1+2x on [0,1]
	return g.first.AddDate(0, 0, int(x*g.span))
}

// nextIndex draws a status-list index not used before.
func (g *demoGenerator) nextIndex() int {
	for {
		i := g.maxIndex + 1 + g.rng.IntN(g.indexSpace)
		if _, ok := g.usedIndex[i]; !ok {
			g.usedIndex[i] = struct{}{}
			return i
		}
	}
}

// person draws one person and their certificates (one to three, at most
// limit) and returns the certificates and how many of them are revoked.
func (g *demoGenerator) person(limit int) ([]*Certificate, int64, error) {
	rng := g.rng
	prov := g.provs.pick(rng)
	county := g.counties[prov][rng.IntN(len(g.counties[prov]))]
	id := demoIDNumber(rng, county)
	hash := g.r.vault.HashID(id)
	cipher, err := g.r.vault.EncryptID(id)
	if err != nil {
		return nil, 0, err
	}
	name := string(demoSurnames[rng.IntN(len(demoSurnames))]) + string(demoGiven[rng.IntN(len(demoGiven))])
	if rng.IntN(2) == 0 {
		name += string(demoGiven[rng.IntN(len(demoGiven))])
	}
	n := 1
	switch x := rng.Float64(); {
	case x < 0.07:
		n = 3
	case x < 0.25:
		n = 2
	}
	n = min(n, limit)
	level := g.levels.pick(rng)
	cat := g.cats.pick(rng)
	ch := g.channels.pick(rng)
	on := g.day()
	var certs []*Certificate
	var revoked int64
	for k := 0; k < n; k++ {
		if k > 0 {
			// The next certificate: a level up, two to five years on,
			// sometimes elsewhere.
			level = max(level-1, Level1)
			on = on.AddDate(2+rng.IntN(4), rng.IntN(12), 0)
			if on.After(g.today) {
				break
			}
			if rng.IntN(10) == 0 {
				prov = g.provs.pick(rng)
			}
			if rng.IntN(5) == 0 {
				ch = g.channels.pick(rng)
			}
		}
		occs := g.occByCat[cat]
		issuer := demoIssuerID(prov, ch)
		prefix := NumberPrefix(issuer, on.Year(), level)
		g.serials[prefix]++
		g.raised[prefix] = g.serials[prefix]
		c := &Certificate{
			Number: FormatNumber(prefix, g.serials[prefix]), IssuerID: issuer, HolderName: name,
			HolderIDMasked: MaskIDNumber(id), HolderIDHash: hash, HolderIDCipher: cipher,
			OccupationCode: occs[rng.IntN(len(occs))], Level: level, Channel: demoChannels[ch],
			IssuedOn: on.Format("2006-01-02"), Status: StatusValid, KeyID: g.keyID,
			CreatedAt:   on.Add(time.Duration(9*3600+rng.IntN(8*3600)) * time.Second).UTC(),
			StatusIndex: g.nextIndex(),
		}
		if rng.IntN(50) == 0 {
			at := c.CreatedAt.Add(time.Duration(1+rng.IntN(300)) * 24 * time.Hour)
			if at.After(g.now) {
				at = g.now.UTC()
			}
			c.Status, c.RevokedAt, c.RevokeReason = StatusRevoked, &at, "演示数据：撤销"
			revoked++
		}
		certs = append(certs, c)
	}
	return certs, revoked, nil
}

// countBatch brings the counters up to date with a batch of certificates
// just stored in bulk (stats.Keeper.CountBatch): when fresh (the store had
// no certificate before the load) a holder that was never counted has
// exactly its certificates of the batch; any other holder is counted from
// all its stored certificates. It returns the number of holders.
func (r *Registry) countBatch(ctx context.Context, batch []*Certificate, fresh bool) (int, error) {
	byHolder := map[string][]stats.HolderCert{}
	for _, c := range batch {
		byHolder[c.HolderIDHash] = append(byHolder[c.HolderIDHash], holderCertOf(c))
	}
	for _, certs := range byHolder {
		stats.SortCerts(certs)
	}
	return r.stats.CountBatch(ctx, byHolder, fresh)
}
