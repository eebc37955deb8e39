# ruff: noqa: E501, S311 - template strings read best on one line; seeded generators, not crypto
"""Templates for career-signal texts about a person (see data/README.md).

Every template was written for this project. Slots in braces are filled from the pools below; one
example's slots are consistent (the same {name} and pronouns throughout). Styles: first person, third
person, news and press release, headline, homepage news item, testimonial, social post; then a share of
examples get typos, lower case, emoji, hashtags, a truncation "..." or a neutral sentence before/after.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

# --------------------------------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------------------------------

FIRST_NAMES = [
    ("Maria", "f"), ("James", "m"), ("Aisha", "f"), ("Wei", "m"), ("Priya", "f"), ("Daniel", "m"), ("Sofia", "f"),
    ("Kwame", "m"), ("Elena", "f"), ("Hiroshi", "m"), ("Fatima", "f"), ("Lucas", "m"), ("Chloe", "f"), ("Omar", "m"),
    ("Ingrid", "f"), ("Mateo", "m"), ("Nadia", "f"), ("Rahul", "m"), ("Grace", "f"), ("Tomasz", "m"), ("Leila", "f"),
    ("Samuel", "m"), ("Yuki", "f"), ("Andre", "m"), ("Hannah", "f"), ("Carlos", "m"), ("Mei", "f"), ("Patrick", "m"),
    ("Zanele", "f"), ("Ahmed", "m"), ("Olivia", "f"), ("Jonas", "m"), ("Ana", "f"), ("Kevin", "m"), ("Sara", "f"),
    ("Dmitri", "m"), ("Amara", "f"), ("Ethan", "m"), ("Lucia", "f"), ("Tariq", "m"), ("Rebecca", "f"), ("Min-jun", "m"),
    ("Beatriz", "f"), ("George", "m"), ("Ifeoma", "f"), ("Marco", "m"), ("Julia", "f"), ("Arjun", "m"),
]  # fmt: skip
LAST_NAMES = [
    "Garcia", "Okafor", "Chen", "Novak", "Smith", "Patel", "Kowalski", "Nguyen", "Haddad", "Johansson", "Rossi",
    "Tanaka", "Mensah", "Dubois", "Silva", "Kim", "Murphy", "Fischer", "Ivanova", "Adeyemi", "Lopez", "Schmidt",
    "Baker", "Yilmaz", "Cohen", "Reddy", "O'Brien", "Moreau", "Hughes", "Costa", "Lindqvist", "Abara", "Walsh",
    "Horvat", "Sato", "Delgado", "Whitfield", "Banerjee", "McAllister", "Petrov", "Achebe", "Varga",
]  # fmt: skip
COMPANIES = [
    "Google", "Microsoft", "Amazon", "Shopify", "Stripe", "Deloitte", "Accenture", "JPMorgan Chase", "Goldman Sachs",
    "Pfizer", "Siemens", "Bosch", "Unilever", "Nestlé", "Spotify", "Airbnb", "Atlassian", "Salesforce", "Oracle",
    "IBM", "Intel", "NVIDIA", "Meta", "Netflix", "Adobe", "SAP", "Capgemini", "KPMG", "EY", "PwC", "McKinsey",
    "Boston Consulting Group", "Mayo Clinic", "Kaiser Permanente", "Cleveland Clinic", "Target", "Walmart",
    "Home Depot", "Ford Motor Co.", "General Electric", "Honeywell", "3M", "Cisco", "Dropbox", "Datadog",
    "Rippling", "Notion", "Figma", "Canva", "Zalando", "Klarna", "Revolut", "Monzo", "Wise", "N26", "Ericsson",
    "Nokia", "Philips", "ING", "Rabobank", "HSBC", "Barclays", "Lloyds Banking Group", "Tesco", "BT Group",
    "Acme Logistics", "Brightline Health", "Northwind Traders", "Bluefin Analytics", "Harbor Dental Group",
    "Summit Credit Union", "Evergreen Realty", "Cobalt Robotics", "Lumen Labs", "Fernwood Capital",
    "Pioneer Natural Resources", "Riverside Medical Center", "the City of Austin", "the State Department of Health",
    "Teach For America", "the Gates Foundation", "Hawthorne & Pike LLP", "Baker McKenzie", "Clifford Chance",
    "ByteDance", "Tencent", "Infosys", "Tata Consultancy Services", "Wipro", "Samsung", "Sony", "Toyota",
]  # fmt: skip
LABS = [
    "the Vision and Learning Lab", "the Stanford NLP Group", "the Robotics Institute at CMU", "MIT CSAIL",
    "the Berkeley AI Research lab", "the Allen Institute for AI", "Max Planck Institute for Informatics",
    "the Vector Institute", "Mila", "the Oxford Internet Institute", "the Broad Institute", "EPFL's Data Lab",
    "the Human-Computer Interaction Lab", "Prof. Li's group", "the Computational Biology Lab",
]  # fmt: skip
UNIVERSITIES = [
    "Stanford University", "MIT", "the University of Toronto", "ETH Zurich", "Georgia Tech", "UC Berkeley",
    "the University of Michigan", "Imperial College London", "the University of Edinburgh", "KAIST",
    "Tsinghua University", "the University of São Paulo", "IIT Bombay", "the University of Cape Town",
    "McGill University", "TU Munich", "the University of Melbourne", "Purdue University", "Ohio State University",
    "Arizona State University", "the University of Nairobi", "NYU", "Columbia University", "Duke University",
    "the University of Washington", "UCLA", "Carnegie Mellon University", "the University of Texas at Austin",
    "Delft University of Technology", "the National University of Singapore", "Seoul National University",
    "Boston University", "Penn State", "the University of Lagos", "Monash University", "Rutgers",
]  # fmt: skip
TITLES = [
    "Software Engineer", "Senior Software Engineer", "Data Scientist", "Data Analyst", "Product Manager",
    "UX Designer", "Marketing Manager", "Account Executive", "Financial Analyst", "Registered Nurse",
    "Machine Learning Engineer", "DevOps Engineer", "Research Scientist", "Research Intern", "Software Engineering Intern",
    "Chief Financial Officer", "Chief Technology Officer", "VP of Engineering", "Head of Growth",
    "Operations Manager", "Business Analyst", "Customer Success Manager", "Associate", "Staff Accountant",
    "Frontend Developer", "Backend Developer", "Full Stack Developer", "Site Reliability Engineer",
    "Clinical Research Coordinator", "Physical Therapist", "HR Generalist", "Recruiter", "Sales Director",
    "General Counsel", "Postdoctoral Researcher", "Visiting Researcher", "Teaching Assistant", "Project Manager",
    "Solutions Architect", "Security Analyst", "Cloud Engineer", "Developer Advocate", "Content Strategist",
    "Graphic Designer", "Mechanical Engineer", "Civil Engineer", "Quality Assurance Engineer", "Paralegal",
    "Summer Analyst", "Investment Banking Analyst", "Portfolio Manager", "Data Engineer", "Research Assistant",
]  # fmt: skip
SENIOR_TITLES = [
    "Senior Software Engineer", "Staff Engineer", "Principal Engineer", "Engineering Manager", "Senior Manager",
    "Director of Engineering", "Senior Director of Product", "Vice President of Sales", "Senior Vice President",
    "Chief Operating Officer", "Chief Executive Officer", "President", "Partner", "Managing Director",
    "Team Lead", "Tech Lead", "Lead Data Scientist", "Senior Data Analyst", "Head of Marketing", "Associate Professor",
    "Full Professor", "Senior Consultant", "Manager", "Assistant Manager", "Store Manager", "Charge Nurse",
    "Nurse Manager", "Senior Associate", "Executive Director", "Deputy Director", "Chief Product Officer",
    "Principal Consultant", "Senior Account Executive", "Regional Manager", "Senior Product Designer",
    "Associate Director", "Sergeant", "Lieutenant", "Captain", "Shift Supervisor", "Senior Accountant",
]  # fmt: skip
JUNIOR_TITLES = [
    "Junior Developer", "Analyst", "Associate", "Software Engineer", "Intern", "Sales Associate", "Coordinator",
    "Staff Nurse", "Assistant Professor", "Director", "Vice President", "Chief Operating Officer", "Engineer II",
    "Team Member", "Cashier", "Lifeguard", "Specialist", "Account Manager", "Product Manager", "Senior Engineer",
]  # fmt: skip
CERTS = [
    "AWS Certified Solutions Architect – Associate", "AWS Certified Cloud Practitioner", "AWS SAA-C03",
    "AWS Certified Developer – Associate", "AWS Machine Learning Specialty", "CKA", "CKAD", "CKS",
    "Certified Kubernetes Administrator", "PMP", "CAPM", "CISSP", "CompTIA Security+", "CompTIA A+",
    "CompTIA Network+", "CCNA", "CCNP Enterprise", "Azure AZ-900", "AZ-104", "AZ-204", "DP-203", "AI-102",
    "Google Cloud Professional Data Engineer", "Google Cloud Associate Cloud Engineer", "Terraform Associate",
    "Certified ScrumMaster", "PSM I", "PSPO I", "ITIL 4 Foundation", "Six Sigma Green Belt", "Lean Six Sigma Black Belt",
    "CFA Level I", "CFA Level II", "CFA Level III", "FRM Part 1", "CPA exam", "all four sections of the CPA exam",
    "CMA exam", "CIA Part 1", "SHRM-CP", "PHR", "OSCP", "CEH", "CISM", "CISA", "Salesforce Administrator",
    "Salesforce Platform Developer I", "Red Hat RHCSA", "RHCE", "Oracle Java SE 11 Developer", "Databricks Data Engineer Associate",
    "Snowflake SnowPro Core", "Tableau Desktop Specialist", "Google Data Analytics Professional Certificate",
    "HubSpot Inbound Marketing", "Google Ads Search", "LEED Green Associate", "ACE personal trainer",
    "NASM-CPT", "ServSafe Manager", "Microsoft Office Specialist Excel", "Cisco CyberOps Associate",
    "GIAC GSEC", "Linux Foundation LFCS", "MongoDB Associate Developer", "Certified Ethical Hacker",
    "ISTQB Foundation Level", "Professional Scrum Master", "Certified Information Privacy Professional (CIPP/E)",
]  # fmt: skip
CERT_BODIES = ["AWS", "Microsoft", "Google", "CompTIA", "(ISC)²", "PMI", "Cisco", "the Linux Foundation", "Scrum.org"]
LICENSES = [
    ("nursing license", "the state board of nursing"), ("RN license", "the Board of Nursing"),
    ("real estate license", "the state real estate commission"), ("real estate salesperson license", "DRE"),
    ("insurance license", "the Department of Insurance"), ("life and health insurance license", "the state"),
    ("property and casualty license", "the Department of Insurance"), ("CDL", "the DMV"),
    ("Class A CDL", "the state"), ("PE license", "the state board of engineers"),
    ("Professional Engineer license", "the state licensing board"), ("pharmacist license", "the Board of Pharmacy"),
    ("medical license", "the state medical board"), ("dental license", "the dental board"),
    ("license to practice law", "the state bar"), ("CPA license", "the Board of Accountancy"),
    ("master electrician license", "the state"), ("journeyman plumber license", "the city"),
    ("teaching license", "the Department of Education"), ("LCSW license", "the Board of Social Work"),
    ("LPC license", "the counseling board"), ("cosmetology license", "the state board"),
    ("contractor's license", "the Contractors State License Board"), ("Series 7 license", "FINRA"),
    ("mortgage loan originator license", "the NMLS"), ("private pilot license", "the FAA"),
    ("commercial pilot license", "the civil aviation authority"), ("veterinary license", "the state"),
    ("physical therapy license", "the state board"), ("home inspector license", "the state"),
    ("esthetician license", "the state board"), ("HVAC license", "the state"), ("security guard license", "the state"),
    ("pest control license", "the state"), ("notary commission", "the Secretary of State"),
]  # fmt: skip
LICENSE_EXAMS = [
    "NCLEX-RN", "NCLEX-PN", "the NCLEX", "the bar exam", "the New York bar", "the California bar exam", "the UBE",
    "the real estate exam", "the state real estate licensing exam", "the insurance licensing exam", "the PE exam",
    "the NAPLEX", "USMLE Step 3", "the NPTE", "the dental boards", "the CDL road test", "the journeyman electrician exam",
    "the Series 7 and Series 63", "the LCSW clinical exam", "the NBDHE", "the ARE (architect registration exam)",
]  # fmt: skip
JURISDICTIONS = [
    "New York", "California", "Texas", "Ontario", "Florida", "Illinois", "Massachusetts", "Kentucky", "Georgia",
    "British Columbia", "England and Wales", "Kenya", "Nigeria", "Sri Lanka", "Victoria", "Washington", "Ohio",
]  # fmt: skip
AWARDS = [
    "the Best Paper Award", "the Outstanding Paper Award", "the Best Student Paper Award", "the NSF CAREER Award",
    "an NSF Graduate Research Fellowship", "a Fulbright Scholarship", "a Rhodes Scholarship", "the Dean's Medal",
    "the Presidential Early Career Award", "a Sloan Research Fellowship", "the Employee of the Year award",
    "the Teacher of the Year award", "the Young Investigator Award", "a Marie Curie Fellowship",
    "the Distinguished Service Award", "the Rising Star Award", "the Outstanding Reviewer Award", "a Google PhD Fellowship",
    "the Chancellor's Scholarship", "the Lifetime Achievement Award", "a Gold Medal", "the Excellence in Teaching Award",
    "the President's Award for Innovation", "a Forbes 30 Under 30 spot", "the 40 Under 40 award", "an Emmy",
    "the Order of Canada", "an OBE", "the Humboldt Research Award", "a merit scholarship", "the Spot Award",
    "the MVP award", "the Rookie of the Year award", "the Nurse of the Year award", "a Grammy nomination",
    "the Best Demo Award", "the Test of Time Award", "a travel grant", "the Outstanding Dissertation Award",
    "the Emerging Leader Award", "the Volunteer of the Year award", "the Innovator of the Year award",
]  # fmt: skip
VENUES = [
    "NeurIPS 2024", "ICML 2023", "CVPR 2025", "ACL 2024", "CHI 2025", "KDD 2023", "ICSE 2024", "SIGMOD 2022",
    "EMNLP 2023", "the AGU Fall Meeting", "the IEEE VR workshop", "ICRA 2024", "WWW 2025", "AAAI 2026", "the annual meeting",
]  # fmt: skip
SOCIETIES = [
    "the IEEE", "the ACM", "the Royal Society", "the American Physical Society", "the AAAS",
    "the National Academy of Engineering", "the Royal Society of Chemistry", "the American Statistical Association",
]  # fmt: skip
HALLS = ["the Hall of Fame", "the State Sports Hall of Fame", "the Engineering Hall of Fame", "the Alumni Hall of Fame"]
DEGREES = [
    "B.S. in Computer Science", "BSc in Mathematics", "Bachelor of Arts in Economics", "Bachelor's degree in Nursing",
    "MSc in Data Science", "Master's in Public Health", "MBA", "M.Eng. in Electrical Engineering", "PhD in Physics",
    "Ph.D. in Chemistry", "J.D.", "M.D.", "Master of Fine Arts", "B.Tech in Mechanical Engineering",
    "associate degree in accounting", "Master of Social Work", "LL.M.", "BFA in Graphic Design", "MA in History",
    "Doctor of Pharmacy", "B.Eng. in Civil Engineering", "Master's degree in Computer Science", "diploma in Culinary Arts",
]  # fmt: skip
PROGRAMS = [
    "PhD", "Ph.D.", "master's", "MSc", "MBA", "bachelor's", "undergrad", "PhD program in Computer Science",
    "master's program in Statistics", "JD", "medical school", "nursing program", "M.S. in Robotics",
]  # fmt: skip
BOOTCAMPS = [
    "the General Assembly software engineering bootcamp", "Le Wagon's web development bootcamp",
    "the Flatiron School data science program", "App Academy", "the Google UX Design course",
    "the CS50 course", "Lambda School", "the Springboard UX career track",
]  # fmt: skip
BUSINESSES = [
    "a bakery", "a coffee shop", "a consulting firm", "a marketing agency", "a design studio", "a law firm",
    "a dental practice", "a physiotherapy clinic", "a boutique", "an e-commerce store", "a landscaping company",
    "a SaaS startup", "a fintech startup", "a photography studio", "a yoga studio", "a food truck",
    "a web development agency", "a bookkeeping practice", "a therapy practice", "a real estate brokerage",
    "a cleaning company", "a brewery", "a nonprofit", "a tutoring business", "a recruiting agency",
    "a clothing line", "a skincare brand", "a hair salon", "an architecture firm", "a veterinary clinic",
    "a software consultancy", "a plumbing business", "a construction company", "a record label", "a podcast network",
]  # fmt: skip
BRANDS = [
    "Brightpath", "Kodwise", "Nimbus Labs", "Sproutly", "Hearth & Co.", "Quillstack", "Tidewater Studio",
    "Vantage Analytics", "Orbital Health", "Maple & Main", "Pixelforge", "Grainhouse Bakery", "Ledgerly",
    "Atlas Counsel", "Bloom Therapy", "Cedar Dental", "Northstar Realty", "Fieldnote AI", "Cascade Cleaning Co.",
]  # fmt: skip
CITIES = [
    "Austin", "Denver", "Toronto", "London", "Berlin", "Lagos", "Nairobi", "Bangalore", "Singapore", "Sydney",
    "Chicago", "Seattle", "Boston", "São Paulo", "Madrid", "Dublin", "Manchester", "Portland", "Atlanta", "Lisbon",
]  # fmt: skip
YEARS = [str(y) for y in range(1985, 2027)]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
TEAMS = ["the platform team", "the payments team", "the data team", "the research group", "the growth team",
         "the security team", "the ICU", "the emergency department", "the sales team", "the design team"]  # fmt: skip
EVENTS = ["PyCon", "KubeCon", "Web Summit", "re:Invent", "the Grace Hopper Celebration", "SXSW", "DevFest",
          "the annual AI Summit", "a local meetup", "the regional nursing conference", "Google I/O", "CES"]  # fmt: skip
COUNT_WORDS = ["two", "three", "five", "seven", "ten", "twelve", "fifteen", "twenty"]


class Slots:
    """Lazily filled, consistent slot values for one example."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.values: dict[str, str] = {}
        first, gender = rng.choice(FIRST_NAMES)
        self.gender = gender
        self.values["first"] = first
        self.values["last"] = rng.choice(LAST_NAMES)

    def pick(self, pool: list[str]) -> str:
        return self.rng.choice(pool)

    def __getitem__(self, key: str) -> str:
        if key in self.values:
            return self.values[key]
        rng = self.rng
        pronouns = {"he": ("he", "she"), "his": ("his", "her"), "him": ("him", "her")}
        base = key.rstrip("0123456789")
        value: str
        if base.lower() in pronouns:
            word = pronouns[base.lower()][0 if self.gender == "m" else 1]
            value = word.capitalize() if base[0].isupper() else word
        elif base == "name":
            if key == "name":
                value = f"{self['first']} {self['last']}"
            else:  # a second person
                value = f"{rng.choice(FIRST_NAMES)[0]} {rng.choice(LAST_NAMES)}"
        elif base == "mr":
            value = f"{'Mr.' if self.gender == 'm' else rng.choice(['Ms.', 'Mrs.'])} {self['last']}"
        elif base == "company":
            value = rng.choice(COMPANIES)
        elif base == "lab":
            value = rng.choice(LABS)
        elif base == "uni":
            value = rng.choice(UNIVERSITIES)
        elif base == "title":
            value = rng.choice(TITLES)
        elif base == "senior":
            value = rng.choice(SENIOR_TITLES)
        elif base == "junior":
            value = rng.choice(JUNIOR_TITLES)
        elif base == "cert":
            value = rng.choice(CERTS)
        elif base == "certbody":
            value = rng.choice(CERT_BODIES)
        elif base == "license":
            license_name, issuer = rng.choice(LICENSES)
            self.values.setdefault("issuer", issuer)
            value = license_name
        elif base == "issuer":
            self["license"]
            return self.values["issuer"]
        elif base == "lexam":
            value = rng.choice(LICENSE_EXAMS)
        elif base == "place":
            value = rng.choice(JURISDICTIONS)
        elif base == "award":
            value = rng.choice(AWARDS)
        elif base == "venue":
            value = rng.choice(VENUES)
        elif base == "society":
            value = rng.choice(SOCIETIES)
        elif base == "hall":
            value = rng.choice(HALLS)
        elif base == "degree":
            value = rng.choice(DEGREES)
        elif base == "program":
            value = rng.choice(PROGRAMS)
        elif base == "bootcamp":
            value = rng.choice(BOOTCAMPS)
        elif base == "business":
            value = rng.choice(BUSINESSES)
        elif base == "brand":
            value = rng.choice(BRANDS)
        elif base == "city":
            value = rng.choice(CITIES)
        elif base == "year":
            value = rng.choice(YEARS)
        elif base == "month":
            value = rng.choice(MONTHS)
        elif base == "team":
            value = rng.choice(TEAMS)
        elif base == "event":
            value = rng.choice(EVENTS)
        elif base == "n":
            value = rng.choice(COUNT_WORDS)
        elif base == "num":
            value = str(rng.randint(2, 30))
        elif base == "age":
            value = str(rng.randint(38, 71))
        elif base == "pct":
            value = str(rng.randint(3, 40))
        else:
            raise KeyError(key)
        self.values[key] = value
        return value


