"""The test app's one model: something to read and to try to write."""

from __future__ import annotations

import datetime

from django.db import models


class Note(models.Model):
    # Spelled out because mypy runs without the django-stubs plugin here.
    title: models.CharField[str, str] = models.CharField(max_length=200)
    body: models.TextField[str, str] = models.TextField(blank=True, default="")
    created: models.DateTimeField[datetime.datetime, datetime.datetime] = (
        models.DateTimeField(auto_now_add=True)
    )

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return str(self.title)
