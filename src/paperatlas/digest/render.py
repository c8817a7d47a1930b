"""Turning a digest (or a confirmation) into a subject, a text part and an HTML part with Jinja2.

The email templates live in ``digest/templates/email``; HTML ones are autoescaped (titles and abstracts come from
sources we do not control), text ones are not.  Every link is absolute, built on ``PAPERATLAS_PUBLIC_URL``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .build import Digest, PaperItem
from .config import DigestConfig
from .subscriptions import Subscriber
from .tokens import Tokens

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def email_env() -> Environment:
    # auto_reload off: checking each template file's mtime on every render costs more than rendering (10k mails)
    return Environment(loader=FileSystemLoader(TEMPLATES / "email"), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False)


@dataclass
class Links:
    """Absolute links for one subscriber; tokens are signed for that subscriber only."""

    config: DigestConfig
    tokens: Tokens
    subscriber: Subscriber

    def _with(self, path: str, purpose: str) -> str:
        token = self.tokens.make(purpose, self.subscriber.id, self.subscriber.nonce)
        return self.config.link(path) + "?" + urlencode({"token": token})

    @cached_property
    def confirm(self) -> str:
        return self._with("/subscribe/confirm", "confirm")

    @cached_property
    def manage(self) -> str:
        return self._with("/manage", "manage")

    @cached_property
    def unsubscribe(self) -> str:
        return self._with("/unsubscribe", "unsubscribe")

    @cached_property
    def preview(self) -> str:
        return self._with("/digest/preview", "preview")

    def paper(self, pid: str) -> str:
        return _paper_url(self.config.public_url, pid)

    def home(self) -> str:
        return self.config.public_url + "/"


@lru_cache(maxsize=65536)
def _paper_url(public_url: str, pid: str) -> str:
    return f"{public_url.rstrip('/')}/paper/{quote(pid)}"


def digest_subject(digest: Digest) -> str:
    kind = "weekly" if digest.subscriber.frequency == "weekly" else "daily"
    noun = "paper" if digest.count == 1 else "papers"
    return f"PaperAtlas {kind} digest: {digest.count} new {noun} ({digest.period})"


@lru_cache(maxsize=32768)
def _paper_block(kind: str, public_url: str, paper: PaperItem) -> Markup | str:
    """One paper's entry, rendered once per run and reused in every digest that lists it (most do: trending)."""
    template = email_env().get_template(f"paper.{kind}")
    html = template.render(p=paper, url=_paper_url(public_url, paper.pid))
    return Markup(html) if kind == "html" else html


def render_digest(digest: Digest, links: Links) -> tuple[str, str, str]:
    """(subject, text, html)."""
    env = email_env()
    public_url = links.config.public_url

    def paper(p: PaperItem, kind: str) -> Markup | str:
        return _paper_block(kind, public_url, p)

    context = {"digest": digest, "links": links, "unsubscribe_url": links.unsubscribe, "manage_url": links.manage,
               "preview_url": links.preview, "subject": digest_subject(digest), "paper": paper}
    return context["subject"], env.get_template("digest.txt").render(context), \
        env.get_template("digest.html").render(context)


def render_notice(kind: str, links: Links) -> tuple[str, str, str]:
    """The confirmation mail (``confirm``) or the manage-link mail for an already confirmed address (``manage``)."""
    env = email_env()
    subject = ("Confirm your PaperAtlas digest subscription" if kind == "confirm"
               else "Your PaperAtlas digest subscription")
    context = {"links": links, "subject": subject, "subscriber": links.subscriber}
    return subject, env.get_template(f"{kind}.txt").render(context), env.get_template(f"{kind}.html").render(context)
