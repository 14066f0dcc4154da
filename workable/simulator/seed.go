package simulator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The seeded data lives in fixed past ranges (never time.Now), so it is the
// same on every run: jobs were opened from jobsStart on, candidates arrived
// between candidatesStart and candidatesEnd.
func jobsStart() time.Time       { return time.Date(2023, time.September, 4, 9, 0, 0, 0, time.UTC) }
func candidatesStart() time.Time { return time.Date(2024, time.February, 1, 8, 0, 0, 0, time.UTC) }
func candidatesEnd() time.Time   { return time.Date(2025, time.October, 31, 18, 0, 0, 0, time.UTC) }

// First ids of each kind: hex of increasing counters, job ids with 6 hex
// digits as in a live account (API.md §10), the others 7–8 like the
// reference's fixtures.
const (
	firstJobID       uint64 = 0x2a3f01
	firstCandidateID uint64 = 0xce4da98
	firstActivityID  uint64 = 0x1a2b3c00
	firstEntryID     uint64 = 0x2f000000
)

type jobTemplate struct {
	title, code, state string
	confidential       bool
	departments        []departmentJSON
	location           locationRec
	employmentType     string
	industry, function string
	experience         string
	education          string
	pitch              string
	requirements       []string
}

func dept(names ...string) []departmentJSON {
	ids := map[string]int64{
		"Operations": 792289330, "Engineering": 792289331, "Sales": 792289334, "Design": 792289336,
		"Administration": 792289337, "Customer Success": 792289339, "Data": 792289341,
		"Marketing": 792289343, "People": 792289345, "Platform": 792289347,
	}
	out := make([]departmentJSON, 0, len(names))
	for _, n := range names {
		out = append(out, departmentJSON{ID: ids[n], Name: n})
	}
	return out
}

