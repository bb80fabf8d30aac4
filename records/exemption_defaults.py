"""The exemptions an office starts with: the ones most cited for images.

Sections as renumbered by the 2023 CPRA recodification (Gov. Code §§ 7920.000 ff.).
Plain data, used by the seeding migration and by `ensure_default_exemptions`; managers
edit the live list in the admin.
"""

DEFAULT_EXEMPTIONS: list[tuple[str, str, str]] = [
    (
        "Personal privacy",
        "Gov. Code § 7927.700",
        "Personnel, medical or similar files whose disclosure would be an unwarranted invasion of personal privacy.",
    ),
    (
        "Law enforcement investigation",
        "Gov. Code § 7923.600",
        "Records of complaints to, or investigations by, a local police agency.",
    ),
    (
        "Exempt under other law",
        "Gov. Code § 7927.705",
        "Records whose disclosure is exempted or prohibited by federal or state law, including the Evidence Code.",
    ),
    (
        "Pending litigation",
        "Gov. Code § 7927.200",
        "Records pertaining to pending litigation to which the agency is a party.",
    ),
    (
        "Preliminary drafts",
        "Gov. Code § 7927.500",
        "Preliminary drafts, notes or memoranda not retained in the ordinary course of business.",
    ),
    (
        "Public interest balancing",
        "Gov. Code § 7922.000",
        "The public interest served by not disclosing clearly outweighs the public interest served by disclosure.",
    ),
]
