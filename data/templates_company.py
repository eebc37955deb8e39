# ruff: noqa: E501 - template strings read best on one line
"""Templates for business-intent texts about a company (see data/README.md).

Labels: growth (the business is getting bigger where it already is: revenue, customers, headcount, funding
raised, capacity), expansion (new places, markets, sites or lines of business, acquisitions), financial_distress
(losses, missed payments, layoffs for cost, closures, insolvency), loan_need (the business is looking for
credit or debt financing), consulting_need (the business is looking for outside expertise: consultants,
advisers, an agency, an RFP for professional services), none (anything else: product news, events, awards,
opinions, hiring of one person, generic descriptions). All templates were written for this project.
"""

from __future__ import annotations

import random
import re

COMPANIES = [
    "Acme Fabrication", "Brightwater Foods", "Northfield Dental", "Cobalt Logistics", "Harbor Coffee Roasters",
    "Pinecrest Builders", "Lumen Analytics", "Redwood Family Clinic", "Sable Apparel", "Keystone Machining",
    "Blue Heron Brewing", "Vertex Software", "Granite State Plumbing", "Meridian Home Care", "Oakline Furniture",
    "Sunrise Bakery", "Atlas Freight", "Nimbus Cloud Services", "Evergreen Landscaping", "Tidewater Marine",
    "Copperleaf Cafe", "Fieldstone Realty", "Orchid Spa", "Ironclad Security", "Prairie Grain Co.", "Kestrel Drones",
    "Silverline Print Shop", "Maple Ridge Veterinary", "Crescent Auto Repair", "Helix Biotech", "Juniper Labs",
    "the company", "our bakery", "our firm", "our clinic", "the shop", "our startup", "the restaurant group",
]  # fmt: skip
CITIES = ["Austin", "Denver", "Toronto", "Leeds", "Munich", "Lagos", "Pune", "Phoenix", "Raleigh", "Lyon",
          "Tampa", "Calgary", "Nashville", "Valencia", "Kraków", "Brisbane", "Columbus", "Boise"]  # fmt: skip
REGIONS = ["Europe", "the Midwest", "Southeast Asia", "Latin America", "the UK", "Canada", "the Gulf region",
           "the West Coast", "Scandinavia", "East Africa", "the DACH market", "Australia"]  # fmt: skip
PRODUCTS = ["catering", "e-commerce", "a wholesale line", "commercial cleaning", "cold-chain storage",
            "pet grooming", "a subscription box", "an enterprise tier", "same-day delivery", "telehealth visits"]  # fmt: skip
ROLES = ["drivers", "nurses", "engineers", "sales reps", "technicians", "baristas", "warehouse associates",
         "developers", "machinists", "support agents"]  # fmt: skip
NEEDS = ["ERP implementation", "pricing strategy", "a marketing plan", "our cybersecurity posture",
         "HR compliance", "supply-chain optimization", "our cloud migration", "succession planning",
         "a digital transformation roadmap", "lean manufacturing", "our go-to-market strategy", "tax planning",
         "bookkeeping and payroll", "an ISO 9001 audit", "a website redesign", "process automation"]  # fmt: skip
CONSULTANTS = ["a consultant", "an outside advisor", "a fractional CFO", "a marketing agency", "an IT consulting firm",
               "a management consultant", "an HR consultant", "a business coach", "a growth advisor"]  # fmt: skip
LOANS = ["a business loan", "an SBA 7(a) loan", "a line of credit", "equipment financing", "working capital",
         "a bridge loan", "a commercial mortgage", "invoice financing", "a term loan", "short-term financing"]  # fmt: skip
USES = ["new equipment", "inventory for the holiday season", "a second delivery van", "payroll over the slow months",
        "a kitchen renovation", "buying out a partner", "a bigger warehouse", "a new CNC machine"]  # fmt: skip
MONTHS = ["January", "March", "May", "June", "September", "October", "November"]

