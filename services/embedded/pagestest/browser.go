// Package pagestest drives the pages for people (gateway/web) in a real
// browser: headless Chromium from Debian's `chromium` package, controlled
// from Go through the DevTools protocol (chromedp). The tests in this folder
// run the embedded platform in-process; cmd/pages-bench measures what a first
// visit of each page transfers.
package pagestest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is the browser to run: $CHROMIUM, else Debian's chromium.
func ChromiumPath() (string, error) {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", errors.New("chromium is not installed: apt-get update && apt-get install -y chromium (.ci/run does this)")
}

// NewBrowser starts a headless Chromium with a fresh profile in userDataDir
// and returns a context for its first tab. Cancel stops the browser.
func NewBrowser(ctx context.Context, userDataDir string, width, height int) (context.Context, context.CancelFunc, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(width, height),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, nil, fmt.Errorf("start %s: %w", path, err)
	}
	return bctx, func() { cancelBrowser(); cancelAlloc() }, nil
}

// Transfer counts the bytes a tab receives over the network: every response's
// encoded (compressed) body and headers, as the browser's own network panel
// reports them.
type Transfer struct {
	mu    sync.Mutex
	bytes map[network.RequestID]float64
}

// WatchTransfer starts counting on the tab of ctx, with the browser's cache
// off (a first visit); call it before navigating.
func WatchTransfer(ctx context.Context) (*Transfer, error) {
	tr := &Transfer{bytes: map[network.RequestID]float64{}}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventLoadingFinished); ok {
			tr.mu.Lock()
			tr.bytes[e.RequestID] = e.EncodedDataLength
			tr.mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		return nil, err
	}
	_, err = chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
	return tr, err
}

// Total is the sum of the bytes received and the number of responses.
func (tr *Transfer) Total() (int64, int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var sum float64
	for _, b := range tr.bytes {
		sum += b
	}
	return int64(sum), len(tr.bytes)
}
