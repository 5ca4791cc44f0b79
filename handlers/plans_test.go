package handlers_test

import (
	"testing"
)

type plansJSON struct {
	Items []struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		EndDate string `json:"end_date"`
		Default bool   `json:"default"`
		BuiltIn bool   `json:"built_in"`
		Targets struct {
			SkilledWorkers int64 `json:"skilled_workers"`
		} `json:"targets"`
	} `json:"items"`
}

// TestPlanLifecycle: the admin adds a plan, changes it, makes it the
// default (the statistics then measure against it), makes the built-in
// plan the default again, and deletes the plan; the built-in plan can be
// chosen but neither changed nor deleted; officials may only read.
func TestPlanLifecycle(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	official := h.official("plan-reader", "")
	targets := map[string]any{"skilled_workers": 250_000_000, "technician": 0.1, "senior_worker": 0.25, "high_skilled": 0.35}
	h.expect(h.do("POST", "/api/v1/plans", admin, map[string]any{"id": "p-2030", "name": "二〇三〇年技能人才规划", "end_date": "2030-12-31", "targets": targets}), 201)

	targets["skilled_workers"] = 260_000_000
	got := h.expect(h.do("PUT", "/api/v1/plans/p-2030", admin, map[string]any{"name": "二〇三〇年技能人才规划（修订）", "end_date": "2031-06-30", "targets": targets}), 200).json(t)
	if got["name"] != "二〇三〇年技能人才规划（修订）" || got["end_date"] != "2031-06-30" {
		t.Fatalf("updated plan %v", got)
	}
	h.expect(h.do("PUT", "/api/v1/plans/p-2030", admin, map[string]any{"name": "", "end_date": "2031-06-30", "targets": targets}), 400)
	h.expect(h.do("PUT", "/api/v1/plans/nope", admin, map[string]any{"name": "x", "end_date": "2031-06-30", "targets": targets}), 404)
	h.expect(h.do("PUT", "/api/v1/plans/11th-five-year", admin, map[string]any{"name": "x", "end_date": "2031-06-30", "targets": targets}), 403)
	h.expect(h.do("DELETE", "/api/v1/plans/11th-five-year", admin, nil), 403)
	h.expect(h.do("PUT", "/api/v1/plans/p-2030", official, map[string]any{"name": "x", "end_date": "2031-06-30", "targets": targets}), 403)

	list := decode[plansJSON](t, h.expect(h.do("POST", "/api/v1/plans/p-2030/default", admin, nil), 200))
	if len(list.Items) != 2 || list.Items[0].ID != "p-2030" || !list.Items[0].Default || list.Items[1].Default {
		t.Fatalf("after choosing p-2030: %+v", list)
	}
	tiers := h.expect(h.do("GET", "/api/v1/stats/tiers", official, nil), 200).json(t)
	if tiers["plan"].(map[string]any)["id"] != "p-2030" || tiers["targets"].(map[string]any)["skilled_workers"] != float64(260_000_000) {
		t.Fatalf("statistics measure against %v / %v, want the revised p-2030", tiers["plan"], tiers["targets"])
	}

	list = decode[plansJSON](t, h.expect(h.do("POST", "/api/v1/plans/11th-five-year/default", admin, nil), 200))
	if list.Items[0].ID != "11th-five-year" || !list.Items[0].Default || list.Items[1].Default {
		t.Fatalf("after choosing the built-in plan: %+v", list)
	}
	h.expect(h.do("POST", "/api/v1/plans/nope/default", admin, nil), 404)

	// Deleting the default leaves the built-in one as the default.
	h.expect(h.do("POST", "/api/v1/plans/p-2030/default", admin, nil), 200)
	h.expect(h.do("DELETE", "/api/v1/plans/p-2030", admin, nil), 204)
	h.expect(h.do("DELETE", "/api/v1/plans/p-2030", admin, nil), 404)
	list = decode[plansJSON](t, h.expect(h.do("GET", "/api/v1/plans", official, nil), 200))
	if len(list.Items) != 1 || list.Items[0].ID != "11th-five-year" || !list.Items[0].Default {
		t.Fatalf("after deleting the default: %+v", list)
	}
}