_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random) -> str:
    slots = Slots(rng)
    text = _SLOT.sub(lambda m: slots[m.group(1)], template)
    # Options written as [a|b|c] pick one.
    return re.sub(r"\[([^\[\]]*\|[^\[\]]*)\]", lambda m: rng.choice(m.group(1).split("|")), text)


# --------------------------------------------------------------------------------------------------
# Templates by label
# --------------------------------------------------------------------------------------------------

T: dict[str, list[str]] = {}

T["new_employment"] = [
    # first person, social
    "I'm happy to share that I'm starting a new position as {title} at {company}!",
    "Excited to announce that I've joined {company} as a {title}. [New chapter!|Let's go!|Can't wait to get started.|]",
    "Thrilled to share that I accepted an offer from {company} — I'll be joining as {title} [next month|in {month}|this fall|on Monday].",
    "After {n} amazing years at {company}, I'm moving on: next week I start as {title} at {company2}.",
    "Personal news: I've accepted a role as {title} with {company}.",
    "I just signed my offer letter! Starting at {company} as a {title} in {month}.",
    "New job alert 🚨 I'm now a {title} at {company}.",
    "Today is my first day as {title} at {company} and I'm a little nervous but mostly excited.",
    "I'll be joining {company} this summer as a {title}.",
    "Happy to say I landed a {title} role at {company} after {num} months of searching.",
    "Starting a new chapter: {title} @ {company}.",
    "I recently joined {company} as a {title}, working on {team}.",
    "I will join {team} at {company} as an intern this summer.",
    "Finally got the offer! I'll be a {title} at {company} starting in {month}.",
    "Just accepted a full-time offer from {company} as a {title} after my internship elsewhere.",
    "I started a new job at {company} last week. Still learning where the coffee machine is.",
    "I got hired at {company}!! First day is Monday as a {title}.",
    "Excited to join {lab} as a research intern this summer!",
    "I have joined {lab} as a {title}.",
    "I started a new position as a {title} at {company}.",
    "Super excited to begin my role as {title} in {team} at {company}.",
    "I accepted a job offer at {company} in {city} and I'm moving there in {month}.",
    "After graduating I took my first job as a {title} at {company}.",
    "After finishing my degree, I joined {company} as a {title}.",
    # homepage news item
    "Joined {company} as a {title}.",
    "Joined {company} full time as {title} in {team}.",
    "Started as {title} at {company}.",
    "Started my internship at {company} as a {title}!",
    "Began as Visiting Researcher at {lab}.",
    "Started my postdoc at {lab} at {uni}.",
    "Starting my postdoctoral position in {lab}!",
    "{month} {year}: joined {company} as {title}.",
    "{month} {year} — I will join {company} as a {title}.",
    "I'm joining {company} as a {title} in {month}...",
    "Excited to join {company} as a {title}!...",
    "Joined the {city} {team} as a {title}!",
    "Accepted a position as {title} with {company}.",
    # third person, bio / news
    "{name} has joined {company} as {title}. {He} previously worked at {company2}.",
    "{name} joins {company} as {title}, bringing {num} years of experience from {company2}.",
    "We are pleased to welcome {name}, who joins the firm as a {title}.",
    "{name} joined the firm as an associate in {month} {year}.",
    "{first} recently joined {company} as a {title} and is based in {city}.",
    "{name} has been hired as the new {title} at {company}.",
    "{company} has hired {name}, formerly of {company2}, as its new {senior}.",
    "{company} announced today that {name}, former {senior} of {company2}, has been appointed {senior2}.",
    "{company} named {name} {senior}. {He} joins from {company2}, where {he} was {senior2}.",
    "{name}, an executive at {company2}, was named {senior} of {company}.",
    "{name}, previously {senior} at {company2}, will join {company} as {senior2} effective {month} 1.",
    "{city}, {month} {num}, {year} /PRNewswire/ -- {company} today announced the appointment of {name} as {senior}. {name} most recently served as {senior2} at {company2}.",
    "{company} (NYSE: XYZ) announced that its board has elected {name}, {age}, as {senior}. {mr} was previously {senior2} of {company2}.",
    "{name} left {company2} to become {senior} of {company}.",
    "{name} resigned as {senior} of {company2} to accept a position as {senior2} of {company}.",
    "{company2} announced the resignation of {name}, who is leaving to take the {senior} job at {company}.",
    "{name} has joined {company} as a partner. {He} was previously at {company2}.",
    "{company} welcomes {name} as our new {title}! {He} comes to us from {company2}.",
    "Please welcome {first}, who joins our team as {title}. {He} comes with a background in {team}.",
    "{mr} joined {company} in {year} from {company2}, where {he} had been {senior}.",
    # headline
    "{company} Hires {name} as {senior}",
    "{company} Taps {company2} Veteran {name} as New {senior}",
    "{name} Joins {company} as {senior}",
    "{company} appoints former {company2} executive {name} as {senior}",
    "{company} lures {name} away from {company2}",
]
T["promotion"] = [
    "I'm happy to share that I've been promoted to {senior} at {company}!",
    "Got promoted to {senior} today 🎉",
    "Big news: I was promoted to {senior}!",
    "After {n} years at {company}, I was promoted to {senior}.",
    "I was promoted to {senior} in {year}, leading {team}.",
    "Promoted to {senior}.",
    "Promoted to {senior} @ {company}.",
    "Promoted to {senior} with tenure.",
    "Got promoted to {senior} at {company}.",
    "{year}: promoted to {senior}.",
    "I started as a {junior} and was promoted to {senior} within {n} years.",
    "I joined {company} as a {junior} in {year} and was promoted to {senior} in {year2}.",
    "At {company} I started as a {junior} and was later promoted to {senior}.",
    "A year after I joined, I was promoted to {senior}.",
    "After {num} months as a {junior}, my manager promoted me to {senior}.",
    "They promoted me to {senior} after I shipped the migration project.",
    "I got a promotion! I'm now {senior} on {team}.",
    "I've been promoted from {junior} to {senior}.",
    "This month I moved up to {senior} at {company}, the same team I've been on since {year}.",
    "Excited to step into the role of {senior} at {company}, where I've worked for {n} years.",
    "My manager moved me up into a {senior} role last month.",
    "Received a promotion to {senior} this quarter.",
    "I have been promoted to the position of {senior} of my team.",
    "Earned a promotion to {senior} at {company} in {month}.",
    # third person / bio / news
    "{name} was promoted to {senior} in {year}.",
    "{name} joined {company} {n} years ago as a {junior} and has since been promoted to {senior}.",
    "In {year}, {he} was promoted to {senior}, overseeing {team}.",
    "{He} was promoted to {senior} in {month} {year} after {n} years as {junior}.",
    "{first} has been promoted to {senior} at {company}.",
    "{company} has promoted {name} to {senior}.",
    "{company} promoted {name}, its {junior}, to {senior}.",
    "{company} named {name}, currently its {junior}, as {senior}, effective {month} 1.",
    "{company} said its {junior}, {name}, {age}, will become {senior} on {month} 1, succeeding {name2}.",
    "The board of {company} appointed {name}, the company's {junior}, as {senior}.",
    "{company}'s board elected {name}, currently {junior}, to succeed {name2} as {senior}.",
    "{name}, a {num}-year {company} veteran, was named {senior}, succeeding {name2}.",
    "{name}, formerly {junior} at this company, was named {senior}.",
    "{company} today announced that {name}, {senior2}, has been named {senior} and will succeed {name2}.",
    "{company} elevates {name} to {senior}",
    "{company} Promotes {name} to {senior}",
    "{name} moves up to {senior} at {company}",
    "Internal promotion: {name} becomes {senior} of {company}.",
    "{mr}, who has been with the company since {year}, was elevated to {senior}.",
    "{He} rose through the ranks at {company} and was named {senior} in {year}.",
    "{He} was made a partner at {company} in {year}.",
    "{name} made partner at {company} this year.",
]
T["certification"] = [
    "I passed the {cert} exam today!",
    "I passed the {cert} on my first attempt.",
    "Passed {cert}! 🎉",
    "Just passed my {cert} exam. [Onto the next one.|So relieved.|Hard work pays off!|]",
    "How I passed the {cert} exam in {num} weeks",
    "How I passed {cert} (and what I would do differently)",
    "I'm happy to share that I've obtained a new certification: {cert} from {certbody}!",
    "Earned the {cert} certification.",
    "I earned my {cert} certification in {month} {year}.",
    "Officially {cert} certified!",
    "I just got certified as a {cert}!",
    "After {num} weeks of study, I passed the {cert} exam on my first try.",
    "I recently passed the {cert} exam and want to share my study notes.",
    "Completed and passed the {cert} exam, certifying my skills in cloud infrastructure.",
    "Yesterday I received the email confirming that I passed the {cert}.",
    "Achieved the {cert} certification this week.",
    "{cert} — passed!",
    "I am now a certified {cert} professional.",
    "Got my {cert} cert today, {num} months after starting to study.",
    "I took and passed the {cert} in {year}.",
    "Certified: {cert} ({year}).",
    "In {month} {year}, I passed the {cert}.",
    "My {cert} badge just arrived! Passed last week.",
    "Cleared the {cert} exam with a score of {num}0%.",
    "Successfully completed the {cert} certification.",
    "I hold the {cert} certification, which I earned in {year}.",
    "Thanks to this course I passed my {cert} in one sitting!",
    "Great instructor and clear labs. I passed the {cert} thanks to this course.",
    "{name} earned the {cert} certification in {year}.",
    "{first} recently passed the {cert} exam.",
    "{name} is now {cert} certified.",
    "{He} passed the {cert} exam while working full time.",
    "Congratulations to me: {cert} passed ✅",
    "I got certified in {cert} through an online program in {month} {year}.",
    "I'm now a certified [yoga instructor|personal trainer|barista|makeup artist|sommelier] after finishing the program.",
]
T["license_renewal"] = [
    "I passed the {lexam} on my first attempt!",
    "I passed {lexam}! Officially a registered nurse 🩺",
    "Passed my {lexam} today.",
    "Just got my {license}!",
    "I got my {license} in {year}.",
    "So I finally got my {license} last month.",
    "Renewed my {license} for another {n} years.",
    "Just renewed my {license} with {issuer}.",
    "My {license} renewal was approved today.",
    "I obtained my {license} in {place} in {year}.",
    "I'm now licensed in {place}!",
    "I became licensed in {place} in {year}.",
    "Received my {license} from {issuer}.",
    "I was sworn in as an attorney today!",
    "I passed the bar and was sworn in this morning.",
    "I was admitted to the {place} bar in {year}.",
    "Called to the Bar of {place} today.",
    "I am now a licensed real estate agent in {place}.",
    "Became a licensed insurance agent in {year}.",
    "I'm officially a licensed {title} in {place}.",
    "Thanks to this prep course I passed my {lexam} and became a licensed professional.",
    "The practice questions helped me pass the {lexam} on my first try.",
    "{name} received {his} {license} in {year}.",
    "{name} earned {his} {license} a year after graduating.",
    "{name} was admitted to the bar in {place} in {year}.",
    "{name} was called to the Bar in {year} and practices in {city}.",
    "{He} was admitted to practice law in {place} in {year}.",
    "{He} passed the bar exam and was admitted to practice in {place}.",
    "{name} obtained {his} insurance and securities licenses in {year}.",
    "{first} earned {his} {license} in {year} and joined the team.",
    "{He} passed the nursing boards and is now an RN.",
    "{He} received {his} license to practice medicine in {year}.",
    "{He} holds a {license} issued by {issuer}, renewed in {year}.",
    "{name} renewed {his} {license} this year.",
    "{first} is a licensed {title} in {place}, licensed since {year}.",
    "License renewed ✅ {license} good through {year}.",
    "Passed the {lexam} and got my license!",
    "Got my CDL today! Ready to hit the road.",
    "Officially a PE! Passed the PE exam and my license came in the mail.",
    "I received my license in {year} after completing the required hours.",
]
T["award"] = [
    "I received {award} at {venue}!",
    "Honored to receive {award} this year.",
    "I am honored to receive {award} for my work on {team}.",
    "I was awarded {award}.",
    "Awarded {award} ({year}).",
    "Received {award} at {venue}.",
    "Won {award} at {venue}!",
    "Our paper received {award} at {venue}.",
    "This work received {award} at {venue}.",
    "Thrilled to have won first place at the {city} hackathon with my team!",
    "Took second place at the {brand} hackathon in {city}.",
    "Won the grand prize at {event} hackathon 🏆",
    "Our team took first place in the national robotics competition.",
    "I was named to the {year} Forbes 30 Under 30 list.",
    "I was selected as a {year} {award} recipient.",
    "Humbled to be named {award} winner for {year}.",
    "Ranked in the top 1% nationally in the math olympiad.",
    "Got {award} at work today!",
    "I was awarded the {year} {award} for my contributions.",
    "I received {award} for my volunteer work.",
    "{name} received {award} in {year}.",
    "{name} was awarded {award} for {his} contributions to the field.",
    "{He} received {award} in {year} and was elected {society} Fellow in {year2}.",
    "{name} was named a Fellow of {society}.",
    "In {year}, {he} was named a Fellow of {society} for contributions to machine learning.",
    "{name} was elected to {society} in {year}.",
    "{name} was inducted into {hall} in {year}.",
    "{He} was inducted into {hall} last fall.",
    "{name} has received an honorary doctorate from {uni}.",
    "{name} was awarded an honorary degree by {uni} in {year}.",
    "{He} received {award} and several best paper awards.",
    "{name} wins {award}",
    "{name} honored with {award}",
    "{first} is the recipient of {award}.",
    "{He} was voted {award} by {his} peers in {year}.",
    "For {his} services {he} was awarded {award}.",
    "{name} was recognized with {award} for {his} work on {team}.",
    "{His} honors include {award}.",
    "I was awarded a {year} fellowship to support my research.",
    "I won a scholarship to study at {uni}!",
    "Received the {brand} Scholarship for academic excellence.",
]
T["business_launch"] = [
    "I started my own company, {brand}, in {year}.",
    "I founded {brand}, {business} in {city}.",
    "In {year}, I launched my own {business}.",
    "After {n} years in the industry, I opened my own {business}.",
    "I opened my own practice in {year}.",
    "I decided to start my own business and launched {brand}.",
    "Today I'm launching my own {business}: {brand}!",
    "Big news: I quit my job and started {brand}, {business}.",
    "Co-founded {brand}, {business} helping small teams ship faster.",
    "Founded {brand}.",
    "Founded my own {business} in {year}.",
    "Co-founded {brand} with two classmates.",
    "Launched my own SaaS product, {brand}, for freelancers.",
    "I co-founded {brand}, a startup later acquired by {company}.",
    "On the side, I started my own {business} and ran everything myself.",
    "So I stopped waiting for permission and started my own company.",
    "I took the leap and opened {business} in {city}.",
    "I've officially launched my own consulting firm!",
    "I opened my own practice so I could spend more time with each client.",
    "{name} founded {his} own {business}, {brand}, in {year}.",
    "{name} launched {his} own {business} after {n} years at {company}.",
    "{He} began {his} career at {company} and later founded {his} own consulting practice.",
    "{first} opened {brand}, {business} in {city}, in {year}.",
    "{name} is the founder of {brand}, which {he} started in {year}.",
    "{name} co-founded {brand} in {year} to help clinics manage their patients.",
    "{He} left {company} to found {brand}.",
    "{name} launches {brand}, {business}",
    "Former {company} engineer {name} starts {brand}",
    "{name} opened {his} own practice in {city} in {year}.",
    "After graduation, I decided to start my own company, {brand}.",
    "At {num}, I launched my own {business}.",
    "I started my own consulting company in {year} and took on my first clients.",
    "I founded {brand}, a small studio building apps for nonprofits.",
    "{brand} is the startup I co-founded last year to make hiring fairer.",
    "I started a {business} from my garage and it's finally open to the public!",
    "Launched my own {business} this week 🚀",
    "Proud to announce the opening of my own {business}, {brand}!",
]
T["education"] = [
    "I graduated from {uni}! 🎓",
    "I graduated with my {degree} from {uni}.",
    "Graduated with a {degree} from {uni}!",
    "Officially graduated with a {degree}.",
    "I successfully defended my PhD dissertation!",
    "Successfully defended my Ph.D. at {uni}!",
    "I successfully defended my master's thesis and graduated!",
    "Defended my thesis today. Dr. {last} now!",
    "I received my {degree} from {uni} in {year}.",
    "I completed my {degree} at {uni} in {month}.",
    "Finished my {degree}! Onward.",
    "Started my {program} at {uni}!",
    "I started my {program} at {uni}, advised by Prof. {last}.",
    "I'll be starting my {program} at {uni} in the fall.",
    "I'm joining {uni} for a PhD!",
    "Excited to join {lab} as a PhD student.",
    "I will join {lab} as a master's student in the fall.",
    "I've been admitted to the {program} at {uni}!",
    "I got into {uni}'s {program}! Starting in {month}.",
    "Accepted into {uni} for the {program}. Can't believe it.",
    "I accepted my offer from {uni}'s {program}!",
    "Excited to start my {degree} journey at {uni}.",
    "I enrolled in the {program} at {uni} this semester.",
    "I completed {bootcamp} in {month} {year}.",
    "I graduated from {bootcamp}.",
    "I recently finished {bootcamp} and am looking for my next step.",
    "Class of {year}! I finally walked across the stage at {uni}.",
    "{name} received a {degree} from {uni} in {year}.",
    "{name} received {his} {degree} from {uni} and {his} {degree2} from {uni2}.",
    "{He} earned a {degree} from {uni} in {year}.",
    "{He} holds a {degree} from {uni}.",
    "{name} graduated from {uni} with a {degree} in {year}.",
    "{name} is a {year} graduate of {uni}.",
    "Born in {city}, {name} received a {degree} from {uni} in {year}.",
    "{name} earned {his} {degree} at {uni} in {year}, then studied in {city}.",
    "{name} completed {his} doctorate at {uni} in {year}.",
    "{first} graduated from {uni} in {year} with a {degree}.",
    "{name} has been admitted to the {program} at {uni}.",
    "{name} defended {his} dissertation at {uni}.",
    "{first} joins {lab} as a PhD student this fall.",
    "Congrats to me! I graduated summa cum laude with a {degree}.",
]
T["job_loss"] = [
    "I was laid off today.",
    "I got laid off from {company} this morning.",
    "I was laid off in {month} {year} due to restructuring.",
    "Then I got laid off in {year}.",
    "I was part of the layoffs at {company} this week.",
    "My position was eliminated as part of a reorganization.",
    "Recently my role was eliminated. I'm now open to work.",
    "I was made redundant after {n} years at {company}.",
    "I was let go from {company} last Friday.",
    "I lost my job in {month} {year}.",
    "I was fired from {company} after {n} years.",
    "Got fired today. Not sure what's next.",
    "After {n} years, {company} let me go in the latest round of cuts.",
    "Laid off after {n} years at {company}. #OpenToWork",
    "I'm #OpenToWork after being impacted by the layoffs at {company}.",
    "The company shut down and I lost my job overnight.",
    "{company} closed our office and I was laid off along with {num}0 colleagues.",
    "I was terminated after the acquisition.",
    "My contract was terminated early and I'm back on the job market.",
    "When the pandemic hit, the company let me go.",
    "Impacted by the {company} layoffs. Looking for {title} roles.",
    "{name} was laid off from {company} in {year}.",
    "{name} was fired by the board in {year}.",
    "{name} was ousted as {senior} of {company} in a boardroom coup.",
    "{company} fired {senior} {name} on {month} {num}.",
    "{company} Fires {senior} {name}",
    "{company} ousts {senior} {name} after {n} straight quarters of losses",
    "{name} was forced to step down as {senior} following poor results.",
    "{name} was forced out as {senior} after a dispute with the board.",
    "The board dismissed {senior} {name} after an internal investigation.",
    "{name} resigned under pressure as {senior} after the accounting scandal.",
    "{name} resigned after the board made clear it had lost confidence in {him}.",
    "Investors pushed for change and {name} was replaced as {senior}.",
    "{name} was replaced as {senior} as the company struggled with mounting losses.",
    "{name} stepped down after the company filed for bankruptcy and lost ${num} million.",
    "{company} parted ways with {name} after only {num} months in charge.",
    "{name} has been sacked as head coach after a string of defeats.",
    "{name} was relieved of {his} duties after a run of poor results.",
    "{name} lost {his} job as {senior} after the merger closed.",
    "{name} is leaving {company} effective immediately; the company gave no reason.",
    "{mr} was dismissed for cause.",
    "{name} was let go as part of {company}'s cost-cutting.",
    "{name}'s position was eliminated when {company} closed its {city} plant.",
    "{first} was among the {num}00 employees laid off by {company}.",
]
T["none"] = [
    # retirement / death / voluntary departure / succession
    "{name} will retire as {senior} of {company} at the end of the year.",
    "{company} announced the retirement of {name} as {senior}.",
    "{mr} retired as {senior} of the company in {year}.",
    "{name} retired after {num} years with {company} and remains on the board.",
    "After {num} wonderful years, I'm retiring from {company}.",
    "Today is my last day before retirement. Thank you all!",
    "{name}, the longtime {senior}, is retiring after {num} years of service.",
    "{name} announced plans to step down as {senior}; {he} will remain executive chairman.",
    "{name} stepped down as {senior} to become executive chairman.",
    "{name} will step down as {senior} once a successor is found.",
    "{name} relinquished {his} position as {senior} but remains chairman.",
    "{name} has resigned to focus on {his} health.",
    "{name} resigned to spend more time with {his} family.",
    "{mr} has decided to leave {company} for personal reasons.",
    "{name} will leave the company and be succeeded by {name2}.",
    "Today was my last day at {company}. I decided it was time for a change.",
    "I resigned from my job at {company} to travel for a year.",
    "I quit my job to take care of my kids for a while.",
    "{name} passed away on {month} {num}, {year}, at the age of {age}.",
    "We are sad to announce the passing of our founder, {name}.",
    "{company} announced the transition of {senior} {name} to Senior Advisor.",
    "{name} was {senior} of {company} from {year} until {he} retired in {year2}.",
    "{He} is the retired {senior} of the company.",
    # events, talks, papers
    "I had the pleasure of attending {event} in {city} last week.",
    "Excited to be speaking at {event} on {month} {num}!",
    "Gave an invited talk on graph neural networks at {uni}.",
    "Presented a poster at {venue}.",
    "I will give an oral talk at {venue}. See you there!",
    "Our paper was accepted to {venue}!",
    "Paper accepted at {venue}: a study of robust training.",
    "My paper on program synthesis has been accepted to {venue}...",
    "Our new preprint is now live on arXiv.",
    "Released an open-source library for time series forecasting.",
    "We will be organizing a workshop at {venue}.",
    "Had a great time at the {event} recap dinner with the team.",
    "Recap of {event}: great talks, great people, too much coffee.",
    "Participated in the {brand} hackathon this weekend. We didn't win but learned a lot.",
    "Attended a workshop on leadership at {company}.",
    "I'm serving as a reviewer for {venue}.",
    # hiring posts, company news
    "We're hiring! {company} is looking for a {title} to join {team}.",
    "Our team at {company} is growing: we have {num} open roles for {title}s.",
    "Know someone great? We're hiring a {senior} in {city}. DM me.",
    "{company} is proud to announce the launch of its new mobile app.",
    "{company} launched a new product line this quarter.",
    "We launched season {num} of our podcast this week.",
    "We launched our new website! Check it out.",
    "{company} won the {year} {award} for its customer service.",
    "{company} received {award} for its sustainability program.",
    "Our team was recognized as the best workplace in {city}.",
    "{company} has been certified as a Great Place to Work.",
    "Our clinic is fully licensed and insured.",
    "Licensed and insured plumbers serving {city} since {year}.",
    "An award-winning agency helping brands grow.",
    "{company} reported a {pct}% rise in quarterly revenue.",
    "{company} opened a new office in {city}.",
    "Our platform is SOC 2 certified and HIPAA compliant.",
    "Let's promote our new product at the trade show next week.",
    "{company} is promoting its summer sale with a new campaign.",
    "We laid out the roadmap for next year at the offsite.",
    "{company} fired up a new data center in {city}.",
    # congratulating others
    "Congratulations to my colleague {name} on the new role!",
    "Congrats to my friends at {company} on the big launch.",
    "So proud of my sister, who just graduated from nursing school!",
    "Congratulations to {name} on the promotion to {senior}. Well deserved!",
    "Huge congrats to {first} for passing the bar! 🎉",
    "Congrats to my friend {first}, who was elected treasurer of the neighborhood association.",
    # studying, qualifying exams, driver's license, generic credentials
    "I am currently studying for the {cert} and it is brutal.",
    "Studying for the {cert}. Any tips?",
    "Preparing for the {cert} exam next month, wish me luck.",
    "Passed my quals! One step closer to candidacy.",
    "Qualifying exam: done. Now on to the proposal.",
    "I passed my driving test today! Finally got my driver's license 🚗",
    "Got my driver's license at {num}!",
    "Renewed my driver's license at the DMV, took forever.",
    "Finished the week 3 quiz of the online course.",
    "Received a certificate of attendance for the {event} workshop.",
    "To earn the PMP credential, applicants need 35 hours of training and a passing exam score.",
    "What is the pass rate for the {cert}? Asking before I book it.",
    "The build passed all the automated checks.",
    # work anniversaries, board seats, generic work news, opinions
    "Celebrating {n} years at {company} today!",
    "Today marks my {num}th work anniversary at {company}.",
    "{name} has been nominated to the board of {company}.",
    "I joined the board of directors of a local nonprofit.",
    "{name} has served as {senior} and director of the company since {year}.",
    "In my current role as {title} I work on data pipelines and dashboards.",
    "I'm a {title} with {num} years of experience in fintech.",
    "Mentoring two summer interns on {team} this year.",
    "Helped start a chess society at my school and ran its tournaments.",
    "Co-founded a student chapter of Women in Tech.",
    "Co-founded the company's internal mentoring program for new hires.",
    "Launched a personal podcast about cooking on a budget.",
    "New blog post: what I learned from mentoring junior developers.",
    "Job hunting is exhausting. Every rejection feels personal.",
    "I had both of my interviews yesterday and I think they went well.",
    "Torn between two internship offers, any advice on how to choose?",
    "Thinking about going back to school someday, maybe for design.",
    "Is a bootcamp worth it in this market? Genuinely asking.",
    "Another rejection email today. Back to tailoring my resume.",
    "Recruiters be like: exciting opportunity, entry level, ten years of experience required.",
    "Looking for apartment recommendations in {city}.",
    "In the novel, the young wizard joins the academy as an apprentice and fights a dragon.",
    "In the game, your character gets promoted to captain after the third mission.",
    "My cat has been promoted to head of quality assurance (she sits on the keyboard).",
    "Soft skills are underrated in engineering teams.",
    "Hot take: certifications matter less than projects.",
    "Our lab's project was featured in a local news story.",
    "Thank you to everyone who came to our open house!",
    "We are joining the {event} as exhibitors this year.",
    "I'm taking part in a summer reading group on causal inference.",
    "{name} was {senior} of {company} from {year} to {year2}.",
    "{name}, {senior} of {company}, commented on the quarterly results.",
    "{name} has been with {company} for {num} years.",
    "Shares of {company} fell {pct}% after the earnings call.",
    # more departures that are not job losses (retirement, planned succession, voluntary)
    "{name}, {age}, who has led {company} since {year}, plans to retire next spring; the board has begun a search for a successor.",
    "{company} said {senior} {name} will hand over the top job to {name2} in {month} as part of a long-planned succession.",
    "After {num} years at the helm, {name} is stepping back from day-to-day management and will stay on as chairman.",
    "{name} announced that {he} will not seek another term as {senior} and will leave when {his} contract ends.",
    "{mr} reached the company's mandatory retirement age and left the board in {year}.",
    "The {senior} of {company}, {name}, is leaving to pursue philanthropic interests, the company said.",
    "{name} will retire at the end of the fiscal year; {name2}, the current president, will succeed {him}.",
    "{name} left {company} in {year} and now spends {his} time sailing.",
    "{company} named a successor to {name}, who had announced {his} retirement in {month}.",
    "Both co-founders will leave after the acquisition closes and sell their stakes to the buyer.",
    # bios without a new event
    "{name} has been with {company} since {year} and oversees its operations in {city}. Before that {he} worked at {company2}.",
    "{name} served as {senior} of {company} from {year} to {year2} and as a director until {year2}.",
    "{mr} is {senior} of {company}, a position {he} has held for {num} years.",
    "{name} is a {title} at {company}, where {he} focuses on {team}.",
    "I have worked as a {title} for {num} years, mostly in healthcare.",
    "I've been a {title} since graduating, across two companies.",
    "Since finishing school I've been working retail to pay the bills while I learn to code.",
    # credentials and exams in other senses
    "Our team is certified in food safety and allergen handling.",
    "All of our technicians are licensed, bonded and insured.",
    "The product passed UL safety testing.",
    "Every release passed the full regression suite before shipping.",
    "Booked my {cert} exam for next month. Nervous!",
    "Failed the {cert} by {num} points. Retaking in {month}.",
    "Which is harder, the {cert} or the {cert2}?",
    "My study plan for the {cert}: two hours a day, practice tests on weekends.",
    "Anyone else taking the {lexam} next week? Let's form a study group.",
    "Renewing my gym membership was harder than it should be.",
    "Completed a free online quiz on cloud basics for fun.",
    "I earned a badge for completing the community forum onboarding.",
    "Got my learner's permit today, driving lessons start next week!",
    "Passed the theory test for my driving licence.",
    # launches and founding that are not a person's business
    "{company} launched a new loyalty program for members.",
    "Our team launched the redesigned checkout flow today.",
    "We launched a free workshop series for local students.",
    "I co-founded a weekly reading group at work.",
    "Started a running club with some coworkers.",
    "Launched version 2.0 of my open-source library.",
    "I launched a small newsletter where I share what I'm reading.",
    "{company} opened a new store in {city}.",
    "My friend just opened her own bakery, go check it out!",
    # awards not to the person / not awards
    "Our department received a grant from the city for the new program.",
    "{company} was named a leader in the analyst report.",
    "Our team was shortlisted for an innovation award at the conference.",
    "I was nominated for an award at work, fingers crossed.",
    "Voting is open for the community awards; please nominate your favorite teacher.",
    # job-market chatter that is not a job loss
    "Layoffs are everywhere right now. Hang in there, everyone.",
    "How do you explain a gap in your resume after caring for a parent?",
    "I've applied to {num}0 jobs this month and heard back from two.",
    "My company announced layoffs today, but my team wasn't affected.",
    "I'm nervous about the rumored layoffs at work.",
    "Got a rejection after the final round. On to the next one.",
    "I interviewed with {company} today; fingers crossed.",
    "Negotiating my first offer, any tips?",
    # academic news that is not an event of these kinds
    "New preprint with {name} on efficient fine-tuning is out.",
    "I'll be presenting our work at {venue} in {city}.",
    "Served on the program committee for {venue}.",
    "Our lab's dataset was released today.",
    "Gave a guest lecture on ethics in AI at {uni}.",
    "Visited {lab} for a week to collaborate on a new project.",
    "Our workshop proposal was accepted at {venue}!",
    "My student {first} gave a wonderful talk at {venue}.",
]

