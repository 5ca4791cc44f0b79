package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/web"
)

// pageRoutes are the routes a person reaches with a browser; their errors
// are pages in Chinese, not JSON.
var pageRoutes = map[string]bool{
	"/":            true,
	"/scan":        true,
	"/scan/upload": true,
	"/lookup":      true,
	"/v/:token":    true,
	"/login":       true,
	"/logout":      true,
	"/portal":      true,
}

// pageTitles are the headings of error pages, by error code.
var pageTitles = map[string]string{
	registry.EINVALID:   "无法查验",
	registry.ETOOLARGE:  "文件过大",
	registry.ERATELIMIT: "请求过于频繁",
	registry.ENOTFOUND:  "未找到",
	registry.EFORBIDDEN: "无权操作",
}

// pageError renders err as an HTML page when the request came from a
// browser to a page route, and otherwise returns it for the JSON error
// handler. Internal errors always go to the error handler, which logs
// them and shows nothing of them.
func (s *Server) pageError(c echo.Context, err error) error {
	if err == nil || !pageRoutes[c.Path()] || wantsJSON(c.Request()) || c.Request().Method == http.MethodHead {
		return err
	}
	code := registry.ErrorCode(err)
	title, ok := pageTitles[code]
	if !ok {
		return err
	}
	msg := registry.ErrorMessage(err)
	if code == registry.ERATELIMIT {
		msg = "请稍后再试（" + c.Response().Header().Get("Retry-After") + " 秒后）· Too many requests; please wait and try again."
	}
	return s.render(c, statusOf[code], "message", web.MessageView(title, msg))
}

func (s *Server) scanPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "scan", nil)
}
