package domain

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/tia-platform/tia/services/statistics/internal/ckm"
)

// Column names of the CSV files, in Swedish as in Migrationsverket's
// spreadsheets. Headers are matched case-insensitively and in any order.
const (
	ColKommun   = "kommunkod"
	ColHousing  = "boendeform"
	ColSex      = "kön"
	ColBirth    = "födelsedatum"
	ColAgeBand  = "åldersgrupp"
	ColCount    = "antal"
	summaryFile = "fil"
)

// PersonColumns and CellColumns are the columns of the two import forms.
var (
	PersonColumns = []string{ColKommun, ColHousing, ColSex, ColBirth}
	CellColumns   = []string{ColKommun, ColHousing, ColSex, ColAgeBand, ColCount}
)

// Limits bound one import, so a runaway upload cannot exhaust the service.
type Limits struct {
	// MaxBytes is the most CSV bytes read; 0 means no limit.
	MaxBytes int64
	// MaxRows is the most rows (lines after the header); 0 means no limit.
	MaxRows int64
}

// DefaultLimits fit the 2016 peak (about 180,000 adults) many times over
// and a full benchmark file of a million rows.
var DefaultLimits = Limits{MaxBytes: 256 << 20, MaxRows: 5_000_000}

// Import counts a streamed import into a Grid. Rows arrive as CSV text
// (ReadCSV) or one by one (AddPerson, AddCell); mistakes are recorded with
// the line (or row) and column they are on, and reading stops once
// MaxViolations are recorded. Nothing is kept of a row once it is counted.
type Import struct {
	referenceDate string
	ry, rm, rd    int
	persons       bool
	limits        Limits
	grid          Grid
	keys          Keys
	recordKeys    *ckm.KeySource
	firstLine     []int32 // cells import: the line that set each cell, for duplicates
	v             capped
	// readers count the lines of a person import in parallel, in pieces
	// of blockSize bytes (1: in the calling goroutine alone).
	readers, blockSize int

	// Rows is the number of rows read; Under18 the people left out for
	// being under 18 on the reference date (person imports only).
	Rows, Under18 int64
}

// NewPersonImport starts an import of a person-level extract for
// referenceDate, which must be a real date.
func NewPersonImport(referenceDate string, l Limits) *Import {
	return newImport(referenceDate, l, true)
}

// NewCellImport starts an import of pre-aggregated cells.
func NewCellImport(referenceDate string, l Limits) *Import {
	im := newImport(referenceDate, l, false)
	im.firstLine = make([]int32, GridSize)
	return im
}

func newImport(referenceDate string, l Limits, persons bool) *Import {
	y, m, d, _ := parseDate(referenceDate)
	return &Import{
		referenceDate: referenceDate, ry: y, rm: m, rd: d, persons: persons, limits: l,
		grid: NewGrid(), keys: NewKeys(), recordKeys: ckm.NewKeySource(), v: capped{max: MaxViolations, summary: summaryFile},
		readers: min(runtime.GOMAXPROCS(0), maxReaders), blockSize: defaultBlockSize,
	}
}

// Stopped reports whether enough is wrong that reading on is pointless.
func (im *Import) Stopped() bool { return im.v.n >= im.v.max }

// Fail records a problem found outside the rows (a missing header, say).
func (im *Import) Fail(field, description string) { im.v.add(field, description) }

// Finish returns the counted grid, or the recorded problems as an
// InvalidArgument error with one field violation each.
func (im *Import) Finish() (Grid, error) {
	switch {
	case im.v.n > 0:
	case im.Rows == 0:
		im.v.add(summaryFile, "no rows: an empty import would wipe the snapshot")
	case im.grid.Total() == 0:
		// Whatever the file held (only zeros, only minors), a snapshot of
		// nobody would wipe the figures; far more likely a broken file.
		what := "every count is 0"
		if im.persons {
			what = fmt.Sprintf("all %d people are under 18", im.Rows)
		}
		im.v.add(summaryFile, what+": a snapshot with no adults would wipe the figures")
	}
	if err := im.v.err(); err != nil {
		return nil, err
	}
	return im.grid, nil
}

