"""Server-rendered pages (Jinja2, autoescaped; light JavaScript from static files only)."""
