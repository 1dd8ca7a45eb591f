"""Wires the notification service: its templates (rule data), its channels (e-mail, SMS), its unit of
work, its subscriptions, the delivery job and its HTTP routes."""

from __future__ import annotations

import asyncio
from functools import partial

from fastapi import FastAPI
from prometheus_client import Counter

from services.notification.adapters.channels import build_channels
from services.notification.adapters.rules import load_templates
from services.notification.adapters.rules import rule_sets_declared
from shared.rules_endpoint import add_rules_in_force
from services.notification.entrypoints.http import router
from services.notification.service_layer import delivery, handlers
from services.notification.service_layer.unit_of_work import NotificationUnitOfWork
from shared import topics
from shared.contracts import ClassificationChanged, PortraitChanged, RectificationProgressed, ReminderDue, utc_now
from shared.runtime import PeriodicJob, build_runtime, create_app, use_unit_of_work
from shared.settings import Settings, settings_for

DELIVERY_INTERVAL_S = 5.0  # pending e-mail and SMS go out within seconds; a failed attempt waits its backoff


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("notification")
    templates = load_templates(settings.rules_dir)  # packaged + <rules_dir>/notification; a bad file stops start-up
    channels = build_channels(settings)  # a bad OHS_SMTP_URL or OHS_SMS_ADAPTER stops start-up (ChannelConfigError)
    runtime = build_runtime(settings, create_topics)
    use_unit_of_work(runtime, NotificationUnitOfWork)
    rules = {"templates": templates, "channels": tuple(channels)}  # deliveries are made for the channels that are on
    # employers' names for the wording (the archive's announcement; nothing is notified for it)
    runtime.consumer.subscribe(topics.CLASSIFICATION_CHANGED, ClassificationChanged, handlers.remember_employer,
                               prepare=handlers.preload_employers)
    runtime.consumer.subscribe(topics.PORTRAIT_CHANGED, PortraitChanged, partial(handlers.notify_portrait_changed, **rules))
    runtime.consumer.subscribe(topics.RECTIFICATION_PROGRESSED, RectificationProgressed,
                               partial(handlers.notify_rectification_progressed, **rules), prepare=handlers.preload_employers)
    runtime.consumer.subscribe(topics.REMINDER_DUE, ReminderDue, partial(handlers.notify_reminder_due, **rules))

    attempts = Counter("ohs_notification_delivery_attempts_total", "Delivery attempts by channel and outcome (sent, retrying, failed).",
                       ["channel", "outcome"], registry=runtime.metrics.registry)

    async def deliver() -> None:  # off the event loop: SMTP never blocks a consumer or a request
        report = await asyncio.to_thread(delivery.deliver_due, lambda: runtime.uow(), channels, utc_now(), settings.delivery_max_attempts)
        for (channel, outcome), count in report.outcomes.items():
            attempts.labels(channel=channel, outcome=outcome).inc(count)

    runtime.jobs.append(PeriodicJob("delivery", DELIVERY_INTERVAL_S, deliver))
    app = create_app(
        runtime,
        title="Notification 通知",
        description="Tells employers and county supervision mailboxes of a new risk portrait (风险画像), each step of a rectification "
        "item (整改: raised, due, submitted, returned, cleared 解除, overdue) and the re-assessment reminders: a web inbox for "
        "every notification, e-mail over SMTP and SMS through an agency's adapter when configured.",
    )
    app.state.templates = templates
    app.state.channels = channels
    app.include_router(router)
    add_rules_in_force(app, rule_sets_declared(templates))  # GET /rules/in-force: the rule data in force for a county
    return app
