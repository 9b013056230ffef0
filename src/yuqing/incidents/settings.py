"""Settings of the emergency-response stage (incidents, deadlines, statements, resources, review).

Every deadline is counted from the moment the incident is opened (reported) and depends on the
incident's current level (I 特别重大 … IV 一般); a level missing from a deadline's mapping means the
deadline does not apply at that level.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApprovalStep(BaseModel):
    """One step of the statement approval chain: who may approve it (person selectors)."""

    key: str = Field(description="Stable step id, e.g. legal")
    name: str = Field(description="Display name, Chinese first")
    approvers: list[str] = Field(
        description="Selectors: person:KEY, group:KEY[:ROLE], dept:DEPARTMENT, title:SUBSTRING"
    )


def _default_chain() -> list[ApprovalStep]:
    return [
        ApprovalStep(key="legal", name="法律审核 / legal review", approvers=["dept:法律事务部"]),
        ApprovalStep(key="compliance", name="合规审核 / compliance review", approvers=["dept:合规部"]),
    ]


class IncidentSettings(BaseModel):
    org_file: str | None = Field(None, description="Organisation YAML; default: the shipped template")
    # --- deadlines (hours after the incident is opened, per level) ---------------------------
    report_deadline_hours: dict[str, float] = Field(
        default_factory=lambda: {"I": 0.5, "II": 1.0, "III": 2.0, "IV": 4.0},
        description="Report to the management group (met when the incident enters assessing)",
    )
    response_deadline_hours: dict[str, float] = Field(
        default_factory=lambda: {"I": 2.0, "II": 6.0, "III": 12.0, "IV": 24.0},
        description="First response (met when the incident enters responding); the plan's 2/6/12/24 h",
    )
    holding_statement_hours: dict[str, float] = Field(
        default_factory=lambda: {"I": 1.0, "II": 2.0, "III": 6.0, "IV": 12.0},
        description="First holding statement published (any published statement meets it)",
    )
    full_statement_hours: dict[str, float] = Field(
        default_factory=lambda: {"I": 12.0, "II": 24.0, "III": 48.0, "IV": 72.0},
        description="First full statement published",
    )
    regulator_report_hours: dict[str, float] = Field(
        default_factory=lambda: {"I": 2.0, "II": 12.0},
        description="Report to the regulator (a published regulator_report statement); levels absent = none",
    )
    overdue_escalation_hours: float = Field(
        2.0, gt=0, description="An overdue deadline or task is escalated again after each such period"
    )
    max_escalations: int = Field(3, ge=1, description="Overdue alerts per deadline/task at most")
    # --- playbooks, templates, approvals --------------------------------------------------------
    playbooks_file: str | None = Field(None, description="Playbook YAML; default: the shipped playbooks.yaml")
    templates_dir: str | None = Field(
        None, description="Directory of statement templates overriding the shipped ones"
    )
    approval_chain: list[ApprovalStep] = Field(
        default_factory=_default_chain, description="Ordered statement approval steps"
    )
    firm_name: str = Field("本行", description="How statements name the firm")
    customer_hotline: str = Field("95xxx", description="Customer hotline quoted in statements")
    # --- events -> incidents -------------------------------------------------------------------
    suggest_level: str | None = Field(
        "II", description="An unlinked event reaching this level (or above) raises a suggestion alert"
    )
    auto_open_level: str | None = Field(
        None, description="Open an incident automatically at this level (default: suggest only)"
    )
    auto_open_actor: str | None = Field(
        None,
        description="Person key recorded as opener of auto-opened incidents (default: monitoring leader)",
    )
    volume_entry_minutes: float = Field(
        60.0,
        gt=0,
        description="At most one volume entry per linked event per this many minutes in the timeline",
    )
    # --- review metrics ------------------------------------------------------------------------
    containment_share: float = Field(
        0.2, gt=0, lt=1, description="Contained when hourly negative volume falls to this share of its peak"
    )
    statement_effect_hours: float = Field(
        6.0, gt=0, description="Window before/after a statement used to measure its effect"
    )
    volume_bucket_minutes: int = Field(60, ge=5, description="Bucket of the negative-volume series")
    # --- resources ---------------------------------------------------------------------------------
    expiry_warning_days: int = Field(
        14, ge=0, description="Warn this many days before a subscription expires"
    )
    equipment_test_days: int = Field(90, ge=1, description="Equipment untested for longer fails readiness")
    readiness_interval_hours: float = Field(24.0, gt=0, description="How often readiness checks run")