// Keys are the cell keys of the grid Finish returns: each cell's sum of its
// people's record keys. A record key is drawn for each person as they are
// counted and kept only in that sum.
func (im *Import) Keys() Keys { return im.keys }

// at names a place in the input for a field violation.
func at(label string, line int, column string) string {
	return fmt.Sprintf("%s %d, column %s", label, line, column)
}

// countRow counts a row against MaxRows, recording the overflow once.
func (im *Import) countRow(label string, line int) bool {
	im.Rows++
	if im.limits.MaxRows > 0 && im.Rows > im.limits.MaxRows {
		im.v.add(fmt.Sprintf("%s %d", label, line), fmt.Sprintf("more than %d rows, the configured limit for one import", im.limits.MaxRows))
		im.v.n = im.v.max // nothing after this is worth reading
		return false
	}
	return true
}

// AddPerson counts one person. label and line name the row in violations
// ("line", 17 or "row", 3). An empty housing or sex is reported as missing.
func (im *Import) AddPerson(label string, line int, kommun string, housing HousingType, sex Sex, birth string) {
	if !im.countRow(label, line) {
		return
	}
	k, okK := kommunIndex[kommun]
	if !okK {
		im.v.add(at(label, line, ColKommun), unknownOrMissing("kommun code", kommun))
	}
	h := slices.Index(HousingTypes, housing)
	if h < 0 {
		im.v.add(at(label, line, ColHousing), unknownOrMissing("housing type", string(housing))+" (ABE, EBO or ÖVRIGT)")
	}
	s := slices.Index(Sexes, sex)
	if s < 0 {
		im.v.add(at(label, line, ColSex), unknownOrMissing("sex", string(sex))+" (kvinna or man)")
	}
	y, m, d, okD := parseDate(birth)
	age := 0
	switch {
	case !okD:
		im.v.add(at(label, line, ColBirth), fmt.Sprintf("%q is not a date (YYYY-MM-DD)", birth))
	default:
		age = im.ry - y
		if im.rm < m || im.rm == m && im.rd < d {
			age--
		}
		if age < 0 {
			im.v.add(at(label, line, ColBirth), fmt.Sprintf("%s is after the reference date %s", birth, im.referenceDate))
			okD = false
		}
	}
	if !okK || h < 0 || s < 0 || !okD {
		return
	}
	if age < 18 {
		im.Under18++
		return
	}
	i := index(k, h, s, ageBandIndex(age))
	im.grid[i]++
	im.keys[i] += im.recordKeys.Next()
}

// AddCell counts one pre-aggregated cell; a cell given twice is refused.
func (im *Import) AddCell(label string, line int, c Cell) {
	if !im.countRow(label, line) {
		return
	}
	k, okK := kommunIndex[c.KommunCode]
	if !okK {
		im.v.add(at(label, line, ColKommun), unknownOrMissing("kommun code", c.KommunCode))
	}
	h := slices.Index(HousingTypes, c.Housing)
	if h < 0 {
		im.v.add(at(label, line, ColHousing), unknownOrMissing("housing type", string(c.Housing))+" (ABE, EBO or ÖVRIGT)")
	}
	s := slices.Index(Sexes, c.Sex)
	if s < 0 {
		im.v.add(at(label, line, ColSex), unknownOrMissing("sex", string(c.Sex))+" (kvinna or man)")
	}
	a := slices.Index(AgeBands, c.AgeBand)
	if a < 0 {
		im.v.add(at(label, line, ColAgeBand), unknownOrMissing("age band", string(c.AgeBand))+" (18-24, 25-34, 35-44, 45-54, 55-64 or 65+)")
	}
	switch {
	case c.Count < 0:
		im.v.add(at(label, line, ColCount), "must not be negative")
	case c.Count > MaxCount:
		im.v.add(at(label, line, ColCount), fmt.Sprintf("must be at most %d", MaxCount))
	}
	if !okK || h < 0 || s < 0 || a < 0 || c.Count < 0 || c.Count > MaxCount {
		return
	}
	i := index(k, h, s, a)
	if first := im.firstLine[i]; first != 0 {
		im.v.add(fmt.Sprintf("%s %d", label, line), fmt.Sprintf("repeats the kommun, housing type, sex and age band of %s %d", label, first))
		return
	}
	im.firstLine[i] = int32(line)
	im.grid[i] = c.Count
	// The people of a pre-aggregated cell are not known one by one; their
	// keys' sum is uniform all the same, so one draw stands for it.
	im.keys[i] = im.recordKeys.RandomKey(c.Count)
}

