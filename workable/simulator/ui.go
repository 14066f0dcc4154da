package simulator

import (
	"errors"
	"net/http"
	"strings"
)

// UIPrefix is where the simulator serves its "Workable UI" controls over
// HTTP, outside the SPI: what a recruiter does in Workable's own UI, with
// the webhook deliveries it causes. They are the simulator's own (Workable
// has no such API) and take the same bearer token as the SPI:
//
//	POST /_ui/candidates/{id}/move        {"stage": "<slug>"}
//	POST /_ui/jobs/{shortcode}/candidates {"firstname", "lastname", "email", "stage"}
//	POST /_ui/events/{id}/redeliver
//
// Each answers 200 {"candidate": "<id>", "deliveries": [{"subscription",
// "target", "event", "eventType", "status", "error"}]}, once every delivery
// has been made; 404 for an unknown candidate, job, stage or event; 400 for
// a body that is not JSON; 401 without the token.
const UIPrefix = "/_ui/"

type deliveryJSON struct {
	Subscription string `json:"subscription"`
	Target       string `json:"target"`
	Event        string `json:"event"`
	EventType    string `json:"eventType"`
	Status       int    `json:"status"`
	Error        string `json:"error,omitempty"`
}

func (s *Simulator) serveUI(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.authenticate(r); !ok {
		writeError(w, http.StatusUnauthorized, "Not authorized")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, UIPrefix), "/")
	var (
		id  string
		ds  []Delivery
		err error
	)
	switch {
	case len(segs) == 3 && segs[0] == "candidates" && segs[2] == "move":
		var body struct {
			Stage string `json:"stage"`
		}
		if !decodeJSON(r, &body) {
			writeError(w, http.StatusBadRequest, msgMalformed)
			return
		}
		id = segs[1]
		ds, err = s.MoveCandidateInUI(r.Context(), id, body.Stage)
	case len(segs) == 3 && segs[0] == "jobs" && segs[2] == "candidates":
		var body struct {
			Firstname, Lastname, Email, Stage string
		}
		if !decodeJSON(r, &body) {
			writeError(w, http.StatusBadRequest, msgMalformed)
			return
		}
		id, ds, err = s.CreateCandidateInUI(r.Context(), segs[1], UICandidate{
			Firstname: body.Firstname, Lastname: body.Lastname, Email: body.Email, StageSlug: body.Stage,
		})
	case len(segs) == 3 && segs[0] == "events" && segs[2] == "redeliver":
		ds, err = s.Redeliver(r.Context(), segs[1])
	default:
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	if errors.Is(err, ErrNoSuchRecord) {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		dj := deliveryJSON{Subscription: d.SubscriptionID, Target: d.Target, Event: d.EventID, EventType: d.EventType, Status: d.Status}
		if d.Err != nil {
			dj.Error = d.Err.Error()
		}
		out = append(out, dj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"candidate": id, "deliveries": out})
}
