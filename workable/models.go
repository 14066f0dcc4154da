package workable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The types below mirror the JSON bodies of Workable's SPI v3 as described in
// ../shared/workable-reference/API.md (sections 2–6 and 9), in the shapes a
// live account answers (section 10, "LIVE"), while still accepting the
// documented forms where the two differ. Optional strings are pointers
// because Workable returns empty strings as null (WR-v3). Timestamps decode
// with their milliseconds, which live answers carry (two events of one
// candidate can differ only in them).

// Location is where a job (or a candidate) is (API.md §2).
type Location struct {
	LocationStr   *string `json:"location_str,omitempty"`
	Country       *string `json:"country,omitempty"`
	CountryCode   *string `json:"country_code,omitempty"`
	Region        *string `json:"region,omitempty"`
	RegionCode    *string `json:"region_code,omitempty"`
	City          *string `json:"city,omitempty"`
	ZipCode       *string `json:"zip_code,omitempty"`
	Telecommuting *bool   `json:"telecommuting,omitempty"`
	WorkplaceType *string `json:"workplace_type,omitempty"` // on_site | hybrid | remote
}

// Department is one entry of a job's department_hierarchy.
type Department struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Salary is a job's advertised pay range, as live job list items carry it
// (API.md §10): {salary_from, salary_to, salary_currency}, the currency an
// ISO 4217 code in lower case (e.g. "gbp"). The reference does not say
// whether amounts are numbers or strings; both decode.
type Salary struct {
	From     *float64 `json:"salary_from"`
	To       *float64 `json:"salary_to"`
	Currency *string  `json:"salary_currency"`
}