func unknownOrMissing(what, value string) string {
	value = strings.TrimPrefix(value, "?")
	if value == "" {
		return "missing " + what
	}
	return fmt.Sprintf("unknown %s %q", what, value)
}

// errTooLarge stops the CSV reader at MaxBytes.
var errTooLarge = errors.New("over the size limit")

type limitedReader struct {
	r     io.Reader
	left  int64
	limit bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if !l.limit {
		return l.r.Read(p)
	}
	if l.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// ReadCSV reads the whole import from r as CSV: a header line naming the
// columns (PersonColumns or CellColumns, in any order, case-insensitive),
// then one row a line, separated by commas or semicolons (as Excel writes
// them in Sweden). It reads as it goes and keeps no line. Errors from r
// other than EOF are returned; mistakes in the content are recorded.
func (im *Import) ReadCSV(r io.Reader) error {
	lr := &limitedReader{r: r, left: im.limits.MaxBytes, limit: im.limits.MaxBytes > 0}
	br := bufio.NewReaderSize(lr, 64<<10)
	comma := byte(',')
	if head, _ := br.Peek(4096); bytes.IndexByte(firstLine(head), ';') >= 0 && bytes.IndexByte(firstLine(head), ',') < 0 {
		comma = ';'
	}
	lines := &lineReader{br: br, comma: comma}
	want := im.columns()
	pos, ok := im.readHeader(lines, want)
	if !ok {
		return nil
	}
	if im.persons && im.readers > 1 {
		return im.readPersonsParallel(br, lines.line+1, comma, pos)
	}
	_, err := im.readRecords(lines, pos)
	return err
}

// columns are the columns of the import's form.
func (im *Import) columns() []string {
	if im.persons {
		return PersonColumns
	}
	return CellColumns
}

// readRecords counts the records lines gives until they end or the import
// stops. It reports whether reading is over for the whole import (a
// mistake that ends it, such as the size limit or broken CSV) as opposed
// to the end of lines.
func (im *Import) readRecords(lines *lineReader, pos []int) (ended bool, err error) {
	want := im.columns()
	f := make([][]byte, len(want))
	for !im.Stopped() {
		line, rec, err := lines.next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return true, im.readFailed(line, err)
		}
		if len(rec) > len(pos) {
			im.countRow("line", line)
			im.v.add(fmt.Sprintf("line %d", line), fmt.Sprintf("has %d columns, the header has %d", len(rec), len(pos)))
			continue
		}
		if len(rec) < len(pos) {
			im.countRow("line", line)
			// Name the first missing column: the line was cut short.
			for c, p := range pos {
				if p >= len(rec) {
					im.v.add(at("line", line, want[c]), fmt.Sprintf("missing: the line ends after %d of %d columns", len(rec), len(pos)))
					break
				}
			}
			continue
		}
		for c, p := range pos {
			f[c] = bytes.TrimSpace(rec[p])
		}
		if im.persons {
			if !im.fastPerson(line, f[0], f[1], f[2], f[3]) {
				im.AddPerson("line", line, string(f[0]), ParseHousing(string(f[1])), ParseSex(string(f[2])), string(f[3]))
			}
			continue
		}
		n, err := strconv.ParseInt(string(f[4]), 10, 64)
		if err != nil {
			im.countRow("line", line)
			im.v.add(at("line", line, ColCount), fmt.Sprintf("%q is not a whole number", f[4]))
			continue
		}
		im.AddCell("line", line, Cell{KommunCode: string(f[0]), Housing: ParseHousing(string(f[1])), Sex: ParseSex(string(f[2])),
			AgeBand: ParseAgeBand(string(f[3])), Count: n})
	}
	return true, nil
}

