package simulator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeLayout is how every timestamp is written: ISO 8601, UTC, seconds
// (API.md §1, e.g. 2015-06-08T00:00:00Z).
const timeLayout = "2006-01-02T15:04:05Z"

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
	id       int
	slug     string
	name     string
	kind     string
	position int
}

type stageJSON struct {
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Position int    `json:"position"`
}

type memberRec struct {
	id       uint64
	name     string
	headline string
	email    string
	role     string
}

type memberJSON struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Headline *string `json:"headline"`
	Email    string  `json:"email"`
	Role     string  `json:"role"`
	Active   bool    `json:"active"`
}

func (m memberRec) toJSON() memberJSON {
	return memberJSON{ID: hexID(m.id), Name: m.name, Headline: nullable(m.headline), Email: m.email, Role: m.role, Active: true}
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
	LocationStr   *string `json:"location_str"`
	Country       *string `json:"country"`
	CountryCode   *string `json:"country_code"`
	Region        *string `json:"region"`
	RegionCode    *string `json:"region_code"`
	City          *string `json:"city"`
	ZipCode       *string `json:"zip_code"`
	Telecommuting bool    `json:"telecommuting"`
	WorkplaceType string  `json:"workplace_type"`
}

func (l locationRec) jobJSON() jobLocationJSON {
	return jobLocationJSON{
		LocationStr: nullable(l.str()), Country: nullable(l.country), CountryCode: nullable(l.countryCode),
		Region: nullable(l.region), RegionCode: nullable(l.regionCode), City: nullable(l.city),
		ZipCode: nullable(l.zip), Telecommuting: l.workplace == "remote", WorkplaceType: l.workplace,
	}
}

type departmentJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type jobRec struct {
	id             uint64
	title          string
	shortcode      string
	code           string
	state          string
	confidential   bool
	departments    []departmentJSON // hierarchy, root first; the last is the job's department
	location       locationRec
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
	CreatedAt           string           `json:"created_at"`
	UpdatedAt           string           `json:"updated_at"`

	// include_fields (list) or detail.
	FullDescription *string `json:"full_description,omitempty"`
	Description     *string `json:"description,omitempty"`
	Requirements    *string `json:"requirements,omitempty"`
	Benefits        *string `json:"benefits,omitempty"`

	// Detail only.
	EmploymentType *string            `json:"employment_type,omitempty"`
	Industry       *string            `json:"industry,omitempty"`
	Function       *string            `json:"function,omitempty"`
	Experience     *string            `json:"experience,omitempty"`
	Education      *string            `json:"education,omitempty"`
	Locations      *[]jobLocationJSON `json:"locations,omitempty"`
}

// jobFields selects the optional parts of a job's JSON.
type jobFields struct {
	description, fullDescription, requirements, benefits bool
	detail                                               bool
}

// jobDetail selects every optional part: the shape of GET /jobs/:shortcode.
func jobDetail() jobFields {
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
		Shortlink:           fmt.Sprintf("%s/j/%s", base, j.shortcode),
		Location:            j.location.jobJSON(),
		CreatedAt:           formatTime(j.createdAt), UpdatedAt: formatTime(j.updatedAt),
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
		locs := []jobLocationJSON{j.location.jobJSON()}
		out.Locations = &locs
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
	createdAt      time.Time
	updatedAt      time.Time
	location       *locationRec
	education      []educationRec
	experience     []experienceRec
	skills         []string
	answers        []json.RawMessage
	social         []socialRec
	tags           []string
	activities     []*activityRec
}

type accountRefJSON struct {
	Subdomain string `json:"subdomain"`
	Name      string `json:"name"`
}

type jobRefJSON struct {
	Shortcode string `json:"shortcode"`
	Title     string `json:"title"`
}

// candidateBasicJSON is the list item of GET /candidates (API.md §3, exactly
// the fields of the list table).
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
	Withdrew               bool           `json:"withdrew"`
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
}

// candidateDetailJSON is GET /candidates/:id's candidate: the list fields
// plus the detail fields (API.md §3).
type candidateDetailJSON struct {
	candidateBasicJSON
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
		Disqualified: c.disqualified, Withdrew: c.withdrew, DisqualificationReason: c.dqReason,
		Sourced: c.sourced,
		ProfileURL: fmt.Sprintf("https://%s.workable.com/backend/jobs/%d/candidates/%d",
			s.subdomain, appNumber(c.job.id), appNumber(c.id)),
		Email: c.email, Domain: c.domain,
		CreatedAt: formatTime(c.createdAt), UpdatedAt: formatTime(c.updatedAt), HiredAt: hired,
		Address: c.address, Phone: c.phone,
	}
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
	}
}

// --- activities ---

type stageRefJSON struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type memberRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type ratingJSON struct {
	Score string `json:"score"`
}

type activityRec struct {
	id          uint64
	action      string
	stageName   *string
	actionStage *stageRec
	targetStage *stageRec
	member      *memberRec
	body        *string
	rating      string
	visibility  []string
	createdAt   time.Time
}

type activityJSON struct {
	ID              string         `json:"id"`
	Action          string         `json:"action"`
	StageName       *string        `json:"stage_name"`
	ActionStage     *stageRefJSON  `json:"action_stage,omitempty"`
	TargetStage     *stageRefJSON  `json:"target_stage,omitempty"`
	CreatedAt       string         `json:"created_at"`
	UpdatedAt       string         `json:"updated_at"`
	Member          *memberRefJSON `json:"member,omitempty"`
	Body            *string        `json:"body"`
	Rating          *ratingJSON    `json:"rating,omitempty"`
	VisibilityRoles []string       `json:"visibility_roles,omitempty"`
}

func stageRef(st *stageRec) *stageRefJSON {
	if st == nil {
		return nil
	}
	return &stageRefJSON{ID: st.id, Name: st.name}
}

func (a *activityRec) toJSON() activityJSON {
	out := activityJSON{
		ID: hexID(a.id), Action: a.action, StageName: a.stageName,
		ActionStage: stageRef(a.actionStage), TargetStage: stageRef(a.targetStage),
		CreatedAt: formatTime(a.createdAt), UpdatedAt: formatTime(a.createdAt),
		Body: a.body, VisibilityRoles: a.visibility,
	}
	if a.member != nil {
		out.Member = &memberRefJSON{ID: hexID(a.member.id), Name: a.member.name}
	}
	if a.rating != "" {
		out.Rating = &ratingJSON{Score: a.rating}
	}
	return out
}
