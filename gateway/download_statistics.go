package gateway

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tia-platform/tia/services/platform/refdata"
)

// Statistics' documents: Migrationsverket's figures as the spreadsheet users
// of the agencies know them, with Swedish column names, SCB's ".." for a
// withheld figure and the labels of the dimensions.
//
// This layout belongs to the statistics service (issue 10.4: each service
// renders its own documents, the edge only carries bytes). Until statistics
// renders it, it lives here, in this one file, and nowhere else in the
// gateway: everything below is keyed on tia.statistics.v1 messages.

// isStatisticsDocument: the statistics service's responses keep this layout.
func isStatisticsDocument(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile() != nil && md.ParentFile().Package() == "tia.statistics.v1"
}

// Swedish column names for the fields of the statistics API's rows.
var swedish = map[protoreflect.Name]string{
	"reference_date":  "referensdatum",
	"lan_code":        "länskod",
	"kommun_code":     "kommunkod",
	"housing_type":    "boendeform",
	"sex":             "kön",
	"age_band":        "åldersgrupp",
	"count":           "antal",
	"from_count":      "antal_från",
	"to_count":        "antal_till",
	"change":          "förändring",
	"snapshot_count":  "antal_ögonblicksbild",
	"planned_delta":   "planerad_förändring",
	"projected_count": "beräknat_antal",
	"name":            "namn",
	"cell_count":      "celler",
	"total":           "totalt",
	"import_time":     "importerad",
	"effective_date":  "från_datum",
	"adults_delta":    "förändring_vuxna",
	"description":     "beskrivning",
	"create_time":     "registrerad",
}

// suppressionOf maps a flag of disclosure control to the counts it withholds;
// those are written ".." (SCB's mark for a figure not published), and the
// flags themselves are not written.
var suppressionOf = map[protoreflect.Name][]protoreflect.Name{
	"suppressed":        {"count", "snapshot_count", "projected_count"},
	"from_suppressed":   {"from_count"},
	"to_suppressed":     {"to_count"},
	"change_suppressed": {"change"},
}

// enumLabels are the labels spreadsheet users know.
var enumLabels = map[string]string{
	"HOUSING_TYPE_ABE": "ABE", "HOUSING_TYPE_EBO": "EBO", "HOUSING_TYPE_OVRIGT": "ÖVRIGT",
	"SEX_KVINNA": "kvinna", "SEX_MAN": "man",
	"AGE_BAND_18_24": "18–24", "AGE_BAND_25_34": "25–34", "AGE_BAND_35_44": "35–44",
	"AGE_BAND_45_54": "45–54", "AGE_BAND_55_64": "55–64", "AGE_BAND_65_PLUS": "65+",
}

// rowKinds name the part of the table a row comes from.
var rowKinds = map[string]string{"rows": "rad", "subtotals": "delsumma", "totals": "summa"}