# Main event first, with a secondary event in a subordinate clause ("After joining X, he received Y").
SECONDARY = {
    "new_employment": ["joining {company2}", "starting at {company2} as {title2}"],
    "education": ["graduating from {uni2}", "finishing {his} degree"],
    "certification": ["passing the {cert2}"],
    "promotion": ["being promoted to {senior2}"],
    "business_launch": ["selling {his} first startup"],
    "job_loss": ["being laid off from {company2}"],
    "award": ["winning {award2}"],
}
MAIN_AFTER = {
    "new_employment": ["{he} joined {company} as {title}", "{he} accepted a position as {title} at {company}"],
    "promotion": ["{he} was promoted to {senior} at {company}"],
    "certification": ["{he} passed the {cert} exam", "{he} earned the {cert} certification"],
    "license_renewal": ["{he} obtained {his} {license}", "{he} was admitted to the bar in {place}"],
    "award": ["{he} received {award}", "{he} was named a Fellow of {society}"],
    "business_launch": ["{he} founded {his} own {business}", "{he} started {his} own company, {brand}"],
    "education": ["{he} enrolled in the {program} at {uni}", "{he} received a {degree} from {uni}"],
    "job_loss": ["{he} was laid off", "{he} was fired by the board"],
    "none": ["{he} retired", "{he} gave a talk at {event}", "{he} stepped down to spend time with family"],
}

