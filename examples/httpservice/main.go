// Command httpservice is a small HTTP service behind logging.Middleware.
//
// Run it with -demo to start it on a free loopback port, fire a few requests
// at it (one with a secret in the query, one with a forged-line attempt in a
// header, one by user u-1001 that gets 403, whose event names the user) and
// exit:
//
//	go run ./examples/httpservice -demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/codomyrmex/logging"
)

var logger = logging.Logger("httpservice") // not "log": that would shadow the standard package

func routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "listing orders", "user", r.Header.Get("X-User"))
		fmt.Fprintln(w, `[{"id":1}]`)
	})
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		// Authentication runs here, inside the handler: SetUser names the
		// user for the middleware's access record and its 403 event.
		if user := authenticate(r); user != "" {
			logging.SetUser(r.Context(), user)
		}
		http.Error(w, "forbidden", http.StatusForbidden)
	})
	return logging.Middleware(mux)
}

// authenticate stands for real authentication: the user a bearer token
// names ("demo-token-<user>" here), or "".
func authenticate(r *http.Request) string {
	user, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer demo-token-")
	if !ok {
		return ""
	}
	return user
}

func main() {
	demo := flag.Bool("demo", false, "serve on a free loopback port, send a few requests, exit")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (without -demo)")
	flag.Parse()
	if err := logging.Setup(); err != nil {
		for _, p := range logging.Problems(err) {
			logger.Error("logging configuration", "problem", p)
		}
	}
	defer logging.Close()

	if !*demo {
		logger.Info("listening", "addr", *addr)
		if err := http.ListenAndServe(*addr, routes()); err != nil {
			logger.Error("server stopped", "err", err)
			os.Exit(1)
		}
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logger.Error("listen", "err", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serve", "err", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	send := func(path string, header map[string]string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			logger.Error("request", "err", err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	send("/orders?api_key="+"demo"+"Secret123&page=1", map[string]string{"X-Request-ID": "demo-1"})
	send("/orders", map[string]string{"X-User": "mallory\u2028INFO forged admin login"})
	send("/admin", map[string]string{"User-Agent": "scanner/1.0", "Authorization": "Bearer demo-token-" + "u-1001"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	slog.Info("demo done")
}
