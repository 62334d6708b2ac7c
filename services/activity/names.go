package activity

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"buf.build/go/protovalidate"
	"go.einride.tech/aip/filtering"
	"go.einride.tech/aip/ordering"
	"go.einride.tech/aip/pagination"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/refdata"
	"github.com/tia-platform/tia/services/platform/resname"
)

// The registry's resource names (resname parses them once for every
// service).
var (
	organiserName   = resname.New("organisers/{organiser}")
	activityName    = resname.New("organisers/{organiser}/activities/{activity}")
	certificateName = resname.New("organisers/{organiser}/activities/{activity}/certificates/{certificate}")
	agreementName   = resname.New("lan/{lan}/agreements/{agreement}")
	lanName         = resname.New("lan/{lan}")
	coverageName    = resname.New("lan/{lan}/coverage")
	scheduleName    = resname.New("lan/{lan}/folkbildningReportSchedule")
)

// admit admits a caller in one of roles (none: any signed-in caller), then
// parses the resource name the request carries in field: the first step of
// most handlers, in that order (who asks is answered before what is asked).
func admit(ctx context.Context, pattern resname.Pattern, field, name string, roles ...auth.Role) (auth.Principal, []string, error) {
	p, err := auth.Require(ctx, roles...)
	if err != nil {
		return auth.Principal{}, nil, err
	}
	vars, err := pattern.Parse(field, name)
	if err != nil {
		return auth.Principal{}, nil, err
	}
	return p, vars, nil
}

// A listSpec is what one List method may filter and order by.
type listSpec struct {
	fields  map[string]listing.Field
	columns map[string]string // for orderBy
	codes   bool              // the filter's län and kommun codes must exist (checkFilterCodes)
}

// listQuery is what a list request asks for beyond its parent.
type listQuery struct {
	page   listing.Page
	filter listing.Filter
	order  string // the start of an ORDER BY list, see orderBy
}

type listRequest interface {
	pagination.Request
	filtering.Request
	ordering.Request
}

// parse reads the page, filter and order_by of req.
func (l listSpec) parse(req listRequest) (listQuery, error) {
	var q listQuery
	var err error
	if q.page, err = listing.ParsePage(req); err != nil {
		return q, err
	}
	if q.filter, err = listing.ParseFilter(req, l.fields); err != nil {
		return q, err
	}
	if l.codes {
		if err := checkFilterCodes(req.GetFilter()); err != nil {
			return q, err
		}
	}
	q.order, err = orderBy(req, l.columns)
	return q, err
}

// validator checks the rules declared in the protos. The interceptor chain
// applies them to every request; the handlers apply them again to what a
// change would store (an update merged into the stored resource), after
// deciding whether the caller may make it.
var validator = func() protovalidate.Validator {
	v, err := protovalidate.New()
	if err != nil {
		panic("activity: protovalidate: " + err.Error())
	}
	return v
}()

// validate checks msg against its declared rules; violations are named
// under prefix ("activity" gives "activity.title").
func validate(prefix string, msg proto.Message) error {
	err := validator.Validate(msg)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	var v badrequest.Violations
	for _, viol := range verr.Violations {
		path := protovalidate.FieldPathString(viol.Proto.GetField())
		if prefix != "" {
			path = prefix + "." + path
		}
		v.Add(path, viol.Proto.GetMessage())
	}
	return v.Err()
}

// updatePaths reads an update mask against the fields that may change: "*"
// (AIP-134) means all of them; an empty mask or an unknown field is a
// violation of update_mask that lists the changeable ones.
func updatePaths(paths []string, changeable []string) ([]string, error) {
	if len(paths) == 1 && paths[0] == "*" {
		return changeable, nil
	}
	if len(paths) == 0 {
		return nil, badrequest.Field("update_mask", "name the fields to change ("+strings.Join(changeable, ", ")+") or * for all")
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		f := snake(p)
		if !contains(changeable, f) {
			return nil, badrequest.Field("update_mask", "cannot change "+quote(p)+"; changeable: "+strings.Join(changeable, ", ")+", or * for all")
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// merge copies the fields named in paths from src into dst (both the same
// message type): a field unset in src is cleared in dst, as AIP-134 says.
func merge(dst, src proto.Message, paths []string) {
	d, s := dst.ProtoReflect(), src.ProtoReflect()
	for _, p := range paths {
		fd := d.Descriptor().Fields().ByName(protoreflect.Name(p))
		if fd == nil {
			continue // updatePaths admits only fields that exist
		}
		if s.Has(fd) {
			d.Set(fd, s.Get(fd))
		} else {
			d.Clear(fd)
		}
	}
}

// orderBy turns an AIP-132 order_by into the start of an ORDER BY list
// ("start_date DESC, "), with columns the fields that may be named (given
// as the API names them, snake_case; camelCase is read too). Empty when the
// request names none.
func orderBy(req ordering.Request, columns map[string]string) (string, error) {
	if strings.TrimSpace(req.GetOrderBy()) == "" {
		return "", nil
	}
	names := make([]string, 0, len(columns))
	for n := range columns {
		names = append(names, n)
	}
	sort.Strings(names)
	allowed := "order by " + strings.Join(names, ", ") + ", each optionally followed by \" desc\""
	ob, err := ordering.ParseOrderBy(req)
	if err != nil {
		return "", badrequest.Field("order_by", "not an ordering this list understands; "+allowed)
	}
	var b strings.Builder
	for _, f := range ob.Fields {
		col, ok := columns[snake(f.Path)]
		if !ok {
			return "", badrequest.Field("order_by", "cannot order by "+quote(f.Path)+"; "+allowed)
		}
		b.WriteString(col)
		if f.Desc {
			b.WriteString(" DESC")
		}
		b.WriteString(", ")
	}
	return b.String(), nil
}

// codeInFilter finds the values a filter compares a län or kommun code
// with (field = "value" or !=), in any spelling of the field.
var codeInFilter = regexp.MustCompile(`\b(lan_code|lanCode|kommun_code|kommunCode)\s*(=|!=)\s*"([^"]*)"`)

// checkFilterCodes refuses a filter that compares a län or kommun code with
// a code that does not exist: an unknown code is a mistake, which an empty
// answer would hide.
func checkFilterCodes(filter string) error {
	for _, m := range codeInFilter.FindAllStringSubmatch(filter, -1) {
		field, value := snake(m[1]), m[3]
		switch field {
		case "lan_code":
			if _, ok := refdata.LanByCode(value); !ok {
				return badrequest.Field("filter", "unknown län code "+quote(value)+" in lan_code")
			}
		case "kommun_code":
			if _, ok := refdata.KommunByCode(value); !ok {
				return badrequest.Field("filter", "unknown kommun code "+quote(value)+" in kommun_code")
			}
		}
	}
	return nil
}

// snake writes a lowerCamel field name in snake_case ("startDate" →
// "start_date"); snake_case stays as it is.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quote(s string) string { return "\"" + s + "\"" }
