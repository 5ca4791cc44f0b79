package handlers

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
	"github.com/skillreg/skillreg/registry/refdata"
)

// trainingJSON is a training record as the API shows it: the ID number
// only masked, names of the codes alongside them.
type trainingJSON struct {
	ID                string         `json:"id"`
	IssuerID          string         `json:"issuer_id"`
	Province          string         `json:"province"`
	ClassID           string         `json:"class_id"`
	Name              string         `json:"name"`
	IDMasked          string         `json:"id_number_masked"`
	Sex               string         `json:"sex"`
	Education         string         `json:"education,omitempty"`
	Phone             string         `json:"phone,omitempty"`
	TargetGroup       string         `json:"target_group"`
	OccupationCode    string         `json:"occupation_code"`
	TargetLevel       registry.Level `json:"target_level"`
	TrainingType      string         `json:"training_type"`
	Hours             int            `json:"hours"`
	Start             string         `json:"start"`
	End               string         `json:"end"`
	Completed         bool           `json:"completed"`
	ExamResult        string         `json:"exam_result,omitempty"`
	CertificateNumber string         `json:"certificate_number,omitempty"`
	Employed          *bool          `json:"employed_within_6_months"`
	SubsidyCategory   string         `json:"subsidy_category,omitempty"`
	SubsidyAmountFen  int64          `json:"subsidy_amount_fen"`
	SubsidyPayee      string         `json:"subsidy_payee,omitempty"`
	CreatedAt         time.Time      `json:"created_at"`
	UpdatedAt         time.Time      `json:"updated_at"`
	TargetGroupName   string         `json:"target_group_name"`
	TrainingTypeName  string         `json:"training_type_name"`
	OccupationName    string         `json:"occupation_name"`
	TargetLevelName   string         `json:"target_level_name"`
}

func toTrainingJSON(t *registry.TrainingRecord) trainingJSON {
	out := trainingJSON{
		ID: t.ID, IssuerID: t.IssuerID, Province: t.Province, ClassID: t.ClassID, Name: t.Name, IDMasked: t.IDMasked,
		Sex: t.Sex, Education: t.Education, Phone: t.Phone, TargetGroup: t.TargetGroup, OccupationCode: t.OccupationCode,
		TargetLevel: t.TargetLevel, TrainingType: t.TrainingType, Hours: t.Hours, Start: t.Start, End: t.End,
		Completed: t.Completed, ExamResult: t.ExamResult, CertificateNumber: t.CertificateNumber, Employed: t.Employed,
		SubsidyCategory: t.SubsidyCategory, SubsidyAmountFen: t.SubsidyAmountFen, SubsidyPayee: t.SubsidyPayee,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		TargetGroupName: registry.TargetGroupName(t.TargetGroup), TrainingTypeName: registry.TrainingTypeName(t.TrainingType),
		TargetLevelName: t.TargetLevel.Name(),
	}
	if o, ok := refdata.LookupOccupation(t.OccupationCode); ok {
		out.OccupationName = o.Name
	}
	return out
}

func (s *Server) createTrainingRecord(c echo.Context) error {
	var in registry.TrainingInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	rec, created, err := s.reg.CreateTrainingRecord(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return c.JSON(status, toTrainingJSON(rec))
}

// maxTrainingBatchBody is the largest JSON batch: 1,000 records of about 1 KiB at
// most each, with room to spare.
const maxTrainingBatchBody = 4 << 20

type trainingBatchResponse struct {
	importer.Counts
	Rows []importer.RowResult `json:"rows"`
}

// createTrainingBatch takes a JSON array of up to 1,000 records, checked
// and written at once (?dry_run=true, ?all_or_nothing=true), or a
// spreadsheet (multipart field "file"), which becomes a training import
// job exactly like POST /api/v1/imports?kind=training.
func (s *Server) createTrainingBatch(c echo.Context) error {
	u := actor(c)
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt == echo.MIMEMultipartForm {
		return s.startImport(c, importer.KindTraining)
	}
	if mt != echo.MIMEApplicationJSON && mt != "" {
		return registry.FieldError("body", "send a JSON array of training records, or a spreadsheet as multipart/form-data in the field \"file\"")
	}
	var opts importer.Options
	var err error
	if opts.DryRun, err = boolParam(c, "dry_run"); err != nil {
		return err
	}
	if opts.AllOrNothing, err = boolParam(c, "all_or_nothing"); err != nil {
		return err
	}
	if u == nil {
		return registry.Errorf(registry.EUNAUTHORIZED, "login required")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxTrainingBatchBody+1))
	if err != nil {
		return registry.FieldError("body", "could not read the request body")
	}
	if len(body) > maxTrainingBatchBody {
		return &registry.Error{Code: registry.ETOOLARGE, Field: "body", Message: "the batch is over 4 MiB; upload a spreadsheet instead"}
	}
	var items []registry.TrainingInput
	if err := decodeJSON(body, &items, "array"); err != nil {
		return err
	}
	rows, counts, err := importer.TrainingBatch(c.Request().Context(), s.reg, u, items, opts)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, trainingBatchResponse{Counts: counts, Rows: rows})
}

