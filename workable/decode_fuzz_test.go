package workable_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/workablegw/gateway/workable"
)

// fuzzToken is the client's token; no error may contain it.
const fuzzToken = "fuzz-token-secret-0123456789"

// cannedBody answers every request with one status and body.
type cannedBody struct {
	status int
	body   string
}

func (c cannedBody) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: c.status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(c.body)),
		Request:    req,
	}, nil
}

// FuzzDecodeResponses feeds arbitrary bodies, as 200 answers and as error
// answers, to the client's decode path for each kind of endpoint: nothing
// may panic and no error may contain the token. The seed corpus (shapes of
// the reference's fixtures, and broken variants) runs as an ordinary test.
func FuzzDecodeResponses(f *testing.F) {
	for _, seed := range []string{
		`{"jobs":[{"id":"61884e2","title":"Sales Intern","shortcode":"GROOV005","state":"published","department":"Sales","url":"https://x.workable.com/jobs/1","created_at":"2015-07-01T00:00:00Z","location":{"country":"Greece","city":"Athens"}}],"paging":{"next":"https://x.workable.com/spi/v3/jobs?limit=1&since_id=2"}}`,
		`{"candidates":[{"id":"ce4da98","name":"Lakita Marrero","firstname":"Lakita","lastname":"Marrero","email":"l@example.com","stage":"Applied","disqualified":false,"job":{"shortcode":"GROOV005","title":"Sales Intern"},"created_at":"2015-06-26T00:00:00Z"}]}`,
		`{"candidate":{"id":"ce4da98","name":"A B","education_entries":[{"school":"X","start_date":"2010-01-01"}],"social_profiles":[{"type":"twitter","url":"https://t.co/x"}],"tags":["a"]}}`,
		`{"activities":[{"id":"1","action":"moved","stage_name":"Applied","created_at":"2015-06-26T00:00:00Z","member":{"id":"13e1","name":"M"}}]}`,
		`{"name":"Groove Tech","subdomain":"groove-tech","description":"x"}`,
		`{"error":"Not authorized"}`,
		`{"error":"Validation failed","validation_errors":{"email":["is invalid"],"education_entries[1].start_date":["bad"]}}`,
		`{"jobs":null}`, `{"jobs":{}}`, `{"paging":{"next":42}}`, `[]`, `null`, ``, `{`, "\xff\xfe", `{"candidates":[null]}`,
		`{"candidate":{"id":12,"created_at":"yesterday"}}`, `{"jobs":[{"location":"Athens"}]}`,
	} {
		f.Add(seed, 200)
		f.Add(seed, 422)
	}
	f.Fuzz(func(t *testing.T, body string, status int) {
		if status < 200 || status > 599 || status == 429 || status >= 500 {
			status = 200 // no retries or waits in a fuzz run
		}
		client, err := workable.NewClient("groove-tech", fuzzToken,
			workable.WithHTTPClient(&http.Client{Transport: cannedBody{status: status, body: body}}),
			workable.WithRetry(1, time.Millisecond, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var errs []error
		_, _, err = client.Jobs.List(ctx, &workable.JobListOptions{ListOptions: workable.ListOptions{Limit: 10}})
		errs = append(errs, err)
		_, _, err = client.Candidates.List(ctx, &workable.CandidateListOptions{ListOptions: workable.ListOptions{Limit: 10}})
		errs = append(errs, err)
		_, _, err = client.Candidates.Get(ctx, "ce4da98")
		errs = append(errs, err)
		_, _, err = client.Candidates.ListActivities(ctx, "ce4da98", nil)
		errs = append(errs, err)
		_, _, err = client.Accounts.Get(ctx)
		errs = append(errs, err)
		_, _, err = client.Candidates.Create(ctx, "GROOV005", &workable.NewCandidate{Name: "A B", Firstname: "A", Lastname: "B", Email: "a@example.com"}, nil)
		errs = append(errs, err)
		for _, err := range errs {
			if err != nil && strings.Contains(err.Error(), fuzzToken) {
				t.Errorf("error holds the token: %v", err)
			}
		}
	})
}