T: dict[str, list[str]] = {}
T["growth"] = [
    "{co} grew revenue {pct}% year over year.",
    "Record quarter for {co}: sales up {pct}% and a backlog of orders.",
    "We're hiring {num} {role} to keep up with demand!",
    "{co} is on a hiring spree, adding {num}0 {role} this year.",
    "{co} doubled its customer base in the last twelve months.",
    "{co} raised a ${num} million Series A to scale the team.",
    "{co} closed a ${num} million funding round led by growth investors.",
    "Demand is through the roof: we're adding a second shift at {co}.",
    "Our team grew from {num} to {num2}0 people this year.",
    "{co} reported its best year ever, with revenue passing ${num} million.",
    "Orders are up {pct}% and we're expanding the team to match.",
    "{co} crossed {num},000 active customers this month.",
    "We're growing fast and looking for {role} to join us.",
    "Business is booming: {co} increased production capacity by {pct}%.",
    "{co} has tripled headcount since {month} and is still hiring.",
    "Thanks to our customers, {co} had a record-breaking season.",
    "Annual recurring revenue at {co} has grown {pct}% quarter over quarter.",
    "{co} secured a major multi-year contract, its largest to date.",
    "{co} is scaling up: new hires in sales, support and engineering.",
    "We just signed our biggest client ever and are staffing up.",
    "{co} posted strong growth, with same-store sales up {pct}%.",
    "Our subscriber count has grown {pct}% since launch.",
]
T["expansion"] = [
    "{co} is opening a new location in {city} this {month}.",
    "{co} announced plans to expand into {region}.",
    "We're excited to open our second store in {city}!",
    "{co} will enter the {region} market next year.",
    "{co} acquired a competitor to expand its footprint in {region}.",
    "{co} broke ground on a new facility in {city}.",
    "{co} is adding {product} to its lineup.",
    "Now serving {city}! {co} has expanded its delivery area.",
    "{co} opened its first international office in {city}.",
    "{co} is launching {product} as a new line of business.",
    "We've signed a lease for a second warehouse in {city}.",
    "{co} will build a new plant in {city}, its first outside the home state.",
    "Coming soon: {co} {city}! Our third location opens in {month}.",
    "{co} has acquired a local rival and will rebrand its {num} stores.",
    "{co} plans {num} new franchise locations across {region}.",
    "{co} is expanding nationwide after success in {city}.",
    "{co} opened a new distribution center to serve {region}.",
    "{co} is moving into {region} with a new regional hub in {city}.",
    "{co} announced a merger that will extend its reach into {region}.",
    "Big news: we're taking {co} to {region}!",
]
T["financial_distress"] = [
    "{co} filed for Chapter 11 bankruptcy protection.",
    "{co} is closing {num} stores after a difficult year.",
    "{co} laid off {pct}% of its staff to cut costs.",
    "{co} missed a loan payment and is in talks with its lenders.",
    "{co} reported a net loss of ${num} million and warned about its cash position.",
    "Auditors raised going-concern doubts about {co}.",
    "We're struggling to make payroll this month.",
    "{co} defaulted on its bonds.",
    "{co} has entered administration.",
    "After {num} years, {co} will close its doors for good at the end of {month}.",
    "{co} is behind on rent and supplier invoices are piling up.",
    "Sales have collapsed and {co} is cutting hours across the board.",
    "{co} announced a restructuring that eliminates {num}00 jobs.",
    "{co} warned it may run out of cash within {num} months.",
    "{co} was delisted after failing to meet exchange requirements.",
    "Creditors have filed a winding-up petition against {co}.",
    "{co} is selling assets to pay down debt after heavy losses.",
    "Revenue fell {pct}% and {co} suspended its dividend.",
    "We may have to shut down if things don't turn around soon.",
    "{co} furloughed most of its employees amid falling demand.",
    "{co} is liquidating its inventory ahead of closing.",
]
T["loan_need"] = [
    "{co} is looking for {loan} to fund {use}.",
    "We're seeking {loan} to finance {use}.",
    "Does anyone have a lender recommendation? We need {loan} for {use}.",
    "{co} applied for {loan} to cover {use}.",
    "We need about ${num}0,000 in {loan} to get through the season.",
    "Looking for financing options for {use}. Bank said no.",
    "{co} is shopping around for {loan}.",
    "Our bank turned us down; we need {loan} quickly to buy {use}.",
    "Seeking a lender for {loan}: solid cash flow, {num} years in business.",
    "We're applying for {loan} to fund {use}. Any advice?",
    "{co} needs capital: we're looking for {loan} to pay for {use}.",
    "Any recommendations for a bank that does {loan} for small businesses?",
    "{co} wants to refinance its debt and is looking for {loan}.",
    "How hard is it to get {loan} for a {num}-year-old business?",
    "We need short-term cash to fill a large order; is {loan} the right option?",
    "{co} is raising debt financing to fund {use}.",
    "Applying for a microloan to buy {use} for our shop.",
    "Need a loan for {use}; our credit line is maxed out.",
]
T["consulting_need"] = [
    "{co} is looking for {consultant} to help with {need}.",
    "We need outside help with {need}. Recommendations for {consultant}?",
    "{co} issued an RFP for consulting services on {need}.",
    "Seeking {consultant} experienced in {need}.",
    "Can anyone recommend {consultant} for {need}?",
    "We're hiring {consultant} to guide {need}.",
    "{co} wants expert advice on {need} before the end of the year.",
    "Looking for a partner to help us with {need}; we don't have the skills in-house.",
    "Request for proposals: {co} seeks a firm to support {need}.",
    "We're overwhelmed by {need} and need a professional to take it on.",
    "{co} is evaluating consultancies for {need}.",
    "Our leadership team needs guidance on {need}. Who do you trust?",
    "Is it worth bringing in {consultant} for {need}?",
    "{co} plans to engage an advisory firm for {need}.",
    "Looking to outsource {need} to an experienced agency.",
    "We need someone to audit {need} and tell us what to fix.",
]
T["none"] = [
    "{co} has been family-owned since 19{num2}0.",
    "{co} makes handcrafted furniture from reclaimed wood.",
    "Our team will be at the trade show in {city} next week. Come say hi!",
    "{co} won the {city} Small Business of the Year award.",
    "{co} released a new version of its mobile app with dark mode.",
    "Happy holidays from everyone at {co}!",
    "{co} sponsored the local youth soccer league again this year.",
    "Meet our new head chef, who joined us last month.",
    "{co} celebrated its {num}th anniversary with a customer party.",
    "Read our latest blog post on choosing the right flooring.",
    "{co} is closed on Monday for the public holiday.",
    "Our CEO spoke at a panel about sustainability.",
    "{co} updated its privacy policy.",
    "{co} is proud to support breast cancer awareness month.",
    "Check out our new menu items for the fall season!",
    "{co} offers free estimates for residential projects.",
    "We are a small team of designers based in {city}.",
    "{co} was featured in the local newspaper this week.",
    "{co} donated {num}00 meals to the food bank.",
    "Thank you to all our loyal customers!",
    "{co}'s founder shares five lessons from {num} years in business.",
    "Our office will move to a new floor in the same building.",
    "{co} is certified organic and licensed by the state.",
    "We have been serving {city} since 19{num2}0 with pride.",
    "{co} launched a customer loyalty program.",
    "Join our webinar on workplace safety next Thursday.",
    "{co} partnered with a local school for a career day.",
    "Our warehouse team hit {num}00 days without an accident.",
    "{co} announced a new chief marketing officer.",
    "Prices are unchanged this year for all our services.",
    "Tips for keeping your lawn green during the summer.",
    "{co} received a 5-star rating from {num}00 customers.",
    "{co} won a design award for its packaging.",
    "The market will be closed due to the weather.",
]