type trainingListResponse struct {
	Items []trainingJSON `json:"items"`
	Total int            `json:"total"`
	Page  int            `json:"page"`
}

func (s *Server) listTrainingRecords(c echo.Context) error {
	if err := checkQuery(c, "class_id", "target_group", "training_type", "year", "q", "page", "per_page"); err != nil {
		return err
	}
	f := registry.TrainingFilter{
		ClassID: c.QueryParam("class_id"), TargetGroup: c.QueryParam("target_group"),
		TrainingType: c.QueryParam("training_type"), Year: c.QueryParam("year"), Query: c.QueryParam("q"),
	}
	var err error
	if f.Page, f.PerPage, err = pageParams(c, 20, 100); err != nil {
		return err
	}
	list, total, err := s.reg.TrainingRecords(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	out := trainingListResponse{Items: make([]trainingJSON, 0, len(list)), Total: total, Page: f.Page}
	for _, t := range list {
		out.Items = append(out.Items, toTrainingJSON(t))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getTrainingRecord(c echo.Context) error {
	t, err := s.reg.TrainingRecord(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTrainingJSON(t))
}

// recordTrainingOutcome sets outcome and subsidy fields; fields left out
// of the body stay as they are (PATCH semantics, also under POST for
// clients that cannot send PATCH).
func (s *Server) recordTrainingOutcome(c echo.Context) error {
	var o registry.TrainingOutcome
	if err := bindJSON(c, &o); err != nil {
		return err
	}
	t, err := s.reg.RecordTrainingOutcome(c.Request().Context(), actor(c), c.Param("id"), o)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTrainingJSON(t))
}

// trainingStats answers the training figures: ?province= (two digits;
// a provincial official always gets their own), ?year= (start year) and
// ?format=csv, with the same 400 for an unknown parameter as the other
// statistics routes.
func (s *Server) trainingStats(c echo.Context) error {
	q, asCSV, err := statsRequest(c, "training")
	if err != nil {
		return err
	}
	year := strings.TrimSpace(c.QueryParam("year"))
	st, err := s.reg.TrainingStatsFor(c.Request().Context(), actor(c), q.Province, year)
	if err != nil {
		return err
	}
	for i, b := range st.ByProvince {
		if p, ok := refdata.LookupRegion(b.Key + "0000"); ok {
			st.ByProvince[i].Name = p.Name
		}
	}
	noStore(c)
	if asCSV {
		ascii, zh := "training", "培训统计"
		if st.Year != "" {
			ascii, zh = ascii+"-"+st.Year, zh+"-"+st.Year+"年"
		}
		return s.sendCSV(c, ascii, zh, registry.StatsQuery{Province: st.Province}, writeTrainingCSV(st))
	}
	return c.JSON(http.StatusOK, toTrainingStatsJSON(st))
}

// trainingTemplateName is the download name of the training template.
var trainingTemplateName = "培训记录导入模板.xlsx"

func writeTemplate(kind string, w io.Writer) (string, error) {
	if kind == importer.KindTraining {
		return trainingTemplateName, importer.WriteTrainingTemplate(w)
	}
	return "证书导入模板.xlsx", importer.WriteTemplate(w)
}

func kindParam(c echo.Context) (string, error) {
	switch k := c.QueryParam("kind"); k {
	case "", importer.KindCertificates, importer.KindTraining:
		return k, nil
	}
	return "", registry.FieldError("kind", `kind must be "certificates" or "training"`)
}
