package workable

import (
	"encoding/json"
	"slices"
	"time"
)

// The types below mirror the JSON bodies of Workable's SPI v3 as described in
// ../shared/workable-reference/API.md (sections 2–6). Optional strings are
// pointers because Workable returns empty strings as null (WR-v3).

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

// Job is a job as listed by GET /jobs; the detail fields (Description and
// below) are present only in GET /jobs/:shortcode or with include_fields.
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

	// Detail fields (GET /jobs/:shortcode, or include_fields on the list).
	FullDescription *string    `json:"full_description,omitempty"`
	Description     *string    `json:"description,omitempty"`
	Requirements    *string    `json:"requirements,omitempty"`
	Benefits        *string    `json:"benefits,omitempty"`
	EmploymentType  *string    `json:"employment_type,omitempty"`
	Industry        *string    `json:"industry,omitempty"`
	Function        *string    `json:"function,omitempty"`
	Experience      *string    `json:"experience,omitempty"`
	Education       *string    `json:"education,omitempty"`
	Locations       []Location `json:"locations,omitempty"`
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

// Candidate is a candidate. GET /candidates returns the basic fields (up to
// Phone); GET /candidates/:id, create and update return the detail fields too.
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

// StageRef is a stage as embedded in an activity (action_stage, target_stage).
type StageRef struct {
	ID   json.Number `json:"id"`
	Name string      `json:"name"`
}

// MemberRef is the member who performed an activity.
type MemberRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Rating is the score of a rating activity.
type Rating struct {
	Score string `json:"score"`
}

// Activity is one event of a candidate's activity stream (API.md §6).
type Activity struct {
	ID              string     `json:"id"`
	Action          string     `json:"action"`
	StageName       *string    `json:"stage_name"`
	ActionStage     *StageRef  `json:"action_stage,omitempty"`
	TargetStage     *StageRef  `json:"target_stage,omitempty"`
	Body            *string    `json:"body"`
	Rating          *Rating    `json:"rating,omitempty"`
	VisibilityRoles []string   `json:"visibility_roles,omitempty"`
	Member          *MemberRef `json:"member,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`

	// CandidateID is the candidate whose activity this is. A candidate's
	// activity list does not repeat it, so the caller that listed it fills
	// it in; it is never sent or decoded.
	CandidateID string `json:"-"`
}

// Stage is a hiring pipeline stage (GET /stages).
type Stage struct {
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Position int    `json:"position"`
}

// Member is a member of the account (GET /members).
type Member struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Headline *string  `json:"headline,omitempty"`
	Email    *string  `json:"email,omitempty"`
	Role     *string  `json:"role,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Active   *bool    `json:"active,omitempty"`
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