// writeStatistics writes a statistics response: its rows, subtotals and
// totals (a response's total count as the last row), only the columns some
// row uses, kommun and län names after their codes.
func writeStatistics(w *csvWriter, m protoreflect.Message, table string) error {
	rowType, lines, err := tableOf(m, table)
	if err != nil {
		return err
	}
	for i := range lines {
		if k, ok := rowKinds[lines[i].kind]; ok {
			lines[i].kind = k
		} else if lines[i].kind == "" && rowType != m.Descriptor() {
			lines[i].kind = "rad"
		}
	}
	// A response's total (QuerySnapshotResponse.total) becomes the last row.
	fields := m.Descriptor().Fields()
	if tot := fields.ByName("total"); tot != nil && !tot.IsList() && tot.Message() == nil && rowType != m.Descriptor() {
		if count := rowType.Fields().ByName("count"); count != nil && count.Kind() == tot.Kind() {
			r := m.Get(fields.ByName(tableFieldName(m, rowType))).List().NewElement().Message()
			r.Set(count, m.Get(tot))
			if sup, rs := fields.ByName("total_suppressed"), rowType.Fields().ByName("suppressed"); sup != nil && rs != nil &&
				sup.Kind() == protoreflect.BoolKind && rs.Kind() == protoreflect.BoolKind {
				r.Set(rs, m.Get(sup))
			}
			lines = append(lines, tableLine{"summa", r})
		}
	}

	// Columns: every field set in some row, flags of disclosure control
	// excepted; kommun and län names after their codes.
	rf := rowType.Fields()
	withheld := map[protoreflect.Name]protoreflect.FieldDescriptor{}
	for flag, counts := range suppressionOf {
		if fd := rf.ByName(flag); fd != nil && fd.Kind() == protoreflect.BoolKind && !fd.IsList() {
			for _, c := range counts {
				withheld[c] = fd
			}
		}
	}
	var cols []column
	kinds := map[string]bool{}
	for _, l := range lines {
		kinds[l.kind] = true
	}
	if len(kinds) > 1 {
		cols = append(cols, column{"typ", nil})
	}
	// The reference date of a time series comes first.
	order := make([]protoreflect.FieldDescriptor, 0, rf.Len())
	if fd := rf.ByName("reference_date"); fd != nil {
		order = append(order, fd)
	}
	for i := range rf.Len() {
		if fd := rf.Get(i); fd.Name() != "reference_date" {
			order = append(order, fd)
		}
	}
	for _, fd := range order {
		if _, isFlag := suppressionOf[fd.Name()]; isFlag {
			continue
		}
		// A table shows the columns its rows use (a query grouped by län
		// has no kommun); a single message or an empty table shows all.
		used := len(lines) == 0 || rowType == m.Descriptor()
		for _, l := range lines {
			if l.row.Has(fd) {
				used = true
				break
			}
		}
		isCount := withheld[fd.Name()] != nil
		if !used && !isCount {
			continue
		}
		title := swedish[fd.Name()]
		if title == "" {
			title = fd.JSONName()
		}
		cols = append(cols, column{title, func(r protoreflect.Message) string {
			if flag := withheld[fd.Name()]; flag != nil && r.Get(flag).Bool() {
				return ".."
			}
			return statisticsCell(fd, r.Get(fd), w.dialect)
		}})
		if fd.IsList() || fd.Kind() != protoreflect.StringKind {
			continue
		}
		switch fd.Name() {
		case "kommun_code":
			cols = append(cols, column{"kommun", func(r protoreflect.Message) string {
				k, _ := refdata.KommunByCode(r.Get(fd).String())
				return k.Name
			}})
		case "lan_code":
			cols = append(cols, column{"län", func(r protoreflect.Message) string {
				l, _ := refdata.LanByCode(r.Get(fd).String())
				return l.Name
			}})
		}
	}

	line := make([]string, len(cols))
	for i, c := range cols {
		line[i] = c.title
	}
	if err := w.write(line); err != nil {
		return err
	}
	for _, l := range lines {
		for i, c := range cols {
			if c.value == nil {
				line[i] = l.kind
				continue
			}
			line[i] = c.value(l.row)
		}
		if err := w.write(line); err != nil {
			return err
		}
	}
	return nil
}

// tableFieldName is the first repeated field of m of the row type.
func tableFieldName(m protoreflect.Message, rowType protoreflect.MessageDescriptor) protoreflect.Name {
	fs := m.Descriptor().Fields()
	for i := range fs.Len() {
		if f := fs.Get(i); f.IsList() && f.Message() != nil && f.Message().FullName() == rowType.FullName() {
			return f.Name()
		}
	}
	return ""
}

// statisticsCell writes enums by their labels (nothing for unspecified) and
// booleans as ja/nej; the rest as every table does.
func statisticsCell(fd protoreflect.FieldDescriptor, v protoreflect.Value, d Dialect) string {
	if fd.IsList() || fd.IsMap() {
		return fieldText(fd, v, d)
	}
	switch fd.Kind() {
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil || v.Enum() == 0 {
			return ""
		}
		if l, ok := enumLabels[string(ev.Name())]; ok {
			return l
		}
		return string(ev.Name())
	case protoreflect.BoolKind:
		if v.Bool() {
			return "ja"
		}
		return "nej"
	}
	return valueText(fd, v, d)
}