// readFailed records a reading error at line as a violation where it is a
// mistake of the file (over the size limit, broken CSV) and returns any
// other (the stream broke).
func (im *Import) readFailed(line int, err error) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, errTooLarge):
		im.v.add(fmt.Sprintf("line %d", line), fmt.Sprintf("the file is larger than %d bytes, the configured limit for one import", im.limits.MaxBytes))
		return nil
	case errors.As(err, &pe):
		im.v.add(fmt.Sprintf("line %d", line), fmt.Sprintf("not valid CSV at character %d: %v", pe.Column, pe.Err))
		return nil
	}
	return err
}

// fastPerson counts a well-formed person line without allocating and
// reports false for anything unusual, which AddPerson then reads with full
// checks and messages.
func (im *Import) fastPerson(line int, kommun, housing, sex, birth []byte) bool {
	cell, ok := im.classify(kommun, housing, sex, birth)
	if !ok {
		return false
	}
	if !im.countRow("line", line) {
		return true
	}
	if cell < 0 {
		im.Under18++
		return true
	}
	im.grid[cell]++
	im.keys[cell] += im.recordKeys.Next()
	return true
}

// classify gives the cell of a well-formed person line, -1 for someone
// under 18 on the reference date, and false for anything unusual. It only
// reads the import, so the readers of a parallel import share it.
func (im *Import) classify(kommun, housing, sex, birth []byte) (int, bool) {
	k, ok := kommunIndex[string(kommun)]
	if !ok {
		return 0, false
	}
	h, s := -1, -1
	switch string(housing) {
	case "ABE":
		h = 0
	case "EBO":
		h = 1
	case "ÖVRIGT", "OVRIGT":
		h = 2
	}
	switch string(sex) {
	case "kvinna":
		s = 0
	case "man":
		s = 1
	}
	y, m, d, okD := parseDate(birth)
	if h < 0 || s < 0 || !okD {
		return 0, false
	}
	age := im.ry - y
	if im.rm < m || im.rm == m && im.rd < d {
		age--
	}
	switch {
	case age < 0:
		return 0, false
	case age < 18:
		return -1, true
	}
	return index(k, h, s, ageBandIndex(age)), true
}

// lineReader splits CSV text into records, one a line, keeping the line
// numbers. Fields are slices of its buffer, valid until the next call.
// Lines without quotes (all of a machine-written extract) are split
// directly; a line with quotes goes through encoding/csv. A quoted field
// may not span lines.
type lineReader struct {
	br     *bufio.Reader
	comma  byte
	line   int
	long   []byte
	fields [][]byte
}

// next returns the next non-empty record and its line number (on an error,
// the number of the line being read).
func (l *lineReader) next() (int, [][]byte, error) {
	for {
		b, err := l.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			l.long = append(l.long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = l.br.ReadSlice('\n')
				l.long = append(l.long, b...)
			}
			b = l.long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return l.line + 1, nil, err
		}
		if len(b) == 0 && err != nil {
			return l.line + 1, nil, io.EOF
		}
		l.line++
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		if len(b) == 0 {
			continue
		}
		if bytes.IndexByte(b, '"') >= 0 {
			cr := csv.NewReader(bytes.NewReader(b))
			cr.Comma = rune(l.comma)
			cr.FieldsPerRecord = -1
			rec, perr := cr.Read()
			if perr != nil {
				return l.line, nil, perr
			}
			l.fields = l.fields[:0]
			for _, f := range rec {
				l.fields = append(l.fields, []byte(f))
			}
			return l.line, l.fields, nil
		}
		l.fields = appendFields(l.fields[:0], b, l.comma)
		return l.line, l.fields, nil
	}
}

// appendFields appends the fields of line, which has no quotes, split at
// comma.
func appendFields(fields [][]byte, line []byte, comma byte) [][]byte {
	for {
		i := bytes.IndexByte(line, comma)
		if i < 0 {
			return append(fields, line)
		}
		fields, line = append(fields, line[:i]), line[i+1:]
	}
}

