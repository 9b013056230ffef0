"""Settings of briefings and documents."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReportSettings(BaseModel):
    template_dir: str | None = Field(
        None, description="Directory of Jinja2 templates overriding the shipped ones"
    )
    organisation: str = Field(
        "", description="Name on the letterhead; empty: the first own watch target, else a generic name"
    )
    classification: str = Field("内部资料 注意保密", description="Marking on the cover and in the footer")
    formats: list[str] = Field(
        default_factory=lambda: ["html", "docx", "pdf"], description="Formats built by default"
    )
    top_events: int = Field(10, ge=1, le=100, description="Events listed in a brief")
    top_mentions: int = Field(10, ge=1, le=100, description="Influential negative mentions listed in a brief")
    representative_mentions: int = Field(8, ge=1, le=50, description="Mentions quoted in an event report")
    quote_chars: int = Field(120, ge=20, le=1000, description="Longest quoted excerpt (characters)")
    fonts: list[str] = Field(
        default_factory=lambda: [
            "Noto Sans CJK SC",
            "Noto Sans CJK JP",
            "Source Han Sans SC",
            "WenQuanYi Micro Hei",
            "WenQuanYi Zen Hei",
            "Noto Serif CJK SC",
        ],
        description="CJK font families tried in order for charts and PDF (must be installed)",
    )
    docx_east_asia_font: str = Field(
        "Microsoft YaHei", description="East-Asian font named in DOCX files (w:eastAsia) for Word readers"
    )
    # Schedule
    send_hour: int = Field(8, ge=0, le=23, description="Local hour at which scheduled briefs are due")
    schedule_periods: list[str] = Field(
        default_factory=lambda: ["daily", "weekly", "monthly"], description="Briefs the scheduler sends"
    )
    schedule_targets: list[str] = Field(
        default_factory=list,
        description="Watch-target names that get their own scheduled brief besides the firm-wide one",
    )
    recipients: list[str] = Field(
        default_factory=lambda: ["group:management", "group:monitoring"],
        description="Who receives scheduled briefs: group:KEY or person:KEY",
    )
    channels: list[str] = Field(
        default_factory=lambda: ["email"],
        description="Personal channels (configured alert channels) briefs go out on; email carries the file",
    )
    robot_channels: list[str] = Field(
        default_factory=list, description="Group-robot channels that get a summary and a link"
    )
    attach_format: str = Field("docx", description="Format attached to emails (html, docx or pdf)")
    out_dir: str = Field("yuqing-briefs", description="Directory scheduled briefs are written to")
    link_base: str | None = Field(
        None, description="Public URL prefix of out_dir for links in robot messages (default: file path)"
    )
    # Optional local language model (OpenAI-compatible); drafts are marked as drafts
    llm_url: str | None = Field(
        None, description="OpenAI-compatible base URL of a LOCAL language model (off when empty)"
    )
    llm_model: str = Field("local", description="Model name sent to the local language model")
    llm_timeout_s: float = Field(30.0, gt=0, description="Timeout of one drafting request")