// jobTemplates are the account's twelve jobs, in insertion order: six
// published, two of each of draft, closed and archived.
func jobTemplates() []jobTemplate {
	chicago := locationRec{"United States", "US", "Illinois", "IL", "Chicago", "60290", "on_site"}
	return []jobTemplate{
		{title: "Operations Manager", code: "US/02/CM", state: "archived", departments: dept("Operations"),
			location: chicago, employmentType: "Full-time", industry: "Internet", function: "Management",
			experience: "Mid-Senior level", education: "Bachelor's Degree",
			pitch:        "run the day-to-day operations of our Chicago office",
			requirements: []string{"5+ years in operations", "Budget ownership", "Vendor management"}},
		{title: "Senior Backend Engineer", code: "GR/01/BE", state: "published", departments: dept("Engineering", "Platform"),
			location:       locationRec{"Greece", "GR", "Attica", "I", "Athens", "10431", "hybrid"},
			employmentType: "Full-time", industry: "Computer Software", function: "Engineering",
			experience: "Mid-Senior level", education: "Bachelor's Degree",
			pitch:        "design and build the Go services behind our booking platform",
			requirements: []string{"Production Go experience", "PostgreSQL and Redis", "Distributed systems"}},
		{title: "Sales Intern", code: "US/3/SI", state: "draft", departments: dept("Sales"),
			location:       locationRec{"United States", "US", "Oregon", "OR", "Portland", "97201", "on_site"},
			employmentType: "Internship", industry: "Internet", function: "Sales",
			experience: "Internship", education: "High School or equivalent",
			pitch:        "learn the ropes of B2B travel sales",
			requirements: []string{"Curiosity", "Clear written English", "A driving licence"}},
		{title: "Product Designer", code: "UK/2/PD", state: "published", departments: dept("Design"),
			location:       locationRec{"United Kingdom", "GB", "England", "ENG", "London", "EC1V 9BX", "hybrid"},
			employmentType: "Full-time", industry: "Internet", function: "Design",
			experience: "Associate", education: "Bachelor's Degree",
			pitch:        "shape how travellers search, book and manage their trips",
			requirements: []string{"A portfolio of shipped products", "Figma", "User research"}},
		{title: "Office Manager", code: "US/4/OM", state: "published", departments: dept("Administration"),
			location: chicago, employmentType: "Full-time", industry: "Business Supplies and equipment",
			function: "Administrative", experience: "Associate", education: "High School or equivalent",
			pitch:        "organize and coordinate office operations and procedures",
			requirements: []string{"4+ years of office management", "MS Office", "Attention to detail"}},
		{title: "Frontend Engineer", code: "DE/1/FE", state: "published", departments: dept("Engineering"),
			location:       locationRec{"Germany", "DE", "Berlin", "BE", "Berlin", "10115", "remote"},
			employmentType: "Full-time", industry: "Computer Software", function: "Engineering",
			experience: "Associate", education: "Bachelor's Degree",
			pitch:        "build fast, accessible web apps in TypeScript",
			requirements: []string{"TypeScript and React", "Accessibility", "Testing culture"}},
		{title: "Customer Success Specialist", code: "US/5/CS", state: "closed", departments: dept("Customer Success"),
			location:       locationRec{"United States", "US", "Texas", "TX", "Austin", "73301", "on_site"},
			employmentType: "Full-time", industry: "Internet", function: "Customer Service",
			experience: "Entry level", education: "Bachelor's Degree",
			pitch:        "help our business customers get the most out of Groove",
			requirements: []string{"Empathy", "Zendesk or similar", "Spanish is a plus"}},
		{title: "Data Analyst", code: "US/6/DA", state: "published", departments: dept("Engineering", "Data"),
			location:       locationRec{"United States", "US", "New York", "NY", "New York", "10001", "hybrid"},
			employmentType: "Full-time", industry: "Internet", function: "Analyst",
			experience: "Associate", education: "Master's Degree",
			pitch:        "turn booking data into decisions",
			requirements: []string{"SQL", "Python or R", "Dashboards people actually read"}},
		{title: "Marketing Manager", code: "US/7/MM", state: "archived", departments: dept("Marketing"),
			location:       locationRec{"United States", "US", "California", "CA", "San Francisco", "94103", "on_site"},
			employmentType: "Full-time", industry: "Internet", function: "Marketing",
			experience: "Mid-Senior level", education: "Bachelor's Degree",
			pitch:        "lead our brand and growth campaigns",
			requirements: []string{"B2C marketing", "Paid acquisition", "Team leadership"}},
		{title: "Talent Acquisition Partner", code: "PT/1/TA", state: "published", departments: dept("People"),
			location:       locationRec{"Portugal", "PT", "Lisbon", "11", "Lisbon", "1100-148", "remote"},
			employmentType: "Contract", industry: "Staffing and Recruiting", function: "Human Resources",
			experience: "Associate", education: "Bachelor's Degree",
			pitch:        "find the people who will build Groove's next chapter",
			requirements: []string{"Full-cycle recruiting", "Sourcing on LinkedIn", "ATS experience"}},
		{title: "Site Reliability Engineer", code: "IE/1/SR", state: "draft", departments: dept("Engineering", "Platform"),
			location:       locationRec{"Ireland", "IE", "Leinster", "L", "Dublin", "D02", "remote"},
			employmentType: "Full-time", industry: "Computer Software", function: "Information Technology",
			experience: "Mid-Senior level", education: "Bachelor's Degree",
			pitch:        "keep our platform fast and available around the clock",
			requirements: []string{"Kubernetes", "Observability", "On-call experience"}},
		{title: "Account Executive", code: "US/8/AE", state: "closed", confidential: true, departments: dept("Sales"),
			location:       locationRec{"United States", "US", "Massachusetts", "MA", "Boston", "02108", "on_site"},
			employmentType: "Full-time", industry: "Internet", function: "Sales",
			experience: "Mid-Senior level", education: "Bachelor's Degree",
			pitch:        "close deals with corporate travel managers",
			requirements: []string{"Quota-carrying experience", "Salesforce", "Negotiation"}},
	}
}

// jobExtra is what a live job list item adds to a template (API.md §10):
// a salary (0 = none shown), keywords and further locations.
type jobExtra struct {
	salaryFrom, salaryTo int
	currency             string
	keywords             []string
	more                 []jobLocationRec
}