// UnmarshalJSON accepts amounts as JSON numbers or as numeric strings.
func (s *Salary) UnmarshalJSON(b []byte) error {
	var raw struct {
		From     json.RawMessage `json:"salary_from"`
		To       json.RawMessage `json:"salary_to"`
		Currency *string         `json:"salary_currency"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	from, err := decodeAmount(raw.From)
	if err != nil {
		return fmt.Errorf("salary_from: %w", err)
	}
	to, err := decodeAmount(raw.To)
	if err != nil {
		return fmt.Errorf("salary_to: %w", err)
	}
	*s = Salary{From: from, To: to, Currency: raw.Currency}
	return nil
}

// decodeAmount reads a number, a numeric string or null ("" reads as null,
// as Workable turns empty strings into null).
func decodeAmount(raw json.RawMessage) (*float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil, nil
		}
		raw = []byte(s)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, fmt.Errorf("not a number: %s", raw)
	}
	return &f, nil
}

// JobLocation is one entry of a job's locations array. Live items use keys
// of their own (API.md §10): {shortcode, country_code, country_name,
// state_code, subregion, zip_code, city, coords, hidden}; the documented
// form (API.md §3) reuses the location object's keys (country, region,
// region_code, …), which decode into the same fields.
type JobLocation struct {
	// Shortcode is Workable's code of the location entry.
	Shortcode   *string `json:"shortcode,omitempty"`
	CountryCode *string `json:"country_code,omitempty"`
	// CountryName is country_name (documented form: country).
	CountryName *string `json:"country_name,omitempty"`
	// StateCode is state_code (documented form: region_code).
	StateCode *string `json:"state_code,omitempty"`
	// Subregion is subregion (documented form: region).
	Subregion *string `json:"subregion,omitempty"`
	ZipCode   *string `json:"zip_code,omitempty"`
	City      *string `json:"city,omitempty"`
	// Coords is "latitude, longitude", e.g. "51.5073509, -0.1277583".
	Coords *string `json:"coords,omitempty"`
	// Hidden locations are not meant to be shown publicly.
	Hidden bool `json:"hidden,omitempty"`
}

// UnmarshalJSON decodes both the live keys and the documented ones; where
// an item has both, the live key wins.
func (l *JobLocation) UnmarshalJSON(b []byte) error {
	type live JobLocation
	var raw struct {
		live
		Country    *string `json:"country"`
		Region     *string `json:"region"`
		RegionCode *string `json:"region_code"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*l = JobLocation(raw.live)
	l.CountryName = firstNonNil(l.CountryName, raw.Country)
	l.StateCode = firstNonNil(l.StateCode, raw.RegionCode)
	l.Subregion = firstNonNil(l.Subregion, raw.Region)
	return nil
}

// Coordinates parses Coords. ok is false when there are none or they are
// not "latitude, longitude" within range.
func (l JobLocation) Coordinates() (lat, lng float64, ok bool) {
	if l.Coords == nil {
		return 0, 0, false
	}
	a, b, found := strings.Cut(*l.Coords, ",")
	if !found {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lng, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return 0, 0, false
	}
	return lat, lng, true
}

func firstNonNil[T any](ps ...*T) *T {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

// Job is a job as listed by GET /jobs; the detail fields (Description and
// below) are present only in GET /jobs/:shortcode or with include_fields.
//
// A live job detail is NOT a superset of the list item (API.md §10): its
// location lacks location_str and it has no sample. A detail therefore never
// stands in for the list item; see MergeJobDetail.
type Job struct {
	ID                  string       `json:"id"`
	Title               string       `json:"title"`
	FullTitle           *string      `json:"full_title,omitempty"`
	Shortcode           string       `json:"shortcode"`
	Code                *string      `json:"code,omitempty"`
	State               string       `json:"state"` // draft | published | archived | closed
	Confidential        *bool        `json:"confidential,omitempty"`
	Department          *string      `json:"department,omitempty"`
	DepartmentHierarchy []Department `json:"department_hierarchy,omitempty"`
	URL                 *string      `json:"url,omitempty"`
	ApplicationURL      *string      `json:"application_url,omitempty"`
	Shortlink           *string      `json:"shortlink,omitempty"`
	Location            *Location    `json:"location,omitempty"`
	CreatedAt           time.Time    `json:"created_at"`
	UpdatedAt           *time.Time   `json:"updated_at,omitempty"`

	// Live list fields (API.md §10); the detail repeats all but Sample.
	WorkplaceType *string  `json:"workplace_type,omitempty"` // on_site | hybrid | remote
	Salary        *Salary  `json:"salary,omitempty"`
	Keywords      []string `json:"keywords,omitempty"`
	Sample        *bool    `json:"sample,omitempty"`
	// Locations are every location of the job, the first matching Location
	// (API.md §3). Live list items carry them too (API.md §10).
	Locations []JobLocation `json:"locations,omitempty"`

	// Detail fields (GET /jobs/:shortcode, or include_fields on the list).
	FullDescription *string `json:"full_description,omitempty"`
	Description     *string `json:"description,omitempty"`
	Requirements    *string `json:"requirements,omitempty"`
	Benefits        *string `json:"benefits,omitempty"`
	EmploymentType  *string `json:"employment_type,omitempty"`
	Industry        *string `json:"industry,omitempty"`
	Function        *string `json:"function,omitempty"`
	Experience      *string `json:"experience,omitempty"`
	Education       *string `json:"education,omitempty"`
}

// MergeJobDetail returns a copy of the list item listed with the fields it
// lacks taken from detail, the job's GET /jobs/:shortcode: the detail only
// ever fills gaps and never replaces a field the list item has, because a
// live detail lacks some list fields (location_str, sample) and would
// otherwise blank them (API.md §10). Either argument may be nil.
func MergeJobDetail(listed, detail *Job) *Job {
	switch {
	case listed == nil && detail == nil:
		return nil
	case listed == nil:
		j := *detail
		return &j
	case detail == nil:
		j := *listed
		return &j
	}
	j := *listed
	fill(&j.FullTitle, detail.FullTitle)
	fill(&j.Code, detail.Code)
	fill(&j.Confidential, detail.Confidential)
	fill(&j.Department, detail.Department)
	if j.DepartmentHierarchy == nil {
		j.DepartmentHierarchy = detail.DepartmentHierarchy
	}
	fill(&j.URL, detail.URL)
	fill(&j.ApplicationURL, detail.ApplicationURL)
	fill(&j.Shortlink, detail.Shortlink)
	if j.Location == nil {
		j.Location = detail.Location
	} else if detail.Location != nil {
		loc := *j.Location
		d := detail.Location
		fill(&loc.LocationStr, d.LocationStr)
		fill(&loc.Country, d.Country)
		fill(&loc.CountryCode, d.CountryCode)
		fill(&loc.Region, d.Region)
		fill(&loc.RegionCode, d.RegionCode)
		fill(&loc.City, d.City)
		fill(&loc.ZipCode, d.ZipCode)
		fill(&loc.Telecommuting, d.Telecommuting)
		fill(&loc.WorkplaceType, d.WorkplaceType)
		j.Location = &loc
	}
	fill(&j.UpdatedAt, detail.UpdatedAt)
	fill(&j.WorkplaceType, detail.WorkplaceType)
	fill(&j.Salary, detail.Salary)
	if j.Keywords == nil {
		j.Keywords = detail.Keywords
	}
	fill(&j.Sample, detail.Sample)
	if j.Locations == nil {
		j.Locations = detail.Locations
	}
	fill(&j.FullDescription, detail.FullDescription)
	fill(&j.Description, detail.Description)
	fill(&j.Requirements, detail.Requirements)
	fill(&j.Benefits, detail.Benefits)
	fill(&j.EmploymentType, detail.EmploymentType)
	fill(&j.Industry, detail.Industry)
	fill(&j.Function, detail.Function)
	fill(&j.Experience, detail.Experience)
	fill(&j.Education, detail.Education)
	return &j
}

// fill sets *dst to src when *dst is nil.
func fill[T any](dst **T, src *T) {
	if *dst == nil {
		*dst = src
	}
}

// AccountRef is the account a candidate belongs to, as embedded in candidates.
type AccountRef struct {
	Subdomain string `json:"subdomain"`
	Name      string `json:"name"`
}

// JobRef is the job a candidate belongs to, as embedded in candidates.
type JobRef struct {
	Shortcode string `json:"shortcode"`
	Title     string `json:"title"`
}

// EducationEntry is one school of a candidate (API.md §4). On input School
// is required and dates are YYYY-MM-DD.
type EducationEntry struct {
	ID           *string `json:"id,omitempty"`
	School       string  `json:"school"`
	Degree       *string `json:"degree"`
	FieldOfStudy *string `json:"field_of_study"`
	StartDate    *string `json:"start_date"`
	EndDate      *string `json:"end_date"`
}

// ExperienceEntry is one job of a candidate's past (API.md §4). On input
// Title is required and dates are YYYY-MM-DD.
type ExperienceEntry struct {
	ID        *string `json:"id,omitempty"`
	Title     string  `json:"title"`
	Summary   *string `json:"summary"`
	Company   *string `json:"company"`
	Industry  *string `json:"industry"`
	StartDate *string `json:"start_date"`
	EndDate   *string `json:"end_date"`
	Current   *bool   `json:"current"`
}

// SocialProfile is one social network profile of a candidate; Type is one of
// SocialProfileTypes and URL is required.
type SocialProfile struct {
	Type     string  `json:"type"`
	Name     *string `json:"name,omitempty"`
	Username *string `json:"username,omitempty"`
	URL      string  `json:"url"`
}

// Skill is a skill as Workable returns it ({name}); on input skills are strings.
type Skill struct {
	Name string `json:"name"`
}

// ResumeMetadata describes a candidate's resume file, as live candidate
// list items carry it (API.md §10).
type ResumeMetadata struct {
	Filename  *string    `json:"filename,omitempty"`
	Filetype  *string    `json:"filetype,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// Candidate is a candidate. GET /candidates returns the basic fields (up to
// Phone); GET /candidates/:id, create and update return the detail fields too.
//
// Live answers differ from the documented split (API.md §10): list items
// and details both carry Anonymized, MovedToOfferAt, Outlet, CommonSource
// and CommonSourceCategory; only list items carry ResumeMetadata, and only
// details carry Withdrew. Withdrew is nil and ResumeMetadata unset when the
// answer did not have them, so a caller can tell "absent here" from "false"
// or "null" and read them from the other shape.
type Candidate struct {
	ID                     string      `json:"id"`
	Name                   string      `json:"name"`
	Firstname              *string     `json:"firstname"`
	Lastname               *string     `json:"lastname"`
	Headline               *string     `json:"headline"`
	Account                *AccountRef `json:"account,omitempty"`
	Job                    JobRef      `json:"job"`
	Stage                  *string     `json:"stage"` // the stage's display name, e.g. "Interview"
	StageKind              *string     `json:"stage_kind,omitempty"`
	Disqualified           bool        `json:"disqualified"`
	Withdrew               *bool       `json:"withdrew,omitempty"`
	DisqualificationReason *string     `json:"disqualification_reason"`
	Sourced                bool        `json:"sourced"`
	ProfileURL             *string     `json:"profile_url"`
	Email                  *string     `json:"email"`
	Domain                 *string     `json:"domain"`
	CreatedAt              time.Time   `json:"created_at"`
	UpdatedAt              *time.Time  `json:"updated_at"`
	HiredAt                *string     `json:"hired_at,omitempty"`
	Address                *string     `json:"address"`
	Phone                  *string     `json:"phone"`

	// Live fields of both shapes (API.md §10).
	Anonymized           *bool      `json:"anonymized,omitempty"`
	MovedToOfferAt       *time.Time `json:"moved_to_offer_at,omitempty"`
	Outlet               *string    `json:"outlet,omitempty"` // "SPI" for candidates created through the API
	CommonSource         *string    `json:"common_source,omitempty"`
	CommonSourceCategory *string    `json:"common_source_category,omitempty"`
	// ResumeMetadata is in live list items only; Set is false when the
	// answer had no resume_metadata key (a detail), and true with a nil
	// Value when it was null.
	ResumeMetadata Optional[ResumeMetadata] `json:"resume_metadata,omitzero"`

	// Detail fields.
	ImageURL               *string           `json:"image_url,omitempty"`
	DisqualifiedAt         *time.Time        `json:"disqualified_at,omitempty"`
	OutboundMailbox        *string           `json:"outbound_mailbox,omitempty"`
	UploaderID             *string           `json:"uploader_id,omitempty"`
	CoverLetter            *string           `json:"cover_letter,omitempty"`
	Summary                *string           `json:"summary,omitempty"`
	EducationEntries       []EducationEntry  `json:"education_entries,omitempty"`
	ExperienceEntries      []ExperienceEntry `json:"experience_entries,omitempty"`
	Skills                 []Skill           `json:"skills,omitempty"`
	Answers                []json.RawMessage `json:"answers,omitempty"`
	ResumeURL              *string           `json:"resume_url,omitempty"`
	SocialProfiles         []SocialProfile   `json:"social_profiles,omitempty"`
	Tags                   []string          `json:"tags,omitempty"`
	Location               *Location         `json:"location,omitempty"`
	OriginatingCandidateID *string           `json:"originating_candidate_id,omitempty"`
}

// StageName returns the candidate's stage (its display name), or "" when
// c or its stage is nil.
func (c *Candidate) StageName() string {
	if c == nil || c.Stage == nil {
		return ""
	}
	return *c.Stage
}

// LastUpdated returns the candidate's updated_at, or the zero time when c
// or its updated_at is nil.
func (c *Candidate) LastUpdated() time.Time {
	if c == nil || c.UpdatedAt == nil {
		return time.Time{}
	}
	return *c.UpdatedAt
}

// FlexID is an identifier that Workable sends as a JSON number in some
// places (stage ids in live activities and /stages, API.md §10) and that
// other forms may send as a string; it keeps the text either way.
type FlexID string

// UnmarshalJSON accepts a JSON string or number.
func (id *FlexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*id = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = FlexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id is neither a string nor a number: %s", b)
	}
	*id = FlexID(n.String())
	return nil
}

// StageRef is a stage as embedded in an activity (action_stage,
// target_stage). Live objects are {id (integer), identifier, name, slug}
// (API.md §10); the documented form has only id and name (API.md §6).
type StageRef struct {
	ID         FlexID `json:"id,omitempty"`
	Identifier string `json:"identifier,omitempty"`
	Name       string `json:"name"`
	Slug       string `json:"slug,omitempty"`
}

// MemberRef is the member who performed an activity: {id, name, type:
// "Member"} in live answers (API.md §10). System events have none.
type MemberRef struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Type *string `json:"type,omitempty"`
}

// CandidateRef is the candidate a job activity is about (API.md §6, §10).
type CandidateRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Rating is the score of a rating activity: {score: "positive", scale:
// "thumbs", grade: 1} in live answers (API.md §10); the documented form has
// only score (API.md §6).
type Rating struct {
	Score string  `json:"score,omitempty"`
	Scale *string `json:"scale,omitempty"`
	Grade *int    `json:"grade,omitempty"`
}

// Activity is one event of a candidate's (or a job's) activity stream
// (API.md §6). Live activities (API.md §10) differ from the documented
// example: a stage move's Action is the slug of the stage moved TO ("moved"
// is a relocation to another job), StageName names the stage the candidate
// LEFT, TargetStage is set on moves only, a disqualification's Body is the
// reason, Member is nil for system events, and job activities carry
// Candidate (and StageName null).
type Activity struct {
	ID              string        `json:"id"`
	Action          string        `json:"action"`
	StageName       *string       `json:"stage_name"`
	ActionStage     *StageRef     `json:"action_stage,omitempty"`
	TargetStage     *StageRef     `json:"target_stage,omitempty"`
	Body            *string       `json:"body"`
	Rating          *Rating       `json:"rating,omitempty"`
	VisibilityRoles []string      `json:"visibility_roles,omitempty"`
	Member          *MemberRef    `json:"member,omitempty"`
	Candidate       *CandidateRef `json:"candidate,omitempty"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       *time.Time    `json:"updated_at,omitempty"`
}

// Stage is a hiring pipeline stage (GET /stages, GET /jobs/:shortcode/stages).
// Live stages are {id (integer), identifier, slug, name, kind, position},
// position counting from 1 (API.md §10); documented ones lack id and
// identifier and count from 0 (API.md §9). Only the order of positions is
// meaningful.
type Stage struct {
	ID         FlexID `json:"id,omitempty"`
	Identifier string `json:"identifier,omitempty"`
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Position   int    `json:"position"`
}

// Member is a member of the account (GET /members). Live members carry both
// role and roles[], type "Member", hris_role and active (API.md §10); job
// members add collaboration_role.
type Member struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Type              *string  `json:"type,omitempty"`
	Headline          *string  `json:"headline,omitempty"`
	Email             *string  `json:"email,omitempty"`
	Role              *string  `json:"role,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	HrisRole          *string  `json:"hris_role,omitempty"`
	Active            *bool    `json:"active,omitempty"`
	CollaborationRole *string  `json:"collaboration_role,omitempty"`
}

// AccountDepartment is one department of GET /departments, which live
// accounts answer as a bare JSON array (API.md §10). The reference shows
// no item; id and name are what department_hierarchy entries carry.
type AccountDepartment struct {
	ID   FlexID `json:"id"`
	Name string `json:"name"`
}

// DisqualificationReason is one entry of GET /disqualification_reasons
// (API.md §9 [C WR-dqr]), a bare JSON array in live answers (API.md §10).
type DisqualificationReason struct {
	ID                FlexID `json:"id"`
	Description       string `json:"description"`
	CandidateWithdrew bool   `json:"candidate_withdrew"`
	Position          *int   `json:"position,omitempty"`
}

// Account is a Workable account (GET /accounts, GET /accounts/:subdomain).
type Account struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Subdomain   string  `json:"subdomain"`
	Description *string `json:"description,omitempty"`
	Summary     *string `json:"summary,omitempty"`
	WebsiteURL  *string `json:"website_url,omitempty"`
}

// SocialProfileTypes returns the social profile types Workable accepts on
// input (API.md §4, from Workable's create-candidate reference), in a fresh
// slice the caller may change.
func SocialProfileTypes() []string {
	return []string{
		"academiaedu", "angellist", "behance", "bitbucket", "blogger", "crunchbase", "dandyid",
		"delicious", "deviantart", "digg", "doyoubuzz", "dribble", "dribbble", "econsultancy",
		"facebook", "flavorsme", "flickr", "fullcontact", "getglue", "gist", "github", "goodreads",
		"googleplus", "gravatar", "hackernews", "hiim", "klout", "lanyrd", "linkedin", "myspace",
		"ohloh", "orkut", "pinterest", "quora", "reddit", "scribd", "slideshare", "stackexchange",
		"stackoverflow", "tumblr", "twitter", "typepad", "vk", "wordpress", "xing",
	}
}

// IsSocialProfileType reports whether t is one of SocialProfileTypes, exactly
// (the types are lower case; callers fold case first if they accept any).
func IsSocialProfileType(t string) bool {
	return slices.Contains(SocialProfileTypes(), t)
}