// readHeader maps the header's columns to want: pos[i] is the position of
// want[i] in the file.
func (im *Import) readHeader(lines *lineReader, want []string) ([]int, bool) {
	_, fields, err := lines.next()
	switch {
	case err == io.EOF:
		im.v.add("line 1", "empty file: expected the header "+strings.Join(want, ","))
		return nil, false
	case errors.Is(err, errTooLarge):
		im.v.add("line 1", fmt.Sprintf("the file is larger than %d bytes, the configured limit for one import", im.limits.MaxBytes))
		return nil, false
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			im.v.add("line 1", fmt.Sprintf("not valid CSV: %v", pe.Err))
			return nil, false
		}
		im.v.add("line 1", err.Error())
		return nil, false
	}
	rec := make([]string, len(fields))
	for i, f := range fields {
		rec[i] = string(f)
	}
	pos := make([]int, len(want))
	for i := range pos {
		pos[i] = -1
	}
	for i, name := range rec {
		n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		found := false
		for j, w := range want {
			if n == w {
				if pos[j] >= 0 {
					im.v.add(fmt.Sprintf("line 1, column %d", i+1), fmt.Sprintf("column %q appears twice", w))
				}
				pos[j] = i
				found = true
			}
		}
		if !found {
			im.v.add(fmt.Sprintf("line 1, column %d", i+1), fmt.Sprintf("unknown column %q: the header must be %s", name, strings.Join(want, ",")))
		}
	}
	for j, p := range pos {
		if p < 0 {
			im.v.add(at("line", 1, want[j]), "missing column: the header must be "+strings.Join(want, ","))
		}
	}
	return pos, im.v.n == 0
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// ParseHousing reads a housing type as written in the files: ABE, EBO,
// ÖVRIGT (or OVRIGT), in any case. It returns "" for anything else.
func ParseHousing(s string) HousingType {
	switch strings.ToUpper(s) {
	case "ABE":
		return HousingABE
	case "EBO":
		return HousingEBO
	case "ÖVRIGT", "OVRIGT":
		return HousingOvrigt
	}
	if s != "" {
		return HousingType("?" + s) // unknown, kept to name it in the error
	}
	return ""
}

// ParseSex reads kvinna/man (or K/M) in any case; "" for anything else.
func ParseSex(s string) Sex {
	switch strings.ToLower(s) {
	case "kvinna", "k":
		return SexKvinna
	case "man", "m":
		return SexMan
	}
	if s != "" {
		return Sex("?" + s)
	}
	return ""
}

// ParseAgeBand reads 18-24 (or with an en dash) … 65+.
func ParseAgeBand(s string) AgeBand {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "–", "-"), " ", "")
	switch s {
	case "65-", "65+":
		return Age65Plus
	}
	for _, a := range AgeBands {
		if string(a) == s {
			return a
		}
	}
	if s != "" {
		return AgeBand("?" + s)
	}
	return ""
}

// ageBandIndex gives the band of an adult's age.
func ageBandIndex(age int) int {
	switch {
	case age < 25:
		return 0
	case age < 35:
		return 1
	case age < 45:
		return 2
	case age < 55:
		return 3
	case age < 65:
		return 4
	}
	return 5
}

// AgeBandOf returns the band of an age of 18 or more.
func AgeBandOf(age int) AgeBand { return AgeBands[ageBandIndex(age)] }

var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// parseDate reads YYYY-MM-DD without allocating and checks the day exists.
func parseDate[T ~string | ~[]byte](s T) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	num := func(b T) (int, bool) {
		n := 0
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	var ok1, ok2, ok3 bool
	y, ok1 = num(s[:4])
	m, ok2 = num(s[5:7])
	d, ok3 = num(s[8:])
	if !ok1 || !ok2 || !ok3 || y < 1850 || m < 1 || m > 12 || d < 1 || d > daysIn[m] {
		return 0, 0, 0, false
	}
	if m == 2 && d == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}