// jobExtras are the live additions of the jobs, by template code.
func jobExtras() map[string]jobExtra {
	return map[string]jobExtra{
		"US/02/CM": {keywords: []string{"operations", "budgeting"}},
		"GR/01/BE": {salaryFrom: 60000, salaryTo: 80000, currency: "eur", keywords: []string{"go", "postgresql", "redis"},
			// Hidden: the team may hire there, but it is not advertised.
			more: []jobLocationRec{{loc: locationRec{"Greece", "GR", "Central Macedonia", "B", "Thessaloniki", "54624", "hybrid"}, hidden: true}}},
		"US/3/SI": {keywords: []string{"sales", "internship"}},
		"UK/2/PD": {salaryFrom: 55000, salaryTo: 70000, currency: "gbp", keywords: []string{"figma", "user research"},
			more: []jobLocationRec{{loc: locationRec{"United Kingdom", "GB", "England", "ENG", "Manchester", "M1 1AE", "hybrid"}}}},
		"US/4/OM": {salaryFrom: 45000, salaryTo: 55000, currency: "usd", keywords: []string{"office management"}},
		"DE/1/FE": {salaryFrom: 65000, salaryTo: 80000, currency: "eur", keywords: []string{"typescript", "react", "accessibility"}},
		"US/5/CS": {keywords: []string{"customer success", "zendesk"}},
		"US/6/DA": {salaryFrom: 85000, salaryTo: 100000, currency: "usd", keywords: []string{"sql", "python"}},
		"US/7/MM": {keywords: []string{"marketing"}},
		"PT/1/TA": {salaryFrom: 40000, salaryTo: 50000, currency: "eur", keywords: []string{"recruiting", "sourcing"},
			more: []jobLocationRec{{loc: locationRec{"Portugal", "PT", "Porto", "13", "Porto", "4000-322", "remote"}, hidden: true}}},
		"IE/1/SR": {keywords: []string{"kubernetes", "observability"}},
		"US/8/AE": {salaryFrom: 90000, salaryTo: 120000, currency: "usd", keywords: []string{"saas", "salesforce"}},
	}
}

// cityCoords are the coordinates of the jobs' cities, as live location
// items carry them ("latitude, longitude", API.md §10).
func cityCoords() map[string]string {
	return map[string]string{
		"Chicago": "41.8781136, -87.6297982", "Athens": "37.9838096, 23.7275388", "Portland": "45.5152255, -122.6783853",
		"London": "51.5073509, -0.1277583", "Berlin": "52.5200066, 13.404954", "Austin": "30.267153, -97.7430608",
		"New York": "40.7127753, -74.0059728", "San Francisco": "37.7749295, -122.4194155", "Lisbon": "38.7222524, -9.1393366",
		"Dublin": "53.3498053, -6.2603097", "Boston": "42.3600825, -71.0588801", "Thessaloniki": "40.6400629, 22.9444191",
		"Manchester": "53.4807593, -2.2426305", "Porto": "41.1579438, -8.6291053",
	}
}

// stageTemplates is the pipeline of stages.json extended to the eight kinds
// the reference lists (API.md §9), with the integer ids, hex identifiers and
// 1-based positions of a live account (API.md §10).
func stageTemplates() []stageRec {
	names := []struct{ slug, name string }{
		{"sourced", "Sourced"}, {"applied", "Applied"}, {"shortlisted", "Shortlisted"},
		{"assessment", "Assessment"}, {"phone-screen", "Phone Screen"}, {"interview", "Interview"},
		{"offer", "Offer"}, {"hired", "Hired"},
	}
	out := make([]stageRec, len(names))
	for i, n := range names {
		// simulator guess: the magnitudes of the ids and identifiers.
		out[i] = stageRec{id: 4120001 + i, identifier: hexID(0x5077a1 + uint64(i)), slug: n.slug, name: n.name,
			kind: n.slug, position: i + 1}
	}
	return out
}

// memberTemplates are the account's members: the four of members.json (with
// documented roles), two more, and a former member who is no longer active
// (listed only with status=inactive or all, API.md §10).
func memberTemplates() []memberRec {
	return []memberRec{
		{0x13e0eb0e, "Eduardo Vallente", "Operations Manager", "eduardo.vallente@workabledemo.com", "admin", true},
		{0x19782abc, "Nadia Sawahla", "Talent Manager", "nadia.sawahla@workabledemo.com", "admin", true},
		{0x3247e8c7, "Alexia Middleton", "Commercial Director", "alexia.middleton@workabledemo.com", "simple", true},
		{0x3c00c3ac, "David Bodello", "IT Specialist Recruiter", "david.bodello@workabledemo.com", "simple", true},
		{0x4d2a91f0, "Priya Raman", "Engineering Lead", "priya.raman@workabledemo.com", "reviewer", true},
		{0x5e81c3b7, "Tomás Oliveira", "Head of Design", "tomas.oliveira@workabledemo.com", "reviewer", true},
		{0x6a0f4d21, "Martin Kessler", "Former Recruiter", "martin.kessler@workabledemo.com", "simple", false},
	}
}

