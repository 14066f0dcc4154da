package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// runHealthcheck asks the gateway on this machine whether it is alive, for
// container health checks in images without a shell (distroless): it GETs
// http://$HOST:$PORT/healthz (127.0.0.1 when HOST is unset or listens on
// every interface) and fails unless the answer is 200.
func runHealthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	port := 8080
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("healthcheck: PORT must be a port number, got %q", v)
		}
		port = p
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	host := strings.Trim(strings.TrimSpace(getenv("HOST")), "[]")
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", url, resp.StatusCode)
	}
	fmt.Fprintln(stdout, "healthy")
	return nil
}
