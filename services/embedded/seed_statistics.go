package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/statistics/generate"
)

// demoMonths is how many month-end snapshots the demo has, the last one
// being DemoSnapshot.
const demoMonths = 6

// seedStatistics imports six month ends of generated person-level extracts at
// today's level (about 20,000 adults), as Migrationsverket streams them, and
// registers two planned changes.
func seedStatistics(ctx context.Context, d demo) error {
	mv := d.as(DemoMigrationsverket)
	client := statisticsv1.NewStatisticsServiceClient(d.p.Channel)
	last := strings.TrimPrefix(DemoSnapshot(d.today), "snapshots/")
	for i, date := range generate.MonthEnds(last, demoMonths) {
		adults := 19_000 + 400*i // slowly rising
		if err := importExtract(ctx, client, mv, "snapshots/"+date, generate.Options{
			Seed: uint64(2026 + i), Rows: generate.RowsForAdults(adults), ReferenceDate: date,
		}); err != nil {
			return fmt.Errorf("seed snapshot %s: %w", date, err)
		}
	}
	for _, c := range []*statisticsv1.PlannedChange{
		{KommunCode: "2180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_ABE, EffectiveDate: d.date(45), AdultsDelta: 250,
			Description: "Nytt anläggningsboende i Gävle"},
		{KommunCode: "2582", HousingType: statisticsv1.HousingType_HOUSING_TYPE_ABE, EffectiveDate: d.date(90), AdultsDelta: -120,
			Description: "Anläggningsboendet i Boden stänger"},
	} {
		if _, err := client.CreatePlannedChange(ctx, &statisticsv1.CreatePlannedChangeRequest{PlannedChange: c}, mv); err != nil {
			return fmt.Errorf("seed planned change: %w", err)
		}
	}
	return nil
}

// importExtract streams a generated extract to ImportPersons as CSV pieces.
func importExtract(ctx context.Context, c statisticsv1.StatisticsServiceClient, mv grpc.CallOption, name string, o generate.Options) error {
	stream, err := c.ImportPersons(ctx, mv)
	if err != nil {
		return err
	}
	if err := stream.Send(&statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_Header{
		Header: &statisticsv1.ImportHeader{Snapshot: name}}}); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(generate.Write(pw, o)) }()
	defer pr.Close()
	buf := make([]byte, 128<<10)
	for {
		n, rerr := io.ReadFull(pr, buf)
		if n > 0 {
			// Each message gets its own copy: a stream may hold on to it.
			if err := stream.Send(&statisticsv1.ImportPersonsRequest{Kind: &statisticsv1.ImportPersonsRequest_CsvData{
				CsvData: append([]byte(nil), buf[:n]...)}}); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}
