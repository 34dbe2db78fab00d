"""Invented names and wording for synthetic cases. Every subject ends in "(synthetic)"."""

from __future__ import annotations

__all__ = [
    "DSA_TOPICS",
    "EU_PROVIDERS",
    "FOI_TOPICS",
    "ICO_BASES",
    "ICO_CONTACT",
    "ICO_TOPICS",
    "ONLINE_SERVICES",
    "ORGANISATIONS",
    "OSA_BASES",
    "OSA_CONTACT",
    "OSA_DUTIES",
    "OSA_TOPICS",
    "SYNTHETIC",
    "synthetic_name",
]

SYNTHETIC = "synthetic"

_PREFIXES = ("Example", "Sample", "Demo", "Placeholder", "Specimen", "Illustrative", "Mock")

ONLINE_SERVICES = (
    "Platform Ltd",
    "Video Sharing Ltd",
    "Social Network plc",
    "Messaging Ltd",
    "Forum Ltd",
    "Dating App Ltd",
    "Gaming Network Ltd",
    "Image Board Ltd",
    "Search Ltd",
    "Live Streaming Ltd",
)
ORGANISATIONS = (
    "Retail Group plc",
    "Health Clinic Ltd",
    "Credit Reference Ltd",
    "Insurance plc",
    "Energy Supply Ltd",
    "Borough Council",
    "Academy Trust",
    "Recruitment Ltd",
    "Telecoms plc",
    "Marketing Calls Ltd",
)
EU_PROVIDERS = (
    "Marketplace BV",
    "Social Network GmbH",
    "Video Platform SA",
    "Search Engine BV",
    "App Store GmbH",
    "Short Video SA",
)


def synthetic_name(prefix_index: int, name: str) -> str:
    """An obviously invented company name, marked synthetic."""
    return f"{_PREFIXES[prefix_index % len(_PREFIXES)]} {name} ({SYNTHETIC})"


OSA_TOPICS = (
    "Illegal content risk assessment",
    "Children's risk assessment duties",
    "Age assurance for pornographic content",
    "Terrorism content moderation",
    "Record-keeping and review duties",
    "User complaints procedures",
    "Response to an information notice",
    "Child sexual abuse material detection",
)
OSA_CONTACT = (
    "Enquiry about the service's illegal content risk assessment",
    "Request for the service's children's risk assessment",
    "Concerns about content moderation response times",
    "Follow-up on reports received from the public",
)
OSA_BASES = (
    "OSA 2023 illegal content duties (ss.9-10)",
    "OSA 2023 children's safety duties (ss.11-12)",
    "OSA 2023 duty to respond to information notices (s.102)",
    "OSA 2023 record-keeping duties (s.23)",
)
OSA_DUTIES = (
    "illegal content risk assessment duty (s.9)",
    "illegal content safety duties (s.10)",
    "children's risk assessment duty (s.11)",
    "duty to comply with an information notice (s.102)",
)

ICO_TOPICS = (
    "Personal data breach (ransomware)",
    "Subject access request backlog",
    "Unsolicited direct marketing calls",
    "Cookie consent and tracking",
    "Children's data in a mobile app",
    "Facial recognition in stores",
    "Security of special category data",
    "Data sharing with third parties",
)
ICO_CONTACT = (
    "Breach report received; further information requested",
    "Complaints from data subjects forwarded for a response",
    "Letter seeking clarity on the lawful basis for processing",
    "Enquiry about retention and deletion practices",
)
ICO_BASES = (
    "UK GDPR Art. 5(1)(f) and 32 (security)",
    "UK GDPR Art. 12 and 15 (subject access)",
    "PECR reg. 21 (marketing calls)",
    "UK GDPR Art. 6 and 9 (lawful basis)",
)

DSA_TOPICS = (
    "Recommender system transparency (Art. 27)",
    "Advertising repository (Art. 39)",
    "Data access for researchers (Art. 40)",
    "Protection of minors online (Art. 28)",
    "Systemic risk assessment (Art. 34)",
    "Notice and action mechanism (Art. 16)",
    "Dark patterns in interface design (Art. 25)",
    "Traceability of traders (Art. 30)",
)

FOI_TOPICS = (
    "Enforcement statistics for the last three years",
    "Correspondence with an online platform",
    "Board minutes on a policy decision",
    "Spending on external consultants",
    "Complaints received about a service",
    "Staff guidance on investigations",
    "Meetings with ministers and advisers",
    "Data breach reports received",
)