FILLER_FIRST = [
    "Hi, I'm {first}!", "Hello! I'm {first}, a {title} based in {city}.", "Quick update.", "Some personal news.",
    "It's been a long road.", "I love building things that people use.", "Outside of work I enjoy hiking.",
    "This blog is mostly about cloud infrastructure.", "I specialize in React, Node.js and PostgreSQL.",
    "Thanks to everyone who supported me.", "More on that soon.", "Feel free to reach out.",
    "Here is what I learned along the way.", "Still can't quite believe it.", "Grateful for this community.",
]  # fmt: skip
FILLER_THIRD = [
    "{first} lives in {city} with {his} family.", "{He} is based in {city}.", "{He} enjoys cycling and jazz.",
    "{name} has more than {num} years of experience in {team}.", "The company is based in {city}.",
    "The move was announced on {month} {num}.", "{He} holds degrees in economics and law.",
    "Shares were little changed on the news.", "{He} can be reached through the firm's website.",
]  # fmt: skip
FILLER_NEWS = [
    "The company, based in {city}, employs about {num},000 people.", "Shares of {company} rose {pct} cents in early trading.",
    "Analysts had expected the change.", "The company did not comment further.", "{He} joined the company in {year}.",
    "{company} makes industrial equipment and has operations in {num} countries.", "The announcement came after the market closed.",
    "{name} is {age} years old.", "The company reported revenue of ${num} billion last year.",
    "A spokesperson confirmed the news on {month} {num}.", "{He} holds an MBA from {uni}.",
    "The board thanked {him} for {his} service.", "Terms were not disclosed.",
]  # fmt: skip
# Generic career chatter: keywords of every label, but no event that happened to the writer.
CHATTER = [
    "Everyone says certifications are the key to getting hired, but I'm not so sure.",
    "The market is rough for new grads right now.", "My advice to anyone starting out: build projects, not just a resume.",
    "A lot of my friends were laid off last year and most found something within a few months.",
    "Founding a startup looks glamorous from the outside; it is mostly spreadsheets.",
    "Should I get the {cert} or focus on a master's degree?", "My company is doing layoffs again but my team is safe for now.",
    "Promotions at my company seem to depend on visibility, not impact.", "I've been in the same role for {n} years and I feel stuck.",
    "Hiring managers, please send feedback after interviews.", "Going to {event} next week, any tips for networking?",
    "What do you all think about unlimited PTO?", "Remote work changed how I think about careers.",
    "Is an MBA still worth it in {year}?", "My manager keeps talking about a promotion but nothing happens.",
    "I spent the weekend updating my portfolio.", "Some days I wonder whether to start my own business.",
    "Licensing rules for nurses differ a lot between states.", "Awards are nice, but the work matters more.",
    "The best teams I worked on had clear goals and honest feedback.", "Burnout is real; take your vacation days.",
    "Networking felt awkward at first, but it gets easier.", "Our industry rewards people who keep learning.",
    "I'm curious how others prepared for their first performance review.", "I read {num} books on leadership this year.",
    "Salary transparency would fix a lot of problems.", "Interviews are a skill you can practise.",
    "If you were laid off recently, reach out: happy to review resumes.", "We need more mentors for junior engineers.",
    "I keep seeing posts about people getting certified in {cert}; is it worth it?",
]  # fmt: skip

