package handlers

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// Skill-tier statistics for officials: three read routes, each
// as JSON or, with ?format=csv, as a spreadsheet-ready CSV file, and the
// plans whose targets they are measured against. Who may read what is
// the registry's rule (Registry.TierStats and friends): the admin and
// national officials everything, a provincial official their own province
// (403 for another), issuer users nothing.

// statsParams are the query parameters each stats route accepts. Anything
// else is a 400 naming the parameter, so that a misspelt filter
// (?provnce=44) cannot silently return the national figures.
var statsParams = map[string][]string{
	"tiers":     {"province", "occupation", "channel", "plan", "format"},
	"provinces": {"province", "occupation", "channel", "plan", "format"},
	"trend":     {"province", "occupation", "channel", "by", "format"},
	"training":  {"province", "year", "format"},
}

// statsRequest reads and checks the query string of a stats route: the
// filters (validated further by the registry, which knows the provinces,
// categories, channels and plans) and the output format.
func statsRequest(c echo.Context, route string) (registry.StatsQuery, bool, error) {
	var q registry.StatsQuery
	raw, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return q, false, registry.FieldError("query", "the query string is malformed: %v", err)
	}
	allowed := statsParams[route]
	for name, vals := range raw {
		if !contains(allowed, name) {
			field := name
			if field == "" {
				field = "query"
			}
			return q, false, registry.FieldError(field, "unknown query parameter %q; this endpoint takes %s", name, strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return q, false, registry.FieldError(name, "give %s at most once", name)
		}
	}
	get := func(name string) string { return strings.TrimSpace(raw.Get(name)) }
	q.Province = get("province")
	q.Occupation = get("occupation")
	q.Channel = registry.Channel(get("channel"))
	q.Plan = get("plan")
	csv := false
	switch f := get("format"); f {
	case "", "json":
	case "csv":
		csv = true
	default:
		return q, false, registry.FieldError("format", `format must be "json" (the default) or "csv", not %q`, f)
	}
	if route == "trend" {
		if by := get("by"); by != "" && by != "year" {
			return q, false, registry.FieldError("by", `by must be "year" (the only grouping so far), not %q`, by)
		}
	}
	return q, csv, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// noStore marks a statistics answer as not to be kept by shared caches:
// it depends on who asks.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "private, no-store")
	c.Response().Header().Add("Vary", "Cookie, Authorization")
}

// statsTiers answers GET /api/v1/stats/tiers: skilled workers (people),
// certificates (人次), workers per tier, the high-skill shares, the plan's
// targets and the progress toward them.
func (s *Server) statsTiers(c echo.Context) error {
	q, asCSV, err := statsRequest(c, "tiers")
	if err != nil {
		return err
	}
	st, err := s.reg.TierStats(c.Request().Context(), actor(c), q)
	if err != nil {
		return err
	}
	noStore(c)
	if asCSV {
		return s.sendCSV(c, "skill-tiers", "技能人才统计", st.Query, writeTiersCSV(st))
	}
	return c.JSON(http.StatusOK, toTierStatsJSON(st))
}

// statsProvinces answers GET /api/v1/stats/provinces: the same figures,
// one row per province, with its code and Chinese name.
func (s *Server) statsProvinces(c echo.Context) error {
	q, asCSV, err := statsRequest(c, "provinces")
	if err != nil {
		return err
	}
	t, err := s.reg.ProvinceStats(c.Request().Context(), actor(c), q)
	if err != nil {
		return err
	}
	noStore(c)
	if asCSV {
		return s.sendCSV(c, "skill-tiers-by-province", "各省技能人才统计", t.Query, writeProvincesCSV(t))
	}
	return c.JSON(http.StatusOK, toProvinceTableJSON(t))
}

// statsTrend answers GET /api/v1/stats/trend?by=year: per year, the
// certificates issued and the skilled workers that year added, per level.
func (s *Server) statsTrend(c echo.Context) error {
	q, asCSV, err := statsRequest(c, "trend")
	if err != nil {
		return err
	}
	tt, err := s.reg.TrendTable(c.Request().Context(), actor(c), q)
	if err != nil {
		return err
	}
	rows := tt.Rows
	if rows == nil {
		rows = []registry.TrendRow{}
	}
	noStore(c)
	if asCSV {
		return s.sendCSV(c, "skill-trend-by-year", "技能人才年度趋势", tt.Query, writeTrendCSV(tt.Query, rows))
	}
	return c.JSON(http.StatusOK, toTrendResponse(tt, rows))
}

