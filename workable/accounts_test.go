package workable

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAccountsGet(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /accounts/{subdomain}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, "GET", nil)
		checkNoBody(t, r)
		if got := r.PathValue("subdomain"); got != "groove-tech" {
			t.Errorf("subdomain = %q, want groove-tech", got)
		}
		writeJSON(w, 200, `{"id":"20ff5c50","name":"Groove Tech","subdomain":"groove-tech","website_url":"https://www.workable.com"}`)
	})
	acct, _, err := env.client.Accounts.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := &Account{ID: "20ff5c50", Name: "Groove Tech", Subdomain: "groove-tech", WebsiteURL: ptr("https://www.workable.com")}
	if diff := cmp.Diff(want, acct); diff != "" {
		t.Errorf("account mismatch (-want +got):\n%s", diff)
	}
}

func TestAccountsListStages(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /stages", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, "GET", nil)
		checkNoBody(t, r)
		writeJSON(w, 200, `{"stages":[
		  {"slug":"sourced","name":"Sourced","kind":"sourced","position":0},
		  {"slug":"hired","name":"Hired","kind":"hired","position":5}]}`)
	})
	stages, _, err := env.client.Accounts.ListStages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []*Stage{
		{Slug: "sourced", Name: "Sourced", Kind: "sourced", Position: 0},
		{Slug: "hired", Name: "Hired", Kind: "hired", Position: 5},
	}
	if diff := cmp.Diff(want, stages); diff != "" {
		t.Errorf("stages mismatch (-want +got):\n%s", diff)
	}
}

func TestAccountsListMembers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      *MemberListOptions
		wantQuery url.Values
	}{
		{name: "nil options", wantQuery: url.Values{}},
		{
			name: "every option",
			opts: &MemberListOptions{Limit: 10, SinceID: "1", MaxID: "f", Role: "admin", Shortcode: "GROOV005",
				Email: "a@b.c", Name: "Eduardo Vallente", Status: "all"},
			wantQuery: url.Values{"limit": {"10"}, "since_id": {"1"}, "max_id": {"f"}, "role": {"admin"},
				"shortcode": {"GROOV005"}, "email": {"a@b.c"}, "name": {"Eduardo Vallente"}, "status": {"all"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("GET /members", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, "GET", tt.wantQuery)
				checkNoBody(t, r)
				writeJSON(w, 200, `{"members":[{"id":"13e0eb0e","name":"Eduardo Vallente","email":"e@v.com","role":"admin","active":true}],
				  "paging":{"next":"http://`+r.Host+`/spi/v3/members?limit=1&since_id=13e0eb0f"}}`)
			})
			members, resp, err := env.client.Accounts.ListMembers(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := []*Member{{ID: "13e0eb0e", Name: "Eduardo Vallente", Email: ptr("e@v.com"), Role: ptr("admin"), Active: ptr(true)}}
			if diff := cmp.Diff(want, members); diff != "" {
				t.Errorf("members mismatch (-want +got):\n%s", diff)
			}
			if resp.NextSinceID != "13e0eb0f" {
				t.Errorf("NextSinceID = %q", resp.NextSinceID)
			}
		})
	}
}
