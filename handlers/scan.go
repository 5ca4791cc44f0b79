package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
	"github.com/skillreg/skillreg/web"
)

// MaxPhotoBytes is the largest photo the scan page's upload accepts. A
// phone photo is a few MiB; decoding a bigger one would only cost time.
const MaxPhotoBytes = 10 << 20

// scanUpload decodes the QR code in an uploaded photo (POST /scan/upload,
// multipart field "photo") and answers with the verify page, for phones
// whose browser cannot use the camera. It changes nothing, so it needs no
// CSRF token.
func (s *Server) scanUpload(c echo.Context) error {
	req := c.Request()
	// The multipart envelope adds a little to the photo itself.
	req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxPhotoBytes+64<<10)
	fh, err := c.FormFile("photo")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.pageError(c, &registry.Error{Code: registry.ETOOLARGE, Field: "photo", Message: "图片超过 10 MB，请换一张较小的照片 · The photo is over 10 MiB."})
		}
		return s.pageError(c, registry.FieldError("photo", "请选择一张证书二维码的照片 · Choose a photo of the certificate's QR code."))
	}
	if fh.Size > MaxPhotoBytes {
		return s.pageError(c, &registry.Error{Code: registry.ETOOLARGE, Field: "photo", Message: "图片超过 10 MB，请换一张较小的照片 · The photo is over 10 MiB."})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	text, err := verify.DecodeQR(f)
	if err != nil {
		switch registry.ErrorCode(err) {
		case registry.ETOOLARGE:
			return s.pageError(c, &registry.Error{Code: registry.ETOOLARGE, Field: "photo", Message: "图片尺寸过大，请缩小后再试 · The image is too large; please use a smaller one."})
		case registry.EINVALID:
			return s.pageError(c, registry.FieldError("photo", "未能在图片中识别出二维码。请让二维码清晰、完整地位于画面中央后重拍 · No QR code could be read in the photo."))
		}
		return err
	}
	res, err := s.reg.Verify(req.Context(), verify.ExtractToken(text))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if wantsJSON(req) {
		return writeVerifyJSON(c, http.StatusOK, toVerifyResultJSON(res))
	}
	return s.render(c, http.StatusOK, "verify", web.VerifyView(res, s.now()))
}
