package lokitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
)

// PushPath is the path of Loki's push API, the one path a [Server] serves.
const PushPath = "/loki/api/v1/push"

// Server is a fake Loki for tests: an [httptest.Server] that decodes every
// POST to [PushPath] with [DecodePushRequest], stores its streams and
// answers 204 No Content, as Loki does. It answers 400 Bad Request to a
// body or a label set that does not decode, 404 Not Found to another path
// and 405 Method Not Allowed to another method, and keeps a [Request] for
// every request it receives.
//
// Faults are set at any time and apply to the requests answered after:
// [Server.SetStatus] answers with an error status instead of storing, with
// the Retry-After header of [Server.SetRetryAfter]; [Server.Hang] holds
// requests unanswered until [Server.Release].
//
// The methods of a Server are safe for concurrent use.
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	requests   []Request
	streams    []Stream
	lines      []string
	status     int
	retryAfter string
	held       chan struct{} // non-nil while Hang holds requests; Release closes it
	changed    chan struct{} // closed, and replaced, when a request arrives or is answered
}

// Request is what a [Server] saw of one request.
type Request struct {
	Method string
	Path   string
	Header http.Header // as received, credentials included
	// Status is the status the server answered; 0 while [Server.Hang]
	// holds the request, and for good if the client gave up first.
	Status int
}

// NewServer starts a Server on a loopback address, at the URL in its URL
// field. The caller must Close it.
func NewServer() *Server {
	return newServer(httptest.NewServer)
}

// NewTLSServer starts a Server that speaks HTTPS, with a certificate of its
// own: [httptest.Server.Certificate] returns it, to be trusted by the
// client under test, and [httptest.Server.Client] returns an
// [http.Client] that trusts it. The caller must Close it.
func NewTLSServer() *Server {
	return newServer(httptest.NewTLSServer)
}

func newServer(start func(http.Handler) *httptest.Server) *Server {
	s := &Server{changed: make(chan struct{})}
	s.Server = start(http.HandlerFunc(s.serve))
	return s
}

// Close releases the requests that [Server.Hang] holds, then shuts the
// server down and waits for the requests under way to finish.
func (s *Server) Close() {
	s.Release()
	s.Server.Close()
}

// SetStatus makes the server answer every later push with code instead of
// storing it, until it is called again; 0 restores the normal answer, 204
// after storing.
func (s *Server) SetStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

// SetRetryAfter sets the Retry-After header sent with the status of
// [Server.SetStatus], such as "2" (seconds) or an HTTP date; "" sends none.
func (s *Server) SetRetryAfter(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = value
}

// Hang makes the server hold every later request unanswered, as a server
// that stopped responding, until [Server.Release] or [Server.Close]; a
// request whose client gives up first is dropped unanswered.
func (s *Server) Hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = make(chan struct{})
	}
}

// Release answers the requests that [Server.Hang] holds as if they had just
// arrived, and stops holding new ones.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil {
		close(s.held)
		s.held = nil
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// Read the body first: only then does net/http watch the connection
	// and cancel r's context when the client gives up.
	body, readErr := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.requests)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
	held := s.held
	s.notify()
	s.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-r.Context().Done():
		}
		if r.Context().Err() != nil {
			return // the client gave up: drop the request unanswered
		}
	}
	var streams []Stream
	s.mu.Lock()
	code, retryAfter := s.status, s.retryAfter
	s.mu.Unlock()
	switch {
	case r.URL.Path != PushPath:
		code = http.StatusNotFound
	case r.Method != http.MethodPost:
		code = http.StatusMethodNotAllowed
	case code != 0:
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
	default:
		code = http.StatusBadRequest
		if st, ok := decode(r.Header.Get("Content-Type"), body); ok && readErr == nil {
			streams, code = st, http.StatusNoContent
		}
	}
	s.mu.Lock()
	s.requests[i].Status = code
	s.streams = append(s.streams, streams...)
	for _, st := range streams {
		for _, e := range st.Entries {
			s.lines = append(s.lines, e.Line)
		}
	}
	s.notify()
	s.mu.Unlock()
	w.WriteHeader(code)
}

// decode reads a push's streams; ok is false if the body or a label set
// does not decode.
func decode(contentType string, body []byte) (streams []Stream, ok bool) {
	streams, err := DecodePushRequest(contentType, bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	for _, st := range streams {
		if _, err := st.LabelMap(); err != nil {
			return nil, false
		}
	}
	return streams, true
}

// Requests returns every request the server has received, in the order
// they arrived, pushes answered with a fault included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Streams returns the streams of every push the server stored, in the
// order it stored them; a label set appears once for each push that
// carried it.
func (s *Server) Streams() []Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.streams)
}

// Lines returns the line of every entry the server stored, in the order it
// stored them, repeats included.
func (s *Server) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

// Distinct returns how many different entries the server stored. An entry
// pushed again with the same labels, timestamp and line, as a client does
// when it retries a push whose answer it did not get, counts once: Loki
// too keeps such a repeat once.
func (s *Server) Distinct() int {
	n := 0
	for _, st := range s.Kept() {
		n += len(st.Entries)
	}
	return n
}

// Kept returns the streams as Loki would keep them: in the order stored,
// each entry pushed again with the same labels, timestamp and line (a push
// retried because its answer was lost, say at Close) left out after its
// first, and streams left empty by that left out.
func (s *Server) Kept() []Stream {
	type key struct {
		labels string
		ns     int64
		line   string
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[key]bool, len(s.lines))
	var out []Stream
	for _, st := range s.streams {
		kept := Stream{Labels: st.Labels}
		for _, e := range st.Entries {
			k := key{st.Labels, e.Time.UnixNano(), e.Line}
			if !seen[k] {
				seen[k] = true
				kept.Entries = append(kept.Entries, e)
			}
		}
		if len(kept.Entries) > 0 {
			out = append(out, kept)
		}
	}
	return out
}

// KeptLines returns the line of every entry of [Server.Kept], in order.
func (s *Server) KeptLines() []string {
	var lines []string
	for _, st := range s.Kept() {
		for _, e := range st.Entries {
			lines = append(lines, e.Line)
		}
	}
	return lines
}

// WaitLines blocks until the server has stored at least n lines, repeats
// included, or until ctx is done; it then returns ctx's error.
func (s *Server) WaitLines(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return len(s.lines) >= n })
}

// WaitRequests blocks until the server has received at least n requests,
// answered or not, or until ctx is done; it then returns ctx's error. With
// [Server.Hang] it tells when a client has a request held.
func (s *Server) WaitRequests(ctx context.Context, n int) error {
	return s.wait(ctx, func() bool { return len(s.requests) >= n })
}

// notify wakes the waiters; s.mu is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until cond, called with s.mu held, is true or ctx is done.
func (s *Server) wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
