package domain

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Payment run states, as stored.
const (
	RunRunning   = "RUNNING"
	RunSucceeded = "SUCCEEDED"
)

const runPrefix = "paymentRuns/"

// PaymentRun pays every approved, unpaid claim once.
type PaymentRun struct {
	ID           string
	State        string
	RequestID    string
	ClaimCount   int64
	TotalOre     int64
	CreateTime   time.Time
	CompleteTime time.Time
}

// Name is the run's resource name.
func (r PaymentRun) Name() string { return runPrefix + r.ID }

// MessageID is the payment file's GrpHdr/MsgId: the run id without dashes
// (32 characters; at most 35 are allowed).
func (r PaymentRun) MessageID() string { return strings.ReplaceAll(r.ID, "-", "") }

// ParseRunName returns the id in paymentRuns/{id} (and, with file, in
// paymentRuns/{id}/file).
func ParseRunName(name string, file bool) (string, bool) {
	p := RunName
	if file {
		p = RunFileName
	}
	return parseID(p, name)
}

// Payment is one claim paid by a run.
type Payment struct {
	ClaimID   string `db:"claim_id"`
	RunID     string `db:"run_id"`
	AmountOre int64  `db:"amount_ore"`
	Dossier   string `db:"dossier"`
	TripDate  string `db:"trip_date"`
	PaidTime  string `db:"paid_time"`
}

// Debtor is the paying account in payment files.
type Debtor struct {
	Name string
	IBAN string
	BIC  string
}

// DefaultDebtor is a placeholder account of Migrationsverket (a valid
// IBAN/BIC shape; configure the real one in production).
var DefaultDebtor = Debtor{Name: "Migrationsverket", IBAN: "SE4550000000058398257466", BIC: "ESSESESS"}

// Pain001Namespace is the message definition the payment files follow.
const Pain001Namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"

// Kronor writes öre as a decimal amount in kronor ("12.50").
func Kronor(ore int64) string {
	sign := ""
	if ore < 0 {
		sign, ore = "-", -ore
	}
	return fmt.Sprintf("%s%d.%02d", sign, ore/100, ore%100)
}

// WritePain001 streams an ISO 20022 customer credit transfer initiation
// (pain.001.001.10) of a run's payments: one payment information block
// debiting the debtor, one credit transfer per claim, identified end to end
// by the claim id and crediting the asylum seeker's LMA card, identified by
// the dossier number. next yields the payments in order and false at the
// end; count and total must be their number and sum. The document depends
// only on its arguments, so it can be written again, byte for byte, from
// the stored payments.
func WritePain001(w io.Writer, run PaymentRun, d Debtor, count, totalOre int64, next func() (Payment, bool, error)) error {
	created := run.CompleteTime.UTC().Format("2006-01-02T15:04:05")
	e := xml.NewEncoder(w)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	start := func(name string, attrs ...xml.Attr) error {
		return e.EncodeToken(xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs})
	}
	end := func(name string) error { return e.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}}) }
	leaf := func(name, value string, attrs ...xml.Attr) error {
		if err := start(name, attrs...); err != nil {
			return err
		}
		if err := e.EncodeToken(xml.CharData(value)); err != nil {
			return err
		}
		return end(name)
	}
	// path writes nested elements around one value: path("A/B/C", v).
	path := func(p, value string, attrs ...xml.Attr) error {
		parts := strings.Split(p, "/")
		for _, n := range parts[:len(parts)-1] {
			if err := start(n); err != nil {
				return err
			}
		}
		if err := leaf(parts[len(parts)-1], value, attrs...); err != nil {
			return err
		}
		for i := len(parts) - 2; i >= 0; i-- {
			if err := end(parts[i]); err != nil {
				return err
			}
		}
		return nil
	}
	steps := []func() error{
		func() error {
			return start("Document", xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: Pain001Namespace})
		},
		func() error { return start("CstmrCdtTrfInitn") },
		func() error { return start("GrpHdr") },
		func() error { return leaf("MsgId", run.MessageID()) },
		func() error { return leaf("CreDtTm", created) },
		func() error { return leaf("NbOfTxs", fmt.Sprint(count)) },
		func() error { return leaf("CtrlSum", Kronor(totalOre)) },
		func() error { return path("InitgPty/Nm", d.Name) },
		func() error { return end("GrpHdr") },
		func() error { return start("PmtInf") },
		func() error { return leaf("PmtInfId", run.MessageID()) },
		func() error { return leaf("PmtMtd", "TRF") },
		func() error { return leaf("NbOfTxs", fmt.Sprint(count)) },
		func() error { return leaf("CtrlSum", Kronor(totalOre)) },
		func() error { return path("ReqdExctnDt/Dt", run.CompleteTime.UTC().Format(DateLayout)) },
		func() error { return path("Dbtr/Nm", d.Name) },
		func() error { return path("DbtrAcct/Id/IBAN", d.IBAN) },
		func() error { return path("DbtrAgt/FinInstnId/BICFI", d.BIC) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	sek := xml.Attr{Name: xml.Name{Local: "Ccy"}, Value: "SEK"}
	for {
		p, ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		tx := []func() error{
			func() error { return start("CdtTrfTxInf") },
			func() error { return path("PmtId/EndToEndId", strings.ReplaceAll(p.ClaimID, "-", "")) },
			func() error { return path("Amt/InstdAmt", Kronor(p.AmountOre), sek) },
			func() error { return start("Cdtr") },
			func() error { return path("Id/PrvtId/Othr/Id", p.Dossier) },
			func() error { return end("Cdtr") },
			func() error { return path("RmtInf/Ustrd", "Reseersattning TIA "+p.TripDate) },
			func() error { return end("CdtTrfTxInf") },
		}
		for _, s := range tx {
			if err := s(); err != nil {
				return err
			}
		}
	}
	for _, n := range []string{"PmtInf", "CstmrCdtTrfInitn", "Document"} {
		if err := end(n); err != nil {
			return err
		}
	}
	return e.Flush()
}
