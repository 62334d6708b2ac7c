// Command pages-bench prints what a first visit of each page for people
// transfers: the embedded platform with its demo data, a headless Chromium
// with an empty cache, every response the page loads (the HTML, its scripts,
// styles, message catalogues, the map outline, the reference data and the API
// answers), counted as the browser received them (compressed, with headers).
//
//	BENCH page_catalogue_bytes 61234 bytes
//
// The goal is under 250 kB per page.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/embedded/pagestest"
	"github.com/tia-platform/tia/services/platform/auth"
)

func main() {
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pages-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "pages-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := embedded.Start(ctx, embedded.Options{DataDir: dir + "/data", HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		return err
	}
	defer p.Close()
	if err := embedded.Seed(ctx, p); err != nil {
		return err
	}
	token := func(pr auth.Principal) string {
		tok, err := p.Token(pr)
		if err != nil {
			panic(err)
		}
		return tok
	}
	base := "http://" + p.HTTPAddr
	pages := []struct{ name, url, ready string }{
		{"catalogue", base + "/pages/catalogue?kommun=0180", "#results li.card"},
		{"coverage", base + "/pages/coverage#token=" + token(embedded.DemoCountyBoard), "#gaps tbody tr"},
		{"participants", base + "/pages/participants#token=" + token(embedded.DemoStudyAssociation), "#activities section"},
	}
	for i, pg := range pages {
		n, responses, err := firstVisit(ctx, fmt.Sprintf("%s/browser-%d", dir, i), pg.url, pg.ready)
		if err != nil {
			return fmt.Errorf("%s: %w", pg.name, err)
		}
		fmt.Printf("BENCH page_%s_bytes %d bytes\n", pg.name, n)
		fmt.Fprintf(os.Stderr, "page %s: %d responses\n", pg.name, responses)
	}
	return nil
}

// firstVisit loads url in a fresh browser and counts what it received once
// the ready selector shows and the network has been quiet for half a second.
func firstVisit(ctx context.Context, profile, url, ready string) (int64, int, error) {
	bctx, cancel, err := pagestest.NewBrowser(ctx, profile, 1280, 900)
	if err != nil {
		return 0, 0, err
	}
	defer cancel()
	tr, err := pagestest.WatchTransfer(bctx)
	if err != nil {
		return 0, 0, err
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
		return 0, 0, err
	}
	last, _ := tr.Total()
	for quiet := time.Now(); time.Since(quiet) < 500*time.Millisecond; time.Sleep(100 * time.Millisecond) {
		if n, _ := tr.Total(); n != last {
			last, quiet = n, time.Now()
		}
	}
	n, responses := tr.Total()
	return n, responses, nil
}