// activeMembers are the members who act in the seeded activity (the
// active ones).
func (s *Simulator) activeMembers() []memberRec {
	var out []memberRec
	for _, m := range s.members {
		if m.active {
			out = append(out, m)
		}
	}
	return out
}

// seedData fills the simulator with deterministic data derived from s.seed.
func (s *Simulator) seedData() {
	rng := rand.New(rand.NewPCG(uint64(s.seed), 0x9e3779b97f4a7c15))
	s.account = accountRec{
		id:          "20ff5c50",
		name:        "Groove Tech",
		description: "<p>We make booking a trip as easy as taking it. Like busy little bees, all 98 of us build user-friendly software for leisure and business travellers.</p>",
		summary:     "Groove Tech builds travel booking software for leisure and business travellers.",
		websiteURL:  "https://www.workable.com",
	}
	s.stages = stageTemplates()
	s.members = memberTemplates()
	// extra draws what the live shapes added to the seed (milliseconds,
	// sources, system events, …) from a stream of its own, so that the
	// records and ids drawn from rng stay what they were.
	extra := rand.New(rand.NewPCG(uint64(s.seed), 0x5bd1e995))
	actors := s.activeMembers()
	coords, extras := cityCoords(), jobExtras()

	id := firstJobID
	openedID := firstActivityID - 0x100
	for i, t := range jobTemplates() {
		created := jobsStart().Add(time.Duration(i)*12*24*time.Hour + time.Duration(rng.IntN(10))*time.Hour).
			Add(time.Duration(extra.IntN(1000)) * time.Millisecond)
		x := extras[t.code]
		j := &jobRec{
			id: id, title: t.title, shortcode: fmt.Sprintf("GROOV%03d", i+1), code: t.code, state: t.state,
			confidential: t.confidential, departments: t.departments, location: t.location,
			salaryFrom: x.salaryFrom, salaryTo: x.salaryTo, currency: x.currency, keywords: x.keywords,
			createdAt: created, updatedAt: created.Add(time.Duration(1+rng.IntN(60*24)) * time.Hour),
			description: fmt.Sprintf("<p>We are looking for a %s to %s. You will work with the %s team in %s.</p>",
				t.title, t.pitch, t.departments[len(t.departments)-1].Name, t.location.str()),
			requirements:   "<ul><li>" + strings.Join(t.requirements, "</li><li>") + "</li></ul>",
			benefits:       "<ul><li>Great opportunities for career development</li><li>Travel credits every year</li><li>Private health insurance</li></ul>",
			employmentType: t.employmentType, industry: t.industry, function: t.function,
			experience: t.experience, education: t.education,
		}
		for k, l := range append([]jobLocationRec{{loc: t.location}}, x.more...) {
			l.shortcode = fmt.Sprintf("%06X", (id<<4|uint64(k))&0xffffff)
			l.coords = coords[l.loc.city]
			j.locations = append(j.locations, l)
		}
		// The job's own activity: a member opened it (API.md §10).
		m := actors[extra.IntN(len(actors))]
		j.opened = &activityRec{id: openedID, action: "opened", member: &m, createdAt: created}
		openedID += 1 + uint64(extra.IntN(8))
		s.jobs = append(s.jobs, j)
		// Job ids stay 6 hex digits; the draw from rng is kept as it was.
		id += uint64(1 + (0x100000+rng.IntN(0x2000000))%0x40)
	}

	s.nextCandID = firstCandidateID
	s.nextActID = firstActivityID
	s.nextEntID = firstEntryID
	s.seedCandidates(rng, extra)
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// takeID returns *next and advances it by a random step, so ids increase
// but are not contiguous.
func takeID(rng *rand.Rand, next *uint64, maxStep int) uint64 {
	id := *next
	*next += uint64(1 + rng.IntN(maxStep))
	return id
}

// newID is takeID for records created through the API: they get the next id
// of their kind (the simulator's own counter, no randomness needed).
func newID(next *uint64) uint64 {
	id := *next
	*next += 0x1d
	return id
}

func (s *Simulator) seedCandidates(rng, extra *rand.Rand) {
	firstNames := []string{"Lakita", "Cindy", "Jj", "Amara", "Bruno", "Chen", "Dimitra", "Elif", "Farah", "Giorgos",
		"Hana", "Ivan", "Jamal", "Kaito", "Lena", "Mateo", "Nia", "Oskar", "Priyanka", "Quentin", "Rosa",
		"Samir", "Tess", "Umar", "Valentina", "Wei", "Ximena", "Yusuf", "Zoe", "Aoife", "Björn", "Carmen",
		"Dev", "Eleni", "Femi", "Greta", "Hugo", "Ingrid", "Jonas", "Kemi"}
	lastNames := []string{"Marrero", "Sawyers", "Botha", "Okafor", "Silva", "Wang", "Papadopoulou", "Yilmaz",
		"Haddad", "Nikolaidis", "Kobayashi", "Petrov", "Williams", "Tanaka", "Fischer", "Garcia", "Mensah",
		"Lindqvist", "Sharma", "Dubois", "Moreno", "Khan", "Murphy", "Ali", "Rossi", "Zhang", "Lopez", "Demir",
		"Martin", "Byrne", "Andersson", "Ortega", "Patel", "Georgiou", "Adeyemi", "Novak", "Laurent", "Berg",
		"Schmidt", "Oyelaran"}
	headlines := []string{"Operations Manager", "Talented Operations Executive", "Senior Software Engineer",
		"Backend Developer", "Product Designer", "UX Researcher", "Data Analyst", "Account Executive",
		"Customer Success Lead", "Marketing Specialist", "Recruiter", "Site Reliability Engineer",
		"Frontend Developer", "Office Administrator", "Sales Development Representative"}
	sources := []string{"indeed.com", "linkedin.com", "twitter.com", "glassdoor.com", "stackoverflow.com", "", ""}
	skills := []string{"Administration", "Budgeting", "Go", "PostgreSQL", "Kubernetes", "TypeScript", "React",
		"Figma", "User Research", "SQL", "Python", "Negotiation", "Salesforce", "Customer Support",
		"Public Speaking", "Project Management", "Recruiting", "Copywriting", "Excel", "Travel Planning"}
	tags := []string{"referral", "remote-ok", "relocation", "senior", "junior", "bilingual", "visa-required",
		"top-talent", "silver-medalist"}
	schools := []string{"University of Chicago", "University of Pennsylvania", "National Technical University of Athens",
		"University of Edinburgh", "TU Berlin", "University of Lisbon", "Trinity College Dublin", "UT Austin",
		"New York University", "Juliet Hargreaves High School"}
	degrees := []string{"B.A. Business Studies", "B.Sc. Computer Science", "M.Sc. Data Science", "MBA",
		"B.Des. Interaction Design", "Diploma", "M.A. Marketing"}
	fields := []string{"Computer Science", "Economics", "Design", "Marketing Communication & Economics", "Psychology", ""}
	companies := []string{"Overflow Furnishings", "Kidlaw Supplies", "Spakes IT Services", "Vox Mobile",
		"Northwind Travel", "Blue Finch Labs", "Acme Logistics", "Helios Analytics", "Papertrail Media"}
	titles := []string{"Executive Assistant", "Resources Manager", "Administrative Officer", "Sales Director",
		"Software Engineer", "Designer", "Analyst", "Account Manager", "Support Specialist", "Recruiter"}
	industries := []string{"Telecommunications", "Computer Software", "Internet", "Retail", "", ""}
	socialTypes := []string{"linkedin", "twitter", "github", "dribbble", "stackoverflow"}
	streets := []string{"Clemmie Roads", "Gustave Shore", "Elm Street", "Harbour View", "Kings Road", "Calle Mayor"}
	regions := []struct{ country, code, region, rcode, city, zip string }{
		{"United States", "US", "Colorado", "CO", "Denver", "80202"},
		{"United States", "US", "Illinois", "IL", "Chicago", "60601"},
		{"Greece", "GR", "Attica", "I", "Athens", "10552"},
		{"United Kingdom", "GB", "England", "ENG", "Manchester", "M1 1AE"},
		{"Germany", "DE", "Bavaria", "BY", "Munich", "80331"},
		{"Portugal", "PT", "Porto", "13", "Porto", "4000-322"},
	}
	dqReasons := disqualificationReasons()[:5]
	comments := []string{"He is really good", "Strong portfolio, let's talk.", "Great communication skills.",
		"Not sure about the seniority level.", "Please schedule a follow-up.", "References check out."}

	// Candidates go to jobs that have been open: published jobs most, closed
	// and archived ones some, drafts none.
	var pool []*jobRec
	for _, j := range s.jobs {
		w := map[string]int{"published": 5, "closed": 2, "archived": 2}[j.state]
		for range w {
			pool = append(pool, j)
		}
	}
	stageWeights := []int{14, 30, 12, 8, 10, 12, 6, 8} // sourced … hired
	weightedStage := func() *stageRec {
		n := rng.IntN(100)
		for i, w := range stageWeights {
			if n < w {
				return &s.stages[i]
			}
			n -= w
		}
		return &s.stages[len(s.stages)-1]
	}

	seenEmails := make(map[string]bool)
	span := candidatesEnd().Sub(candidatesStart())
	for i := range s.nCandidates {
		slot := span / time.Duration(s.nCandidates)
		// Below .999, so that an event can follow in the same second.
		created := candidatesStart().Add(slot*time.Duration(i) + time.Duration(rng.Int64N(int64(slot)))).Truncate(time.Second).
			Add(time.Duration(extra.IntN(999)) * time.Millisecond)
		first, last := pick(rng, firstNames), pick(rng, lastNames)
		email := strings.ToLower(first + "." + last)
		if seenEmails[email] {
			email = fmt.Sprintf("%s%d", email, i)
		}
		seenEmails[email] = true
		email += "@" + pick(rng, []string{"gmail.com", "example.com", "fakemail.com", "outlook.com"})

		stage := weightedStage()
		if i < len(s.stages) { // every stage is populated, whatever the count
			stage = &s.stages[i]
		}
		c := &candidateRec{
			id:        takeID(rng, &s.nextCandID, 0x4000),
			job:       pick(rng, pool),
			name:      first + " " + last,
			firstname: strPtr(first), lastname: strPtr(last),
			headline:  strPtr(pick(rng, headlines)),
			email:     strPtr(email),
			domain:    nullable(pick(rng, sources)),
			stage:     stage,
			sourced:   stage.slug == "sourced" || rng.IntN(4) == 0,
			createdAt: created,
			updatedAt: created.Add(time.Duration(rng.IntN(21*24)) * time.Hour),
		}
		c.outbound = fmt.Sprintf("%s@outbound.workable.mailgun.org", hexID(c.id))
		if rng.IntN(10) < 8 {
			r := pick(rng, regions)
			c.address = strPtr(fmt.Sprintf("%d %s, %s, %s", 1+rng.IntN(999), pick(rng, streets), r.region, r.country))
			c.phone = strPtr(fmt.Sprintf("(%03d)%03d-%04d", 200+rng.IntN(700), rng.IntN(1000), rng.IntN(10000)))
			c.location = &locationRec{r.country, r.code, r.region, r.rcode, r.city, r.zip, ""}
		}
		if stage.slug == "hired" {
			h := c.updatedAt
			c.hiredAt = &h
		} else if rng.IntN(100) < 15 {
			c.disqualified = true
			c.withdrew = rng.IntN(4) == 0
			dq := c.updatedAt
			c.disqualifiedAt = &dq
			if c.withdrew {
				c.dqReason = strPtr(withdrewReason)
			} else {
				c.dqReason = strPtr(pick(rng, dqReasons))
			}
		}
		if rng.IntN(10) < 9 { // most candidates have detail fields
			c.summary = strPtr(fmt.Sprintf("A focussed, results-driven %s with %d years of experience.",
				strings.ToLower(*c.headline), 2+rng.IntN(15)))
			if rng.IntN(2) == 0 {
				c.coverLetter = strPtr(fmt.Sprintf("Dear hiring team, I would love to join Groove Tech as %s.", c.job.title))
			}
			if rng.IntN(3) == 0 {
				c.resumeURL = strPtr(fmt.Sprintf("https://%s.workable.com/resumes/%s.pdf", s.subdomain, hexID(c.id)))
			}
			for k := range 1 + rng.IntN(2) {
				startY := 1995 + rng.IntN(20)
				c.education = append(c.education, educationRec{
					ID: hexID(takeID(rng, &s.nextEntID, 0x40)), School: pick(rng, schools),
					Degree: strPtr(pick(rng, degrees)), FieldOfStudy: nullable(pick(rng, fields)),
					StartDate: strPtr(fmt.Sprintf("%d-09-01", startY-4*k)), EndDate: strPtr(fmt.Sprintf("%d-06-30", startY+3-4*k)),
				})
			}
			for k := range 1 + rng.IntN(3) {
				startY := 2020 - 4*k - rng.IntN(3)
				e := experienceRec{
					ID: hexID(takeID(rng, &s.nextEntID, 0x40)), Title: pick(rng, titles),
					Summary:   strPtr("<ul><li>Managed suppliers, contractors and office systems.</li></ul>"),
					StartDate: strPtr(fmt.Sprintf("%d-01-01", startY)), Company: strPtr(pick(rng, companies)),
					Industry: nullable(pick(rng, industries)), Current: k == 0,
				}
				if k > 0 {
					e.EndDate = strPtr(fmt.Sprintf("%d-12-31", startY+3))
				}
				c.experience = append(c.experience, e)
			}
			for range 2 + rng.IntN(4) {
				sk := pick(rng, skills)
				if !containsFold(c.skills, sk) {
					c.skills = append(c.skills, sk)
				}
			}
			for range rng.IntN(4) {
				tg := pick(rng, tags)
				if !containsFold(c.tags, tg) {
					c.tags = append(c.tags, tg)
				}
			}
			handle := strings.ToLower(first + "_" + last)
			for _, typ := range socialTypes[:rng.IntN(3)] {
				p := socialRec{Type: typ, URL: fmt.Sprintf("https://www.%s.com/%s", typ, handle)}
				p.Name = nullable(map[string]string{"linkedin": "LinkedIn", "twitter": "Twitter"}[typ])
				if typ != "linkedin" {
					p.Username = strPtr(handle)
				}
				c.social = append(c.social, p)
			}
		}
		s.seedSources(extra, c)
		s.seedActivities(rng, extra, c, comments)
		s.candidates = append(s.candidates, c)
	}
}

// withdrewReason is the disqualification reason of candidates who withdrew.
const withdrewReason = "Withdrew application"

// disqualificationReasons are the account's reasons, withdrewReason last.
func disqualificationReasons() []string {
	return []string{"Not enough experience", "Salary expectations too high", "Position filled",
		"Failed assessment", "Not a culture add", withdrewReason}
}

// seedSources sets where c came from: outlet, common source and its
// category, the resume's metadata, and now and then an anonymized record.
//
// simulator guess: the reference only says that outlet is "SPI" for
// candidates created through the API (API.md §10); the seeded outlets,
// source names and categories are made up in that spirit.
func (s *Simulator) seedSources(extra *rand.Rand, c *candidateRec) {
	c.outlet = "careers_page"
	if c.sourced {
		c.outlet = "sourcing"
	}
	sources := map[string][2]string{
		"linkedin.com": {"LinkedIn", "Social networks"}, "twitter.com": {"Twitter", "Social networks"},
		"indeed.com": {"Indeed", "Job boards"}, "glassdoor.com": {"Glassdoor", "Job boards"},
		"stackoverflow.com": {"Stack Overflow", "Job boards"},
	}
	if c.domain != nil {
		if src, ok := sources[*c.domain]; ok {
			c.commonSource, c.sourceCategory = strPtr(src[0]), strPtr(src[1])
		}
	}
	if c.resumeURL != nil {
		c.resume = &resumeRec{
			filename: strings.ToLower(strings.ReplaceAll(c.name, " ", "-")) + "-cv.pdf",
			filetype: "application/pdf",
			at:       c.createdAt.Add(time.Duration(1+extra.IntN(900)) * time.Millisecond),
		}
	}
	c.anonymized = c.disqualified && extra.IntN(20) == 0
}

// seedActivities gives c an activity stream consistent with its stage, in
// the live semantics of API.md §10: how it entered (applied: a system
// activity followed, in the same second, by a system "event"; sourced: by
// a member), moves up to its current stage (action = the target's slug),
// comments and ratings, and the disqualification last, its body the reason.
// Timestamps carry milliseconds and increase strictly; moved_to_offer_at,
// hired_at and disqualified_at are the times of their activities.
func (s *Simulator) seedActivities(rng, extra *rand.Rand, c *candidateRec, comments []string) {
	idx := func(st *stageRec) int { return st.position - 1 }
	initial := &s.stages[1]
	action := "applied"
	if c.sourced {
		initial, action = &s.stages[0], "sourced"
	}
	if c.stage.position < initial.position { // an applied candidate never sits in sourced
		initial, action = c.stage, "sourced"
		c.sourced = true
	}
	first := &activityRec{action: action, actionStage: initial}
	acts := []*activityRec{first}
	cur := initial
	if c.stage != initial {
		// At most one intermediate stop between the entry stage and now.
		if gap := c.stage.position - cur.position; gap > 1 && rng.IntN(2) == 0 {
			mid := &s.stages[idx(cur)+1+rng.IntN(gap-1)]
			acts = append(acts, s.moveActivity(rng, cur, mid))
			cur = mid
		}
		acts = append(acts, s.moveActivity(rng, cur, c.stage))
	}
	want := 2 + rng.IntN(5)
	if c.disqualified {
		want--
	}
	for len(acts) < want {
		m := &s.members[rng.IntN(len(s.members)-1)] // the last member is inactive
		a := &activityRec{member: m, visibility: []string{"admin", "recruiter"}}
		if rng.IntN(2) == 0 {
			a.action, a.body = "comment", strPtr(pick(rng, comments))
		} else {
			a.action, a.body = "rating", strPtr("Good, I guess")
			a.rating = newRating("thumbs", rng.IntN(len(thumbsScores())))
		}
		// Comments and ratings sit between the other activities.
		pos := 1 + rng.IntN(len(acts))
		acts = append(acts[:pos], append([]*activityRec{a}, acts[pos:]...)...)
	}
	var dq *activityRec
	if c.disqualified {
		dq = &activityRec{action: "disqualified", member: &s.members[rng.IntN(len(s.members)-1)], body: c.dqReason}
		acts = append(acts, dq)
	}
	actors := s.activeMembers()
	if action == "sourced" {
		m := actors[extra.IntN(len(actors))]
		first.member = &m
	}
	// Every activity but a move happens in the stage the candidate is in
	// at that point.
	at := initial
	for _, a := range acts {
		if a.targetStage != nil {
			at = a.targetStage
			continue
		}
		a.actionStage = at
	}
	var event *activityRec
	if action == "applied" {
		event = &activityRec{action: "event", actionStage: initial,
			body: strPtr("Automated e-mail sent: Thank you for applying")}
	}

	// Ids from rng as before; the event's from extra. Times spread from
	// created_at to updated_at, strictly increasing to the millisecond.
	step := c.updatedAt.Sub(c.createdAt) / time.Duration(len(acts))
	var out []*activityRec
	var last time.Time
	stamp := func(a *activityRec, t time.Time) {
		t = t.Truncate(time.Millisecond)
		if !t.After(last) {
			t = last.Add(time.Duration(1+extra.IntN(50)) * time.Millisecond)
		}
		a.createdAt, last = t, t
		out = append(out, a)
	}
	for i, a := range acts {
		a.id = takeID(rng, &s.nextActID, 0x10)
		t := c.createdAt.Add(step * time.Duration(i))
		if i > 0 {
			t = t.Add(time.Duration(extra.IntN(1000)) * time.Millisecond)
		}
		stamp(a, t)
		if i == 0 && event != nil {
			// The system's e-mail follows in the same second (when the
			// second has room): only the milliseconds order them.
			event.id = s.nextActID
			s.nextActID += 1 + uint64(extra.IntN(0x10))
			room := time.Second - time.Duration(a.createdAt.Nanosecond()) - time.Millisecond
			d := time.Millisecond
			if room > time.Millisecond {
				d += time.Duration(extra.Int64N(int64(room)))
			}
			stamp(event, a.createdAt.Add(d))
		}
	}
	c.activities = out
	for _, a := range out {
		if a.targetStage != nil && a.targetStage.slug == "offer" {
			t := a.createdAt
			c.movedToOfferAt = &t
		}
		if a.targetStage != nil && a.targetStage.slug == "hired" && c.hiredAt != nil {
			t := a.createdAt
			c.hiredAt = &t
		}
	}
	if dq != nil {
		t := dq.createdAt
		c.disqualifiedAt = &t
	}
	if last.After(c.updatedAt) {
		c.updatedAt = last
	}
}

// moveActivity is a move from one stage to another: its action is the
// target stage's slug (API.md §10).
func (s *Simulator) moveActivity(rng *rand.Rand, from, to *stageRec) *activityRec {
	return &activityRec{action: to.slug, actionStage: from, targetStage: to,
		member: &s.members[rng.IntN(len(s.members)-1)]}
}

func containsFold(xs []string, x string) bool {
	for _, y := range xs {
		if strings.EqualFold(x, y) {
			return true
		}
	}
	return false
}