TARGET = {"growth": 450, "expansion": 450, "financial_distress": 450, "loan_need": 400,
          "consulting_need": 400, "none": 900}  # fmt: skip

_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random) -> str:
    values: dict[str, str] = {}

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            base = key.rstrip("0123456789")
            values[key] = {
                "co": lambda: rng.choice(COMPANIES), "city": lambda: rng.choice(CITIES),
                "region": lambda: rng.choice(REGIONS), "product": lambda: rng.choice(PRODUCTS),
                "role": lambda: rng.choice(ROLES), "need": lambda: rng.choice(NEEDS),
                "consultant": lambda: rng.choice(CONSULTANTS), "loan": lambda: rng.choice(LOANS),
                "use": lambda: rng.choice(USES), "month": lambda: rng.choice(MONTHS),
                "num": lambda: str(rng.randint(2, 9)), "pct": lambda: str(rng.randint(8, 65)),
            }[base]()
        return values[key]

    text = _SLOT.sub(value, template)
    return text[0].upper() + text[1:]


def company_examples(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for label, templates in T.items():
        for _ in range(TARGET[label]):
            index = rng.randrange(len(templates))
            text = fill(templates[index], rng)
            if rng.random() < 0.1:
                text = text.lower()
            if rng.random() < 0.15:
                text += " " + rng.choice(["#smallbusiness", "🙏", "📈", "DM us.", "More soon.", "Thoughts?"])
            rows.append({"text": text, "label": label, "source": f"templated:{label}:{index}"})
    rng.shuffle(rows)
    return rows
