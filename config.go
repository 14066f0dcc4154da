package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// config is the gateway's configuration, read from the environment. Every
// setting is listed in the README's settings table.
type config struct {
	Port              int           // PORT, default 8080
	WorkableSubdomain string        // WORKABLE_SUBDOMAIN
	WorkableToken     string        // WORKABLE_API_TOKEN
	WorkableBaseURL   string        // WORKABLE_BASE_URL (optional override)
	RedisURL          string        // REDIS_URL (optional)
	ShutdownTimeout   time.Duration // SHUTDOWN_TIMEOUT, default 20s
}

// demo reports whether the gateway runs on the built-in simulator: no
// Workable account was configured.
func (c config) demo() bool {
	return c.WorkableSubdomain == "" && c.WorkableToken == ""
}

// loadConfig reads and validates the configuration. The error lists every
// problem found, so one restart fixes them all.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		Port:              8080,
		WorkableSubdomain: strings.TrimSpace(getenv("WORKABLE_SUBDOMAIN")),
		WorkableToken:     strings.TrimSpace(getenv("WORKABLE_API_TOKEN")),
		WorkableBaseURL:   strings.TrimSpace(getenv("WORKABLE_BASE_URL")),
		RedisURL:          strings.TrimSpace(getenv("REDIS_URL")),
		ShutdownTimeout:   20 * time.Second,
	}
	var problems []error
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			problems = append(problems, fmt.Errorf("PORT must be a port number (0-65535), got %q", v))
		}
		cfg.Port = p
	}
	if v := getenv("SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Errorf("SHUTDOWN_TIMEOUT must be a positive duration such as 20s, got %q", v))
		}
		cfg.ShutdownTimeout = d
	}
	switch {
	case cfg.WorkableSubdomain == "" && cfg.WorkableToken != "":
		problems = append(problems, errors.New("WORKABLE_API_TOKEN is set but WORKABLE_SUBDOMAIN is not: set both, or neither for demo mode"))
	case cfg.WorkableSubdomain != "" && cfg.WorkableToken == "":
		problems = append(problems, errors.New("WORKABLE_SUBDOMAIN is set but WORKABLE_API_TOKEN is not: set both, or neither for demo mode"))
	}
	if cfg.WorkableBaseURL != "" {
		u, err := url.Parse(cfg.WorkableBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, errors.New("WORKABLE_BASE_URL must be an absolute http(s) URL such as https://acme.workable.com/spi/v3/"))
		}
		if cfg.demo() {
			problems = append(problems, errors.New("WORKABLE_BASE_URL is set but WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN are not"))
		}
	}
	if cfg.RedisURL != "" && !strings.Contains(cfg.RedisURL, "://") && !strings.Contains(cfg.RedisURL, ":") {
		problems = append(problems, fmt.Errorf("REDIS_URL must look like redis://host:6379/0"))
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("invalid settings: %w", errors.Join(problems...))
	}
	return cfg, nil
}
