// Package listing turns the AIP list-request fields (page_size, page_token,
// filter) into SQL, once for every service. Filters follow AIP-160 as parsed
// and type-checked by go.einride.tech/aip; only declared fields can be named,
// and values always travel as bind parameters.
package listing

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"go.einride.tech/aip/filtering"
	"go.einride.tech/aip/pagination"
	expr "google.golang.org/genproto/googleapis/api/expr/v1alpha1"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Page is the window a list request asks for.
type Page struct {
	// Offset is the number of rows to skip.
	Offset int64
	// Size is the number of rows to return.
	Size  int32
	token pagination.PageToken
}

// Default and largest page sizes, as AIP-158 suggests documenting.
const (
	DefaultSize = 50
	MaxSize     = 1000
)

// ParsePage reads page_size and page_token. A token from a request with other
// parameters (another filter, say) is rejected, as AIP-158 requires, and so
// is one that was not issued by this platform: tokens are signed, so an
// offset cannot be forged or changed.
func ParsePage(req pagination.Request) (Page, error) {
	inner, ok := verifyToken(req.GetPageToken())
	if !ok {
		return Page{}, badrequest.Field("page_token", "not a page token from this list with these parameters")
	}
	token, err := pagination.ParsePageToken(innerReq{Request: req, token: inner})
	if err != nil || token.Offset < 0 {
		return Page{}, badrequest.Field("page_token", "not a page token from this list with these parameters")
	}
	size := req.GetPageSize()
	switch {
	case size < 0:
		return Page{}, badrequest.Field("page_size", "must not be negative")
	case size == 0:
		size = DefaultSize
	case size > MaxSize:
		size = MaxSize
	}
	return Page{Offset: token.Offset, Size: size, token: token}, nil
}

// innerReq hands pagination the token without its signature.
type innerReq struct {
	pagination.Request
	token string
}

func (r innerReq) GetPageToken() string { return r.token }

// Limit is the SQL LIMIT to use: one more than the page, to learn whether
// another page follows without counting.
func (p Page) Limit() int { return int(p.Size) + 1 }

// Trim cuts the extra row fetched by Limit and returns the rows to send with
// the token of the next page ("" on the last page).
func Trim[T any](p Page, rows []T) ([]T, string) {
	if len(rows) <= int(p.Size) {
		return rows, ""
	}
	return rows[:p.Size], signToken(p.token.Next(req{size: p.Size}).String())
}

// Items is Trim with each row kept converted to what the response lists:
// the items of the page and the token of the next one.
func Items[T, P any](p Page, rows []T, convert func(T) P) ([]P, string) {
	rows, next := Trim(p, rows)
	out := make([]P, 0, len(rows))
	for _, r := range rows {
		out = append(out, convert(r))
	}
	return out, next
}

// req adapts a page size to pagination's Next, which only reads the size.
type req struct {
	pagination.Request
	size int32
}

func (r req) GetPageSize() int32 { return r.size }

// Field declares one filterable field: its name in filters and the SQL
// expression it stands for.
type Field struct {
	SQL string
	// Int marks an integer field; others are strings.
	Int bool
	// Check, when set, refuses a value no row can have (an unknown kommun
	// code, an impossible date) in an = or != comparison, so the filter is
	// a 400 rather than an empty page.
	Check func(value string) error
	// Kind, when set, is checked in every comparison (a date field's values
	// must be dates whatever the operator); it is also Check.
	Kind func(value string) error
}

// Kommun checks a kommun code against the reference data; Lan a län code;
// Date a YYYY-MM-DD date.
var (
	Kommun = func(v string) error {
		if _, ok := refdata.KommunByCode(v); !ok {
			return fmt.Errorf("unknown kommun code %q", v)
		}
		return nil
	}
	Lan = func(v string) error {
		if _, ok := refdata.LanByCode(v); !ok {
			return fmt.Errorf("unknown län code %q", v)
		}
		return nil
	}
	Date = func(v string) error {
		if _, err := clock.ParseDate(v); err != nil {
			return fmt.Errorf("%q is not a date (YYYY-MM-DD)", v)
		}
		return nil
	}
)

// Filter is a parsed filter ready for a WHERE clause.
type Filter struct {
	// SQL is a boolean expression with ? placeholders, or "1=1" when the
	// request has no filter.
	SQL  string
	Args []any
}