EMOJI = {
    "new_employment": ["🚀", "🎉", "💼", "🙌"], "promotion": ["🎉", "📈", "🙏"], "certification": ["✅", "📜", "☁️", "🎉"],
    "license_renewal": ["🩺", "⚖️", "🏠", "✅"], "award": ["🏆", "🥇", "🎖️", "🎉"], "business_launch": ["🚀", "🧁", "🛍️"],
    "education": ["🎓", "📚", "🎉"], "job_loss": ["😔", "💔", ""], "none": ["🎉", "🙌", "😅", "📢", "✨"],
}  # fmt: skip
HASHTAGS = {
    "new_employment": ["#NewJob", "#NewBeginnings", "#Hired"], "promotion": ["#Promotion", "#CareerGrowth"],
    "certification": ["#AWS", "#Certified", "#CloudComputing"], "license_renewal": ["#NCLEX", "#RealEstate", "#Nursing"],
    "award": ["#Award", "#Honored"], "business_launch": ["#Entrepreneur", "#SmallBusiness", "#Startup"],
    "education": ["#Graduation", "#ClassOf2025", "#PhDLife"], "job_loss": ["#OpenToWork", "#Layoffs"],
    "none": ["#Hiring", "#Conference", "#Motivation", "#Networking"],
}  # fmt: skip

