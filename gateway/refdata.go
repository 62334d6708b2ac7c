package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tia-platform/tia/services/platform/refdata"
)

// Reference data: the 21 län and 290 kommuner with their SCB codes, names and
// the positions of the municipal seats. It is public (DOMAIN.md) and changes
// only with a release, so the edge serves it from services/platform/refdata
// itself, rendered once, with a strong ETag and a day's public caching. The
// shapes are in proto/openapi/edge.yaml (Lan, Kommun).

// refdataCacheControl lets any cache keep an answer for a day.
const refdataCacheControl = "public, max-age=86400"

type refLan struct {
	Name        string `json:"name"`
	Code        string `json:"code"`
	DisplayName string `json:"displayName"`
	KommunCount int    `json:"kommunCount"`
}

type refPosition struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type refKommun struct {
	Name        string      `json:"name"`
	Code        string      `json:"code"`
	DisplayName string      `json:"displayName"`
	Lan         string      `json:"lan"`
	LanCode     string      `json:"lanCode"`
	Position    refPosition `json:"position"`
}

// refDocument is one rendered answer.
type refDocument struct {
	body []byte
	etag string
}

func newRefDocument(v any) refDocument {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("refdata: %v", err)) // plain structs of strings and numbers
	}
	sum := sha256.Sum256(body)
	return refDocument{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// refdataDocuments are every answer, rendered once.
type refdataDocuments struct {
	lanList       refDocument
	lan           map[string]refDocument
	kommunList    refDocument
	kommunerInLan map[string]refDocument
	kommun        map[string]refDocument
}

func renderRefdata() *refdataDocuments {
	d := &refdataDocuments{lan: map[string]refDocument{}, kommunerInLan: map[string]refDocument{}, kommun: map[string]refDocument{}}
	var lans []refLan
	for _, l := range refdata.Lans() {
		rl := refLan{Name: "lan/" + l.Code, Code: l.Code, DisplayName: l.Name, KommunCount: len(refdata.KommunerIn(l.Code))}
		lans = append(lans, rl)
		d.lan[l.Code] = newRefDocument(rl)
	}
	d.lanList = newRefDocument(map[string]any{"lan": lans})
	toKommun := func(k refdata.Kommun) refKommun {
		return refKommun{
			Name: "kommuner/" + k.Code, Code: k.Code, DisplayName: k.Name, Lan: "lan/" + k.LanCode, LanCode: k.LanCode,
			Position: refPosition{Latitude: k.Lat, Longitude: k.Lon},
		}
	}
	all := []refKommun{}
	byLan := map[string][]refKommun{}
	for _, k := range refdata.Kommuner() {
		rk := toKommun(k)
		all = append(all, rk)
		byLan[k.LanCode] = append(byLan[k.LanCode], rk)
		d.kommun[k.Code] = newRefDocument(rk)
	}
	d.kommunList = newRefDocument(map[string]any{"kommuner": all})
	for code, ks := range byLan {
		d.kommunerInLan[code] = newRefDocument(map[string]any{"kommuner": ks})
	}
	return d
}

// refCode is how a kind of code is written, and what a request with a
// malformed one is told.
type refCode struct {
	pattern *regexp.Regexp
	field   string // the field a malformed code is named under
	format  string // the message, with %q for the code
}

var (
	lanCode    = refCode{regexp.MustCompile(`^[0-9]{2}$`), "lan", "%q is not a län code: two digits, e.g. 05"}
	kommunCode = refCode{regexp.MustCompile(`^[0-9]{4}$`), "kommun", "%q is not a kommun code: four digits, e.g. 0580"}
)

// lookup returns docs[code]. A malformed code is a 400 naming c's field; a
// well-formed one without a document is answered with missing (its code,
// field and message). Either way lookup has answered the request when it
// returns false.
func (c refCode) lookup(w http.ResponseWriter, docs map[string]refDocument, code string, missing codes.Code, field, msg string) (refDocument, bool) {
	if !c.pattern.MatchString(code) {
		refError(w, codes.InvalidArgument, c.field, fmt.Sprintf(c.format, code))
		return refDocument{}, false
	}
	doc, ok := docs[code]
	if !ok {
		refError(w, missing, field, msg)
	}
	return doc, ok
}

// mountRefdata adds the reference-data routes. Go's ServeMux sends
// /v1/lan/{lan} and /v1/kommuner/{kommun} (exactly these segments) here; the
// longer routes below them (/v1/lan/{lan}/coverage, the feeds…) keep going
// to their own handlers.
func mountRefdata(mux *http.ServeMux) {
	docs := renderRefdata()
	mux.HandleFunc("GET /v1/lan", func(w http.ResponseWriter, r *http.Request) {
		serveRef(w, r, docs.lanList)
	})
	mux.HandleFunc("GET /v1/lan/{lan}", func(w http.ResponseWriter, r *http.Request) {
		code := r.PathValue("lan")
		if doc, ok := lanCode.lookup(w, docs.lan, code, codes.NotFound, "", "lan/"+code+" does not exist"); ok {
			serveRef(w, r, doc)
		}
	})
	mux.HandleFunc("GET /v1/kommuner", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !q.Has("lan") {
			serveRef(w, r, docs.kommunList)
			return
		}
		code := q.Get("lan")
		if doc, ok := lanCode.lookup(w, docs.kommunerInLan, code, codes.InvalidArgument, "lan", "there is no län "+code); ok {
			serveRef(w, r, doc)
		}
	})
	mux.HandleFunc("GET /v1/kommuner/{kommun}", func(w http.ResponseWriter, r *http.Request) {
		code := r.PathValue("kommun")
		if doc, ok := kommunCode.lookup(w, docs.kommun, code, codes.NotFound, "", "kommuner/"+code+" does not exist"); ok {
			serveRef(w, r, doc)
		}
	})
}

// serveRef writes a document, or 304 when the client holds it already.
func serveRef(w http.ResponseWriter, r *http.Request, doc refDocument) {
	h := w.Header()
	h.Set("ETag", doc.etag)
	h.Set("Cache-Control", refdataCacheControl)
	if etagMatches(r.Header.Values("If-None-Match"), doc.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(doc.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(doc.body)
	}
}

// etagMatches applies If-None-Match (RFC 9110 section 13.1.2: a list of
// entity tags or `*`, compared weakly).
func etagMatches(headers []string, etag string) bool {
	for _, h := range headers {
		for tag := range strings.SplitSeq(h, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// refError writes an error as every JSON route does: a google.rpc.Status,
// with a BadRequest naming the field for a malformed one.
func refError(w http.ResponseWriter, code codes.Code, field, desc string) {
	st := status.New(code, desc)
	if field != "" {
		if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: field, Description: desc},
		}}); err == nil {
			st = d
		}
	}
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		http.Error(w, desc, http.StatusInternalServerError)
		return
	}
	httpStatus := http.StatusBadRequest
	if code == codes.NotFound {
		httpStatus = http.StatusNotFound
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}
