"""The compliance dashboard, served by the API app: Jinja templates, one CSS file, no JS.

``create_app`` adds ``DASHBOARD_ROUTES`` (via ``ROUTES``), ``template_config()`` and
``static_files_router()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from casemgmt.entrypoints.http.dashboard.actions import ActionsController
from casemgmt.entrypoints.http.dashboard.mine import MyWorkController
from casemgmt.entrypoints.http.dashboard.pages import DashboardController
from casemgmt.entrypoints.http.dashboard.people import PeopleController
from casemgmt.entrypoints.http.dashboard.present import register_filters
from casemgmt.entrypoints.http.dashboard.session import SessionController, root_redirect

__all__ = [
    "DASHBOARD_ROUTES",
    "STATIC_DIR",
    "TEMPLATE_DIR",
    "ActionsController",
    "DashboardController",
    "MyWorkController",
    "PeopleController",
    "SessionController",
    "root_redirect",
    "static_files_router",
    "template_config",
]

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

#: The dashboard's route handlers, for the app's ``ROUTES``.
DASHBOARD_ROUTES: list[Any] = [
    SessionController,
    DashboardController,
    ActionsController,
    MyWorkController,
    PeopleController,
    root_redirect,
]


def _configure(engine: JinjaTemplateEngine) -> None:
    register_filters(engine.engine.filters)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=_configure
    )


def static_files_router() -> Router:
    """``/static/...``: the dashboard's stylesheet (public, cached for an hour)."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="static",
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )
