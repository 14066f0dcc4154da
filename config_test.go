package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr []string // substrings the error must contain
	}{
		{
			name: "no settings is demo mode on port 8080",
			env:  map[string]string{},
			want: config{Port: 8080, ShutdownTimeout: 20 * time.Second},
		},
		{
			name: "a real account",
			env: map[string]string{
				"PORT": "9090", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok",
				"WORKABLE_BASE_URL": "http://127.0.0.1:1/spi/v3/", "REDIS_URL": "redis://127.0.0.1:6379/1",
				"SHUTDOWN_TIMEOUT": "3s",
			},
			want: config{Port: 9090, WorkableSubdomain: "acme", WorkableToken: "tok",
				WorkableBaseURL: "http://127.0.0.1:1/spi/v3/", RedisURL: "redis://127.0.0.1:6379/1",
				ShutdownTimeout: 3 * time.Second},
		},
		{
			name:    "token without subdomain",
			env:     map[string]string{"WORKABLE_API_TOKEN": "secret-token-value"},
			wantErr: []string{"WORKABLE_SUBDOMAIN is not"},
		},
		{
			name:    "subdomain without token",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": "acme"},
			wantErr: []string{"WORKABLE_API_TOKEN is not"},
		},
		{
			name:    "every problem at once",
			env:     map[string]string{"PORT": "http", "SHUTDOWN_TIMEOUT": "soon", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "t", "WORKABLE_BASE_URL": "ftp://x"},
			wantErr: []string{"PORT", "SHUTDOWN_TIMEOUT", "WORKABLE_BASE_URL"},
		},
		{
			name:    "base URL without an account",
			env:     map[string]string{"WORKABLE_BASE_URL": "http://127.0.0.1:1/spi/v3/"},
			wantErr: []string{"WORKABLE_BASE_URL is set"},
		},
		{
			name:    "port out of range",
			env:     map[string]string{"PORT": "70000"},
			wantErr: []string{"PORT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadConfig(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("loadConfig() succeeded, want an error containing %q", tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				if strings.Contains(err.Error(), "secret-token-value") {
					t.Errorf("error %q contains the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig() error: %v", err)
			}
			if got != tt.want {
				t.Errorf("loadConfig() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
