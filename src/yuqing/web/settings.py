"""Settings of the web console and REST API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WebSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address `yuqing serve` binds to")
    port: int = Field(8000, ge=1, le=65535, description="Port `yuqing serve` listens on")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL people reach the console at (links in messages)"
    )
    cookie_secure: bool = Field(False, description="Mark session cookies Secure (set true behind HTTPS)")
    session_hours: float = Field(12.0, gt=0, description="Lifetime of a login session, hours")
    login_max_failures: int = Field(5, ge=1, description="Failed logins per user name within the window")
    login_max_failures_ip: int = Field(20, ge=1, description="Failed logins per client address in the window")
    login_window_s: int = Field(900, ge=1, description="Login throttling window, seconds")
    page_size: int = Field(50, ge=1, le=500, description="Default page size of list endpoints")
    max_page_size: int = Field(200, ge=1, le=1000, description="Largest page size a caller may ask for")
    argon2_time_cost: int = Field(3, ge=1, le=20, description="argon2id iterations for new password hashes")
    argon2_memory_kib: int = Field(65536, ge=1024, description="argon2id memory for new password hashes, KiB")
    stats_cache_s: float = Field(600.0, ge=0, description="Cache of closed days' mention totals, seconds")
    demo_user: str = Field("demo", description="User name `yuqing demo` creates")
    demo_password: str = Field("demo-2026!", description="Password of the demo login (demo only)")