// listPlans answers GET /api/v1/plans: every plan, the default first.
func (s *Server) listPlans(c echo.Context) error {
	if err := checkQuery(c); err != nil {
		return err
	}
	list, err := s.reg.Plans(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []*stats.Plan{}
	}
	return c.JSON(http.StatusOK, toListJSON(list, toPlanJSON))
}

// planInput is what an admin sends to add a plan: the fields a plan is
// made of, without the ones the registry sets (built_in, created_at).
type planInput struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	EndDate string          `json:"end_date"`
	Targets planTargetsJSON `json:"targets"`
	Default bool            `json:"default"`
}

// createPlan answers POST /api/v1/plans (admin).
func (s *Server) createPlan(c echo.Context) error {
	var in planInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p := &stats.Plan{ID: in.ID, Name: in.Name, EndDate: in.EndDate, Targets: in.Targets.targets(), Default: in.Default}
	if err := s.reg.CreatePlan(c.Request().Context(), actor(c), p); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toPlanJSON(p))
}

// planUpdate is what an admin sends to change a plan: the fields the
// registry lets change (the ID is in the path; the default is chosen
// with POST /api/v1/plans/:id/default).
type planUpdate struct {
	Name    string          `json:"name"`
	EndDate string          `json:"end_date"`
	Targets planTargetsJSON `json:"targets"`
}

// updatePlan answers PUT /api/v1/plans/:id (admin).
func (s *Server) updatePlan(c echo.Context) error {
	var in planUpdate
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p := &stats.Plan{ID: c.Param("id"), Name: in.Name, EndDate: in.EndDate, Targets: in.Targets.targets()}
	if err := s.reg.UpdatePlan(c.Request().Context(), actor(c), p); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPlanJSON(p))
}

// deletePlan answers DELETE /api/v1/plans/:id (admin).
func (s *Server) deletePlan(c echo.Context) error {
	if err := s.reg.DeletePlan(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// setDefaultPlan answers POST /api/v1/plans/:id/default (admin) with the
// plans as GET /api/v1/plans lists them.
func (s *Server) setDefaultPlan(c echo.Context) error {
	if err := s.reg.SetDefaultPlan(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return s.listPlans(c)
}

// sendCSV sends a CSV file as an attachment named after the route, the
// selection and the day (China time): an ASCII name for old clients and
// a Chinese one (RFC 5987) for the rest.
func (s *Server) sendCSV(c echo.Context, asciiBase, zhBase string, q registry.StatsQuery, body []byte) error {
	day := s.now().In(registry.ChinaTime).Format("20060102")
	ascii, zh := []string{asciiBase}, []string{zhBase}
	if q.Province != "" {
		ascii = append(ascii, q.Province)
		zh = append(zh, provinceLabel(q.Province))
	} else {
		ascii = append(ascii, "national")
		zh = append(zh, "全国")
	}
	if q.Occupation != "" {
		ascii = append(ascii, "occupation"+q.Occupation)
		zh = append(zh, "第"+q.Occupation+"大类")
	}
	if q.Channel != "" {
		ascii = append(ascii, string(q.Channel))
		zh = append(zh, q.Channel.Name())
	}
	if q.Plan != "" {
		ascii = append(ascii, q.Plan)
		zh = append(zh, q.Plan)
	}
	ascii, zh = append(ascii, day), append(zh, day)
	asciiName := strings.Join(ascii, "-") + ".csv"
	zhName := strings.Join(zh, "-") + ".csv"
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+asciiName+`"; filename*=UTF-8''`+rfc5987(zhName))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", body)
}

// sortedLevels returns the keys of a per-level map, highest level first.
func sortedLevels(m map[registry.Level]int64) []registry.Level {
	out := make([]registry.Level, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
