package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/workablegw/gateway/refresher"
	"github.com/workablegw/gateway/webhooks"
)

// Live updates: Workable's webhooks in (POST /webhooks/workable/{credential},
// see NewServer), registered with GATEWAY_PUBLIC_URL, and the background
// refresher (REFRESH_*).

// liveUpdateProblems reads GATEWAY_PUBLIC_URL and the REFRESH_* settings.
func liveUpdateProblems(env func(string) string, cfg *config) []error {
	var problems []error
	if v := strings.TrimSpace(env("GATEWAY_PUBLIC_URL")); v != "" {
		if err := webhooks.CheckPublicURL(v); err != nil {
			problems = append(problems, fmt.Errorf("GATEWAY_PUBLIC_URL must be the gateway's base URL, such as https://gateway.example.com: %w, got %q", err, v))
		}
		cfg.PublicURL = strings.TrimRight(v, "/")
	}
	cfg.RefreshEnabled = true
	boolSetting(env, "REFRESH_ENABLED", &cfg.RefreshEnabled, &problems)
	cfg.RefreshInterval = refresher.DefaultInterval
	durationSetting(env, "REFRESH_INTERVAL", &cfg.RefreshInterval, &problems)
	cfg.RefreshShare = refresher.DefaultShare
	if v := env("REFRESH_BUDGET_SHARE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1) {
			problems = append(problems, fmt.Errorf("REFRESH_BUDGET_SHARE must be a number above 0 and at most 1, such as 0.2, got %q", v))
		}
		cfg.RefreshShare = f
	}
	return problems
}