TARGET = {
    "new_employment": 700, "promotion": 650, "certification": 550, "license_renewal": 550, "award": 550,
    "business_launch": 550, "education": 450, "job_loss": 650, "none": 2600,
}  # fmt: skip


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    for i in rng.sample(candidates, k=min(len(candidates), rng.choice([1, 1, 2]))):
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        kind = rng.random()
        if kind < 0.4:
            w = w[:j] + w[j + 1 :]  # drop a letter
        elif kind < 0.8:
            w = w[:j - 1] + w[j] + w[j - 1] + w[j + 1 :]  # swap two letters
        else:
            w = w[:j] + w[j] + w[j:]  # double a letter
        words[i] = w
    return " ".join(words)


def decorate(text: str, label: str, rng: random.Random, first_person: bool) -> str:
    fillers = FILLER_FIRST if first_person else FILLER_THIRD + FILLER_NEWS
    if rng.random() < 0.2:
        text = fill(rng.choice(fillers), rng) + " " + text
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        text = text + " " + fill(rng.choice(fillers), rng)
    roll = rng.random()
    if roll < 0.12:
        text = text.lower()
    elif roll < 0.16:
        text = text.replace("'", "").replace("’", "")
    if rng.random() < 0.15:
        text = typo(text, rng)
    if rng.random() < 0.12:
        text = text.rstrip(".") + " " + rng.choice(EMOJI[label])
    if rng.random() < 0.06:
        text = text + " " + " ".join(rng.sample(HASHTAGS[label], k=min(2, len(HASHTAGS[label]))))
    if rng.random() < 0.06 and len(text) > 50:
        cut = text.rfind(" ", 0, int(len(text) * rng.uniform(0.6, 0.9)))
        if cut > 30:
            text = text[:cut].rstrip(",;:") + "..."
    return text.strip()


