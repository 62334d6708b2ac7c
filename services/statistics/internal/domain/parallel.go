package domain

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/tia-platform/tia/services/statistics/internal/ckm"
)

// A person import is counted in parallel: one goroutine cuts the stream
// into blocks of whole lines, readers count the blocks, and the calling
// goroutine merges their counts in the order of the file. A block with any
// line that is not plainly well-formed is counted again there, line by
// line, by the sequential reader, so mistakes, their line numbers, the
// limits and the point where reading stops are exactly the sequential
// reader's; a file without mistakes never takes that path.
const (
	maxReaders       = 4
	defaultBlockSize = 256 << 10
)

// block is a piece of the file: whole lines, the first of them numbered
// first.
type block struct {
	buf   []byte // the buffer data is in, returned for reuse after the merge
	data  []byte
	first int
	// end, when set, is the error that ended reading after data, found
	// while reading line endLine.
	end     error
	endLine int
	// tally is the block's count, nil when a line of it needs the full
	// checks; done is closed once a reader has counted it.
	tally *tally
	done  chan struct{}
}

// tally is what a reader counted in one block.
type tally struct {
	grid          Grid
	keys          Keys
	rows, under18 int64
}

// readPersonsParallel counts the person lines r gives after the header
// (the first of them numbered first), as described at the top of this
// file, with im.readers readers.
func (im *Import) readPersonsParallel(r io.Reader, first int, comma byte, pos []int) error {
	work := make(chan *block, im.readers)
	order := make(chan *block, 2*im.readers)
	stop := make(chan struct{})
	bufs := make(chan []byte, 4*im.readers)
	tallies := make(chan *tally, 4*im.readers)

	go func() {
		defer close(order)
		defer close(work)
		im.cut(r, first, bufs, stop, func(b *block) bool {
			select {
			case order <- b:
			case <-stop:
				return false
			}
			if len(b.data) == 0 {
				close(b.done)
				return true
			}
			work <- b
			return true
		})
	}()
	var readers sync.WaitGroup
	for range im.readers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			keys := ckm.NewKeySource()
			for b := range work {
				var t *tally
				select {
				case t = <-tallies:
				default:
					t = &tally{grid: NewGrid(), keys: NewKeys()}
				}
				if im.count(t, b.data, comma, pos, keys) {
					b.tally = t
				} else {
					release(tallies, t)
				}
				close(b.done)
			}
		}()
	}

	var err error
	ended := false
	for b := range order {
		<-b.done
		if !ended {
			ended, err = im.merge(b, comma, pos)
			if ended {
				close(stop)
			}
		}
		if b.tally != nil {
			release(tallies, b.tally)
		}
		if cap(b.buf) == im.blockSize {
			select {
			case bufs <- b.buf[:0]:
			default:
			}
		}
	}
	readers.Wait()
	return err
}

// release clears t and keeps it for another block if there is room.
func release(tallies chan *tally, t *tally) {
	clear(t.grid)
	clear(t.keys)
	t.rows, t.under18 = 0, 0
	select {
	case tallies <- t:
	default:
	}
}

// cut reads r into blocks of whole lines and gives them to emit in order
// until r ends, emit reports false or stop is closed (then it reads no
// further). A read error ends the last block.
func (im *Import) cut(r io.Reader, line int, bufs chan []byte, stop <-chan struct{}, emit func(*block) bool) {
	var carry []byte
	for {
		var buf []byte
		select {
		case buf = <-bufs:
		default:
			buf = make([]byte, 0, im.blockSize)
		}
		for len(carry) >= cap(buf) { // a line longer than a block
			buf = make([]byte, 0, 2*cap(buf))
		}
		buf = append(buf, carry...)
		var err error
		for len(buf) < cap(buf) && err == nil {
			select {
			case <-stop:
				return
			default:
			}
			var n int
			n, err = r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		cut := bytes.LastIndexByte(buf, '\n') + 1
		if errors.Is(err, io.EOF) {
			cut = len(buf)
		}
		b := &block{buf: buf, data: buf[:cut], first: line, done: make(chan struct{})}
		carry = append(carry[:0], buf[cut:]...)
		line += bytes.Count(b.data, []byte{'\n'})
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.end, b.endLine = err, line
			}
			emit(b)
			return
		}
		if !emit(b) {
			return
		}
	}
}

// count tallies data into t, all of it well-formed person lines, and
// reports false at the first line that is not (a quote, a count of fields
// other than the header's, a value that needs the full checks).
func (im *Import) count(t *tally, data []byte, comma byte, pos []int, keys *ckm.KeySource) bool {
	var fields [][]byte
	f := make([][]byte, len(pos))
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		if bytes.IndexByte(line, '"') >= 0 {
			return false
		}
		if fields = appendFields(fields[:0], line, comma); len(fields) != len(pos) {
			return false
		}
		for c, p := range pos {
			f[c] = bytes.TrimSpace(fields[p])
		}
		cell, ok := im.classify(f[0], f[1], f[2], f[3])
		if !ok {
			return false
		}
		t.rows++
		if cell < 0 {
			t.under18++
			continue
		}
		t.grid[cell]++
		t.keys[cell] += keys.Next()
	}
	return true
}

// merge adds block b to the import, in file order. A block that a reader
// could not count, or whose rows would pass MaxRows, is read line by line
// as the sequential reader does. It reports whether reading is over.
func (im *Import) merge(b *block, comma byte, pos []int) (bool, error) {
	if t := b.tally; t != nil && (im.limits.MaxRows <= 0 || im.Rows+t.rows <= im.limits.MaxRows) {
		im.Rows += t.rows
		im.Under18 += t.under18
		for i, n := range t.grid {
			if n != 0 {
				im.grid[i] += n
				im.keys[i] += t.keys[i]
			}
		}
	} else if len(b.data) > 0 {
		lines := &lineReader{br: bufio.NewReaderSize(bytes.NewReader(b.data), 64<<10), comma: comma, line: b.first - 1}
		if ended, err := im.readRecords(lines, pos); ended || err != nil {
			return true, err
		}
	}
	if b.end != nil {
		return true, im.readFailed(b.endLine, b.end)
	}
	return im.Stopped(), nil
}
