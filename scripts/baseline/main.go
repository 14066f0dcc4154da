// Command baseline is the yardstick of scripts/loadtest.sh and
// scripts/peerbench.sh: a plain net/http server answering requests to /query
// with bytes the gateway gave, so that the gateway's warm throughput can be
// reported as a ratio against the cheapest possible handler measured in the
// same run. With -body it answers every request with the same bytes; with
// -requests and -responses it answers each request body listed in the one
// file (one per line) with the same line of the other, and any other body
// with 404, for workloads of many different queries.
//
//	go run ./scripts/baseline -addr 127.0.0.1:8090 -body response.json
//	go run ./scripts/baseline -addr 127.0.0.1:8090 -requests bodies -responses answers
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/workablegw/gateway/scripts/internal/command"
	"github.com/workablegw/gateway/scripts/internal/lines"
)

func main() { command.Main("baseline", run) }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	bodyFile := fs.String("body", "", "file holding the response bytes to serve")
	requestsFile := fs.String("requests", "", "file of request bodies, one per line (with -responses)")
	responsesFile := fs.String("responses", "", "file of the response to each line of -requests, one per line")
	contentType := fs.String("content-type", "application/json", "Content-Type of the response")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var handler http.HandlerFunc
	switch {
	case *bodyFile != "" && *requestsFile == "" && *responsesFile == "":
		body, err := os.ReadFile(*bodyFile)
		if err != nil {
			return fmt.Errorf("read the response body: %w", err)
		}
		handler = func(w http.ResponseWriter, r *http.Request) {
			// Read the request like the gateway does, so both do the same I/O.
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", *contentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}
	case *bodyFile == "" && *requestsFile != "" && *responsesFile != "":
		answers, err := readPairs(*requestsFile, *responsesFile)
		if err != nil {
			return err
		}
		bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
		handler = func(w http.ResponseWriter, r *http.Request) {
			buf := bufs.Get().(*bytes.Buffer)
			defer bufs.Put(buf)
			buf.Reset()
			_, _ = buf.ReadFrom(r.Body)
			body, ok := answers[string(bytes.TrimSpace(buf.Bytes()))]
			if !ok {
				http.Error(w, "baseline: no response for this request body", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", *contentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}
	default:
		return errors.New("give either -body, or -requests and -responses")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/query", handler)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// readPairs maps each line of requestsFile to the same line of
// responsesFile.
func readPairs(requestsFile, responsesFile string) (map[string][]byte, error) {
	requests, err := lines.Read(requestsFile)
	if err != nil {
		return nil, err
	}
	responses, err := lines.Read(responsesFile)
	if err != nil {
		return nil, err
	}
	if len(requests) != len(responses) {
		return nil, fmt.Errorf("%s has %d lines but %s has %d", requestsFile, len(requests), responsesFile, len(responses))
	}
	answers := make(map[string][]byte, len(requests))
	for i, req := range requests {
		answers[string(req)] = responses[i]
	}
	return answers, nil
}