def _is_first_person(template: str) -> bool:
    return bool(re.search(r"\b(I|I'm|I've|I'll|my|My|me)\b", template)) or not re.search(r"\{(name|He|he|mr|first)\}", template)


def _after_template(label: str, rng: random.Random) -> str:
    secondary_label = rng.choice([k for k in SECONDARY if k != label])
    secondary = rng.choice(SECONDARY[secondary_label])
    main = rng.choice(MAIN_AFTER[label])
    opener = rng.choice(["After", "Shortly after", "A year after", "Two years after"])
    return f"{opener} {secondary}, {main}."


def person_examples(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for label, templates in T.items():
        for _ in range(TARGET[label]):
            if rng.random() < 0.07:
                template, template_id = _after_template(label, rng), "after"
                first_person = False
            else:
                index = rng.randrange(len(templates))
                template, template_id = templates[index], str(index)
                first_person = _is_first_person(template)
            text = fill(template, rng)
            text = text[0].upper() + text[1:] if text[:1].islower() and not text.startswith("{") else text
            rows.append({"text": decorate(text, label, rng, first_person), "label": label,
                         "source": f"templated:{label}:{template_id}"})
    for _ in range(400):  # long posts of generic chatter
        sentences = rng.sample(CHATTER, k=rng.choice([2, 3, 3, 4]))
        text = " ".join(fill(sentence, rng) for sentence in sentences)
        rows.append({"text": decorate(text, "none", rng, True), "label": "none", "source": "templated:none:chatter"})
    rng.shuffle(rows)
    return rows


def _check_templates(render: Callable[[str, random.Random], str] = fill) -> None:
    rng = random.Random(0)
    for templates in T.values():
        for template in templates:
            render(template, rng)


_check_templates()
