package simulator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeLayout is how every timestamp is written: ISO 8601, UTC, with
// milliseconds, as a live account answers (API.md §10, e.g.
// 2026-04-11T03:36:48.560Z).
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

// hexID renders an id as Workable does: lowercase hex of an increasing
// integer (API.md §1 "ID format").
func hexID(n uint64) string { return strconv.FormatUint(n, 16) }

// parseHexID parses an id; ordering and since_id/max_id compare these values.
func parseHexID(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.ToLower(s), 16, 64)
	return n, err == nil
}

// appNumber is the numeric id of a record in Workable's web app URLs:
// int(id,16) - 1234 (API.md §1).
func appNumber(id uint64) uint64 {
	if id < 1234 {
		return id
	}
	return id - 1234
}

func strPtr(s string) *string { return &s }

// nullable turns "" into nil: Workable returns empty strings as null (WR-v3).
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func mustRoundTrip(v any, into any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("simulator: encode %T: %v", v, err))
	}
	if err := json.Unmarshal(b, into); err != nil {
		panic(fmt.Sprintf("simulator: decode into %T: %v", into, err))
	}
}

// --- account, stages, members ---

type accountRec struct {
	id, name, description, summary, websiteURL string
}

type accountJSON struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Subdomain   string  `json:"subdomain"`
	Description *string `json:"description"`
	Summary     *string `json:"summary"`
	WebsiteURL  *string `json:"website_url"`
}

func (s *Simulator) accountJSON() accountJSON {
	a := s.account
	return accountJSON{
		ID: a.id, Name: a.name, Subdomain: s.subdomain,
		Description: nullable(a.description), Summary: nullable(a.summary), WebsiteURL: nullable(a.websiteURL),
	}
}

type stageRec struct {
	id         int
	identifier string
	slug       string
	name       string
	kind       string
	position   int
}

// stageJSON is a stage as a live account lists it (API.md §10): an integer
// id, a hex identifier, and positions counting from 1.
type stageJSON struct {
	ID         int    `json:"id"`
	Identifier string `json:"identifier"`
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Position   int    `json:"position"`
}

func (st *stageRec) toJSON() stageJSON {
	return stageJSON{ID: st.id, Identifier: st.identifier, Slug: st.slug, Name: st.name, Kind: st.kind, Position: st.position}
}

type memberRec struct {
	id       uint64
	name     string
	headline string
	email    string
	role     string
	active   bool
}

// memberJSON is a member as a live account lists it (API.md §10): type
// "Member", both role and roles[], hris_role, active.
type memberJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Headline *string  `json:"headline"`
	Email    string   `json:"email"`
	Role     string   `json:"role"`
	Roles    []string `json:"roles"`
	HrisRole *string  `json:"hris_role"`
	Active   bool     `json:"active"`
}

func (m memberRec) toJSON() memberJSON {
	// simulator guess: roles[] holds "ats.<role>" (the reference shows
	// "ats.admin"), and only admins have an HRIS role.
	var hris *string
	if m.role == "admin" {
		hris = strPtr("admin")
	}
	return memberJSON{ID: hexID(m.id), Name: m.name, Type: "Member", Headline: nullable(m.headline), Email: m.email,
		Role: m.role, Roles: []string{"ats." + m.role}, HrisRole: hris, Active: m.active}
}

// --- jobs ---

type locationRec struct {
	country, countryCode, region, regionCode, city, zip string
	workplace                                           string // on_site | hybrid | remote
}

