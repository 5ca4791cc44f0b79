package handlers

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// checkQuery refuses, with a 400 naming the parameter, a query parameter
// that a list endpoint does not take, or one given twice: a misspelt
// filter (?stauts=revoked) must not silently list everything.
func checkQuery(c echo.Context, allowed ...string) error {
	raw, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return registry.FieldError("query", "the query string is malformed: %v", err)
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names) // the same parameter is named on every try
	for _, name := range names {
		if !contains(allowed, name) {
			field := name
			if field == "" {
				field = "query"
			}
			takes := "no query parameters"
			if len(allowed) > 0 {
				takes = strings.Join(allowed, ", ")
			}
			return registry.FieldError(field, "unknown query parameter %q; this endpoint takes %s", name, takes)
		}
		if len(raw[name]) > 1 {
			return registry.FieldError(name, "give %s at most once", name)
		}
	}
	return nil
}

// pageParams reads ?page (from 1) and ?per_page (1 to maxPer, default
// def): a value out of range is a 400, not quietly replaced.
func pageParams(c echo.Context, def, maxPer int) (page, perPage int, err error) {
	page, perPage = 1, def
	if v := c.QueryParam("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return 0, 0, registry.FieldError("page", "page must be a whole number from 1")
		}
		page = n
	}
	if v := c.QueryParam("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPer {
			return 0, 0, registry.FieldError("per_page", "per_page must be a whole number from 1 to %d", maxPer)
		}
		perPage = n
	}
	return page, perPage, nil
}