// ParseFilter parses the request's filter against the declared fields.
// Comparisons (=, !=, <, <=, >, >=) of a field with a literal, joined by AND,
// OR and NOT, are supported. Errors name the field "filter".
func ParseFilter(r filtering.Request, fields map[string]Field) (Filter, error) {
	if strings.TrimSpace(r.GetFilter()) == "" {
		return Filter{SQL: "1=1"}, nil
	}
	// A field can be named as in the protos (kommun_code) or as in JSON
	// (kommunCode).
	all := make(map[string]Field, 2*len(fields))
	opts := []filtering.DeclarationOption{filtering.DeclareStandardFunctions()}
	for name, f := range fields {
		t := filtering.TypeString
		if f.Int {
			t = filtering.TypeInt
		}
		for _, n := range []string{name, lowerCamel(name)} {
			if _, dup := all[n]; dup {
				continue
			}
			all[n] = f
			opts = append(opts, filtering.DeclareIdent(n, t))
		}
	}
	decls, err := filtering.NewDeclarations(opts...)
	if err != nil {
		return Filter{}, fmt.Errorf("filter declarations: %w", err)
	}
	parsed, err := filtering.ParseFilter(r, decls)
	if err != nil {
		return Filter{}, badrequest.Field("filter", explain(err, fields))
	}
	var b builder
	if err := b.expr(parsed.CheckedExpr.GetExpr(), all); err != nil {
		return Filter{}, badrequest.Field("filter", err.Error()+"; "+allowed(fields))
	}
	return Filter{SQL: b.sql.String(), Args: b.args}, nil
}

var (
	undeclared = regexp.MustCompile(`undeclared identifier '([^']*)'`)
	noOverload = regexp.MustCompile(`no matching overload|unexpected type|type mismatch`)
)

// explain turns the filter library's errors (CEL checker wording) into a
// sentence for the client, with what may be used instead.
func explain(err error, fields map[string]Field) string {
	msg := err.Error()
	switch {
	case undeclared.MatchString(msg):
		return fmt.Sprintf("unknown field %q; %s", undeclared.FindStringSubmatch(msg)[1], allowed(fields))
	case noOverload.MatchString(msg):
		return "a value has the wrong type for its field (text in double quotes, whole numbers without); " + allowed(fields)
	}
	return "not a filter this list understands (write it as field = \"value\", joined by AND, OR, NOT); " + allowed(fields)
}

func allowed(fields map[string]Field) string {
	names := make([]string, 0, len(fields))
	for name, f := range fields {
		kind := "text"
		if f.Int {
			kind = "number"
		}
		names = append(names, name+" ("+kind+")")
	}
	sort.Strings(names)
	return "fields: " + strings.Join(names, ", ") + "; operators: =, !=, <, <=, >, >=, AND, OR, NOT"
}

// lowerCamel is the JSON name of a proto field name.
func lowerCamel(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			b.WriteRune(unicode.ToUpper(r))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

type builder struct {
	sql  strings.Builder
	args []any
}

var comparisons = map[string]string{
	filtering.FunctionEquals:        "=",
	filtering.FunctionNotEquals:     "<>",
	filtering.FunctionLessThan:      "<",
	filtering.FunctionLessEquals:    "<=",
	filtering.FunctionGreaterThan:   ">",
	filtering.FunctionGreaterEquals: ">=",
}

func (b *builder) expr(e *expr.Expr, fields map[string]Field) error {
	call := e.GetCallExpr()
	if call == nil {
		return fmt.Errorf("expected a comparison such as kommun_code = \"0180\"")
	}
	switch fn := call.GetFunction(); fn {
	case filtering.FunctionAnd, filtering.FunctionOr, filtering.FunctionFuzzyAnd:
		op := " AND "
		if fn == filtering.FunctionOr {
			op = " OR "
		}
		b.sql.WriteString("(")
		for i, arg := range call.GetArgs() {
			if i > 0 {
				b.sql.WriteString(op)
			}
			if err := b.expr(arg, fields); err != nil {
				return err
			}
		}
		b.sql.WriteString(")")
		return nil
	case filtering.FunctionNot:
		b.sql.WriteString("NOT ")
		return b.expr(call.GetArgs()[0], fields)
	default:
		op, ok := comparisons[fn]
		if !ok || len(call.GetArgs()) != 2 {
			return fmt.Errorf("operator %q is not supported", fn)
		}
		ident := call.GetArgs()[0].GetIdentExpr()
		lit := call.GetArgs()[1].GetConstExpr()
		if ident == nil || lit == nil {
			return fmt.Errorf("compare a field with a literal value, field first")
		}
		f := fields[ident.GetName()]
		if f.Kind != nil && f.Check == nil {
			f.Check = f.Kind
		}
		b.sql.WriteString(f.SQL + " " + op + " ?")
		if f.Int {
			b.args = append(b.args, lit.GetInt64Value())
		} else {
			// Equality names a value; a range bound need not exist, but
			// must still be a value of the field's kind (a real date).
			if f.Check != nil && (op == "=" || op == "<>" || f.Kind != nil) {
				if err := f.Check(lit.GetStringValue()); err != nil {
					return fmt.Errorf("%s: %w", ident.GetName(), err)
				}
			}
			b.args = append(b.args, lit.GetStringValue())
		}
		return nil
	}
}