// str is "city, region, country" with the missing parts left out (WR-jobs).
func (l locationRec) str() string {
	var parts []string
	for _, p := range []string{l.city, l.region, l.country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

type jobLocationJSON struct {
	LocationStr   *string `json:"location_str,omitempty"` // absent from a detail
	Country       *string `json:"country"`
	CountryCode   *string `json:"country_code"`
	Region        *string `json:"region"`
	RegionCode    *string `json:"region_code"`
	City          *string `json:"city"`
	ZipCode       *string `json:"zip_code"`
	Telecommuting bool    `json:"telecommuting"`
	WorkplaceType string  `json:"workplace_type"`
}

// jobJSON is the job's location object; a live job detail's has no
// location_str (API.md §10), so withStr is false there.
func (l locationRec) jobJSON(withStr bool) jobLocationJSON {
	out := jobLocationJSON{
		Country: nullable(l.country), CountryCode: nullable(l.countryCode),
		Region: nullable(l.region), RegionCode: nullable(l.regionCode), City: nullable(l.city),
		ZipCode: nullable(l.zip), Telecommuting: l.workplace == "remote", WorkplaceType: l.workplace,
	}
	if withStr {
		out.LocationStr = nullable(l.str())
	}
	return out
}

// jobLocationItemJSON is one entry of a job's locations array, in the keys
// a live account uses (API.md §10), which are not the location object's.
type jobLocationItemJSON struct {
	Shortcode   string  `json:"shortcode"`
	CountryCode *string `json:"country_code"`
	CountryName *string `json:"country_name"`
	StateCode   *string `json:"state_code"`
	Subregion   *string `json:"subregion"`
	ZipCode     *string `json:"zip_code"`
	City        *string `json:"city"`
	Coords      *string `json:"coords"`
	Hidden      bool    `json:"hidden"`
}

// jobLocationRec is one of a job's locations.
type jobLocationRec struct {
	shortcode string
	loc       locationRec
	coords    string // "latitude, longitude"
	hidden    bool
}

func (l jobLocationRec) toJSON() jobLocationItemJSON {
	return jobLocationItemJSON{
		Shortcode: l.shortcode, CountryCode: nullable(l.loc.countryCode), CountryName: nullable(l.loc.country),
		StateCode: nullable(l.loc.regionCode), Subregion: nullable(l.loc.region), ZipCode: nullable(l.loc.zip),
		City: nullable(l.loc.city), Coords: nullable(l.coords), Hidden: l.hidden,
	}
}

// salaryJSON is a job's salary (API.md §10): amounts and a lower-case
// currency, all null when the job shows none.
type salaryJSON struct {
	From     *int    `json:"salary_from"`
	To       *int    `json:"salary_to"`
	Currency *string `json:"salary_currency"`
}

type departmentJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type jobRec struct {
	id           uint64
	title        string
	shortcode    string
	code         string
	state        string
	confidential bool
	departments  []departmentJSON // hierarchy, root first; the last is the job's department
	location     locationRec
	// locations are every location, the first matching location (API.md §3).
	locations      []jobLocationRec
	salaryFrom     int // 0: no salary shown
	salaryTo       int
	currency       string
	keywords       []string
	sample         bool
	opened         *activityRec // the job's "opened" activity
	createdAt      time.Time
	updatedAt      time.Time
	description    string
	requirements   string
	benefits       string
	employmentType string
	industry       string
	function       string
	experience     string
	education      string
}

func (j *jobRec) department() string {
	if len(j.departments) == 0 {
		return ""
	}
	return j.departments[len(j.departments)-1].Name
}

func (j *jobRec) fullDescription() string {
	return j.description + "<p><strong>Requirements</strong></p>" + j.requirements +
		"<p><strong>Benefits</strong></p>" + j.benefits
}

type jobJSON struct {
	ID                  string           `json:"id"`
	Title               string           `json:"title"`
	FullTitle           string           `json:"full_title"`
	Shortcode           string           `json:"shortcode"`
	Code                *string          `json:"code"`
	State               string           `json:"state"`
	Confidential        bool             `json:"confidential"`
	Department          *string          `json:"department"`
	DepartmentHierarchy []departmentJSON `json:"department_hierarchy"`
	URL                 string           `json:"url"`
	ApplicationURL      string           `json:"application_url"`
	Shortlink           string           `json:"shortlink"`
	Location            jobLocationJSON  `json:"location"`
	// Live list fields (API.md §10); a detail has all but sample.
	Sample        *bool                 `json:"sample,omitempty"`
	WorkplaceType string                `json:"workplace_type"`
	Salary        salaryJSON            `json:"salary"`
	Keywords      []string              `json:"keywords"`
	Locations     []jobLocationItemJSON `json:"locations"`
	CreatedAt     string                `json:"created_at"`
	UpdatedAt     string                `json:"updated_at"`

	// include_fields (list) or detail.
	FullDescription *string `json:"full_description,omitempty"`
	Description     *string `json:"description,omitempty"`
	Requirements    *string `json:"requirements,omitempty"`
	Benefits        *string `json:"benefits,omitempty"`

	// Detail only.
	EmploymentType *string `json:"employment_type,omitempty"`
	Industry       *string `json:"industry,omitempty"`
	Function       *string `json:"function,omitempty"`
	Experience     *string `json:"experience,omitempty"`
	Education      *string `json:"education,omitempty"`
}

// jobFields selects the optional parts of a job's JSON.
type jobFields struct {
	description, fullDescription, requirements, benefits bool
	// detail adds the detail-only fields.
	detail bool
	// detailShape drops what a live detail lacks although the list item has
	// it: location.location_str and sample (API.md §10).
	detailShape bool
}

// jobDetail is the shape of GET /jobs/:shortcode.
func jobDetail() jobFields {
	return jobFields{description: true, fullDescription: true, requirements: true, benefits: true, detail: true, detailShape: true}
}

// jobEverything is the list item with every detail field: what the
// accessors (Jobs, Job) return.
func jobEverything() jobFields {
	return jobFields{description: true, fullDescription: true, requirements: true, benefits: true, detail: true}
}

func (s *Simulator) jobJSON(j *jobRec, f jobFields) jobJSON {
	num := appNumber(j.id)
	base := fmt.Sprintf("https://%s.workable.com", s.subdomain)
	title := j.title
	if j.code != "" {
		title += " - " + j.code
	}
	out := jobJSON{
		ID: hexID(j.id), Title: j.title, FullTitle: title, Shortcode: j.shortcode, Code: nullable(j.code),
		State: j.state, Confidential: j.confidential, Department: nullable(j.department()),
		DepartmentHierarchy: append([]departmentJSON{}, j.departments...),
		URL:                 fmt.Sprintf("%s/jobs/%d", base, num),
		ApplicationURL:      fmt.Sprintf("%s/jobs/%d/candidates/new", base, num),
		// A live shortlink is on apply.workable.com (API.md §10).
		Shortlink:     fmt.Sprintf("https://apply.workable.com/j/%s", j.shortcode),
		Location:      j.location.jobJSON(!f.detailShape),
		WorkplaceType: j.location.workplace,
		Keywords:      append([]string{}, j.keywords...),
		Locations:     make([]jobLocationItemJSON, 0, len(j.locations)),
		CreatedAt:     formatTime(j.createdAt), UpdatedAt: formatTime(j.updatedAt),
	}
	for _, l := range j.locations {
		out.Locations = append(out.Locations, l.toJSON())
	}
	if j.salaryFrom > 0 {
		from, to := j.salaryFrom, j.salaryTo
		out.Salary = salaryJSON{From: &from, To: &to, Currency: strPtr(j.currency)}
	}
	if !f.detailShape {
		sample := j.sample
		out.Sample = &sample
	}
	if f.description {
		out.Description = strPtr(j.description)
	}
	if f.fullDescription {
		out.FullDescription = strPtr(j.fullDescription())
	}
	if f.requirements {
		out.Requirements = strPtr(j.requirements)
	}
	if f.benefits {
		out.Benefits = strPtr(j.benefits)
	}
	if f.detail {
		out.EmploymentType = nullable(j.employmentType)
		out.Industry = nullable(j.industry)
		out.Function = nullable(j.function)
		out.Experience = nullable(j.experience)
		out.Education = nullable(j.education)
	}
	return out
}

// --- candidates ---

type educationRec struct {
	ID           string  `json:"id"`
	Degree       *string `json:"degree"`
	School       string  `json:"school"`
	FieldOfStudy *string `json:"field_of_study"`
	StartDate    *string `json:"start_date"`
	EndDate      *string `json:"end_date"`
}

type experienceRec struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Summary   *string `json:"summary"`
	StartDate *string `json:"start_date"`
	EndDate   *string `json:"end_date"`
	Company   *string `json:"company"`
	Industry  *string `json:"industry"`
	Current   bool    `json:"current"`
}

type socialRec struct {
	Type     string  `json:"type"`
	Name     *string `json:"name,omitempty"`
	Username *string `json:"username,omitempty"`
	URL      string  `json:"url"`
}

type skillJSON struct {
	Name string `json:"name"`
}

type candidateLocationJSON struct {
	LocationStr *string `json:"location_str"`
	Country     *string `json:"country"`
	CountryCode *string `json:"country_code"`
	Region      *string `json:"region"`
	RegionCode  *string `json:"region_code"`
	City        *string `json:"city"`
	ZipCode     *string `json:"zip_code"`
}

type candidateRec struct {
	id             uint64
	job            *jobRec
	name           string
	firstname      *string
	lastname       *string
	headline       *string
	email          *string
	phone          *string
	address        *string
	summary        *string
	coverLetter    *string
	domain         *string
	imageURL       *string
	resumeURL      *string
	outbound       string
	stage          *stageRec
	sourced        bool
	disqualified   bool
	withdrew       bool
	disqualifiedAt *time.Time
	dqReason       *string
	hiredAt        *time.Time
	movedToOfferAt *time.Time
	createdAt      time.Time
	updatedAt      time.Time
	anonymized     bool
	outlet         string
	commonSource   *string
	sourceCategory *string
	resume         *resumeRec
	location       *locationRec
	education      []educationRec
	experience     []experienceRec
	skills         []string
	answers        []json.RawMessage
	social         []socialRec
	tags           []string
	activities     []*activityRec
	// originating is the id of the candidate this one was copied from.
	originating *string
}

type accountRefJSON struct {
	Subdomain string `json:"subdomain"`
	Name      string `json:"name"`
}

type jobRefJSON struct {
	Shortcode string `json:"shortcode"`
	Title     string `json:"title"`
}

// resumeRec is a candidate's resume file.
type resumeRec struct {
	filename, filetype string
	at                 time.Time
}

type resumeMetadataJSON struct {
	Filename  string `json:"filename"`
	Filetype  string `json:"filetype"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// candidateBasicJSON holds the fields a live candidate list item and a live
// detail share: the documented list table (API.md §3) but withdrew, plus
// the live additions of both (API.md §10).
type candidateBasicJSON struct {
	ID                     string         `json:"id"`
	Name                   string         `json:"name"`
	Firstname              *string        `json:"firstname"`
	Lastname               *string        `json:"lastname"`
	Headline               *string        `json:"headline"`
	Account                accountRefJSON `json:"account"`
	Job                    jobRefJSON     `json:"job"`
	Stage                  string         `json:"stage"`
	StageKind              string         `json:"stage_kind"`
	Disqualified           bool           `json:"disqualified"`
	DisqualificationReason *string        `json:"disqualification_reason"`
	Sourced                bool           `json:"sourced"`
	ProfileURL             string         `json:"profile_url"`
	Email                  *string        `json:"email"`
	Domain                 *string        `json:"domain"`
	CreatedAt              string         `json:"created_at"`
	UpdatedAt              string         `json:"updated_at"`
	HiredAt                *string        `json:"hired_at"`
	Address                *string        `json:"address"`
	Phone                  *string        `json:"phone"`
	Anonymized             bool           `json:"anonymized"`
	MovedToOfferAt         *string        `json:"moved_to_offer_at"`
	Outlet                 *string        `json:"outlet"`
	CommonSource           *string        `json:"common_source"`
	CommonSourceCategory   *string        `json:"common_source_category"`
}

// candidateListJSON is the list item of GET /candidates: live list items
// add resume_metadata and lack withdrew (API.md §10).
type candidateListJSON struct {
	candidateBasicJSON
	ResumeMetadata *resumeMetadataJSON `json:"resume_metadata"`
}

// candidateDetailJSON is GET /candidates/:id's candidate: the shared fields,
// withdrew, and the detail fields (API.md §3, §10); no resume_metadata.
type candidateDetailJSON struct {
	candidateBasicJSON
	Withdrew               bool                   `json:"withdrew"`
	ImageURL               *string                `json:"image_url"`
	DisqualifiedAt         *string                `json:"disqualified_at"`
	OutboundMailbox        *string                `json:"outbound_mailbox"`
	UploaderID             *string                `json:"uploader_id"`
	CoverLetter            *string                `json:"cover_letter"`
	Summary                *string                `json:"summary"`
	EducationEntries       []educationRec         `json:"education_entries"`
	ExperienceEntries      []experienceRec        `json:"experience_entries"`
	Skills                 []skillJSON            `json:"skills"`
	Answers                []json.RawMessage      `json:"answers"`
	ResumeURL              *string                `json:"resume_url"`
	SocialProfiles         []socialRec            `json:"social_profiles"`
	Tags                   []string               `json:"tags"`
	Location               *candidateLocationJSON `json:"location"`
	OriginatingCandidateID *string                `json:"originating_candidate_id"`
}

func (s *Simulator) candidateBasicJSON(c *candidateRec) candidateBasicJSON {
	var hired *string
	if c.hiredAt != nil {
		hired = strPtr(formatTime(*c.hiredAt))
	}
	return candidateBasicJSON{
		ID: hexID(c.id), Name: c.name, Firstname: c.firstname, Lastname: c.lastname, Headline: c.headline,
		Account:      accountRefJSON{Subdomain: s.subdomain, Name: s.account.name},
		Job:          jobRefJSON{Shortcode: c.job.shortcode, Title: c.job.title},
		Stage:        c.stage.name,
		StageKind:    c.stage.kind,
		Disqualified: c.disqualified, DisqualificationReason: c.dqReason,
		Sourced: c.sourced,
		ProfileURL: fmt.Sprintf("https://%s.workable.com/backend/jobs/%d/candidates/%d",
			s.subdomain, appNumber(c.job.id), appNumber(c.id)),
		Email: c.email, Domain: c.domain,
		CreatedAt: formatTime(c.createdAt), UpdatedAt: formatTime(c.updatedAt), HiredAt: hired,
		Address: c.address, Phone: c.phone,
		Anonymized: c.anonymized, MovedToOfferAt: formatTimePtr(c.movedToOfferAt), Outlet: nullable(c.outlet),
		CommonSource: c.commonSource, CommonSourceCategory: c.sourceCategory,
	}
}

func (s *Simulator) candidateListJSON(c *candidateRec) candidateListJSON {
	out := candidateListJSON{candidateBasicJSON: s.candidateBasicJSON(c)}
	if r := c.resume; r != nil {
		at := formatTime(r.at)
		out.ResumeMetadata = &resumeMetadataJSON{Filename: r.filename, Filetype: r.filetype, CreatedAt: at, UpdatedAt: at}
	}
	return out
}

func (s *Simulator) candidateDetailJSON(c *candidateRec) candidateDetailJSON {
	skills := make([]skillJSON, 0, len(c.skills))
	for _, sk := range c.skills {
		skills = append(skills, skillJSON{Name: sk})
	}
	var loc *candidateLocationJSON
	if c.location != nil {
		l := c.location
		loc = &candidateLocationJSON{
			LocationStr: nullable(l.str()), Country: nullable(l.country), CountryCode: nullable(l.countryCode),
			Region: nullable(l.region), RegionCode: nullable(l.regionCode), City: nullable(l.city), ZipCode: nullable(l.zip),
		}
	} else {
		loc = &candidateLocationJSON{}
	}
	return candidateDetailJSON{
		candidateBasicJSON: s.candidateBasicJSON(c),
		Withdrew:           c.withdrew,
		ImageURL:           c.imageURL,
		DisqualifiedAt:     formatTimePtr(c.disqualifiedAt),
		OutboundMailbox:    nullable(c.outbound),
		CoverLetter:        c.coverLetter,
		Summary:            c.summary,
		EducationEntries:   append([]educationRec{}, c.education...),
		ExperienceEntries:  append([]experienceRec{}, c.experience...),
		Skills:             skills,
		Answers:            append([]json.RawMessage{}, c.answers...),
		ResumeURL:          c.resumeURL,
		SocialProfiles:     append([]socialRec{}, c.social...),
		Tags:               append([]string{}, c.tags...),
		Location:           loc,

		OriginatingCandidateID: c.originating,
	}
}

// --- activities ---

// stageRefJSON is a stage inside an activity, as a live account sends it
// (API.md §10): {id (integer), identifier, name, slug}.
type stageRefJSON struct {
	ID         int    `json:"id"`
	Identifier string `json:"identifier"`
	Name       string `json:"name"`
	Slug       string `json:"slug"`
}

type memberRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

type candidateRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ratingJSON is a rating as a live account sends it (API.md §10).
type ratingJSON struct {
	Score string `json:"score"`
	Scale string `json:"scale"`
	Grade int    `json:"grade"`
}

// activityRec is one activity. Its JSON follows the live semantics of
// API.md §10: a stage move has action = the target stage's slug, stage_name
// = the stage left, action_stage = the stage left and target_stage = the
// stage entered; every other activity has target_stage null and stage_name
// = the stage the candidate was in. member is left out for system events.
type activityRec struct {
	id          uint64
	action      string
	actionStage *stageRec
	targetStage *stageRec // moves only
	member      *memberRec
	body        *string
	rating      *ratingJSON // rating activities only
	visibility  []string
	createdAt   time.Time
}

type activityJSON struct {
	ID              string            `json:"id"`
	Action          string            `json:"action"`
	StageName       *string           `json:"stage_name"`
	ActionStage     *stageRefJSON     `json:"action_stage,omitempty"`
	TargetStage     *stageRefJSON     `json:"target_stage"`
	Candidate       *candidateRefJSON `json:"candidate,omitempty"`
	CreatedAt       string            `json:"created_at"`
	UpdatedAt       string            `json:"updated_at"`
	Member          *memberRefJSON    `json:"member,omitempty"`
	Body            *string           `json:"body"`
	Rating          *ratingJSON       `json:"rating,omitempty"`
	VisibilityRoles []string          `json:"visibility_roles,omitempty"`
}

func stageRef(st *stageRec) *stageRefJSON {
	if st == nil {
		return nil
	}
	return &stageRefJSON{ID: st.id, Identifier: st.identifier, Name: st.name, Slug: st.slug}
}

// thumbsScores are the scores of the thumbs scale, indexed by grade
// (API.md §9: thumbs 0–2, negative/positive/definite; §10 shows
// {score: "positive", scale: "thumbs", grade: 1}).
func thumbsScores() []string { return []string{"negative", "positive", "definitely"} }

// newRating is the rating of a grade on a scale. A thumbs grade is scored
// by name, as a live account does.
//
// simulator guess: the reference shows scores for thumbs only; a stars or
// numbers rating is scored with its grade as text.
func newRating(scale string, grade int) *ratingJSON {
	score := strconv.Itoa(grade)
	if scale == "thumbs" && grade >= 0 && grade < len(thumbsScores()) {
		score = thumbsScores()[grade]
	}
	return &ratingJSON{Score: score, Scale: scale, Grade: grade}
}

// toJSON renders a as one of a candidate's activities.
func (a *activityRec) toJSON() activityJSON {
	out := activityJSON{
		ID: hexID(a.id), Action: a.action,
		ActionStage: stageRef(a.actionStage), TargetStage: stageRef(a.targetStage),
		CreatedAt: formatTime(a.createdAt), UpdatedAt: formatTime(a.createdAt),
		Body: a.body, VisibilityRoles: a.visibility,
	}
	if a.actionStage != nil {
		out.StageName = strPtr(a.actionStage.name)
	}
	if a.member != nil {
		out.Member = &memberRefJSON{ID: hexID(a.member.id), Name: a.member.name, Type: "Member"}
	}
	if a.rating != nil {
		r := *a.rating
		out.Rating = &r
	}
	return out
}

// jobActivityJSON renders a as one of a job's activities (API.md §10): the
// candidate it is about (nil for the job's own), and stage_name null.
func (a *activityRec) jobActivityJSON(c *candidateRec) activityJSON {
	out := a.toJSON()
	out.StageName = nil
	if c != nil {
		out.Candidate = &candidateRefJSON{ID: hexID(c.id), Name: c.name}
	}
	return out
}
