package workable

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Tests of the webhook subscriptions (subscriptions.go) and of the
// signature helpers and event parsing (webhooks.go), API.md §9.

func TestSubscriptionCreate(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var got string
	env.mux.HandleFunc("POST /subscriptions", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		answer(w, http.StatusCreated, "application/json", `{"id":104697}`)
	})
	id, _, err := env.client.Subscriptions.Create(context.Background(), NewSubscription{
		Target: "https://gw.example.com/webhooks/workable/main?event=candidate_moved",
		Event:  EventCandidateMoved,
		Args:   &SubscriptionArgs{AccountID: "groove-tech"},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != "104697" {
		t.Errorf("id = %q, want 104697 (the integer as a string)", id)
	}
	want := `{"target":"https://gw.example.com/webhooks/workable/main?event=candidate_moved","event":"candidate_moved","args":{"account_id":"groove-tech","job_shortcode":"","stage_slug":""}}`
	if got != want {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
}

func TestSubscriptionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"a target already subscribed", http.StatusConflict, "", ErrConflict},
		{"a token without the scope", http.StatusForbidden, `{"error":"Forbidden"}`, ErrUnauthorized},
		{"an invalid event", http.StatusUnprocessableEntity, `{"error":"Validation failed","validation_errors":{"event":["is not included in the list"]}}`, ErrValidation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("POST /subscriptions", func(w http.ResponseWriter, r *http.Request) {
				answer(w, tc.status, "application/json", tc.body)
			})
			_, _, err := env.client.Subscriptions.Create(context.Background(), NewSubscription{Target: "https://x.example/h", Event: EventCandidateCreated})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error text holds the token: %v", err)
			}
		})
	}
	t.Run("an answer without an id", func(t *testing.T) {
		t.Parallel()
		env := setup(t)
		env.mux.HandleFunc("POST /subscriptions", func(w http.ResponseWriter, r *http.Request) {
			answer(w, http.StatusOK, "application/json", `{}`)
		})
		if _, _, err := env.client.Subscriptions.Create(context.Background(), NewSubscription{Target: "https://x.example/h", Event: EventCandidateCreated}); err == nil {
			t.Fatal("Create succeeded on an answer without an id")
		}
	})
	t.Run("no target", func(t *testing.T) {
		t.Parallel()
		env := setup(t) // any request would hit the unexpected-request handler
		if _, _, err := env.client.Subscriptions.Create(context.Background(), NewSubscription{Event: EventCandidateCreated}); err == nil {
			t.Fatal("Create without a target succeeded")
		}
	})
}

func TestSubscriptionListAndDelete(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /subscriptions", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, "application/json", `{"subscriptions":[{"id":772571818,"target":"https://www.acme.com/workable_subscriptions","event":"candidate_moved","valid_until":"2021-09-11T11:34:34.685Z","created_at":"2020-09-11T11:34:34.685Z","stage_slug":"applied","job_shortcode":"JOB2001"}]}`)
	})
	deleted := ""
	env.mux.HandleFunc("DELETE /subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		deleted = r.PathValue("id")
		answer(w, http.StatusOK, "application/json", `{}`)
	})
	subs, _, err := env.client.Subscriptions.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(subs) != 1 || subs[0].ID != "772571818" || subs[0].Event != EventCandidateMoved || *subs[0].JobShortcode != "JOB2001" {
		t.Fatalf("List = %+v", subs)
	}
	if _, err := env.client.Subscriptions.Delete(context.Background(), "772571818"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if deleted != "772571818" {
		t.Errorf("deleted %q", deleted)
	}
	if _, err := env.client.Subscriptions.Delete(context.Background(), "../jobs"); !errors.Is(err, ErrInvalidID) {
		t.Errorf("Delete(../jobs) = %v, want ErrInvalidID before any request", err)
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e1","event_type":"candidate_moved"}`)
	// The expected value is computed independently: echo -n "$body" | openssl dgst -sha256 -hmac demo-token
	const want = "84c423d208df778b0b10956ddbf197379ad74ca690c00bdf2d1561ed5bbcd7ce"
	sig := Sign("demo-token", body)
	if sig != want {
		t.Fatalf("Sign = %q, want %q", sig, want)
	}
	cases := []struct {
		name  string
		token string
		body  []byte
		sig   string
		ok    bool
	}{
		{"the signature", "demo-token", body, sig, true},
		{"upper-case hex of the same digest", "demo-token", body, strings.ToUpper(sig), true},
		{"another token", "other-token", body, sig, false},
		{"another body", "demo-token", append([]byte(" "), body...), sig, false},
		{"missing", "demo-token", body, "", false},
		{"not hex", "demo-token", body, strings.Repeat("zz", 32), false},
		{"truncated", "demo-token", body, sig[:62], false},
		{"an empty token", "", body, Sign("", body), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := VerifySignature(tc.token, tc.body, tc.sig); got != tc.ok {
				t.Errorf("VerifySignature = %v, want %v", got, tc.ok)
			}
		})
	}
}

func TestParseWebhookEvent(t *testing.T) {
	t.Parallel()
	ok := `{"id":"e1","event_type":"candidate_moved","fired_at":"2024-01-01T10:00:00Z","resource_type":"candidate","data":{"id":"108d1748","name":"Cindy Sawyers","job":{"shortcode":"GROOV005","title":"Office Manager"},"stage":"Interview","created_at":"2024-01-01T09:00:00Z"}}`
	e, err := ParseWebhookEvent([]byte(ok))
	if err != nil {
		t.Fatalf("ParseWebhookEvent: %v", err)
	}
	got := []string{string(e.ID), e.EventType, e.Data.ID, e.Data.Job.Shortcode, *e.Data.Stage, e.FiredAt.Format("15:04")}
	if diff := cmp.Diff([]string{"e1", "candidate_moved", "108d1748", "GROOV005", "Interview", "10:00"}, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if e, err := ParseWebhookEvent([]byte(`{"id":42,"event_type":"employee_created","data":{}}`)); err != nil || e.ID != "42" {
		t.Errorf("an integer id and another event: %v, %v", e, err)
	}
	bad := map[string]string{
		"not JSON":              `{"id":`,
		"no id":                 `{"event_type":"candidate_moved","data":{"id":"108d1748"}}`,
		"a huge id":             `{"id":"` + strings.Repeat("a", MaxEventIDLen+1) + `","event_type":"candidate_moved","data":{"id":"108d1748"}}`,
		"no event type":         `{"id":"e1","data":{"id":"108d1748"}}`,
		"no candidate":          `{"id":"e1","event_type":"candidate_created"}`,
		"a path as candidate":   `{"id":"e1","event_type":"candidate_moved","data":{"id":"../jobs"}}`,
		"a path as a shortcode": `{"id":"e1","event_type":"candidate_moved","data":{"id":"108d1748","job":{"shortcode":"a/b"}}}`,
	}
	for name, body := range bad {
		if _, err := ParseWebhookEvent([]byte(body)); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("%s: err = %v, want ErrMalformedEvent", name, err)
		}
	}
}
