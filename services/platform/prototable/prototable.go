// Package prototable lays a protobuf response out as the lines of a table:
// what the REST edge's generic CSV download and a service's own spreadsheet
// (statistics') have in common. Which columns a table has, and what a cell
// says, is theirs to decide; which messages are its lines, and which cells a
// spreadsheet must not evaluate, is decided here once.
package prototable

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Line is one line of a table: a row and the field of the response that
// holds it.
type Line struct {
	Field protoreflect.FieldDescriptor
	Row   protoreflect.Message
}

// Lines returns the lines of m whose rows are of list's message type: those
// of m's fields of that type (a report's rows, subtotals and totals), in
// field order, each element of a repeated one and a singular one when set;
// with others false, m's repeated fields of the type other than list are
// left out. sources are the fields the lines may come from, set or not, so
// a table can tell whether it has several kinds of line even when some are
// empty.
func Lines(m protoreflect.Message, list protoreflect.FieldDescriptor, others bool) (sources []protoreflect.FieldDescriptor, lines []Line) {
	rowType := list.Message().FullName()
	fs := m.Descriptor().Fields()
	for i := range fs.Len() {
		f := fs.Get(i)
		if f.Message() == nil || f.Message().FullName() != rowType || f.IsMap() {
			continue
		}
		if f == list || !f.IsList() || others {
			sources = append(sources, f)
		}
	}
	for _, f := range sources {
		if !f.IsList() {
			if m.Has(f) {
				lines = append(lines, Line{f, m.Get(f).Message()})
			}
			continue
		}
		l := m.Get(f).List()
		for i := range l.Len() {
			lines = append(lines, Line{f, l.Get(i).Message()})
		}
	}
	return sources, lines
}

// Neutralise defuses formula injection (OWASP "CSV Injection"): a cell that
// a spreadsheet program would evaluate, one starting with =, +, -, @, a tab
// or a carriage return, gets a leading apostrophe, which spreadsheets show
// as text and do not display. A plain number is left alone, so that -3 and
// +46 stay numbers: a number, with an optional sign and one decimal mark
// (point or comma), cannot call a function or reach another cell.
func Neutralise(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) || plainNumber(s) {
		return s
	}
	return "'" + s
}

// plainNumber: [+-]digits[(.|,)digits].
func plainNumber(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if !hasFrac {
		intPart, frac, hasFrac = strings.Cut(s, ",")
	}
	digits := func(p string) bool {
		if p == "" {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	return digits(intPart) && (!hasFrac || digits(frac))
}
