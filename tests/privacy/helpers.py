"""Test data for the privacy tests."""

from __future__ import annotations

from typing import Any


def profile(public_id: str, first: str, last: str, jobs: list[tuple[str, str, str | None]],
            emails: list[str] | None = None) -> dict[str, Any]:
    """A harvestapi profile item; jobs are (title, company, start "Mon YYYY"), all current."""

    def when(text: str | None) -> dict[str, Any]:
        if text is None:
            return {"text": "Present"}
        month, year = text.split()
        return {"month": month, "year": int(year), "text": text}

    return {"id": f"ACoAA{public_id}", "publicIdentifier": public_id,
            "linkedinUrl": f"https://www.linkedin.com/in/{public_id}", "firstName": first, "lastName": last,
            "headline": f"{first} {last}, working hard", "photo": "https://media.example/p.jpg",
            "emails": emails or [], "location": {"linkedinText": "Austin, Texas, United States"},
            "experience": [{"position": t, "companyName": c, "startDate": when(s), "endDate": when(None)}
                           for t, c, s in jobs],
            "certifications": [], "honorsAndAwards": [], "education": []}
